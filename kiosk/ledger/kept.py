"""What the ledger's public pages keep in memory between requests (per process), and how they know it is current.

A published period never changes (the database refuses), so the body of its page, the part that costs
(figures by category, 50 entries with their receipts, signatures, the QR), is the same for every visitor until
one of these changes: the ledger (a receipt made private, a category renamed, a new check: every ledger write
goes through record_change with area "ledger"), the audit reports shown under it (area "documents"), the
chain check's report (recomputed on a ledger change and at least every VERIFY_CACHE_SECONDS, so a change made
behind the application's back shows as it did before), the day (an audit's posting window), the language,
large type or the host the QR names. All of them are in the key; nothing is ever invalidated by hand.

The ledger's state is the compound version of its last ledger (and documents) change row, read from the
database, so every process agrees; it is asked once per compound version (which every request reads anyway).
"""
import threading
from collections import OrderedDict

from flask import current_app
from sqlalchemy import func, select

from ..changes import Change
from ..extensions import db
from . import AREA

DOCUMENTS = "documents"  # kiosk.documents.AREA (not imported: the ledger does not depend on that area)
MAX_BODIES = 64  # ~30 KB each: a couple of MB at most, whatever the number of compounds and pages
_lock = threading.Lock()


def _last_change(compound, area):
    return select(func.max(Change.version)).where(Change.compound_id == compound.id, Change.area == area) \
        .scalar_subquery()


def state(compound):
    """(ledger version, documents version): the compound versions of the last ledger and documents changes (None
    before the first), read once per compound version in this process."""
    memo = current_app.extensions.setdefault("kiosk_ledger_state", {})
    found = memo.get(compound.id)
    if found is not None and found[0] == compound.version:
        return found[1]
    row = tuple(db.session.execute(select(_last_change(compound, AREA), _last_change(compound, DOCUMENTS))).one())
    if compound.slug not in db.session.info.get("kiosk_changed_slugs", ()):  # not a version this request may undo
        memo[compound.id] = (compound.version, row)
    return row


def body(key, render):
    """The rendered text kept under `key`, else render() kept under it (the least recently used goes first)."""
    bodies = current_app.extensions.setdefault("kiosk_period_bodies", OrderedDict())
    with _lock:
        found = bodies.get(key)
        if found is not None:
            bodies.move_to_end(key)
            return found
    text = render()  # outside the lock: two first visitors may both render, never wait for each other
    with _lock:
        bodies[key] = text
        bodies.move_to_end(key)
        while len(bodies) > MAX_BODIES:
            bodies.popitem(last=False)
    return text
