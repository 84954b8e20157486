"""What every part of the ledger's service shares: its refusal, the book (the settings every rule reads), and the
lock that serialises changes to a compound's chain."""
from sqlalchemy import select

from ...auth.models import Membership, Role, User
from ...compounds.models import Compound
from ...extensions import db
from ...refusals import Refused
from ...timefmt import local_date
from ..models import DEFAULT_CATEGORIES, Book, Category


class LedgerRefused(Refused):
    """A ledger action the rules forbid; `reason` is a code, `detail` carries figures for the sentence."""


class FieldsRefused(LedgerRefused):
    """A form's worth of refusals at once (so a page can show every problem next to its field): `problems` maps
    a field to its LedgerRefused; the reason and detail are the first problem's."""

    def __init__(self, problems, **detail):
        first = next(iter(problems.values()))
        super().__init__(first.reason, **{**first.detail, **detail})
        self.problems = problems


def book(compound):
    """The compound's ledger settings; before the book is opened, the defaults (not saved: reads never write)."""
    found = db.session.scalar(select(Book).where(Book.compound_id == compound.id))
    if found is not None:
        return found
    return Book(compound_id=compound.id, started_on=local_date().replace(day=1), opening_fen=0,
                cadence="monthly", signoffs_required=2, signoffs_since=None, disclosure_days=15,
                source="小区公共收益")


def open_book(compound, started_on=None):
    """Open the compound's book with the default categories, once; return it (the caller commits)."""
    found = db.session.scalar(select(Book).where(Book.compound_id == compound.id))
    if found is not None:
        return found
    started_on = started_on or local_date().replace(day=1)
    found = Book(compound_id=compound.id, started_on=started_on, signoffs_since=started_on)
    db.session.add(found)
    for kind, names in DEFAULT_CATEGORIES.items():
        for position, name in enumerate(names):
            db.session.add(Category(compound_id=compound.id, kind=kind, name=name, position=position))
    db.session.flush()
    return found


def lock_chain(compound):
    """Serialise posting per compound: on PostgreSQL a row lock on the compound, on SQLite the write lock."""
    db.session.execute(select(Compound.id).where(Compound.id == compound.id).with_for_update())


def supervisors(compound):
    """The compound's supervisors (who sign the periods), by account."""
    return db.session.scalars(select(User).join(Membership).where(
        Membership.compound_id == compound.id, Membership.role == Role.supervisor).order_by(User.id)).all()
