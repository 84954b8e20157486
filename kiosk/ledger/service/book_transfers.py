"""Transfers between a compound's books (e.g. public income topped up into the maintenance fund, 上海 style):
one action that posts an expense in the source book and an income in the target book, in one transaction, both
reading "转账 第N号 · 公共收益 → 专项维修资金" with the same number and amount. Reversed only as a pair.

Nothing is committed here: the caller commits once, so a failure between the two sides leaves neither; the
database refuses a transfer row whose sides are not both posted, of one amount, in two books (migration 0018).
"""
from sqlalchemy import func, select

from ...changes import record_change
from ...extensions import db
from ...timefmt import local_date
from .. import AREA
from ..models import BOOK_KINDS, BookKind, Category, Entry, Kind, Method, Transfer
from .base import FieldsRefused, LedgerRefused, book, lock_chain, open_book, using_book
from .entries import _seal, locked_period

PURPOSE_MAX = 120


def transfer_label(number, source, target):
    """What both sides of a transfer say first: "转账 第3号 · 公共收益 → 专项维修资金"."""
    return f"转账 第{number}号 · {source.name} → {target.name}"


def _category(compound, kind, name):
    """The current book's category for one side of transfers (made the first time it is needed)."""
    current = book(compound)
    found = db.session.scalar(select(Category).where(
        Category.book_id == current.id, Category.kind == kind, Category.name == name))
    if found is None:
        position = db.session.scalar(select(func.count()).select_from(Category).where(
            Category.book_id == current.id, Category.kind == kind))
        found = Category(compound_id=compound.id, book_id=current.id, kind=kind, name=name, position=position)
        db.session.add(found)
        db.session.flush()
    return found


def check_transfer(compound, source, target, amount_fen, on, purpose):
    """{field: LedgerRefused} for everything wrong with a transfer's fields, all at once."""
    problems = {}
    if source not in BOOK_KINDS:
        problems["from_book"] = LedgerRefused("no_book")
    elif source == BookKind.maintenance_fund:  # the owners' money leaves it only as repairs they decided
        problems["from_book"] = LedgerRefused("fund_out")
    if target not in BOOK_KINDS or target == source:
        problems["to_book"] = LedgerRefused("same_book")
    if not amount_fen or amount_fen <= 0:
        problems["amount"] = LedgerRefused("transfer_amount")
    if not (purpose or "").strip():
        problems["purpose"] = LedgerRefused("transfer_purpose")
    if on is None or on > local_date():
        problems["occurred_on"] = LedgerRefused("future")
    elif not problems.get("from_book") and not problems.get("to_book"):
        for kind in (source, target):
            with using_book(kind):
                current = book(compound)
                locked = locked_period(compound, on)
                if on < current.started_on:
                    problems["occurred_on"] = LedgerRefused("before_start", started_on=current.started_on)
                elif locked is not None:
                    problems["occurred_on"] = LedgerRefused("locked", period=locked, day=on)
    if not problems.get("amount") and not problems.get("from_book"):
        from .balances import balance

        with using_book(source):
            available = balance(compound)
        if amount_fen > available:
            problems["amount"] = LedgerRefused("transfer_over_balance", available=available)
    return problems


def _between_sides():
    """The moment between the two sides (tests inject a failure here to prove neither side is kept)."""


def _side(compound, actor, kind, flow, category_name, description, counterparty, amount_fen, on, number):
    """Post one side of a transfer in the book of `kind`."""
    with using_book(kind):
        current = open_book(compound, kind=kind)
        entry = Entry(compound_id=compound.id, book_id=current.id, kind=flow, occurred_on=on,
                      category_id=_category(compound, flow, category_name).id, amount_fen=amount_fen,
                      description=description[:200], counterparty=counterparty[:80], counterparty_is_person=False,
                      method=Method.bank, recorded_by=actor.id, posted=False)
        entry._pending_transfer = number
        db.session.add(entry)
        db.session.flush()
        _seal(compound, actor, entry)
        db.session.flush()
        record_change(compound, actor, AREA, "post", entry, None, {**entry.snapshot(), "hash": entry.hash,
                                                                    "transfer": number})
    return entry


def transfer(compound, actor, source, target, amount_fen, on, purpose):
    """Move money from one book to another: both sides posted, one transfer row tying them (the caller commits
    once). Refused field by field (FieldsRefused) when anything is wrong."""
    lock_chain(compound)  # first: the balance checked is the one the transfer draws on
    problems = check_transfer(compound, source, target, amount_fen, on, purpose)
    if problems:
        raise FieldsRefused(problems)
    number = (db.session.scalar(select(func.max(Transfer.number)).where(Transfer.compound_id == compound.id))
              or 0) + 1
    source_book, target_book = book(compound, source), book(compound, target)
    text = f"{transfer_label(number, source_book, target_book)}：{purpose.strip()[:PURPOSE_MAX]}"
    sent = _side(compound, actor, source, Kind.expense, f"转入{target_book.name}", text, target_book.name,
                 amount_fen, on, number)
    _between_sides()
    received = _side(compound, actor, target, Kind.income, f"{source_book.name}转入", text, source_book.name, amount_fen, on, number)
    found = Transfer(compound_id=compound.id, number=number, from_entry_id=sent.id, to_entry_id=received.id,
                     amount_fen=amount_fen, created_by=actor.id)
    db.session.add(found)
    db.session.flush()
    record_change(compound, actor, AREA, "transfer", found, None,
                  {"number": number, "from": str(source), "to": str(target), "amount_fen": amount_fen,
                   "from_entry": sent.number, "to_entry": received.number})
    return found


def transfers(compound):
    """The compound's transfers, newest first, with both sides loaded."""
    from sqlalchemy.orm import selectinload

    return db.session.scalars(select(Transfer).options(
        selectinload(Transfer.from_entry), selectinload(Transfer.to_entry))
        .where(Transfer.compound_id == compound.id).order_by(Transfer.number.desc())).all()


def reverse_transfer(compound, actor, found, reason):
    """Reverse both sides of a transfer, each in its own book, together (one side alone is refused)."""
    from .entries import reverse

    reversals = []
    for side in (found.from_entry, found.to_entry):
        with using_book(side.book.kind):
            reversals.append(reverse(compound, actor, side, f"转账 第{found.number}号整笔冲销：{reason}",
                                     pair=True))
    record_change(compound, actor, AREA, "reverse_transfer", found, None,
                  {"number": found.number, "reason": reason, "reversals": [r.number for r in reversals]})
    return reversals


def broken_transfers(compound):
    """Transfers of the compound whose two sides no longer agree (a side missing, unposted, of another amount,
    or both in one book): what the database refuses at insert time, checked again over today's rows."""
    found = []
    for item in transfers(compound):
        sent, received = item.from_entry, item.to_entry
        if sent is None or received is None or not (sent.posted and received.posted) or \
                sent.kind != Kind.expense or received.kind != Kind.income or \
                sent.amount_fen != item.amount_fen or received.amount_fen != item.amount_fen or \
                sent.book_id == received.book_id:
            found.append(item)
    return found
