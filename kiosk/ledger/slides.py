"""The lobby screen's ledger slides, one per book: the book's latest disclosed period (本期收入 / 支出 / 结余), its
QR and its cadence line, and a plain warning instead of "signed" when the check finds its figures no longer
match what was signed."""
from sqlalchemy import select

from ..extensions import db
from ..screen.registry import Slide
from . import AREA, service
from .models import Period, PeriodStatus
from .service import in_book


def _latest(compound):
    return db.session.scalar(select(Period).where(in_book(Period, compound),
                                                  Period.status == PeriodStatus.published)
                             .order_by(Period.ends_on.desc()).limit(1))


def _slide(compound, period):
    """The slide of one published period (the caller has chosen its book)."""
    from .evidence import cached_check

    report, _checked_at = cached_check(compound)
    book = service.book(compound)
    return Slide(area=AREA, item_id=str(period.id), title=str(period.starts_on), template="ledger/_slide.html",
                 phone_path=f"ledger/{period.id}",
                 context={"period": period, "matches": report.verdict(period.id).ok, "book": book,
                          "cadence": service.cadence(compound)})


def slides(compound, now):
    """One slide per opened book that has disclosed a period, in the books' order."""
    found = []
    for book in service.books(compound):
        with service.using_book(book.kind):
            period = _latest(compound)
            if period is not None:
                found.append(_slide(compound, period))
    return found


def detail(compound, item_id):
    if not item_id.isdigit():
        return None
    period = db.session.get(Period, int(item_id))
    if period is None or period.compound_id != compound.id or period.status != PeriodStatus.published:
        return None
    with service.using_book(period.book.kind):
        return _slide(compound, period)
