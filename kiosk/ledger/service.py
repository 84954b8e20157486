"""The work behind the ledger: drafts, posting into the chain, reversals, closing and submitting a period,
supervisors' sign-off (N of M, separation of duties), questions, budgets and the disclosure cadence.

Every rule is enforced here, on the server; the pages only explain them. Money is integer fen throughout.
"""
import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from ..auth.models import Membership, Role
from ..changes import record_change
from ..compounds.models import Compound
from ..database import utcnow
from ..extensions import db
from ..timefmt import now_local, to_local
from . import AREA, chain
from .models import (
    DEFAULT_CATEGORIES,
    Book,
    Category,
    Entry,
    Kind,
    Period,
    PeriodStatus,
    Question,
    Signoff,
)

ANSWER_WITHIN_DAYS = 10
DISCLOSE_WITHIN_DAYS = 10  # a period is due for disclosure this many days after it ends


class LedgerRefused(Exception):
    """A ledger action the rules forbid; `reason` is a code, `detail` carries figures for the sentence."""

    def __init__(self, reason, **detail):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def today():
    return now_local().date()


def local_day(moment):
    """The local date of a stored (UTC) moment."""
    return to_local(moment).date()


# --- the book and its categories ---------------------------------------------------------------------------

def book(compound):
    """The compound's ledger settings; before the book is opened, the defaults (not saved: reads never write)."""
    found = db.session.scalar(select(Book).where(Book.compound_id == compound.id))
    if found is not None:
        return found
    return Book(compound_id=compound.id, started_on=today().replace(day=1), opening_fen=0,
                cadence="monthly", signoffs_required=2, signoffs_since=None, disclosure_days=15,
                source="小区公共收益")


def open_book(compound, started_on=None):
    """Open the compound's book with the default categories, once; return it (the caller commits)."""
    found = db.session.scalar(select(Book).where(Book.compound_id == compound.id))
    if found is not None:
        return found
    started_on = started_on or today().replace(day=1)
    found = Book(compound_id=compound.id, started_on=started_on, signoffs_since=started_on)
    db.session.add(found)
    for kind, names in DEFAULT_CATEGORIES.items():
        for position, name in enumerate(names):
            db.session.add(Category(compound_id=compound.id, kind=kind, name=name, position=position))
    db.session.flush()
    return found


def signoffs_problem(current, wanted, supervisors, platform):
    """None if `wanted` signatures may replace `current`, else (reason, limit): never more than the compound's
    supervisors; never below 2 while it has 2 or more (one signature alone checks nobody); and lowering is for
    platform (street office) staff only, because the committee is whom the signatures check."""
    most = max(1, supervisors)
    if wanted > most:
        return "too_many", most
    floor = 2 if supervisors >= 2 else 1
    if wanted < floor:
        return "below_floor", floor
    if wanted < current and not platform:
        return "lowering", current
    return None


def change_signoffs(compound, actor, book, wanted):
    """Set the number of signatures later submissions need, from today on (audited; residents see it)."""
    before = {"signoffs_required": book.signoffs_required,
              "signoffs_since": book.signoffs_since.isoformat() if book.signoffs_since else None}
    book.signoffs_required, book.signoffs_since = wanted, today()
    record_change(compound, actor, AREA, "signoffs_required", book, before,
                  {"signoffs_required": wanted, "signoffs_since": book.signoffs_since.isoformat()})


def categories(compound, kind=None, with_archived=False):
    query = select(Category).where(Category.compound_id == compound.id)
    if kind is not None:
        query = query.where(Category.kind == kind)
    if not with_archived:
        query = query.where(Category.archived.is_(False))
    return db.session.scalars(query.order_by(Category.kind, Category.position, Category.id)).all()


# --- entries ------------------------------------------------------------------------------------------------

def locked_period(compound, day):
    """The period that stops an entry dated `day`: a submitted or published one covering it, or a published
    one after it (an entry before it would change an opening balance residents were already shown)."""
    covering = db.session.scalar(select(Period).where(
        Period.compound_id == compound.id, Period.starts_on <= day, Period.ends_on >= day,
        Period.status.in_([PeriodStatus.submitted, PeriodStatus.published])))
    if covering is not None:
        return covering
    return db.session.scalar(select(Period).where(
        Period.compound_id == compound.id, Period.starts_on > day, Period.status == PeriodStatus.published)
        .order_by(Period.starts_on).limit(1))


