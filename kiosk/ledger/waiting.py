"""A supervisor's month waiting for their signature: after logging in they land on it (auth/landing.py)."""
from flask import url_for
from sqlalchemy import select

from ..auth.models import Role
from ..extensions import db
from . import service
from .models import Period, PeriodStatus


def period_to_sign(user):
    """(start, url) of the oldest submitted period (of any book) this user may sign now in any real compound (not
    a practice one), or None."""
    waiting = []
    for membership in user.memberships:
        if membership.role != Role.supervisor:
            continue
        compound = membership.compound
        if compound.practice:
            continue  # a practice month to sign is never where a supervisor lands after logging in
        period = db.session.scalar(select(Period).where(
            Period.compound_id == compound.id, Period.status == PeriodStatus.submitted)
            .order_by(Period.starts_on).limit(1))
        if period is None:
            continue
        try:
            with service.using_book(period.book.kind):
                service.may_sign(compound, user, period)
        except service.LedgerRefused:
            continue  # recorded an entry in it, signed it already, or an earlier month is still open
        waiting.append((period.starts_on, url_for("ledger_admin.period", compound=compound.slug,
                                                  period_id=period.id)))
    return min(waiting) if waiting else None
