"""Start a new compound from a model compound's setup (复制示范小区的设置).

What is copied is the compound's *setup*, never its life: its books' names, kinds, cadence and settings (not their
opening balances, entries, periods, sign-offs, receipts or transfers), their categories in use, the procedure
profile and its proxy limit, and the notice templates. Households, cards, topics, ballots, notices, documents,
meetings, people, memberships and accounts stay where they are. Notice categories are a fixed list in the code
(notices/models.py), the same in every compound, so there is nothing of them to copy; lobby-screen settings are
per screen device (screen/models.py), and devices and their keys are never copied, so no screen setting is.

tests/test_platform_copy.py classifies every table of the schema as copied or never, so a new table must be
decided there before the suite passes.
"""
from sqlalchemy import select

from ..consult.paper_models import ProxyLimit
from ..database import utcnow
from ..extensions import db
from ..ledger.models import Book, Category
from ..notices.models import NoticeTemplate
from ..notices.template_service import templates_of
from ..timefmt import local_date


def _copy_books(model, compound):
    """The model's books with their settings, starting this month with a zero opening balance (the new compound
    enters its own), and their categories in use; return {model book id: new book}."""
    start = local_date().replace(day=1)
    copies = {}
    for book in db.session.scalars(select(Book).where(Book.compound_id == model.id).order_by(Book.position, Book.id)):
        copies[book.id] = Book(compound_id=compound.id, kind=book.kind, name=book.name, position=book.position,
                               opening_fen=0, started_on=start, cadence=book.cadence,
                               signoffs_required=book.signoffs_required, signoffs_since=start,
                               disclosure_days=book.disclosure_days, source=book.source)
        db.session.add(copies[book.id])
    db.session.flush()
    return copies


def _copy_categories(model, books):
    """The model's categories still in use (archived ones are history of the model's own books); return the count."""
    count = 0
    for category in db.session.scalars(select(Category).where(
            Category.compound_id == model.id, Category.archived.is_(False))
            .order_by(Category.book_id, Category.kind, Category.position, Category.id)):
        book = books[category.book_id]
        db.session.add(Category(compound_id=book.compound_id, book_id=book.id, kind=category.kind,
                                name=category.name, position=category.position, archived=False))
        count += 1
    return count


def copy_setup(actor, model, compound):
    """Copy the model compound's setup into the new compound (same transaction; the caller audits and commits);
    return what was copied, for the audit log."""
    books = _copy_books(model, compound)
    categories = _copy_categories(model, books)
    compound.procedure_profile = model.procedure_profile
    limit = db.session.get(ProxyLimit, model.id)
    if limit is not None:  # decided by the street office now, on the model's figure
        db.session.add(ProxyLimit(compound_id=compound.id, max_owners=limit.max_owners, set_by=actor.id,
                                  set_at=utcnow()))
    templates = templates_of(model)
    for template in templates:
        db.session.add(NoticeTemplate(compound_id=compound.id, title=template.title, body=template.body,
                                      category=template.category))
    db.session.flush()
    return {"copied_from": f"{model.name} (/{model.slug}/)", "procedure_profile": model.procedure_profile,
            "ledger_books": len(books), "ledger_categories": categories, "notice_templates": len(templates),
            "proxy_limit": limit.max_owners if limit is not None else None}
