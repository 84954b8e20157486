"""The work behind the roll and the cards: a household added or corrected, a whole roll imported, cards issued
and revoked; every change audited in the caller's transaction."""
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..changes import record_change
from ..database import utcnow
from ..extensions import db
from ..refusals import Refused
from . import AREA, CARDS, address_list
from .models import Household, HouseholdCard, Occupancy, new_token, hash_token


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
    existing = {(h.building, h.entrance, h.room): h for h in db.session.scalars(
        select(Household).where(Household.compound_id == compound.id))}
    new, updated = [], []
    for row in rows:
        key = (row["building"], row["entrance"], row["room"])
        values = {"area_centi": row["area_centi"], "occupancy": Occupancy(row["occupancy"]),
                  **{f: row[f] for f in ("owner_key", "contact_name", "contact_phone", "note")}}
        household = existing.get(key)
        if household is None:
            new.append({"compound_id": compound.id, "building": key[0], "entrance": key[1], "room": key[2],
                        **values})
        else:
            for field, value in values.items():
                setattr(household, field, value)
            updated.append(household.address)
    if new:
        # One multi-row INSERT instead of 5,000 ORM objects: the import of a whole roll takes a second.
        db.session.execute(insert(Household), new)
    record_change(compound, actor, AREA, "import", compound, None,
                  {"added": [Household(**{k: n[k] for k in ("building", "entrance", "room")}).address for n in new],
                   "updated": updated})
    return len(new), len(updated)


def issue(compound, actor, households):
    """Revoke each household's live card and issue a new one; return [(household, token)] (caller commits)."""
    now = utcnow()
    ids = [h.id for h in households]
    db.session.execute(update(HouseholdCard).where(
        HouseholdCard.household_id.in_(ids), HouseholdCard.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=actor.id))
    issued = []
    for household in households:
        token = new_token()
        db.session.add(HouseholdCard(compound_id=compound.id, household_id=household.id,
                                     token_hash=hash_token(token), issued_by=actor.id))
        issued.append((household, token))
    record_change(compound, actor, CARDS, "issue", compound, None, {"cards": [h.address for h in households]})
    return issued


def revoke(compound, actor, household):
    """Stop a household's live card without issuing a new one."""
    db.session.execute(update(HouseholdCard).where(
        HouseholdCard.household_id == household.id, HouseholdCard.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=actor.id))
    record_change(compound, actor, CARDS, "revoke", household, None, {"address": household.address})
