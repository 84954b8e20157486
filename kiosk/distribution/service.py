"""The work behind distribution (福利发放): events, who is on the list, pickups, progress; every change audited."""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..changes import record_change
from ..database import utcnow
from ..extensions import db
from ..households.models import LIVED_IN, Household, address_order, natural
from . import AREA
from .models import DistributionEvent, Eligibility, Pickup

SEARCH_LIMIT = 40
PAST_FOR_HOUSEHOLD = 5
PAST_DAYS_FOR_HOUSEHOLD = 365


class AlreadyCollected(Exception):
    """The household already collected this event's benefit; `pickup` says when and who recorded it."""

    def __init__(self, pickup):
        super().__init__(f"pickup {pickup.id}")
        self.pickup = pickup


class PickupRefused(Exception):
    """A pickup the rules refuse: `reason` is "not_listed", "not_started" or "ended"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Progress:
    """How many of the eligible households have collected."""

    done: int
    total: int

    @property
    def left(self):
        """Households still to collect."""
        return self.total - self.done

    @property
    def percent(self):
        """Share collected, 0-100 with one decimal (for the bar's width, not for counting)."""
        return round(self.done * 100 / self.total, 1) if self.total else 0


def buildings(compound):
    """Return the compound's buildings in natural order."""
    names = db.session.scalars(select(Household.building).where(Household.compound_id == compound.id).distinct())
    return sorted(names, key=natural)


def households_in_scope(compound, scope, chosen_buildings=(), occupied_only=False):
    """Return the households an eligibility choice covers: "all", "occupied" or "buildings"."""
    query = select(Household).where(Household.compound_id == compound.id)
    if scope == "occupied" or (scope == "buildings" and occupied_only):
        query = query.where(Household.occupancy.in_(LIVED_IN))  # owner-occupied or rented
    if scope == "buildings":
        query = query.where(Household.building.in_(list(chosen_buildings)))
    return db.session.scalars(query).all()


def all_households(compound):
    """Return every household of the compound (to match an uploaded list against)."""
    return db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()


def create_event(compound, actor, fields, household_ids, eligibility):
    """Create an event and fix its list of eligible households; the caller commits."""
    event = DistributionEvent(compound_id=compound.id, created_by=actor.id, eligibility=eligibility, **fields)
    db.session.add(event)
    db.session.flush()
    db.session.execute(insert(Eligibility), [{"event_id": event.id, "household_id": h} for h in household_ids])
    record_change(compound, actor, AREA, "create", event, None, {**event.snapshot(), "households": len(household_ids)})
    return event


def edit_event(compound, actor, event, fields):
    """Change an event's name, item or pickup window; the caller commits."""
    before = event.snapshot()
    for name, value in fields.items():
        setattr(event, name, value)
    record_change(compound, actor, AREA, "edit", event, before, event.snapshot())
    return event


def progress_of(event_ids):
    """Return {event id: Progress} for the given events."""
    event_ids = list(event_ids)
    if not event_ids:
        return {}
    totals = dict(db.session.execute(select(Eligibility.event_id, func.count()).where(
        Eligibility.event_id.in_(event_ids)).group_by(Eligibility.event_id)).all())
    done = dict(db.session.execute(select(Pickup.event_id, func.count()).where(
        Pickup.event_id.in_(event_ids)).group_by(Pickup.event_id)).all())
    return {i: Progress(done.get(i, 0), totals.get(i, 0)) for i in event_ids}


def progress(event):
    """Return one event's Progress."""
    return progress_of([event.id])[event.id]


def events_by_state(compound, now=None):
    """Return the compound's events as {"open": [...], "upcoming": [...], "past": [...]}."""
    now = now or utcnow()
    events = db.session.scalars(select(DistributionEvent).where(DistributionEvent.compound_id == compound.id)
                                .order_by(DistributionEvent.starts_at, DistributionEvent.id)).all()
    return {
        "open": [e for e in events if e.is_open(now)],
        "upcoming": [e for e in events if e.starts_at > now],
        "past": sorted((e for e in events if e.ends_at <= now), key=lambda e: e.ends_at, reverse=True),
    }


def open_events(compound, now=None):
    """Return the events handing out right now, ending soonest first."""
    now = now or utcnow()
    return db.session.scalars(select(DistributionEvent).where(
        DistributionEvent.compound_id == compound.id, DistributionEvent.starts_at <= now,
        DistributionEvent.ends_at > now).order_by(DistributionEvent.ends_at, DistributionEvent.id)).all()


def is_eligible(event, household_id):
    """Return whether the household is on the event's list."""
    return db.session.scalar(select(Eligibility.id).where(
        Eligibility.event_id == event.id, Eligibility.household_id == household_id)) is not None


def pickup_of(event_id, household_id):
    """Return the household's pickup for the event (with who recorded it), or None."""
    return db.session.scalar(select(Pickup).options(joinedload(Pickup.recorder)).where(
        Pickup.event_id == event_id, Pickup.household_id == household_id))


def collect(compound, actor, event, household, now=None):
    """Record that the household collected, and commit. Refused (PickupRefused) for a household not on the
    event's list (or of another compound) and outside the pickup window; AlreadyCollected if it already had.

    Two members marking the same household at the same moment both pass the first check on
    PostgreSQL; the UNIQUE(event_id, household_id) constraint then refuses the second insert, and
    that refusal is answered like the first check's.
    """
    if household is None or household.compound_id != compound.id or not is_eligible(event, household.id):
        raise PickupRefused("not_listed")
    now = now or utcnow()
    if event.starts_at > now:
        raise PickupRefused("not_started")
    if event.ends_at <= now:
        raise PickupRefused("ended")
    event_id, household_id = event.id, household.id
    existing = pickup_of(event_id, household_id)
    if existing is not None:
        raise AlreadyCollected(existing)
    try:
        pickup = Pickup(compound_id=compound.id, event_id=event_id, household_id=household_id,
                        recorded_by=actor.id, collected_at=utcnow())
        db.session.add(pickup)
        record_change(compound, actor, AREA, "pickup", pickup, None, {
            "event_id": event_id, "name": event.name, "household_id": household_id,
            "address": household.address, "collected_at": pickup.collected_at.isoformat()})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = pickup_of(event_id, household_id)
        if existing is None:
            raise
        raise AlreadyCollected(existing) from None
    return pickup


@dataclass
class Found:
    """A household found by building and room, and where it stands for one event."""

    household: Household
    eligible: bool
    pickup: Pickup | None


def search(event, building, room):
    """Return (found, more): the compound's households at that building/room prefix, eligible ones first."""
    query = (select(Household, Eligibility.id, Pickup)
             .outerjoin(Eligibility, and_(Eligibility.household_id == Household.id, Eligibility.event_id == event.id))
             .outerjoin(Pickup, and_(Pickup.household_id == Household.id, Pickup.event_id == event.id))
             .options(joinedload(Pickup.recorder))
             .where(Household.compound_id == event.compound_id))
    if building:
        query = query.where(Household.building == building)
    if room:
        query = query.where(Household.room.startswith(room, autoescape=True))
    rows = db.session.execute(query.limit(500)).all()
    found = sorted((Found(h, eligibility is not None, pickup) for h, eligibility, pickup in rows),
                   key=lambda f: (not f.eligible, address_order(f.household)))
    return found[:SEARCH_LIMIT], len(found) > SEARCH_LIMIT


def collected(event):
    """Return the event's pickups, latest first, with household and recorder."""
    return db.session.scalars(select(Pickup).options(joinedload(Pickup.household), joinedload(Pickup.recorder))
                              .where(Pickup.event_id == event.id)
                              .order_by(Pickup.collected_at.desc(), Pickup.id.desc())).all()


def not_collected(event):
    """Return the eligible households that have not collected yet, in address order."""
    picked = select(Pickup.household_id).where(Pickup.event_id == event.id)
    households = db.session.scalars(select(Household).join(Eligibility, Eligibility.household_id == Household.id)
                                    .where(Eligibility.event_id == event.id, Household.id.not_in(picked))).all()
    return sorted(households, key=address_order)


def roll_for_export(event):
    """Return [(household, pickup or None)] for every eligible household, in address order."""
    rows = db.session.execute(
        select(Household, Pickup).join(Eligibility, Eligibility.household_id == Household.id)
        .outerjoin(Pickup, and_(Pickup.household_id == Household.id, Pickup.event_id == event.id))
        .options(joinedload(Pickup.recorder)).where(Eligibility.event_id == event.id)).all()
    return sorted(((h, p) for h, p in rows), key=lambda row: address_order(row[0]))


def for_household(household, now=None):
    """Return [{"event", "pickup", "open"}] for the events the household is on: open ones, then recent past ones."""
    now = now or utcnow()
    rows = db.session.execute(
        select(DistributionEvent, Pickup)
        .join(Eligibility, and_(Eligibility.event_id == DistributionEvent.id, Eligibility.household_id == household.id))
        .outerjoin(Pickup, and_(Pickup.event_id == DistributionEvent.id, Pickup.household_id == household.id))
        .options(joinedload(Pickup.recorder))
        .where(DistributionEvent.compound_id == household.compound_id, DistributionEvent.starts_at <= now,
               DistributionEvent.ends_at > now - timedelta(days=PAST_DAYS_FOR_HOUSEHOLD))
        .order_by(DistributionEvent.ends_at.desc(), DistributionEvent.id.desc())).all()
    current = [{"event": e, "pickup": p, "open": True} for e, p in reversed(rows) if e.ends_at > now]
    past = [{"event": e, "pickup": p, "open": False} for e, p in rows if e.ends_at <= now]
    return current + past[:PAST_FOR_HOUSEHOLD]


def household_status(household, events):
    """Return {event id: (eligible, pickup)} for one household and some events."""
    ids = [e.id for e in events]
    if not ids:
        return {}
    eligible = set(db.session.scalars(select(Eligibility.event_id).where(
        Eligibility.household_id == household.id, Eligibility.event_id.in_(ids))))
    pickups = {p.event_id: p for p in db.session.scalars(select(Pickup).options(joinedload(Pickup.recorder)).where(
        Pickup.household_id == household.id, Pickup.event_id.in_(ids)))}
    return {i: (i in eligible, pickups.get(i)) for i in ids}


def recent_pickups(household, limit=10):
    """Return [(pickup, event)] of the household, latest first."""
    return db.session.execute(select(Pickup, DistributionEvent).join(DistributionEvent, Pickup.event_id ==
                                                                      DistributionEvent.id)
                              .options(joinedload(Pickup.recorder)).where(Pickup.household_id == household.id)
                              .order_by(Pickup.collected_at.desc()).limit(limit)).all()