def save_draft(compound, actor, entry, fields):
    """Create or edit a draft entry (never a posted one)."""
    creating = entry is None
    if not creating and entry.posted:
        raise LedgerRefused("posted")
    before = None if creating else entry.snapshot()
    if creating:
        entry = Entry(compound_id=compound.id, recorded_by=actor.id, posted=False)
        db.session.add(entry)
    for name, value in fields.items():
        setattr(entry, name, value)
    db.session.flush()
    db.session.refresh(entry, ["category"])
    record_change(compound, actor, AREA, "draft" if creating else "edit", entry, before, entry.snapshot())
    return entry


def delete_draft(compound, actor, entry):
    if entry.posted:
        raise LedgerRefused("posted")
    record_change(compound, actor, AREA, "delete_draft", entry, entry.snapshot(), None)
    for receipt in list(entry.receipts):
        db.session.delete(receipt)
    db.session.delete(entry)


def _lock_chain(compound):
    """Serialise posting per compound: on PostgreSQL a row lock on the compound, on SQLite the write lock."""
    db.session.execute(select(Compound.id).where(Compound.id == compound.id).with_for_update())


def chain_head(compound):
    """(number, hash) of the last posted entry, or (0, GENESIS)."""
    row = db.session.execute(select(Entry.number, Entry.hash).where(
        Entry.compound_id == compound.id, Entry.posted.is_(True)).order_by(Entry.number.desc()).limit(1)).first()
    return (row[0], row[1]) if row else (0, chain.GENESIS)


def refuse_on_broken_chain(compound):
    """Refuse to build on a chain that no longer checks out (recomputed now, never from a cache): a new entry
    linked to a tampered one would look as if the committee accepted the tampering."""
    from . import evidence

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
    _lock_chain(compound)
    number, previous = chain_head(compound)
    entry.number, entry.prev_hash = number + 1, previous
    entry.posted, entry.posted_by = True, actor.id
    entry.posted_at = utcnow().replace(microsecond=0)
    entry.recipe = chain.CURRENT
    entry.counterparty_nonce = chain.new_nonce() if entry.counterparty_is_person else ""
    entry.hash = chain.entry_hash(previous, chain.fields_of(entry))
    _send_back_later(compound, actor, entry)


def _send_back_later(compound, actor, entry):
    """Submitted periods that start after the entry's date no longer have the right opening balance: they go
    back to the committee by themselves, saying which entry changed them (shown on their pages)."""
    later = db.session.scalars(select(Period).where(
        Period.compound_id == compound.id, Period.status == PeriodStatus.submitted,
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


def reverse(compound, actor, entry, reason, on=None):
    """Post a reversing entry for a posted one (dated today by default); a second reversal is refused."""
    if not entry.posted:
        raise LedgerRefused("not_posted")
    if entry.reverses_id is not None:
        raise LedgerRefused("is_reversal")
    already = db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))
    if already is not None:
        raise LedgerRefused("reversed", by=already)
    reversal = Entry(compound_id=compound.id, kind=entry.kind, occurred_on=on or today(),
                     category_id=entry.category_id, amount_fen=-entry.amount_fen,
                     description=f"冲销第 {entry.number} 号：{reason}"[:200], counterparty=entry.counterparty,
                     counterparty_is_person=entry.counterparty_is_person, method=entry.method,
                     topic_id=entry.topic_id, reverses_id=entry.id, recorded_by=actor.id)
    db.session.add(reversal)
    _seal(compound, actor, reversal)
    record_change(compound, actor, AREA, "reverse", reversal, None,
                  {**reversal.snapshot(), "reverses": entry.number, "hash": reversal.hash})
    return reversal


def entry_by_number(compound, number):
    return db.session.scalar(select(Entry).where(Entry.compound_id == compound.id, Entry.number == number))


def reversal_of(entry):
    return db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))


# --- figures ------------------------------------------------------------------------------------------------

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
        Entry.compound_id == compound.id, Entry.posted.is_(True), Entry.occurred_on < start)) or 0)


