"""The maintenance fund's own rules and figures: which building an entry is charged to or credited for, the
balance of each building, a building's statement, and the resolutions that may spend the fund.

民法典 arts 281–282: the fund belongs to the owners; art. 278 items 5 and 6: using and raising it is for the
owners to decide together. Topics don't record which item of art. 278 they are, so spending must name a topic of
this compound that was decided under a statutory rule and passed; a topic voted by one building's owners
(scope_buildings) pays only for that building. Nothing is pro-rated: entries for the whole compound's shared
parts (no building) are their own line.
"""
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload

from ...extensions import db
from ...households.models import Household, natural
from ..models import BookKind, Entry, Kind
from .base import book, in_book
from .budgets import decided_topics


def is_fund(compound):
    """Whether the current book is the maintenance fund."""
    return book(compound).kind == BookKind.maintenance_fund


def buildings(compound):
    """The compound's buildings from the household roll, in natural order ("2" before "10")."""
    names = db.session.scalars(select(Household.building).where(Household.compound_id == compound.id).distinct())
    return sorted((n for n in names if n), key=natural)


def fund_topics(compound):
    """Resolutions that may spend the maintenance fund: decided under a statutory rule (art. 278) and passed."""
    return [t for t in decided_topics(compound) if t.statutory]


def topic_buildings(topic):
    """The buildings whose owners voted a topic, or () for the whole compound."""
    return tuple(b for b in (topic.scope_buildings or ()) if b)


@dataclass
class BuildingLine:
    """One building's money in the fund (building None: the whole compound's shared parts)."""

    building: str | None
    income: int
    expense: int

    @property
    def balance(self):
        return self.income - self.expense


def building_lines(compound, until=None):
    """Each building of the roll (and any building entries name), then the shared parts, with their posted
    income, expense and balance (up to `until`, if given); the book's opening balance is not split (shown by
    the caller as its own line)."""
    query = select(
        Entry.building, func.coalesce(func.sum(case((Entry.kind == Kind.income, Entry.amount_fen), else_=0)), 0),
        func.coalesce(func.sum(case((Entry.kind == Kind.expense, Entry.amount_fen), else_=0)), 0)).where(
        in_book(Entry, compound), Entry.posted.is_(True))
    if until is not None:
        query = query.where(Entry.occurred_on <= until)
    rows = db.session.execute(query.group_by(Entry.building)).all()
    sums = {row[0]: (int(row[1]), int(row[2])) for row in rows}
    names = buildings(compound)
    names += sorted((b for b in sums if b and b not in names), key=natural)
    lines = [BuildingLine(b, *sums.get(b, (0, 0))) for b in names]
    lines.append(BuildingLine(None, *sums.get(None, (0, 0))))
    return lines


def building_entries(compound, building, until=None):
    """A building's posted entries in the fund (its deposits and spending; up to `until`, if given), oldest
    first, topics loaded."""
    query = select(Entry).options(joinedload(Entry.category), joinedload(Entry.topic)).where(
        in_book(Entry, compound), Entry.posted.is_(True), Entry.building == building)
    if until is not None:
        query = query.where(Entry.occurred_on <= until)
    return db.session.scalars(query.order_by(Entry.occurred_on, Entry.number)).all()
