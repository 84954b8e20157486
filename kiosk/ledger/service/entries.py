"""Entries: drafts and the rules they must meet, posting into the hash chain, reversals, receipts."""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from ...timefmt import local_date
from ...uploads import save_image
from .. import AREA, chain
from ..models import Category, Entry, Kind, Period, PeriodStatus, Receipt
from .base import FieldsRefused, LedgerRefused, book, in_book, lock_chain
from . import fund
from .budgets import budgeted_topics, over_budget

RECENT = 20


def locked_period(compound, day):
    """The period that stops an entry dated `day`: a submitted or published one covering it, or a published
    one after it (an entry before it would change an opening balance residents were already shown)."""
    covering = db.session.scalar(select(Period).where(
        in_book(Period, compound), Period.starts_on <= day, Period.ends_on >= day,
        Period.status.in_([PeriodStatus.submitted, PeriodStatus.published])))
    if covering is not None:
        return covering
    return db.session.scalar(select(Period).where(
        in_book(Period, compound), Period.starts_on > day, Period.status == PeriodStatus.published)
        .order_by(Period.starts_on).limit(1))


@dataclass
class EntryCheck:
    """What check_entry found: problems by field, and the resolution the entry is tied to with how far it would
    go over that budget (the form shows both)."""

    problems: dict = field(default_factory=dict)
    topic: object = None
    overspend: int = 0


def check_entry(compound, entry, fields, over_budget_ok=False):
    """Every rule a draft's fields must meet, all at once: a category of the compound that is in use (an archived
    one only if the draft already has it) and of the entry's kind; a date from the book's start, not in the
    future and not in a period that is closed or before a published one; a resolution with a budget, and going
    over that budget only when acknowledged; in the maintenance fund, a building of the roll (or none) and, for
    spending, a decided statutory resolution covering that building (_check_fund)."""
    values = {"topic_id": None, "amount_fen": 0, "building": None}
    if entry is not None:
        values.update(kind=entry.kind, category_id=entry.category_id, occurred_on=entry.occurred_on,
                      amount_fen=entry.amount_fen, topic_id=entry.topic_id, building=entry.building)
    values.update(fields)
    found = EntryCheck()
    category = db.session.get(Category, values.get("category_id") or 0)
    if category is None or category.compound_id != compound.id or category.book_id != book(compound).id or (
            category.archived and (entry is None or entry.category_id != category.id)):
        found.problems["category_id"] = LedgerRefused("no_category")
    elif category.kind != values.get("kind"):
        found.problems["category_id"] = LedgerRefused("category_kind", category=category, kind=values.get("kind"))
    day = values.get("occurred_on")
    if day is not None:
        started = book(compound).started_on
        locked = locked_period(compound, day) if started <= day <= local_date() else None
        if day < started:
            found.problems["occurred_on"] = LedgerRefused("before_start", started_on=started)
        elif day > local_date():
            found.problems["occurred_on"] = LedgerRefused("future")
        elif locked is not None:
            found.problems["occurred_on"] = LedgerRefused("locked", period=locked, day=day)
    if fund.is_fund(compound):
        _check_fund(compound, values, found)
    elif values.get("topic_id"):
        found.topic = next((t for t in budgeted_topics(compound) if t.id == values["topic_id"]), None)
        if found.topic is None:
            found.problems["topic_id"] = LedgerRefused("no_topic")
    if found.topic is not None and values.get("kind") == Kind.expense and values.get("amount_fen"):
        found.overspend = over_budget(found.topic, values["amount_fen"])
        if found.overspend and not over_budget_ok:
            found.problems["over_budget_ok"] = LedgerRefused("over_budget", topic=found.topic,
                                                             over=found.overspend)
    return found


