"""The ledger's figures, read from posted entries: balances, a period's figures by category, its entries, the
periods themselves, the next one to close, and the disclosure cadence."""
import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...timefmt import local_date
from ..models import Category, Entry, Kind, Period, PeriodStatus
from .base import book, in_book

DISCLOSE_WITHIN_DAYS = 10  # a period is due for disclosure this many days after it ends
SIGNED = case((Entry.kind == Kind.income, Entry.amount_fen), else_=-Entry.amount_fen)


@dataclass
class Figures:
    """A period's money, all integer fen."""

    opening: int
    income: int
    expense: int
    count: int
    by_category: list = field(default_factory=list)  # [(kind, category name, fen)]

    @property
    def closing(self):
        return self.opening + self.income - self.expense


def opening_from_entries(compound, start):
    """The balance before `start` summed from every posted entry (what the opening must be)."""
    return book(compound).opening_fen + int(db.session.scalar(select(func.coalesce(func.sum(SIGNED), 0)).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.occurred_on < start)) or 0)


def opening_balance(compound, start):
    """The balance before `start`: the last locked (submitted or published) period's closing balance plus
    what was posted between its end and `start`; locked periods can't change, so history is not re-summed."""
    before = db.session.scalar(select(Period).where(
        in_book(Period, compound), Period.ends_on < start,
        Period.status.in_([PeriodStatus.submitted, PeriodStatus.published]))
        .order_by(Period.ends_on.desc()).limit(1))
    base, since = (before.closing_fen, before.ends_on) if before else (book(compound).opening_fen, None)
    query = select(func.coalesce(func.sum(SIGNED), 0)).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.occurred_on < start)
    if since is not None:
        query = query.where(Entry.occurred_on > since)
    return base + int(db.session.scalar(query) or 0)


def figures(compound, start, end):
    """Opening balance, income and expense by category, and closing balance for [start, end] (posted only)."""
    opening = opening_balance(compound, start)
    rows = db.session.execute(
        select(Entry.kind, Category.name, Category.position, func.sum(Entry.amount_fen), func.count())
        .join(Category, Category.id == Entry.category_id)
        .where(in_book(Entry, compound), Entry.posted.is_(True), Entry.occurred_on >= start,
               Entry.occurred_on <= end)
        .group_by(Entry.kind, Category.name, Category.position)
        .order_by(Entry.kind.desc(), Category.position)).all()
    income = sum(r[3] for r in rows if r[0] == Kind.income)
    expense = sum(r[3] for r in rows if r[0] == Kind.expense)
    return Figures(int(opening), int(income), int(expense), sum(r[4] for r in rows),
                   [(r[0], r[1], int(r[3])) for r in rows])


def entries_in(compound, start, end, page=1, per_page=50):
    """One page of posted entries in [start, end], oldest first, and whether there are more."""
    rows = db.session.scalars(select(Entry).options(selectinload(Entry.category)).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.occurred_on >= start,
        Entry.occurred_on <= end).order_by(Entry.occurred_on, Entry.number)
        .offset((page - 1) * per_page).limit(per_page + 1)).all()
    return rows[:per_page], len(rows) > per_page


def balance(compound):
    """The balance over every posted entry."""
    return book(compound).opening_fen + int(db.session.scalar(select(func.coalesce(func.sum(SIGNED), 0)).where(
        in_book(Entry, compound), Entry.posted.is_(True))) or 0)


def _month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_end(start, cadence):
    """The last day of the month (or quarter, or half-year) that starts at `start`."""
    if cadence == "quarterly":
        month = ((start.month - 1) // 3) * 3 + 3
        return _month_end(date(start.year, month, 1))
    if cadence == "half_yearly":  # January to June, July to December
        return _month_end(date(start.year, 6 if start.month <= 6 else 12, 1))
    return _month_end(start)


def periods(compound, published_only=False):
    """The compound's closed periods, the latest first (or only the published ones)."""
    query = select(Period).where(in_book(Period, compound))
    if published_only:
        query = query.where(Period.status == PeriodStatus.published)
    return db.session.scalars(query.order_by(Period.starts_on.desc())).all()


def next_period(compound):
    """(start, end) of the next period to close: after the last one, in the book's cadence."""
    last = db.session.scalar(select(Period).where(in_book(Period, compound))
                             .order_by(Period.ends_on.desc()).limit(1))
    start = last.ends_on + timedelta(days=1) if last else book(compound).started_on
    return start, period_end(start, book(compound).cadence)


def drafts_in(compound, start, end):
    """How many drafts are dated in [start, end] (a period with drafts can't be closed)."""
    return db.session.scalar(select(func.count()).select_from(Entry).where(
        in_book(Entry, compound), Entry.posted.is_(False), Entry.occurred_on >= start,
        Entry.occurred_on <= end))


@dataclass
class Cadence:
    """Where a compound stands with its disclosures."""

    last: Period | None
    next_start: date
    next_end: date
    due_on: date
    overdue: bool
    waiting: list  # submitted or returned periods not yet published


def cadence(compound, on=None):
    """The last disclosed period, the next one and when it is due, and whether the compound is late."""
    on = on or local_date()
    published = periods(compound, published_only=True)
    start, end = next_period(compound)
    waiting = [p for p in periods(compound) if p.status != PeriodStatus.published]
    if waiting:  # the oldest unpublished period is the one that is due
        oldest = min(waiting, key=lambda p: p.starts_on)
        start, end = oldest.starts_on, oldest.ends_on
    due = end + timedelta(days=DISCLOSE_WITHIN_DAYS)
    return Cadence(published[0] if published else None, start, end, due, on > due, waiting)


@dataclass
class BookCard:
    """One book at a glance (the residents' ledger home, the committee's switcher, the district's view)."""

    book: object
    balance: int
    cadence: Cadence


def overview(compound, on=None):
    """Each of the compound's opened books (at least public income, opened or not) with its balance and
    where it stands with its disclosures."""
    from .base import books, using_book

    opened = books(compound) or [book(compound, "public_income")]
    cards = []
    for each in opened:
        with using_book(each.kind):
            cards.append(BookCard(each, balance(compound), cadence(compound, on)))
    return cards