def opening_balance(compound, start):
    """The balance before `start`: the last locked (submitted or published) period's closing balance plus
    what was posted between its end and `start`; locked periods can't change, so history is not re-summed."""
    before = db.session.scalar(select(Period).where(
        Period.compound_id == compound.id, Period.ends_on < start,
        Period.status.in_([PeriodStatus.submitted, PeriodStatus.published]))
        .order_by(Period.ends_on.desc()).limit(1))
    base, since = (before.closing_fen, before.ends_on) if before else (book(compound).opening_fen, None)
    query = select(func.coalesce(func.sum(SIGNED), 0)).where(
        Entry.compound_id == compound.id, Entry.posted.is_(True), Entry.occurred_on < start)
    if since is not None:
        query = query.where(Entry.occurred_on > since)
    return base + int(db.session.scalar(query) or 0)


def figures(compound, start, end):
    """Opening balance, income and expense by category, and closing balance for [start, end] (posted only)."""
    opening = opening_balance(compound, start)
    rows = db.session.execute(
        select(Entry.kind, Category.name, Category.position, func.sum(Entry.amount_fen), func.count())
        .join(Category, Category.id == Entry.category_id)
        .where(Entry.compound_id == compound.id, Entry.posted.is_(True), Entry.occurred_on >= start,
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
        Entry.compound_id == compound.id, Entry.posted.is_(True), Entry.occurred_on >= start,
        Entry.occurred_on <= end).order_by(Entry.occurred_on, Entry.number)
        .offset((page - 1) * per_page).limit(per_page + 1)).all()
    return rows[:per_page], len(rows) > per_page


def balance(compound):
    """The balance over every posted entry."""
    return book(compound).opening_fen + int(db.session.scalar(select(func.coalesce(func.sum(SIGNED), 0)).where(
        Entry.compound_id == compound.id, Entry.posted.is_(True))) or 0)


# --- periods ------------------------------------------------------------------------------------------------

