"""Closing a period against the counted balance, and the supervisors' sign-off: N of M signatures, never by
someone who recorded or posted in the period, always on the figures they were shown."""
from datetime import timedelta

from sqlalchemy import select

from ...auth.models import Membership, Role, User
from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from ...timefmt import local_date
from .. import AREA
from ..models import Entry, Period, PeriodStatus, Signoff
from .base import LedgerRefused, book, in_book, lock_chain
from .entries import chain_head, refuse_on_broken_chain
from .balances import drafts_in, figures, next_period, opening_from_entries


def earlier_waiting(compound, start, statuses):
    """The earliest period before `start` in one of `statuses`, if any."""
    return db.session.scalar(select(Period).where(
        in_book(Period, compound), Period.starts_on < start, Period.status.in_(statuses))
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
    if end >= local_date():
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
    lock_chain(compound)
    head_number, head_hash = chain_head(compound)
    # Every field in one write: the database refuses to change a submitted period's figures afterwards.
    values = {"status": PeriodStatus.submitted, "opening_fen": numbers.opening, "income_fen": numbers.income,
              "expense_fen": numbers.expense, "closing_fen": numbers.closing, "actual_fen": actual_fen,
              "entry_count": numbers.count, "head_number": head_number, "head_hash": head_hash,
              "submitted_by": actor.id, "submitted_at": at or utcnow(), "returned_reason": "",
              "returned_entry": None, "signoffs_required": required}
    if creating:
        period = Period(compound_id=compound.id, book_id=book(compound).id, starts_on=start, ends_on=end, round=1, **values)
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
        Entry.book_id == period.book_id, Entry.occurred_on >= period.starts_on,
        Entry.occurred_on <= period.ends_on)).all()
    return {user for row in rows for user in row if user is not None}


def current_signoffs(period):
    """The sign-offs of the period's current submission (a resubmission starts a new round)."""
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
    from .. import evidence

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
            period.disclosure_ends_on = local_date(moment) + timedelta(days=days)
            action = "sign_publish"
    record_change(compound, user, AREA, action, period, before, {**period.snapshot(), "reason": reason.strip()})
    return period


def signers(period):
    """The supervisors who signed the current submission, with their accounts loaded in one query."""
    signed = [s for s in current_signoffs(period) if s.signed]
    if signed:
        db.session.scalars(select(User).where(User.id.in_([s.user_id for s in signed]))).all()
    return signed
