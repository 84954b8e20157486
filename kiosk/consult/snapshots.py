"""Secret ballots while the vote is open: every figure anyone but the voter sees moves only in released
snapshots, so nobody can tell how one household voted from the way the numbers move.

The attacker we design against is a committee member (the strongest insider short of the database): they know
who voted in each release (the roll call), see every public and committee figure, may watch continuously,
and are themselves a household that knows its own choice. What they could do, and what stops it:

- Watch the figures move ballot by ballot: +1 for one option next to a new name in the roll call is that
  household's choice. So figures, turnout, the roll call, the screens' change events (the pulse) and the
  audit log all move only with a release, never with a ballot: a ballot of a secret topic writes no audit
  row and bumps no version; the release does, once.
- A release with one, two... new households: a small batch is nearly as bad. A release needs at least
  SECRET_TALLY_BATCH (5) new households.
- Per-option *area*: with units of distinct areas the subset sums of five units are almost always unique, so
  "+412.37 m² for 同意" names the units. While voting, a secret topic shows per-option figures by households
  only; per-option area and owners (heads: an owner's several units reveal each other), the approval check
  built on them, the verdict and the count of owners whose units disagreed all wait for the close. Total
  participation by area and by owners is shown: it tells who voted, which the roll call tells anyway.
- A unanimous batch: five new households, +5 for 同意, reveals all five. And every voter knows their own
  ballot: if the batch is four 同意 and one 不同意, the 不同意 voter learns the other four. So a release is
  held until no option gained more than (new households - 2): even a member of the batch who subtracts
  their own ballot sees at least two different choices among the rest. A lopsided vote just releases in
  larger batches.
- Timing: if a release happened the moment a ballot made it possible, that ballot would be the one that
  broke the unanimity. Releases only happen on a fixed clock (every SECRET_TALLY_MINUTES, aligned to UTC)
  and count the ballots cast before that boundary, whenever the sweeper or a visitor evaluates it; the
  decision for a boundary is a function of the ballots alone. Per-ballot times and channels are never shown
  for a secret topic (not even after the close: with the times, the held boundaries would tell which
  sub-batch was unanimous), and the committee's roll call shows addresses only, sorted by address.
- Changed votes: a change moves one household's ballot between options without a new name in the roll
  call; changes are not shown anywhere, so the attacker can't separate them from new ballots.

What is left, and why: after the close the exact, frozen result is published, as the law requires. Its
difference from the last release is the last batch (the ballots cast after that release): when that batch
is small or unanimous, an insider who kept the last roll call can learn it, exactly as a polling station
with few voters can. Several colluding households (or a member typing paper ballots for households who
did not ask) can pad a batch with ballots they know and isolate a victim's (the "n-1" attack); paper
ballots name their typist in the audit log. The voter's own phone shows "本户已投票" at once: it knows.
"""
import json
import threading

from flask import current_app
from sqlalchemy import String, func, or_, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm.attributes import set_committed_value

from ..auth.models import User
from ..changes import record_change
from ..compounds.models import Compound
from ..database import utcnow, writing
from ..extensions import db
from ..households.models import Household, address_order, natural
from . import AREA
from . import tally as counting
from .release_rules import EPOCH, boundary, safe_to_release
from .models import Ballot, Channel, Elector, Phase, Status, Topic

_held_lock = threading.Lock()


def sealed(topic):
    """Whether the topic's figures are sealed: a secret topic, published and not yet frozen."""
    return bool(topic.secret) and topic.status == Status.published and topic.result is None


def settings():
    """(minutes between releases, least new households per release), from the app's settings."""
    config = current_app.config
    return max(int(config.get("SECRET_TALLY_MINUTES", 3)), 1), max(int(config.get("SECRET_TALLY_BATCH", 5)), 1)


