"""The seven steps of setting a compound up, each read from the data it leaves behind (nothing is ticked by
hand except the posters, which leave nothing else behind: see mark_posters).

A step is done or not from the database alone, so a step undone later (a screen gone silent for a day) shows
as not done again: the checklist tells the committee what is true today, not what once happened.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from flask import g
from sqlalchemy import func, select

from ..auth.models import Membership, Role
from ..changes import AuditEntry, record_change
from ..database import utcnow
from ..extensions import db
from ..households.models import Delivery, Household, HouseholdCard, live_card
from ..ledger.models import Book, Period, PeriodStatus
from ..notices.models import Notice
from ..screen.models import Screen

COMMITTEE_SEATS = 5  # 自治委员, the chair and vice-chair among them (the model compound's committee)
SUPERVISOR_SEATS = 3  # 监督委员 appointed by the street office
SCREEN_RECENT = timedelta(hours=24)  # "seen online" means within the last day: a screen switched off at night counts
POSTERS = "posters"  # the audit action a committee member's "已打印张贴" records
STEP_KEYS = ("committee", "roll", "cards", "screen", "books", "notice", "posters")


@dataclass
class Step:
    """One step of the checklist: whether it is done and the figures that say how far it is."""

    key: str
    done: bool
    figures: dict = field(default_factory=dict)


@dataclass
class Checklist:
    """A compound's steps in order."""

    steps: list

    @property
    def done_count(self):
        return sum(1 for step in self.steps if step.done)

    @property
    def total(self):
        return len(self.steps)

    @property
    def complete(self):
        return self.done_count == self.total

    @property
    def missing(self):
        return [step for step in self.steps if not step.done]

    @property
    def next_step(self):
        """The first step not done yet, or None."""
        return next(iter(self.missing), None)


def _count(statement):
    return db.session.scalar(statement) or 0


def committee_step(compound):
    """Committee accounts (of 5) and supervisors appointed by the street office (of 3): one step, both counts."""
    rows = dict(db.session.execute(select(Membership.role, func.count()).where(Membership.compound_id == compound.id)
                                   .group_by(Membership.role)).all())
    supervisors = rows.pop(Role.supervisor, 0)
    members = sum(rows.values())
    return Step("committee", members >= COMMITTEE_SEATS and supervisors >= SUPERVISOR_SEATS,
                {"members": members, "member_seats": COMMITTEE_SEATS, "supervisors": supervisors,
                 "supervisor_seats": SUPERVISOR_SEATS})


def roll_step(compound):
    """The roll imported: at least one household on it."""
    households = _count(select(func.count()).select_from(Household).where(Household.compound_id == compound.id))
    return Step("roll", households > 0, {"households": households})


def cards_step(compound):
    """Cards printed and handed out: every household holds a working card (its print run confirmed handed out);
    how many deliveries were recorded and how many checked in person are shown beside it."""
    households = _count(select(func.count()).select_from(Household).where(Household.compound_id == compound.id))
    live = select(HouseholdCard).where(HouseholdCard.compound_id == compound.id, live_card()).subquery()
    with_card = _count(select(func.count(func.distinct(live.c.household_id))))
    delivered = _count(select(func.count(func.distinct(live.c.household_id))).where(live.c.delivery.is_not(None)))
    verified = _count(select(func.count(func.distinct(live.c.household_id)))
                      .where(live.c.delivery == Delivery.in_person.value))
    waiting = _count(select(func.count()).select_from(HouseholdCard).where(
        HouseholdCard.compound_id == compound.id, HouseholdCard.pending.is_(True), HouseholdCard.revoked_at.is_(None)))
    return Step("cards", households > 0 and with_card >= households,
                {"households": households, "printed": with_card, "delivered": delivered, "verified": verified,
                 "waiting": waiting})


def screen_step(compound, now):
    """A lobby screen registered and seen online within the last day."""
    screens = db.session.scalars(select(Screen).where(Screen.compound_id == compound.id,
                                                      Screen.retired.is_(False))).all()
    seen = [s.last_seen_at for s in screens if s.last_seen_at is not None]
    last = max(seen) if seen else None
    return Step("screen", last is not None and now - last <= SCREEN_RECENT,
                {"screens": len(screens), "last_seen": last})


def books_step(compound):
    """Each opened book's opening balance entered and signed: its first period signed by the supervisors and
    published (the period's opening is the book's opening balance)."""
    books = db.session.scalars(select(Book).where(Book.compound_id == compound.id)
                               .order_by(Book.position, Book.id)).all()
    signed = set(db.session.scalars(select(Period.book_id).where(
        Period.compound_id == compound.id, Period.status == PeriodStatus.published.value).distinct()))
    listed = [{"kind": book.kind, "label": book.label, "opening_fen": book.opening_fen, "signed": book.id in signed} for book in books]
    return Step("books", bool(books) and all(b["signed"] for b in listed),
                {"books": listed, "signed": sum(1 for b in listed if b["signed"])})


def notice_step(compound):
    """The committee's first notice published (the street office's broadcasts do not count)."""
    published = _count(select(func.count()).select_from(Notice).where(
        Notice.compound_id == compound.id, Notice.published_at.is_not(None), Notice.broadcast_id.is_(None)))
    return Step("notice", published > 0, {"published": published})


def posters_step(compound):
    """The lift and stairwell posters printed and put up, as a committee member said (see mark_posters)."""
    marked = db.session.execute(select(AuditEntry.at, AuditEntry.actor_id).where(
        AuditEntry.compound_id == compound.id, AuditEntry.area == "setup", AuditEntry.action == POSTERS)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1)).first()
    return Step("posters", marked is not None, {"at": marked.at if marked else None})


def checklist(compound, now=None):
    """The compound's checklist, every step read from the database now."""
    now = now or utcnow()
    return Checklist([committee_step(compound), roll_step(compound), cards_step(compound),
                      screen_step(compound, now), books_step(compound), notice_step(compound),
                      posters_step(compound)])


def current_checklist():
    """The checklist of g.compound, for the committee's landing (None outside a compound)."""
    compound = g.get("compound")
    return checklist(compound) if compound is not None else None


def mark_posters(compound, actor):
    """Record that the posters were printed and put up (the caller commits). The print page alone proves
    nothing: it opens in WeChat where nothing prints, and gets previewed; a member's word after posting does."""
    record_change(compound, actor, "setup", POSTERS, compound, None, {"posters": "printed"})