def _month_end(day):
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def period_end(start, cadence):
    """The last day of the month (or quarter) that starts at `start`."""
    if cadence == "quarterly":
        month = ((start.month - 1) // 3) * 3 + 3
        return _month_end(date(start.year, month, 1))
    return _month_end(start)


def periods(compound, published_only=False):
    query = select(Period).where(Period.compound_id == compound.id)
    if published_only:
        query = query.where(Period.status == PeriodStatus.published)
    return db.session.scalars(query.order_by(Period.starts_on.desc())).all()


def next_period(compound):
    """(start, end) of the next period to close: after the last one, in the book's cadence."""
    last = db.session.scalar(select(Period).where(Period.compound_id == compound.id)
                             .order_by(Period.ends_on.desc()).limit(1))
    start = last.ends_on + timedelta(days=1) if last else book(compound).started_on
    return start, period_end(start, book(compound).cadence)


def drafts_in(compound, start, end):
    return db.session.scalar(select(func.count()).select_from(Entry).where(
        Entry.compound_id == compound.id, Entry.posted.is_(False), Entry.occurred_on >= start,
        Entry.occurred_on <= end))


def earlier_waiting(compound, start, statuses):
    """The earliest period before `start` in one of `statuses`, if any."""
    return db.session.scalar(select(Period).where(
        Period.compound_id == compound.id, Period.starts_on < start, Period.status.in_(statuses))
        .order_by(Period.starts_on).limit(1))


def submit(compound, actor, actual_fen, period=None, at=None):
    """Close the next period (or resubmit a returned one): compute its figures, check the counted balance,
    and send it to the supervisors, with the number of signatures the book asks for now. Never on an opening
    balance the entries contradict. (An earlier period still open to changes is fine: posting into it sends
    this one back by itself, and this one can't be signed before that one is published.)"""
    if period is None:
        start, end = next_period(compound)
    else:
        if period.status != PeriodStatus.returned:
            raise LedgerRefused("not_returned")
        start, end = period.starts_on, period.ends_on
    if end >= today():
        raise LedgerRefused("not_ended", end=end)
    drafts = drafts_in(compound, start, end)
    if drafts:
        raise LedgerRefused("drafts", count=drafts)
    refuse_on_broken_chain(compound)
    numbers = figures(compound, start, end)
    expected = opening_from_entries(compound, start)
    if numbers.opening != expected:
        raise LedgerRefused("stale_opening", opening=numbers.opening, expected=expected)
    if actual_fen != numbers.closing:
        raise LedgerRefused("mismatch", expected=numbers.closing, actual=actual_fen,
                            difference=actual_fen - numbers.closing)
    creating = period is None
    before = None if creating else period.snapshot()
    required = book(compound).signoffs_required
    _lock_chain(compound)
    head_number, head_hash = chain_head(compound)
    # Every field in one write: the database refuses to change a submitted period's figures afterwards.
    values = {"status": PeriodStatus.submitted, "opening_fen": numbers.opening, "income_fen": numbers.income,
              "expense_fen": numbers.expense, "closing_fen": numbers.closing, "actual_fen": actual_fen,
              "entry_count": numbers.count, "head_number": head_number, "head_hash": head_hash,
              "submitted_by": actor.id, "submitted_at": at or utcnow(), "returned_reason": "",
              "returned_entry": None, "signoffs_required": required}
    if creating:
        period = Period(compound_id=compound.id, starts_on=start, ends_on=end, round=1, **values)
        db.session.add(period)
    else:
        for name, value in values.items():
            setattr(period, name, value)
        period.round += 1
    record_change(compound, actor, AREA, "submit" if creating else "resubmit", period, before, period.snapshot())
    return period


def recorders_in(period):
    """Accounts that recorded or posted any entry in the period (they may not sign it)."""
    rows = db.session.execute(select(Entry.recorded_by, Entry.posted_by).where(
        Entry.compound_id == period.compound_id, Entry.occurred_on >= period.starts_on,
        Entry.occurred_on <= period.ends_on)).all()
    return {user for row in rows for user in row if user is not None}


def current_signoffs(period):
    return [s for s in period.signoffs if s.round == period.round]


def may_sign(compound, user, period):
    """Raise LedgerRefused unless `user` is a supervisor of the compound who may sign this submission: not one
    who recorded or posted an entry in the period, only once per submission, and only once every earlier
    period is published (its closing is this one's opening)."""
    membership = db.session.scalar(select(Membership).where(Membership.user_id == user.id,
                                                           Membership.compound_id == compound.id))
    if membership is None or membership.role != Role.supervisor:
        raise LedgerRefused("not_supervisor")
    if period.status != PeriodStatus.submitted:
        raise LedgerRefused("not_submitted")
    earlier = earlier_waiting(compound, period.starts_on, [PeriodStatus.submitted, PeriodStatus.returned])
    if earlier is not None:
        raise LedgerRefused("earlier_unpublished", period=earlier)
    if user.id in recorders_in(period):
        raise LedgerRefused("recorded")
    if any(s.user_id == user.id for s in current_signoffs(period)):
        raise LedgerRefused("already_signed")


def still_matches(compound, period):
    """Raise LedgerRefused unless the period's entries, figures and chain are still what was submitted
    (recomputed now): nobody signs figures the records no longer support."""
    from . import evidence

    report = evidence.check(compound)
    numbers = figures(compound, period.starts_on, period.ends_on)
    live = (numbers.opening, numbers.income, numbers.expense, numbers.count)
    if not report.verdict(period.id).ok or not evidence.chain_intact(report) or \
            live != (period.opening_fen, period.income_fen, period.expense_fen, period.entry_count):
        raise LedgerRefused("no_longer_match", report=report)


def decide(compound, user, period, signed, reason="", seen=None, at=None):
    """A supervisor signs or refuses (with a reason) the submission they were shown (`seen`, as
    Period.seen() gave it; a newer submission or changed figures are refused); enough signatures, as many as
    the period was submitted with, publish it. The sign-off keeps the figures and head hash it covers."""
    may_sign(compound, user, period)
    if seen is not None and seen != period.seen():
        raise LedgerRefused("figures_changed")
    if not signed and not reason.strip():
        raise LedgerRefused("reason_needed")
    if signed:
        still_matches(compound, period)
    moment = at or utcnow()
    db.session.add(Signoff(period_id=period.id, round=period.round, user_id=user.id, signed=signed,
                           reason=reason.strip(), at=moment, opening_fen=period.opening_fen,
                           income_fen=period.income_fen, expense_fen=period.expense_fen,
                           closing_fen=period.closing_fen, head_number=period.head_number,
                           head_hash=period.head_hash))
    db.session.flush()
    db.session.refresh(period, ["signoffs"])
    before = period.snapshot()
    if not signed:
        period.status, period.returned_reason = PeriodStatus.returned, reason.strip()
        action = "refuse"
    else:
        action = "sign"
        if sum(1 for s in current_signoffs(period) if s.signed) >= period.signoffs_required:
            days = book(compound).disclosure_days  # read before the change: a published period is written once
            period.status, period.published_at = PeriodStatus.published, moment
            period.disclosure_ends_on = local_day(moment) + timedelta(days=days)
            action = "sign_publish"
    record_change(compound, user, AREA, action, period, before, {**period.snapshot(), "reason": reason.strip()})
    return period


def signers(period):
    """The supervisors who signed the current submission, with their accounts loaded in one query."""
    from ..auth.models import User
    signed = [s for s in current_signoffs(period) if s.signed]
    if signed:
        db.session.scalars(select(User).where(User.id.in_([s.user_id for s in signed]))).all()
    return signed


def supervisors(compound):
    from ..auth.models import User
    return db.session.scalars(select(User).join(Membership).where(
        Membership.compound_id == compound.id, Membership.role == Role.supervisor).order_by(User.id)).all()


# --- tamper evidence ----------------------------------------------------------------------------------------

def verify(compound):
    """The compound's chain check, recomputed now (evidence.check; kept under this name for its callers)."""
    from . import evidence

    return evidence.check(compound)


# --- questions ----------------------------------------------------------------------------------------------

def ask(compound, household, entry, body):
    if not entry.posted:
        raise LedgerRefused("not_posted")
    question = Question(compound_id=compound.id, entry_id=entry.id, household_id=household.id, body=body)
    db.session.add(question)
    record_change(compound, None, AREA, "question", entry, None, {"number": entry.number, "body": body,
                                                                  "household": household.address})
    return question


def answer(compound, actor, question, text):
    before = {"answer": question.answer}
    question.answer, question.answered_by, question.answered_at = text, actor.id, utcnow()
    record_change(compound, actor, AREA, "answer", question, before, {"answer": text})


def questions_for(entry):
    return db.session.scalars(select(Question).where(Question.entry_id == entry.id).order_by(Question.id)).all()


def is_overdue(question, now=None):
    now = now or utcnow()
    return not question.answer and question.created_at + timedelta(days=ANSWER_WITHIN_DAYS) < now


def overdue_questions(compound, now=None):
    now = now or utcnow()
    return db.session.scalars(select(Question).where(
        Question.compound_id == compound.id, Question.answered_at.is_(None),
        Question.created_at < now - timedelta(days=ANSWER_WITHIN_DAYS)).order_by(Question.created_at)).all()


def open_questions(compound):
    return db.session.scalars(select(Question).where(Question.compound_id == compound.id,
                                                     Question.answered_at.is_(None))
                              .order_by(Question.created_at)).all()


# --- budgets tied to resolutions ----------------------------------------------------------------------------

def spent_on(topic):
    """Expense posted against a resolution (reversals net out), in fen."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Entry.amount_fen), 0)).where(
        Entry.topic_id == topic.id, Entry.posted.is_(True), Entry.kind == Kind.expense)) or 0)


def budgeted_topics(compound):
    """Decided topics that carry an approved budget, for linking expenses."""
    from ..consult.models import Status as TopicStatus
    from ..consult.models import Topic
    return db.session.scalars(select(Topic).where(
        Topic.compound_id == compound.id, Topic.budget_fen.is_not(None),
        Topic.status.in_([TopicStatus.closed, TopicStatus.done])).order_by(Topic.closes_at.desc())).all()


def over_budget(topic, extra_fen):
    """How far a further expense of `extra_fen` would go over the topic's budget (0 if within)."""
    if topic.budget_fen is None:
        return 0
    return max(0, spent_on(topic) + extra_fen - topic.budget_fen)


# --- cadence ------------------------------------------------------------------------------------------------

@dataclass
class Cadence:
    last: Period | None
    next_start: date
    next_end: date
    due_on: date
    overdue: bool
    waiting: list  # submitted or returned periods not yet published


def cadence(compound, on=None):
    """The last disclosed period, the next one and when it is due, and whether the compound is late."""
    on = on or today()
    published = periods(compound, published_only=True)
    start, end = next_period(compound)
    waiting = [p for p in periods(compound) if p.status != PeriodStatus.published]
    if waiting:  # the oldest unpublished period is the one that is due
        oldest = min(waiting, key=lambda p: p.starts_on)
        start, end = oldest.starts_on, oldest.ends_on
    due = end + timedelta(days=DISCLOSE_WITHIN_DAYS)
    return Cadence(published[0] if published else None, start, end, due, on > due, waiting)
