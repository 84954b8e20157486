"""The ledger's home for the committee (balance, what is due, questions waiting, drafts, the latest entries) and the
district's view for street-office staff (which compounds disclosed on time)."""
from flask import g, render_template
from sqlalchemy import select

from ...compounds.models import REAL, Compound
from ...extensions import db
from ...timefmt import local_date
from .. import evidence, service
from ..models import Book
from .base import admin_bp, platform_bp


@admin_bp.route("/")
def index():
    """Balance, what is due and when, questions waiting too long, drafts, the latest entries and the periods."""
    compound = g.compound
    report, _checked_at = evidence.cached_check(compound)
    return render_template("ledger/admin_index.html", book=g.book, balance=service.balance(compound),
                           cadence=service.cadence(compound), overdue=service.overdue_questions(compound),
                           open_count=len(service.open_questions(compound)), drafts=service.drafts(compound),
                           recent=service.recent(compound), periods=service.periods(compound),
                           supervisors=service.supervisors(compound), report=report,
                           buildings=service.building_lines(compound) if service.is_fund(compound) else [],
                           intact=evidence.chain_intact(report))


@platform_bp.route("/")
def district():
    """Every compound, each of its books: last disclosed period, the next one due, overdue (in red), and questions
    waiting over 10 days."""
    books = {b.compound_id for b in db.session.scalars(select(Book))}
    rows = []
    for compound in db.session.scalars(select(Compound).where(REAL).order_by(Compound.district, Compound.name)):
        if compound.id not in books:
            rows.append({"compound": compound, "cards": [], "overdue": False, "due_on": None, "late_questions": 0})
            continue
        cards = service.overview(compound)  # each book: its last and next disclosure
        rows.append({"compound": compound, "cards": cards, "overdue": any(c.cadence.overdue for c in cards),
                     "due_on": min(c.cadence.due_on for c in cards),
                     "late_questions": len(service.overdue_questions(compound))})
    today = local_date()
    rows.sort(key=lambda r: (not r["overdue"], not r["cards"], r["due_on"] or today, r["compound"].name))
    return render_template("ledger/admin_platform.html", rows=rows, today=today)
