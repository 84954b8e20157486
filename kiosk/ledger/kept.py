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

What the page around the body needs of a published period (its book and dates) is kept too, per compound version:
the database keeps a published period fixed, and a period deleted with its compound's data (a practice reset)
moves the version first.
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import func, select

from ..changes import Change
from ..extensions import db
from . import AREA
from .models import Book, Period, PeriodStatus

DOCUMENTS = "documents"  # kiosk.documents.AREA (not imported: the ledger does not depend on that area)
MAX_BODIES = 64  # ~30 KB each: a couple of MB at most, whatever the number of compounds and pages
MAX_PERIODS = 1024  # a few hundred bytes each
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


@dataclass(frozen=True)
class PublishedPeriod:
    """What the period page needs of a published period besides its body: which one, its book and its dates."""

    id: int
    compound_id: int
    book_kind: str
    starts_on: date
    ends_on: date


def published_period(compound, period_id):
    """The published period `period_id` of this compound (a PublishedPeriod), or None when there is none such
    (missing, another compound's, not published yet: the caller asks the database as before). Read once per
    compound version in this process."""
    memo = current_app.extensions.setdefault("kiosk_published_periods", {})
    key = (compound.id, compound.version, period_id)
    found = memo.get(key)
    if found is not None:
        return found
    row = db.session.execute(
        select(Period.id, Period.compound_id, Book.kind, Period.starts_on, Period.ends_on)
        .join(Book, Book.id == Period.book_id)
        .where(Period.id == period_id, Period.compound_id == compound.id, Book.compound_id == compound.id,
               Period.status == PeriodStatus.published)).one_or_none()
    return None if row is None else _remember(compound, PublishedPeriod(*row))


def loaded_period(compound, period):
    """Keep what the page needs of a published period just loaded (its body is rendered again from it: what the
    database holds now, so a change made behind the application's back shows with the body); return it. A period
    no longer published is forgotten (None)."""
    if period.status != PeriodStatus.published:
        current_app.extensions.setdefault("kiosk_published_periods", {}).pop(
            (compound.id, compound.version, period.id), None)
        return None
    return _remember(compound, PublishedPeriod(period.id, period.compound_id, period.book.kind, period.starts_on,
                                               period.ends_on))


def _remember(compound, found):
    memo = current_app.extensions.setdefault("kiosk_published_periods", {})
    if compound.slug not in db.session.info.get("kiosk_changed_slugs", ()):  # not a version this request may undo
        if len(memo) >= MAX_PERIODS:
            memo.clear()
        memo[(compound.id, compound.version, found.id)] = found
    return found


def kept_body(key):
    """The rendered text kept under `key`, or None."""
    bodies = current_app.extensions.setdefault("kiosk_period_bodies", OrderedDict())
    found = bodies.get(key)  # without the lock: every page asks, and a thread preempted holding it stalls them all
    if found is not None:
        try:
            bodies.move_to_end(key)
        except KeyError:  # dropped meanwhile by another thread keeping a body: the text is still good
            pass
    return found


def body(key, render):
    """The rendered text kept under `key`, else render() kept under it (the least recently used goes first)."""
    found = kept_body(key)
    if found is not None:
        return found
    bodies = current_app.extensions.setdefault("kiosk_period_bodies", OrderedDict())
    text = render()  # outside the lock: two first visitors may both render, never wait for each other
    with _lock:
        bodies[key] = text
        bodies.move_to_end(key)
        while len(bodies) > MAX_BODIES:
            bodies.popitem(last=False)
    return text
