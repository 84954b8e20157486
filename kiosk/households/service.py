"""The work behind the roll and the cards: a household added or corrected, a whole roll imported, cards issued
and revoked; every change audited in the caller's transaction."""
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError

from ..changes import record_change
from ..database import utcnow
from ..extensions import db
from ..refusals import Refused
from . import AREA, CARDS, address_list, rollimport
from .models import (CardBatch, Delivery, Holder, Household, HouseholdCard, Occupancy, hash_token, live_card,
                     natural, new_token)


class HouseholdRefused(Refused):
    """A change to the roll the rules refuse ("taken": that address is on the roll already), or an address that
    names no household ("incomplete", "unknown", "ambiguous")."""


def find(compound, building, entrance, room):
    """The compound's household at an address as people type it (3栋, ３, 501室...); the entrance may be left
    out when only one household has that building and room. Refused: "incomplete" without a building or room,
    "unknown", or "ambiguous" (with the households it could be)."""
    building, entrance, room = address_list.key(building or "", entrance or "", room or "")
    if not building or not room:
        raise HouseholdRefused("incomplete", building=building, room=room)
    query = select(Household).where(Household.compound_id == compound.id, Household.building == building,
                                    Household.room == room)
    if entrance:
        query = query.where(Household.entrance == entrance)
    found = db.session.scalars(query.limit(20)).all()
    if not found:
        raise HouseholdRefused("unknown", address=address_list.shown(building, entrance, room))
    if len(found) > 1:
        raise HouseholdRefused("ambiguous", building=building, room=room, found=found)
    return found[0]


def save(compound, actor, household, fields):
    """Add a household or correct one from cleaned fields; refused when its address is taken (the caller rolls
    back)."""
    creating = household is None
    before = None if creating else household.snapshot()
    if creating:
        household = Household(compound_id=compound.id)
        db.session.add(household)
    for name, value in fields.items():
        setattr(household, name, value)
    try:
        record_change(compound, actor, AREA, "create" if creating else "edit", household, before,
                      household.snapshot())  # flushes: the address's uniqueness is the database's to check
    except IntegrityError:
        raise HouseholdRefused("taken") from None
    return household


def import_rows(compound, actor, rows):
    """Add or update every row (matched by address) in the caller's transaction; return (added, updated)."""
    added, updated, _unchanged = rollimport.import_rows(compound, actor, rows)
    return added, updated


def prepare(compound, actor, households, description=""):
    """Make a print run: a new pending card for each household, its old card still working until the run is
    confirmed; return (batch, [(household, token)]) (the caller commits). The tokens exist only in this answer."""
    batch = CardBatch(compound_id=compound.id, description=description[:80], count=len(households),
                      created_by=actor.id)
    db.session.add(batch)
    db.session.flush()
    issued = []
    for household in households:
        token = new_token()
        db.session.add(HouseholdCard(compound_id=compound.id, household_id=household.id, token_hash=hash_token(token),
                                     issued_by=actor.id, batch_id=batch.id,
                                     pending=True))
        issued.append((household, token))
    record_change(compound, actor, CARDS, "print", batch, None,
                  {**batch.snapshot(), "cards": [h.address for h in households]})
    return batch, issued


def confirm(compound, actor, batch):
    """The sheet was printed and handed out: the households' old cards stop and the run's cards work (caller
    commits). Refused ("done") when the run was confirmed or cancelled already."""
    if not batch.pending:
        raise HouseholdRefused("done")
    now = utcnow()
    households = select(HouseholdCard.household_id).where(HouseholdCard.batch_id == batch.id,
                                                          HouseholdCard.pending.is_(True))
    db.session.execute(update(HouseholdCard).where(
        HouseholdCard.household_id.in_(households), live_card()).values(revoked_at=now, revoked_by=actor.id))
    db.session.execute(update(HouseholdCard).where(HouseholdCard.batch_id == batch.id,
                                                   HouseholdCard.pending.is_(True),
                                                   HouseholdCard.revoked_at.is_(None)).values(pending=False))
    before = batch.snapshot()
    batch.confirmed_at, batch.confirmed_by = now, actor.id
    record_change(compound, actor, CARDS, "confirm", batch, before, batch.snapshot())