def _check_fund(compound, values, found):
    """The maintenance fund's rules: a building from the roll (or none: the shared parts); spending names a
    decided statutory resolution, and one building's resolution pays for that building only."""
    building = values.get("building") or None
    if building is not None and building not in fund.buildings(compound):
        found.problems["building"] = LedgerRefused("no_building")
    if values.get("kind") != Kind.expense:
        if values.get("topic_id"):  # optional on money coming in, but then one of the fund's resolutions
            found.topic = next((t for t in fund.fund_topics(compound) if t.id == values["topic_id"]), None)
            if found.topic is None:
                found.problems["topic_id"] = LedgerRefused("no_topic")
        return
    found.topic = next((t for t in fund.fund_topics(compound) if t.id == values.get("topic_id")), None)
    if found.topic is None:
        found.problems["topic_id"] = LedgerRefused("fund_topic")
        return
    scope = fund.topic_buildings(found.topic)
    if scope and building not in scope and "building" not in found.problems:
        found.problems["building"] = LedgerRefused("fund_building", scope=[f"{b}栋" for b in scope])


def save_draft(compound, actor, entry, fields, over_budget_ok=False):
    """Create or edit a draft entry (never a posted one) from cleaned fields, if check_entry finds nothing wrong
    (else FieldsRefused with every problem)."""
    creating = entry is None
    if not creating and entry.posted:
        raise LedgerRefused("posted")
    found = check_entry(compound, entry, fields, over_budget_ok)
    if found.problems:
        raise FieldsRefused(found.problems, topic=found.topic, overspend=found.overspend)
    before = None if creating else entry.snapshot()
    if creating:
        entry = Entry(compound_id=compound.id, book_id=book(compound).id, recorded_by=actor.id, posted=False)
        db.session.add(entry)
    for name, value in fields.items():
        setattr(entry, name, value)
    db.session.flush()
    db.session.refresh(entry, ["category"])
    record_change(compound, actor, AREA, "draft" if creating else "edit", entry, before, entry.snapshot())
    return entry


def delete_draft(compound, actor, entry):
    """Delete a draft and its receipts (a posted entry is never deleted)."""
    if entry.posted:
        raise LedgerRefused("posted")
    record_change(compound, actor, AREA, "delete_draft", entry, entry.snapshot(), None)
    for receipt in list(entry.receipts):
        db.session.delete(receipt)
    db.session.delete(entry)


