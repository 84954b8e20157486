"""Topics: drafting, the electorate frozen at publication, correction notes, and which topics are where."""
from sqlalchemy import insert, select

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from ...households.models import Delivery, Household, HouseholdCard, Occupancy, live_card, natural
from .. import AREA
from ..models import Elector, Kind, Option, Phase, Status, Topic, TopicCorrection
from .base import YES_NO, VoteRefused
from .procedure import check_timing


def owner_group(household):
    """The owner group a unit counts under: all developer-held units are one owner, as are one buyer's units."""
    if household.occupancy == Occupancy.developer:
        return "developer"
    if household.owner_key:
        return "owner:" + household.owner_key
    return f"unit-{household.id}"


def in_scope(statement, scope):
    """Narrow a query of households to a topic's scope (see Topic.scope); None leaves the whole compound."""
    if scope is None:
        return statement
    buildings, entrance = scope
    statement = statement.where(Household.building.in_(buildings))
    return statement.where(Household.entrance == entrance) if entrance else statement


def roll_places(compound):
    """The roll's buildings and 单元 in natural order, for choosing a topic's electorate:
    [(building, [entrance, ...])], entrances without the empty one."""
    rows = db.session.execute(select(Household.building, Household.entrance).where(
        Household.compound_id == compound.id).distinct()).all()
    places = {}
    for building, entrance in rows:
        places.setdefault(building, set())
        if entrance:
            places[building].add(entrance)
    return [(b, sorted(places[b], key=natural)) for b in sorted(places, key=natural)]


def has_verified_cards(compound):
    """Whether any live card of the compound was handed over in person against ID and property certificate."""
    return db.session.scalar(select(HouseholdCard.id).where(
        HouseholdCard.compound_id == compound.id, live_card(), HouseholdCard.delivery == Delivery.in_person)
        .limit(1)) is not None


def check_editable(topic):
    """Refuse a change to a topic's wording once it is published: households discuss and vote on what it says
    ("wording_fixed", `closed` once voting is over). A draft is editable."""
    if topic.status != Status.draft:
        raise VoteRefused("wording_fixed", closed=topic.phase() in (Phase.closed, Phase.done))


def check_open(topic, now=None):
    """Refuse a ballot outside the voting window: "not_open" before it, "closed" after."""
    phase = topic.phase(now)
    if phase in (Phase.closed, Phase.done):
        raise VoteRefused("closed")
    if phase != Phase.voting:
        raise VoteRefused("not_open")


def save_topic(compound, actor, topic, fields, option_labels, now=None):
    """Create or edit a draft topic from cleaned fields; yes/no topics get 同意/不同意/弃权 as options. A statutory
    topic must leave the profile's notice if published `now`, and keep its window (procedure.check_timing)."""
    creating = topic is None
    if not creating:
        check_editable(topic)
    merged = {name: fields.get(name, getattr(topic, name, None)) for name in ("rule", "extraordinary", "opens_at",
                                                                             "closes_at")}
    check_timing(compound, merged["rule"], merged["extraordinary"], merged["opens_at"], merged["closes_at"],
                 now or utcnow())
    before = None if creating else topic.snapshot()
    if creating:
        topic = Topic(compound_id=compound.id, created_by=actor.id, status=Status.draft)
        db.session.add(topic)
    for name, value in fields.items():
        setattr(topic, name, value)
    if topic.kind == Kind.yesno:
        pairs = list(YES_NO)
    else:
        pairs = [(str(i + 1), label) for i, label in enumerate(option_labels)]
    topic.options.clear()
    db.session.flush()
    for position, (key, label) in enumerate(pairs):
        topic.options.append(Option(key=key, label=label, position=position))
    record_change(compound, actor, AREA, "create" if creating else "edit", topic, before, topic.snapshot())
    return topic


def check_correctable(topic):
    """Refuse a correction note but while the topic is published and not yet closed ("frozen")."""
    if topic.status != Status.published:
        raise VoteRefused("frozen", draft=topic.status == Status.draft)


def add_correction(compound, actor, topic, body, now=None):
    """Append a dated, signed correction note to a published topic: its wording itself never changes once
    households are discussing and voting on it."""
    check_correctable(topic)
    correction = TopicCorrection(topic_id=topic.id, body=body, created_by=actor.id, created_at=now or utcnow())
    db.session.add(correction)
    record_change(compound, actor, AREA, "correct", topic, None, {"correction": body})
    return correction


def corrections(topic):
    """The topic's correction notes, oldest first."""
    return db.session.scalars(select(TopicCorrection).where(TopicCorrection.topic_id == topic.id)
                              .order_by(TopicCorrection.id)).all()


def publish(compound, actor, topic, now=None):
    """Publish a draft: discussion starts and the electorate is frozen from the roll as it stands now: the whole
    compound, or only the households of the topic's building(s) or 单元.

    The topic row is locked first, so two committee phones publishing at once publish it once."""
    now = now or utcnow()
    locked = db.session.execute(select(Topic.status, Topic.closes_at).where(Topic.id == topic.id)
                                .with_for_update()).one()
    if locked.status != Status.draft:
        raise VoteRefused("published")
    if locked.closes_at <= now:
        raise VoteRefused("deadline_passed")
    # Publishing later than the draft was saved only shortens the notice: check it again.
    check_timing(compound, topic.rule, topic.extraordinary, topic.opens_at, topic.closes_at, now)
    households = db.session.scalars(in_scope(select(Household).where(Household.compound_id == compound.id),
                                             topic.scope)).all()
    if not households:
        raise VoteRefused("no_households", scoped=topic.scope is not None)
    db.session.execute(insert(Elector), [
        {"topic_id": topic.id, "household_id": h.id, "area_centi": h.area_centi, "owner": owner_group(h),
         "building": h.building} for h in households])
    before = topic.snapshot()
    topic.status = Status.published
    topic.published_at = now
    record_change(compound, actor, AREA, "publish", topic, before, {**topic.snapshot(),
                                                                    "electorate": len(households)})
    return len(households)


def visible_topics(compound):
    """Every topic residents may see, newest first."""
    return db.session.scalars(select(Topic).where(Topic.compound_id == compound.id, Topic.status != Status.draft)
                              .order_by(Topic.opens_at.desc(), Topic.id.desc())).all()


def voting_now(compound, now=None):
    """Topics whose voting is open right now, closing soonest first."""
    now = now or utcnow()
    return db.session.scalars(select(Topic).where(Topic.compound_id == compound.id, Topic.status == Status.published,
                                                  Topic.opens_at <= now, Topic.closes_at > now)
                              .order_by(Topic.closes_at)).all()


def all_topics(compound):
    return db.session.scalars(select(Topic).where(Topic.compound_id == compound.id)
                              .order_by(Topic.created_at.desc(), Topic.id.desc())).all()