def cancel(compound, actor, batch):
    """The sheet was not printed (or is lost): the run's cards never work; the old cards stay (caller commits)."""
    if not batch.pending:
        raise HouseholdRefused("done")
    now = utcnow()
    db.session.execute(update(HouseholdCard).where(HouseholdCard.batch_id == batch.id,
                                                   HouseholdCard.pending.is_(True))
                       .values(revoked_at=now, revoked_by=actor.id))
    before = batch.snapshot()
    batch.cancelled_at, batch.cancelled_by = now, actor.id
    record_change(compound, actor, CARDS, "cancel", batch, before, batch.snapshot())


def pending_batches(compound):
    """The print runs waiting for confirmation, oldest first."""
    return db.session.scalars(select(CardBatch).where(
        CardBatch.compound_id == compound.id, CardBatch.confirmed_at.is_(None), CardBatch.cancelled_at.is_(None))
        .order_by(CardBatch.created_at, CardBatch.id)).all()


def issue(compound, actor, households):
    """Issue cards that work at once, the old ones revoked (for the CLI, the demo and tests, where nothing needs
    printing first); return [(household, token)] (caller commits)."""
    batch, issued = prepare(compound, actor, households)
    confirm(compound, actor, batch)
    return issued


def revoke(compound, actor, household):
    """Stop a household's card (and any waiting in a print run) without issuing a new one."""
    db.session.execute(update(HouseholdCard).where(
        HouseholdCard.household_id == household.id, HouseholdCard.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=actor.id))  # a card waiting in a print run too: it was lost
    record_change(compound, actor, CARDS, "revoke", household, None, {"address": household.address})


def card_in_hand(household):
    """The household's newest card that is not revoked: the working one, or one of a print run being handed out
    now (its delivery can be recorded before the run is confirmed). None without a card."""
    return db.session.scalar(select(HouseholdCard).where(HouseholdCard.household_id == household.id,
                                                         HouseholdCard.revoked_at.is_(None))
                             .order_by(HouseholdCard.id.desc()).limit(1))


def record_delivery(compound, actor, household, delivery, holder, now=None):
    """Record how the household's card reached it (in person against ID and property certificate, mailbox,
    other), by whom and when, and whether the owner or a tenant holds it; audited, committee only. Refused
    ("no_card") when the household has no card, ("delivery") for an unknown way or holder."""
    if delivery not in set(Delivery) or holder not in set(Holder):
        raise HouseholdRefused("delivery")
    card = card_in_hand(household)
    if card is None:
        raise HouseholdRefused("no_card", address=household.address)
    before = card.delivery_snapshot()
    card.delivery, card.holder = Delivery(delivery).value, Holder(holder).value
    card.delivered_by, card.delivered_at = actor.id, now or utcnow()
    record_change(compound, actor, CARDS, "deliver", card, before, card.delivery_snapshot())
    return card


def cards_by_building(compound):
    """Per building, in natural order: (building, households, with a working card, verified in person, held by a
    tenant). What the roll shows the committee about how far verification has come."""
    counts = db.session.execute(
        select(Household.building, func.count(func.distinct(Household.id)),
               func.count(func.distinct(HouseholdCard.household_id)),
               func.count(func.distinct(case((HouseholdCard.delivery == Delivery.in_person.value,
                                              HouseholdCard.household_id)))),
               func.count(func.distinct(case((HouseholdCard.holder == Holder.tenant.value,
                                              HouseholdCard.household_id)))))
        .outerjoin(HouseholdCard, (HouseholdCard.household_id == Household.id) & live_card())
        .where(Household.compound_id == compound.id).group_by(Household.building)).all()
    return sorted((tuple(row) for row in counts), key=lambda row: natural(row[0]))