def chain_head(compound):
    """(number, hash) of the last posted entry, or (0, GENESIS)."""
    row = db.session.execute(select(Entry.number, Entry.hash).where(
        in_book(Entry, compound), Entry.posted.is_(True)).order_by(Entry.number.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, chain.GENESIS)


def refuse_on_broken_chain(compound):
    """Refuse to build on a chain that no longer checks out (recomputed now, never from a cache): a new entry
    linked to a tampered one would look as if the committee accepted the tampering."""
    from .. import evidence

    report = evidence.check(compound)
    if not evidence.chain_intact(report):
        raise LedgerRefused("broken_chain", report=report)


def _seal(compound, actor, entry):
    """Number the entry, link it to the chain's head and hash it (recipe 2: a person's name as a commitment);
    submitted periods after its date go back to the committee, their opening balance having changed."""
    if entry.occurred_on < book(compound).started_on:
        raise LedgerRefused("before_start", started_on=book(compound).started_on)
    period = locked_period(compound, entry.occurred_on)
    if period is not None:
        raise LedgerRefused("locked", period=period, day=entry.occurred_on)
    refuse_on_broken_chain(compound)
    lock_chain(compound)
    number, previous = chain_head(compound)
    entry.number, entry.prev_hash = number + 1, previous
    entry.posted, entry.posted_by = True, actor.id
    entry.posted_at = utcnow().replace(microsecond=0)
    entry.recipe = chain.CURRENT
    entry.counterparty_nonce = chain.new_nonce() if entry.counterparty_is_person else ""
    with db.session.no_autoflush:  # the row is written once, hash and all (a posted row is never updated)
        entry.hash = chain.entry_hash(previous, chain.fields_of(entry))
    _send_back_later(compound, actor, entry)


def _send_back_later(compound, actor, entry):
    """Submitted periods that start after the entry's date no longer have the right opening balance: they go
    back to the committee by themselves, saying which entry changed them (shown on their pages)."""
    later = db.session.scalars(select(Period).where(
        in_book(Period, compound), Period.status == PeriodStatus.submitted,
        Period.starts_on > entry.occurred_on).order_by(Period.starts_on)).all()
    for period in later:
        before = period.snapshot()
        period.status, period.returned_reason, period.returned_entry = PeriodStatus.returned, "", entry.number
        record_change(compound, actor, AREA, "auto_return", period, before,
                      {**period.snapshot(), "entry": entry.number, "entry_day": entry.occurred_on.isoformat()})


def post(compound, actor, entry):
    """Post a draft: from now on it is part of the record and can only be reversed."""
    if entry.posted:
        raise LedgerRefused("posted")
    _seal(compound, actor, entry)
    record_change(compound, actor, AREA, "post", entry, None, {**entry.snapshot(), "hash": entry.hash})
    return entry


def reverse(compound, actor, entry, reason, on=None, pair=False):
    """Post a reversing entry for a posted one (dated today by default); a second reversal is refused, and so is
    one side of a transfer alone (transfers.reverse_transfer reverses both, `pair`)."""
    if not entry.posted:
        raise LedgerRefused("not_posted")
    if not pair and entry.transfer is not None:
        raise LedgerRefused("transfer_side", number=entry.transfer.number)
    if entry.reverses_id is not None:
        raise LedgerRefused("is_reversal")
    already = db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))
    if already is not None:
        raise LedgerRefused("reversed", by=already)
    reversal = Entry(compound_id=compound.id, book_id=book(compound).id, kind=entry.kind, occurred_on=on or local_date(),
                     category_id=entry.category_id, amount_fen=-entry.amount_fen,
                     description=f"冲销第 {entry.number} 号：{reason}"[:200], counterparty=entry.counterparty,
                     counterparty_is_person=entry.counterparty_is_person, method=entry.method,
                     topic_id=entry.topic_id, reverses_id=entry.id, recorded_by=actor.id, building=entry.building)
    db.session.add(reversal)
    _seal(compound, actor, reversal)
    record_change(compound, actor, AREA, "reverse", reversal, None,
                  {**reversal.snapshot(), "reverses": entry.number, "hash": reversal.hash})
    return reversal


def add_receipts(compound, actor, entry, uploads, public):
    """Store receipt photos (already checked as images) for an entry, public or committee-only."""
    for upload in uploads:
        image = save_image(upload, compound, actor)
        db.session.flush()
        db.session.add(Receipt(entry_id=entry.id, image_id=image.id, public=public))
    if uploads:
        record_change(compound, actor, AREA, "receipts", entry, None, {"added": len(uploads), "public": public})


def toggle_receipt(compound, actor, receipt):
    """Make a receipt public, or committee-only (e.g. it shows a person's ID or bank card)."""
    before = {"public": receipt.public}
    receipt.public = not receipt.public
    record_change(compound, actor, AREA, "receipt_public" if receipt.public else "receipt_private",
                  receipt, before, {"public": receipt.public, "entry": receipt.entry.number})
    return receipt


def drafts(compound):
    """The compound's drafts, oldest date first."""
    return db.session.scalars(select(Entry).options(joinedload(Entry.category)).where(
        in_book(Entry, compound), Entry.posted.is_(False)).order_by(Entry.occurred_on, Entry.id)).all()


def recent(compound, limit=RECENT):
    """The latest posted entries, newest first."""
    return db.session.scalars(select(Entry).options(joinedload(Entry.category)).where(
        in_book(Entry, compound), Entry.posted.is_(True)).order_by(Entry.number.desc()).limit(limit)).all()


def entry_by_number(compound, number):
    """A posted entry by its number in the compound, or None."""
    return db.session.scalar(select(Entry).where(in_book(Entry, compound), Entry.number == number))


def reversal_of(entry):
    """The entry that reversed this one, or None."""
    return db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))
