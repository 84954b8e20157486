"""Tamper evidence from the database: the chain check with per-period verdicts (fresh for anything that
writes, cached for the pages that show figures), the stretch of the chain a resident's phone recomputes for
one period, and the chain's head for phones to remember.

integrity.py decides; this module only reads the rows it needs (plain rows, not ORM objects: a district-size
ledger has 100,000 entries).
"""
import threading
import time

from flask import current_app
from sqlalchemy import func, literal, select
from sqlalchemy.orm import aliased, selectinload

from ..changes import AuditEntry
from ..database import utcnow
from ..extensions import db
from . import AREA, chain, integrity, kept, service
from .models import Book, Entry, Period, PeriodStatus, Transfer
from .service import in_book

VERIFY_COLUMNS = (Entry.compound_id, Entry.number, Entry.kind, Entry.occurred_on, Entry.category_id,
                  Entry.amount_fen, Entry.description, Entry.counterparty, Entry.counterparty_is_person,
                  Entry.method, Entry.topic_id, Entry.reverses_id, Entry.posted_at, Entry.recipe,
                  Entry.counterparty_nonce, Entry.prev_hash, Entry.hash, Entry.building)
# Problems that mean the chain itself was tampered with (not only that a period's figures disagree).
CHAIN_PROBLEMS = {"entry", "head", "rewritten", "missing", "signoff"}


def _facts(compound):
    """Every period of the compound as the check needs it, with the heads its current sign-offs recorded."""
    found = db.session.scalars(select(Period).options(selectinload(Period.signoffs))
                               .where(in_book(Period, compound))).all()
    return [integrity.PeriodFacts(
        id=p.id, starts_on=p.starts_on, ends_on=p.ends_on, status=p.status, head_number=p.head_number,
        head_hash=p.head_hash, opening=p.opening_fen, income=p.income_fen, expense=p.expense_fen,
        closing=p.closing_fen, count=p.entry_count,
        signed_heads=tuple((s.head_number, s.head_hash) for s in service.current_signoffs(p)
                           if s.head_hash is not None)) for p in found]


def witness(compound):
    """(number, hash) of the last entry of the current book the append-only audit log saw posted, or None.
    Audited posts name their book (those from before there were several books are the public income's)."""
    kind = service.current_kind()
    rows = db.session.scalars(select(AuditEntry.after).where(
        AuditEntry.compound_id == compound.id, AuditEntry.area == AREA,
        AuditEntry.action.in_(["post", "reverse"])).order_by(AuditEntry.id.desc())
        .execution_options(yield_per=200))
    for after in rows:
        if not isinstance(after, dict) or after.get("book", "public_income") != kind:
            continue
        if isinstance(after.get("number"), int) and isinstance(after.get("hash"), str):
            return after["number"], after["hash"]
        return None
    return None


def verify_rows(compound):
    """The current book's posted entries as the check reads them (plain rows, in number order), with the book's
    kind and each entry's transfer number, which the chain seals."""
    sent, received = aliased(Transfer), aliased(Transfer)
    kind = service.current_kind()
    return db.session.execute(
        select(*VERIFY_COLUMNS, literal(str(kind)).label("book_kind"),
               func.coalesce(sent.number, received.number).label("transfer_number"))
        .outerjoin(sent, sent.from_entry_id == Entry.id).outerjoin(received, received.to_entry_id == Entry.id)
        .where(in_book(Entry, compound), Entry.posted.is_(True))
        .order_by(Entry.number).execution_options(yield_per=5000))


def check(compound):
    """Recompute the current book's chain now and judge every closed period."""
    return integrity.check(verify_rows(compound), _facts(compound), service.book(compound).opening_fen,
                           witness(compound))


def check_all(compound):
    """{book kind: report} for each of the compound's opened books (`kiosk verify`, the district's view)."""
    found = {}
    for opened in service.books(compound):
        with service.using_book(opened.kind):
            found[opened.kind] = check(compound)
    return found


def chain_intact(report):
    """Whether the chain itself checks out (a period whose figures merely disagree does not stop posting)."""
    if report.bad or report.gaps or report.rewritten or report.lost or report.tail_changed:
        return False
    return not any(CHAIN_PROBLEMS & set(verdict.problems) for verdict in report.periods.values())


_lock = threading.Lock()


def _lock_of(locks, key):
    """The lock one compound's book is checked under (other compounds' pages never wait for it)."""
    found = locks.get(key)
    if found is not None:
        return found
    with _lock:
        return locks.setdefault(key, threading.Lock())


