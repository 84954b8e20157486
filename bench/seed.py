"""What the benches add to a demo database: household cards for everyone, and a compound at a consultation meeting.

    python -m bench.seed cards   --slug guixiang --out cards.json
    python -m bench.seed meeting --slug guixiang --households 500 --out meeting.json

Run as a child process with the same environment as `kiosk serve` (KIOSK_INSTANCE_PATH, and KIOSK_DATABASE_URL
for PostgreSQL), so it reaches the very database the server uses; bench/run.py and bench/meeting.py do that.
It writes JSON for the caller and prints nothing else. Every kiosk import of the benches' seeding lives here, so
a refactor of kiosk/ has one file in bench/ to follow.
"""
import argparse
import json
import random
import secrets
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def app():
    """The app as `kiosk serve` builds it from this environment."""
    from kiosk import create_app
    return create_app()


def compound_and_chair(slug):
    from sqlalchemy import select

    from kiosk.auth.models import Membership, Role, User
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
    if compound is None:
        raise SystemExit(f"no compound {slug!r} in the database (load the demo first)")
    chair = db.session.scalar(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.compound_id == compound.id, Membership.role == Role.chair))
    return compound, chair


def households_of(compound):
    from sqlalchemy import select

    from kiosk.extensions import db
    from kiosk.households.models import Household
    return db.session.scalars(select(Household).where(Household.compound_id == compound.id)
                              .order_by(Household.id)).all()


def issue_all(compound, chair, households):
    """A fresh card for each household; returns [{household, token}] (the cookie value is the token)."""
    from kiosk.extensions import db
    from kiosk.households.cards import COOKIE
    from kiosk.households.service import issue
    issued = issue(compound, chair, households)
    db.session.commit()
    return COOKIE, [{"household": h.id, "token": t} for h, t in issued]


def cards(slug):
    """Cards for every household of the compound."""
    compound, chair = compound_and_chair(slug)
    cookie, issued = issue_all(compound, chair, households_of(compound))
    return {"cookie": cookie, "cards": issued}


def grow_roll(compound, chair, wanted, rng):
    """Add households (buildings 7 and up, 2 entrances, 6 floors, 3 rooms) until the compound has `wanted`."""
    from kiosk.changes import record_change
    from kiosk.extensions import db
    from kiosk.households.models import Household
    have = len(households_of(compound))
    added, n = [], 0
    while have + len(added) < wanted:
        building, rest = divmod(n, 36)
        entrance, rest = divmod(rest, 18)
        floor, room = divmod(rest, 3)
        added.append(Household(compound_id=compound.id, building=str(7 + building), entrance=str(1 + entrance),
                               room=f"{floor + 1}0{room + 1}", area_centi=rng.randint(6000, 14000)))
        n += 1
    if added:
        db.session.add_all(added)
        db.session.flush()
        record_change(compound, chair, "households", "import", compound, None, {"added": len(added)})
        db.session.commit()
    return len(added)


def meeting(slug, households_wanted, screens_wanted, committee_wanted, secret=False):
    """The meeting: the roll grown to `households_wanted`, cards for all, lobby screens, committee accounts with
    known passwords, and a yes/no topic open now: named, so its live figures move with every ballot (or, with
    `secret`, secret, so they move in released batches)."""
    from sqlalchemy import select

    from kiosk.auth.models import Membership, Role, User
    from kiosk.consult import service as consult
    from kiosk.consult.models import Elector
    from kiosk.database import utcnow
    from kiosk.extensions import db
    from kiosk.households.models import Occupancy
    from kiosk.screen.models import Orientation, Screen

    rng = random.Random(2026)
    compound, chair = compound_and_chair(slug)
    added = grow_roll(compound, chair, households_wanted, rng)
    screens = db.session.scalars(select(Screen).where(Screen.compound_id == compound.id,
                                                      Screen.retired.is_(False)).order_by(Screen.id)).all()
    for n in range(len(screens), screens_wanted):
        db.session.add(Screen(compound_id=compound.id, name=f"{n + 1} 号大堂屏", place="压测",
                              orientation=Orientation.portrait))
    db.session.commit()
    screens = db.session.scalars(select(Screen).where(Screen.compound_id == compound.id,
                                                      Screen.retired.is_(False)).order_by(Screen.id)).all()
    committee = []
    members = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.compound_id == compound.id, Membership.role.in_((Role.chair, Role.vice_chair, Role.member)))
        .order_by(User.id)).all()
    for user in members[:committee_wanted]:
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.must_change_password = False
        user.active = True
        committee.append({"username": user.username, "password": password})
    db.session.commit()
    opens = utcnow() - timedelta(minutes=30)
    # The demo puts the compound on a procedure profile (杭州: 15 days' notice, a window of days): the topic is
    # announced as the demo's own lift vote is, 16 days before it opens, with the demo's 14-day window.
    announced = opens - timedelta(days=16)
    topic = consult.save_topic(compound, chair, None, {
        "title": "业主大会：是否同意用公共收益更换 1–10 栋电梯", "background": "压测用的议题：实名表决，结果实时公布。",
        "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": secret, "visibility": "live",
        "allow_change": True, "opens_at": opens, "closes_at": opens + timedelta(days=14)}, [], now=announced)
    db.session.flush()
    consult.publish(compound, chair, topic, now=announced)
    db.session.commit()
    everyone = households_of(compound)
    cookie, issued = issue_all(compound, chair, everyone)
    electors = set(db.session.scalars(select(Elector.household_id).where(Elector.topic_id == topic.id)))
    developer = {h.id for h in everyone if h.occupancy == Occupancy.developer}
    for card in issued:
        card["elector"] = card["household"] in electors and card["household"] not in developer
    return {"slug": compound.slug, "topic_id": topic.id, "households": len(everyone), "added": added,
            "electors": len(electors), "screens": [{"id": s.id, "key": s.key} for s in screens],
            "committee": committee, "cookie": cookie, "cards": issued}


def recount(topic_id):
    """A fresh recount of the topic (service.compute, in this new process) and its current ballots."""
    from sqlalchemy import func, select

    from kiosk.consult import service as consult
    from kiosk.consult.models import Ballot, Topic
    from kiosk.extensions import db
    topic = db.session.get(Topic, topic_id)
    fresh = consult.compute(topic).as_dict()
    doubled = db.session.scalar(select(func.count()).select_from(
        select(Ballot.household_id).where(Ballot.topic_id == topic_id, Ballot.current.is_(True))
        .group_by(Ballot.household_id).having(func.count() > 1).subquery()))
    ballots = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic_id))
    return {"part_households": fresh["part_households"], "total_households": fresh["total_households"],
            "options": {o["key"]: o["households"] for o in fresh["options"]}, "passed": fresh["passed"],
            "ballot_rows": ballots, "doubled": doubled}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("cards", "meeting", "recount"))
    parser.add_argument("--slug", default="guixiang")
    parser.add_argument("--households", type=int, default=500)
    parser.add_argument("--screens", type=int, default=2)
    parser.add_argument("--committee", type=int, default=3)
    parser.add_argument("--topic", type=int)
    parser.add_argument("--secret", action="store_true", help="meeting: a secret topic instead of a named one")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with app().app_context():
        if args.what == "cards":
            found = cards(args.slug)
        elif args.what == "meeting":
            found = meeting(args.slug, args.households, args.screens, args.committee, args.secret)
        else:
            found = recount(args.topic)
    Path(args.out).write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
