"""What every part of the ledger's service shares: its refusal, the book (the settings every rule reads), and the
lock that serialises changes to a compound's chain.

A compound has several books (public income, the maintenance fund, working funds). Every function of the
service works on the *current* book: the one chosen with `using_book(kind)` (the CLI, the demo, the slides,
tests), else the one the request names (`?book=`, or the book of the period or entry a page shows: see
`adopt_book`), else the public income book. So every rule written for one book holds for each book, and
every old link (no book named) still means the public income book.
"""
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context, request
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...auth.models import Membership, Role, User
from ...compounds.models import Compound
from ...extensions import db
from ...refusals import Refused
from ...timefmt import local_date
from ..models import (
    BOOK_CADENCES,
    BOOK_KINDS,
    BOOK_NAMES,
    BOOK_SOURCES,
    DEFAULT_CATEGORIES,
    Book,
    BookKind,
    Category,
)

MAINTENANCE_CATEGORIES = {
    "income": ["业主续筹", "公共收益转入", "利息收入", "其他收入"],
    "expense": ["电梯维修", "屋面防水", "外墙维修", "消防设施", "管道更新", "其他维修"],
}
WORKING_CATEGORIES = {
    "income": ["公共收益转入", "其他收入"],
    "expense": ["办公用品", "会议费用", "印刷公示", "其他支出"],
}
_CHOSEN = ContextVar("ledger_book", default=None)


class LedgerRefused(Refused):
    """A ledger action the rules forbid; `reason` is a code, `detail` carries figures for the sentence."""


class FieldsRefused(LedgerRefused):
    """A form's worth of refusals at once (so a page can show every problem next to its field): `problems` maps
    a field to its LedgerRefused; the reason and detail are the first problem's."""

    def __init__(self, problems, **detail):
        first = next(iter(problems.values()))
        super().__init__(first.reason, **{**first.detail, **detail})
        self.problems = problems


def book_kind(value):
    """The BookKind a text names, or None (e.g. a mistyped ?book=)."""
    return BookKind(value) if value in BOOK_KINDS else None


def current_kind():
    """The book the service works on now (see the module's docstring)."""
    chosen = _CHOSEN.get()
    if chosen is not None:
        return chosen
    if has_request_context():
        adopted = getattr(request, "ledger_book", None)
        if adopted is not None:
            return adopted
        asked = book_kind(request.args.get("book"))
        if asked is not None:
            return asked
    return BookKind.public_income


@contextmanager
def using_book(kind):
    """Work on the book of `kind` inside the block (whatever the request names)."""
    token = _CHOSEN.set(BookKind(kind))
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def adopt_book(row):
    """A page showing one period or entry works on that row's book (an old link names no book)."""
    adopt_kind(row.book.kind)


def adopt_kind(kind):
    """A page showing something of the book of `kind` works on that book (unless using_book chose one)."""
    if has_request_context() and _CHOSEN.get() is None:
        request.ledger_book = BookKind(kind)


def adopt_from_view_args(compound, view_args):
    """A page about one period, entry or category works on its book: look it up (in this compound only) and
    adopt its book before anything reads the book."""
    from ..models import Entry, Period

    for name, model in (("period_id", Period), ("entry_id", Entry), ("category_id", Category)):
        if name in (view_args or {}):
            row = db.session.get(model, view_args[name], options=[joinedload(model.book)])
            if row is not None and row.compound_id == compound.id:
                adopt_book(row)
                # Held for the request: the session's identity map is weak, and the view gets the same row.
                request.ledger_row = row
            return


def book_url_defaults(endpoint, values):
    """Links between a book's pages keep naming the book (the public income book needs no name: old links)."""
    kind = current_kind()
    if kind != BookKind.public_income:
        values.setdefault("book", str(kind))


def _find(compound, kind):
    return db.session.scalar(select(Book).where(Book.compound_id == compound.id, Book.kind == kind))


def _defaults(compound, kind, started_on):
    return Book(compound_id=compound.id, kind=kind, name=BOOK_NAMES[kind], position=BOOK_KINDS.index(kind),
                started_on=started_on, opening_fen=0, cadence=BOOK_CADENCES[kind], signoffs_required=2,
                signoffs_since=None, disclosure_days=15, source=BOOK_SOURCES[kind])


def book(compound, kind=None):
    """The compound's current book (or the one of `kind`); before it is opened, its defaults (not saved: reads
    never write)."""
    kind = BookKind(kind) if kind else current_kind()
    found = _find(compound, kind)
    if found is not None:
        return found
    return _defaults(compound, kind, local_date().replace(day=1))


def books(compound):
    """The compound's opened books, in their order."""
    return db.session.scalars(select(Book).where(Book.compound_id == compound.id)
                              .order_by(Book.position, Book.id)).all()


def in_book(model, compound):
    """The filter for rows of `model` (Entry, Period, Category) in the compound's current book. The compound stays
    the security boundary: the book's id is looked up among this compound's books only, so a row of the book
    is a row of the compound (every row keeps compound_id too). As a scalar subquery found once by its unique
    key, the query stays one round trip and a period's sums stay an index-only range on (book_id, posted,
    occurred_on, ...)."""
    book_id = select(Book.id).where(Book.compound_id == compound.id, Book.kind == current_kind()).scalar_subquery()
    return model.book_id == book_id


def open_book(compound, started_on=None, kind=None):
    """Open the compound's current book (or the one of `kind`) with its default categories, once; return it
    (the caller commits)."""
    kind = BookKind(kind) if kind else current_kind()
    found = _find(compound, kind)
    if found is not None:
        return found
    started_on = started_on or local_date().replace(day=1)
    found = _defaults(compound, kind, started_on)
    found.signoffs_since = started_on
    db.session.add(found)
    db.session.flush()
    names_by_kind = {BookKind.public_income: DEFAULT_CATEGORIES, BookKind.maintenance_fund: MAINTENANCE_CATEGORIES,
                     BookKind.working_funds: WORKING_CATEGORIES}[kind]
    for category_kind, names in names_by_kind.items():
        for position, name in enumerate(names):
            db.session.add(Category(compound_id=compound.id, book_id=found.id, kind=category_kind, name=name,
                                    position=position))
    db.session.flush()
    return found


def lock_chain(compound):
    """Serialise posting per compound: on PostgreSQL a row lock on the compound, on SQLite the write lock."""
    db.session.execute(select(Compound.id).where(Compound.id == compound.id).with_for_update())


def supervisors(compound):
    """The compound's supervisors (who sign the periods), by account."""
    return db.session.scalars(select(User).join(Membership).where(
        Membership.compound_id == compound.id, Membership.role == Role.supervisor).order_by(User.id)).all()
