"""The book's settings (opening balance, start, cadence, signatures, source) and its categories."""
from sqlalchemy import func, select

from ...changes import record_change
from ...extensions import db
from ...timefmt import local_date
from .. import AREA
from ..models import Category, Entry, Period
from .base import FieldsRefused, LedgerRefused, book, in_book, supervisors


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
    book.signoffs_required, book.signoffs_since = wanted, local_date()
    record_change(compound, actor, AREA, "signoffs_required", book, before,
                  {"signoffs_required": wanted, "signoffs_since": book.signoffs_since.isoformat()})


def settings_fixed(compound):
    """Whether the opening balance and the start date are fixed: once a period is closed, its opening rests on them."""
    return db.session.scalar(select(Period.id).where(in_book(Period, compound)).limit(1)) is not None


def _snapshot(book):
    return {"opening_fen": book.opening_fen, "started_on": book.started_on.isoformat(), "cadence": book.cadence,
            "signoffs_required": book.signoffs_required,
            "signoffs_since": book.signoffs_since.isoformat() if book.signoffs_since else None,
            "disclosure_days": book.disclosure_days, "source": book.source, "name": book.name}


def save_settings(compound, actor, values):
    """Change the book's settings from `values` (opening_fen, started_on, cadence, signoffs_required,
    disclosure_days, source, name: the book's shown name; any may be left out). Refused field by field (FieldsRefused): the opening and the
    start once fixed, a start after the earliest entry, and a number of signatures signoffs_problem forbids."""
    current = book(compound)
    problems = {}
    wanted = values.get("signoffs_required", current.signoffs_required)
    if wanted != current.signoffs_required:
        count = len(supervisors(compound))
        problem = signoffs_problem(current.signoffs_required, wanted, count, actor.is_platform_admin)
        if problem is not None:
            problems["signoffs_required"] = LedgerRefused(problem[0], limit=problem[1], supervisors=count,
                                                          current=current.signoffs_required)
    if settings_fixed(compound) and ({"opening_fen", "started_on"} & set(values)):
        problems["started_on"] = LedgerRefused("settings_fixed")
    elif values.get("started_on") is not None:
        earliest = db.session.scalar(select(func.min(Entry.occurred_on)).where(in_book(Entry, compound)))
        if earliest is not None and values["started_on"] > earliest:
            problems["started_on"] = LedgerRefused("start_after_entries", earliest=earliest)
    if problems:
        raise FieldsRefused(problems)
    before = _snapshot(current)
    if "opening_fen" in values:
        current.opening_fen = values["opening_fen"]
    if values.get("started_on") is not None:
        current.started_on = values["started_on"]
    for name in ("cadence", "disclosure_days", "source", "name"):
        if name in values:
            setattr(current, name, values[name])
    if wanted != current.signoffs_required:
        change_signoffs(compound, actor, current, wanted)
    record_change(compound, actor, AREA, "settings", current, before, _snapshot(current))
    return current


def categories(compound, kind=None, with_archived=False):
    """The compound's categories in their order (income first); archived ones only when asked."""
    query = select(Category).where(in_book(Category, compound))
    if kind is not None:
        query = query.where(Category.kind == kind)
    if not with_archived:
        query = query.where(Category.archived.is_(False))
    return db.session.scalars(query.order_by(Category.kind, Category.position, Category.id)).all()


def used_categories(compound):
    """Ids of the categories posted entries use (their names are on what residents were shown)."""
    return set(db.session.scalars(select(Entry.category_id).where(
        in_book(Entry, compound), Entry.posted.is_(True)).distinct()))


def _name_taken(compound, kind, name, but=None):
    query = select(Category.id).where(in_book(Category, compound), Category.kind == kind,
                                      Category.name == name)
    if but is not None:
        query = query.where(Category.id != but)
    return db.session.scalar(query) is not None


def add_category(compound, actor, kind, name):
    """Add an income or expense category at the end of its kind; refused when the name is taken."""
    if _name_taken(compound, kind, name):
        raise FieldsRefused({"name": LedgerRefused("category_taken", name=name)})
    position = db.session.scalar(select(func.coalesce(func.max(Category.position), -1)).where(
        in_book(Category, compound), Category.kind == kind)) + 1
    category = Category(compound_id=compound.id, book_id=book(compound).id, kind=kind, name=name, position=position)
    db.session.add(category)
    record_change(compound, actor, AREA, "category_add", category, None, {"kind": kind, "name": name})
    return category


def rename_category(compound, actor, category, name):
    """Rename a category no posted entry uses yet (renaming would relabel what residents already saw)."""
    used = db.session.scalar(select(Entry.id).where(Entry.category_id == category.id, Entry.posted.is_(True))
                             .limit(1))
    if used is not None:
        raise LedgerRefused("category_used", name=category.name)
    if _name_taken(compound, category.kind, name, but=category.id):
        raise LedgerRefused("category_taken", name=name)
    before = {"name": category.name}
    category.name = name
    record_change(compound, actor, AREA, "category_rename", category, before, {"name": name})
    return category


def toggle_archived(compound, actor, category):
    """Stop offering a category for new entries (archived ones stay on old entries), or offer it again."""
    before = {"archived": category.archived}
    category.archived = not category.archived
    record_change(compound, actor, AREA, "category_archive" if category.archived else "category_restore",
                  category, before, {"archived": category.archived, "name": category.name})
    return category
