"""The roll import between upload and confirmation: the uploaded file kept for its compound and its uploader
only, the plan a preview shows (new, changed, unchanged, refused), and the save in the caller's transaction.

The file waits in the private upload folder under a random name; the page carries a signed token naming the
file, its sha256, the compound and the person, so a preview made in compound A cannot be confirmed in compound B
(nor by someone else), and a token outlives its file by nothing: confirming deletes it, old ones are swept.
"""
import hashlib
import re
import secrets
import time
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import insert, select

from .. import storage
from ..changes import record_change
from ..extensions import db
from ..refusals import Refused
from ..uploads import upload_dir
from . import AREA
from .rollmap import address_key
from .models import Household, Occupancy

KEEP_SECONDS = 6 * 3600  # a preview left open over lunch can still be confirmed
SALT = "roll-import"
FOLDER = "roll-imports"
VALUES = ("area_centi", "occupancy", "owner_key", "contact_name", "contact_phone", "note")
NEW_DEFAULTS = {"occupancy": Occupancy.owner_occupied, "owner_key": "", "contact_name": "", "contact_phone": "",
                "note": ""}


class ImportRefused(Refused):
    """The kept upload cannot be used: "expired" (too old, gone, or altered) or "elsewhere" (another compound's
    or another person's preview)."""


@dataclass
class Planned:
    """One readable row and what confirming would do with it: "new", "changed" or "unchanged"."""

    row: object  # rollmap.Row
    status: str
    household: Household | None


def _serializer():
    """Signs the tokens with the app's secret, for this purpose only."""
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)


def _folder():
    """The private folder the kept uploads wait in."""
    return storage.private_dir(upload_dir() / FOLDER)


def _sweep(folder):
    """Delete kept uploads older than a token may live (nobody can confirm them any more)."""
    limit = time.time() - KEEP_SECONDS
    for path in folder.glob("*.bin"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except FileNotFoundError:
            pass


def keep(data, compound, user):
    """Keep an uploaded file until it is confirmed; return the signed token the preview page carries."""
    folder = _folder()
    _sweep(folder)
    name = secrets.token_hex(16)
    path = folder / f"{name}.bin"
    storage.create_private_file(path)
    path.write_bytes(data)
    return _serializer().dumps({"f": name, "c": compound.id, "u": user.id, "s": hashlib.sha256(data).hexdigest()})


def _kept_path(token, compound, user):
    """The file a token names, after checking it was signed for this compound and this person."""
    try:
        claim = _serializer().loads(token or "", max_age=KEEP_SECONDS)
    except BadSignature:
        raise ImportRefused("expired") from None
    if not isinstance(claim, dict) or claim.get("c") != compound.id or claim.get("u") != user.id:
        raise ImportRefused("elsewhere")
    if not re.fullmatch(r"[0-9a-f]{32}", str(claim.get("f"))):
        raise ImportRefused("expired")
    return _folder() / f"{claim['f']}.bin", claim["s"]


def load(token, compound, user):
    """The bytes of a kept upload; refused when the token is not this compound's and person's, or is stale."""
    path, digest = _kept_path(token, compound, user)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportRefused("expired") from None
    if hashlib.sha256(data).hexdigest() != digest:
        raise ImportRefused("expired")
    return data


def forget(token, compound, user):
    """Delete a kept upload once it has been imported."""
    path, _digest = _kept_path(token, compound, user)
    path.unlink(missing_ok=True)


def _existing(compound):
    """The compound's households by their comparable address (3栋, 三 and 3 are the same building)."""
    return {address_key(h.building, h.entrance, h.room): h
            for h in db.session.scalars(select(Household).where(Household.compound_id == compound.id))}


def _values(fields):
    """The stored values a row brings (only the columns the file has)."""
    values = {name: fields[name] for name in VALUES if name in fields}
    if "occupancy" in values:
        values["occupancy"] = Occupancy(values["occupancy"])
    return values


def plan(compound, rows):
    """What confirming would do with each readable row, against the roll as it is now."""
    existing = _existing(compound)
    planned = []
    for row in rows:
        household = existing.get((row.fields["building"], row.fields["entrance"], row.fields["room"]))
        if household is None:
            status = "new"
        elif any(getattr(household, name) != value for name, value in _values(row.fields).items()):
            status = "changed"
        else:
            status = "unchanged"
        planned.append(Planned(row, status, household))
    return planned


def import_rows(compound, actor, rows):
    """Add or update every row (dicts of household fields, matched by address) in the caller's transaction;
    fields a row does not carry stay as the roll has them. Return (added, updated, unchanged)."""
    existing = _existing(compound)
    new, updated, unchanged = [], [], 0
    for fields in rows:
        key = address_key(fields["building"], fields["entrance"], fields["room"])
        values = _values(fields)
        household = existing.get(key)
        if household is None:
            existing[key] = True  # a second row for the same address is an update, never a second INSERT
            new.append({"compound_id": compound.id, "building": key[0], "entrance": key[1], "room": key[2],
                        **NEW_DEFAULTS, **values})
            continue
        if household is True:
            continue
        changed = {name: value for name, value in values.items() if getattr(household, name) != value}
        for name, value in changed.items():
            setattr(household, name, value)
        if changed:
            updated.append(household.address)
        else:
            unchanged += 1
    if new:
        # One multi-row INSERT instead of 5,000 ORM objects: the import of a whole roll takes a second.
        db.session.execute(insert(Household), new)
    record_change(compound, actor, AREA, "import", compound, None,
                  {"added": [Household(**{k: n[k] for k in ("building", "entrance", "room")}).address for n in new],
                   "updated": updated})
    return len(new), len(updated), unchanged
