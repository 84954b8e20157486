"""Builders the tests share: households on the roll, a published topic open for voting, a small image, and the
text of a page as a person reads it. Each test file keeps its own defaults (titles, sizes) and calls these."""
import io
from datetime import timedelta

from bs4 import BeautifulSoup
from PIL import Image as PILImage
from sqlalchemy import select

from kiosk.auth.models import Membership, Role, User
from kiosk.compounds.models import Compound
from kiosk.consult import service as consult
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.models import Household, Occupancy

TOPIC = {"title": "是否在东侧空地增设充电桩", "background": "", "kind": "yesno", "rule": "ordinary", "seats": 1,
         "secret": True, "visibility": "live", "allow_change": True}


def new_compound(slug="maple", name="枫叶小区", community="东湖社区", district="湘江街道"):
    """A compound, committed (the `make_compound` fixture, and the browser walk's world on a live server)."""
    compound = Compound(slug=slug, name=name, community=community, district=district)
    db.session.add(compound)
    db.session.commit()
    return compound


def new_user(password_hash, username, compound=None, role=Role.member, platform_admin=False,
             must_change_password=False):
    """An account with the given password hash, optionally with a role in a compound, committed."""
    user = User(username=username, display_name=username.title(), password_hash=password_hash,
                is_platform_admin=platform_admin, must_change_password=must_change_password)
    db.session.add(user)
    db.session.flush()
    if compound is not None:
        db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role(role)))
    db.session.commit()
    return user


def households(compound, n, building=lambda i: "1", room=lambda i: f"{101 + i}", area=lambda i: 10000,
               owner=lambda i: None, entrance=""):
    """n occupied households of `compound`, committed; building, room, area (hundredths of m²) and owner key
    are functions of the household's index."""
    made = [Household(compound_id=compound.id, building=building(i), entrance=entrance, room=room(i),
                      area_centi=area(i), occupancy=Occupancy.owner_occupied, owner_key=owner(i)) for i in range(n)]
    db.session.add_all(made)
    db.session.commit()
    return made


def open_topic(compound, chair, options=(), **fields):
    """A topic drafted, published (the roll as it stands is its electorate) and open for voting: opened an hour
    ago, closing in two days; `fields` override TOPIC and the times."""
    values = dict(TOPIC, opens_at=utcnow() - timedelta(hours=1), closes_at=utcnow() + timedelta(days=2))
    values.update(fields)
    topic = consult.save_topic(compound, chair, None, values, list(options))
    db.session.flush()
    consult.publish(compound, chair, topic)
    db.session.commit()
    return topic


def admission_world(compound, chair, rule):
    """The admission matrix's world (tests/test_vote_admission.py, tests/test_fast_vote.py): 3栋1单元502 and
    5栋1单元101 on the roll, a whole-compound and a 3栋 topic under `rule` (changes allowed; an ordinary one needs
    verified cards), then 3栋1单元601, which came onto the roll after both were published: on neither
    electorate. Returns ((whole, scoped), (three, five, late))."""
    three = Household(compound_id=compound.id, building="3", entrance="1", room="502", area_centi=8800)
    five = Household(compound_id=compound.id, building="5", entrance="1", room="101", area_centi=9100)
    db.session.add_all([three, five])
    db.session.commit()
    statutory = rule == "ordinary"
    whole = open_topic(compound, chair, title="全体业主议题", rule=rule, secret=False, allow_change=True,
                       require_verified=statutory)
    scoped = open_topic(compound, chair, title="3栋议题", rule=rule, secret=False, allow_change=True,
                        require_verified=statutory, scope_buildings=["3"], scope_entrance="")
    late = Household(compound_id=compound.id, building="3", entrance="1", room="601", area_centi=9000)
    db.session.add(late)
    db.session.commit()
    return (whole, scoped), (three, five, late)


def jpeg(size=(64, 48), color=(200, 80, 40), exif=None):
    """A small JPEG's bytes (with EXIF data when given)."""
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "JPEG", **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def text_of(response):
    """A page's text as a person reads it: tags gone, entities decoded, runs of white space one space."""
    return " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split())


def posted_entry(compound, actor, name, fen, day, **extra):
    """Post one line of the compound's public income book under the category called `name`, and commit."""
    from kiosk.ledger import service as ledger
    from kiosk.ledger.models import Category

    cat = db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == name))
    entry = ledger.save_draft(compound, actor, None, {"kind": cat.kind, "occurred_on": day, "category_id": cat.id,
                                                      "amount_fen": fen, "description": f"{name} {day:%m-%d}",
                                                      **extra})
    ledger.post(compound, actor, entry)
    db.session.commit()
    return entry


def close_and_sign(compound, chair, supervisors, start, end):
    """Close the period from `start` to `end` and have two supervisors sign it; return the published period."""
    from kiosk.ledger import service as ledger
    from kiosk.ledger.models import PeriodStatus

    period = ledger.submit(compound, chair, ledger.figures(compound, start, end).closing)
    for supervisor in supervisors[:2]:
        ledger.decide(compound, supervisor, period, True)
    db.session.commit()
    assert period.status == PeriodStatus.published
    return period