def figures_as_of(topic, moment):
    """The sealed figures counting each household's latest ballot cast before `moment`: participation (total,
    by area, by owners, by building), each option's households, and the quorum checks. Nothing else."""
    electors = db.session.execute(select(Elector.household_id, Elector.area_centi, Elector.owner, Elector.building)
                                  .where(Elector.topic_id == topic.id)).all()
    latest = {}
    for ballot_id, household_id, text_ in db.session.execute(
            select(Ballot.id, Ballot.household_id, sql_cast(Ballot.choices, String))
            .where(Ballot.topic_id == topic.id, Ballot.cast_at < moment)):
        held = latest.get(household_id)
        if held is None or ballot_id > held[0]:
            latest[household_id] = (ballot_id, text_)
    shapes, casts = {}, []
    for household_id, (ballot_id, text_) in latest.items():
        key = text_ if isinstance(text_, str) else json.dumps(text_)
        choices = shapes.get(key)
        if choices is None:
            choices = shapes[key] = tuple(json.loads(key))
        casts.append(counting.Cast(household_id, choices, ballot_id))
    result = counting.tally(topic.kind, topic.rule, topic.option_keys(),
                            [counting.Voter(h, a, o) for h, a, o, _b in electors], casts, topic.seats)
    buildings = {}
    for household_id, _area, _owner, building in electors:
        counts = buildings.setdefault(building, [0, 0])
        counts[1] += 1
        counts[0] += household_id in latest
    return {
        "sealed": True, "as_of": moment.isoformat(), "kind": result.kind, "rule": result.rule, "seats": result.seats,
        "total_area_centi": result.total_area_centi, "total_heads": result.total_heads,
        "total_households": result.total_households, "part_area_centi": result.part_area_centi,
        "part_heads": result.part_heads, "part_households": result.part_households,
        "quorum_required": result.quorum_required, "quorum_area_met": result.quorum_area_met,
        "quorum_heads_met": result.quorum_heads_met,
        "options": [{"key": o.key, "households": o.households} for o in result.options],
        "turnout": [[b, buildings[b][0], buildings[b][1]] for b in sorted(buildings, key=natural)],
    }


def empty_figures(topic):
    """What a secret topic shows before its first release: the electorate, nobody counted yet."""
    return dict(figures_as_of(topic, EPOCH), as_of=None)


def _held():
    """{topic id: boundary} decided "hold" in this process: the same ballots give the same answer."""
    return current_app.extensions.setdefault("kiosk_snapshot_held", {})


def paper_between(topic, start, end):
    """Paper ballots typed in between two boundaries, as "address（typist）", sorted by address: the audit
    keeps who typed in whose ballot without a time finer than the release."""
    query = (select(Household, User.display_name).join(Ballot, Ballot.household_id == Household.id)
             .outerjoin(User, User.id == Ballot.entered_by)
             .where(Ballot.topic_id == topic.id, Ballot.channel == Channel.paper))
    if end is not None:
        query = query.where(Ballot.cast_at < end)
    if start is not None:
        query = query.where(Ballot.cast_at >= start)
    rows = sorted(db.session.execute(query).all(), key=lambda r: address_order(r[0]))
    return [f"{household.address}（{name or '—'}）" for household, name in rows]


def release(topic, now=None):
    """Release the topic's next snapshot if its boundary has come and the batch is safe; return whether it did."""
    now = now or utcnow()
    if not sealed(topic) or topic.phase(now) != Phase.voting:
        return False
    minutes, batch = settings()
    moment = boundary(now, minutes)
    if moment <= topic.opens_at or (topic.released_at is not None and topic.released_at >= moment):
        return False
    with _held_lock:
        if _held().get(topic.id) == moment:
            return False
    new = figures_as_of(topic, moment)
    previous = topic.released_figures or empty_figures(topic)
    if not safe_to_release(previous, new, batch):
        with _held_lock:
            _held()[topic.id] = moment
        return False
    start = topic.released_at
    with writing():
        claimed = db.session.execute(
            update(Topic).where(Topic.id == topic.id, Topic.status == Status.published,
                                or_(Topic.released_at.is_(None), Topic.released_at < moment))
            .values(released_figures=new, released_at=moment)).rowcount
        if not claimed:
            return False
        record_change(db.session.get(Compound, topic.compound_id), None, AREA, "snapshot", topic, None,
                      {"part_households": new["part_households"],
                       "added": new["part_households"] - previous["part_households"],
                       "as_of": moment.isoformat(), "paper": paper_between(topic, start, moment)})
    set_committed_value(topic, "released_figures", new)
    set_committed_value(topic, "released_at", moment)
    return True


def release_due(compound=None, now=None):
    """Evaluate every open secret topic's release boundary (requests and the sweeper call this); return how many
    snapshots were released."""
    now = now or utcnow()
    query = select(Topic).where(Topic.status == Status.published, Topic.secret.is_(True), Topic.opens_at <= now,
                                Topic.closes_at > now)
    if compound is not None:
        query = query.where(Topic.compound_id == compound.id)
    released = 0
    for topic in db.session.scalars(query).all():
        released += release(topic, now)
    return released


def shown(topic):
    """The sealed figures to show now: the last release, or the empty electorate before the first."""
    return topic.released_figures if topic.released_figures is not None else empty_figures(topic)


def voted_households(topic):
    """Ids of the households the last release counts as having voted (the roll call of a sealed topic)."""
    if topic.released_at is None:
        return set()
    return set(db.session.scalars(select(func.distinct(Ballot.household_id))
                                  .where(Ballot.topic_id == topic.id, Ballot.cast_at < topic.released_at)))