def cached_check(compound):
    """(report, checked_at): the compound's check, recomputed when the ledger changed (its last ledger change
    row, kept.state: not any change of the compound, so a vote or a notice does not cost 100,000 hashes); one
    request computes while the others of that book wait for its answer instead of each recomputing. Once the
    report is older than VERIFY_CACHE_SECONDS with the ledger unchanged, it is still answered while one
    background thread checks again (a recheck of 100,000 entries takes seconds: no page waits for it). For
    pages; whatever writes calls check()."""
    ttl = current_app.config["VERIFY_CACHE_SECONDS"]
    cache = current_app.extensions.setdefault("kiosk_verify_cache", {})
    locks = current_app.extensions.setdefault("kiosk_verify_locks", {})
    key = (compound.id, service.current_kind())
    ledger_version = kept.state(compound)[0]
    found = cache.get(key)  # the common case, read without a lock: an entry is only ever replaced whole
    if found and found[0] == ledger_version and time.monotonic() - found[1] < ttl:
        return found[2], found[3]
    with _lock_of(locks, key):
        found = cache.get(key)
        if found and found[0] == ledger_version:
            if time.monotonic() - found[1] < ttl or (ttl > 0 and _recheck_later(key, ledger_version)):
                return found[2], found[3]
        report = check(compound)
        checked_at = utcnow()
        cache[key] = (ledger_version, time.monotonic(), report, checked_at)
        return report, checked_at


def _recheck_later(key, ledger_version):
    """Start the one background recheck of a compound's book (unless it is running); True either way."""
    running = current_app.extensions.setdefault("kiosk_verify_rechecks", set())
    with _lock:
        if key in running:
            return True
        running.add(key)
    app = current_app._get_current_object()
    threading.Thread(target=_recheck, args=(app, key, ledger_version), name="kiosk-ledger-recheck",
                     daemon=True).start()
    return True


def _recheck(app, key, ledger_version):
    """Check a compound's book again in its own app context and session, and keep the report (a failure is
    logged; the old report stays until the next request tries again)."""
    from ..compounds.models import Compound

    try:
        with app.app_context():
            try:
                compound = db.session.get(Compound, key[0])
                with service.using_book(key[1]):
                    report = check(compound)
                with _lock_of(app.extensions["kiosk_verify_locks"], key):
                    app.extensions["kiosk_verify_cache"][key] = (ledger_version, time.monotonic(), report, utcnow())
            except Exception:  # noqa: BLE001 - a background thread has no one else to tell
                app.logger.exception("the background recheck of the ledger %s failed", key)
            finally:
                db.session.remove()
    finally:
        with _lock:
            app.extensions["kiosk_verify_rechecks"].discard(key)


def head(compound, at_number=None):
    """The chain's newest entry, and (for a phone that remembers one) the stored hash at `at_number`."""
    number, digest = service.chain_head(compound)
    found = {"number": number, "hash": digest if number else chain.GENESIS}
    if at_number is not None:
        stored = db.session.scalar(select(Entry.hash).where(
            in_book(Entry, compound), Entry.posted.is_(True), Entry.number == at_number))
        found["at"] = {"number": at_number, "hash": stored}
    return found


def segment(compound, period):
    """What a phone needs to recompute a published period against its printed code: the stretch of the chain
    from just before the period's earliest-numbered entry (entries can be posted, back-dated, before an
    earlier period's head) up to the period's head, each entry with its sealed fields where residents may see
    them, else only its content digest ("undisclosed": dated in a period not yet published), or nothing at
    all (recipe 1 entries naming a person, "person")."""
    first = db.session.scalar(select(func.min(Entry.number)).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.occurred_on >= period.starts_on,
        Entry.occurred_on <= period.ends_on))
    start = min(first - 1, period.head_number) if first is not None else period.head_number
    rows = db.session.scalars(select(Entry).options(selectinload(Entry.category)).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.number > start,
        Entry.number <= period.head_number).order_by(Entry.number)).all()
    start_hash = chain.GENESIS if start == 0 else db.session.scalar(select(Entry.hash).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.number == start))
    if start_hash is None:
        start_hash = rows[0].prev_hash if rows else chain.GENESIS
    published = [(p.starts_on, p.ends_on) for p in service.periods(compound, published_only=True)]
    return {
        "format": "kiosk-ledger-segment/1",
        "compound": compound.slug,
        "book": str(service.current_kind()),
        "period": {"id": period.id, "starts_on": period.starts_on.isoformat(),
                   "ends_on": period.ends_on.isoformat(), "head_number": period.head_number,
                   "head_hash": period.head_hash, "opening_fen": period.opening_fen,
                   "income_fen": period.income_fen, "expense_fen": period.expense_fen,
                   "closing_fen": period.closing_fen, "entry_count": period.entry_count},
        "start": {"number": start, "hash": start_hash},
        "entries": [_segment_entry(e, period, published) for e in rows],
    }


def _segment_entry(entry, period, published):
    """One entry of a segment, as much of it as residents may see."""
    in_period = period.starts_on <= entry.occurred_on <= period.ends_on
    item = {"number": entry.number, "in_period": in_period, "prev_hash": entry.prev_hash, "hash": entry.hash}
    if not (in_period or any(a <= entry.occurred_on <= b for a, b in published)):
        item["sealed"] = "undisclosed"
        if entry.recipe >= chain.CURRENT:
            item["digest"] = chain.content_digest(chain.fields_of(entry))
        return item
    fields = chain.public_fields(entry)
    if fields is None:
        item["sealed"] = "person"
        return item
    item["fields"] = fields
    item["category_name"] = entry.category.name if entry.category else ""
    return item


def published_period(compound, period_id):
    """A published period of the compound, or None."""
    period = db.session.get(Period, period_id)
    if period is None or period.compound_id != compound.id or period.status != PeriodStatus.published:
        return None
    service.adopt_book(period)
    return period
