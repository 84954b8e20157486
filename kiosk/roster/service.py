"""The work behind the roster: who is in office on a day, by term and role, and the committee's changes to it
(each audited in the same transaction)."""
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from ..auth import supervision
from ..auth.models import Role
from ..auth.names import name_key
from ..changes import record_change
from ..extensions import db
from . import AREA
from .models import RosterMember

ROLE_ORDER = {Role.chair: 0, Role.vice_chair: 1, Role.member: 2, Role.supervisor: 3}


class RosterRefused(Exception):
    """A roster change the rules refuse: `reason` is "not_current" or "too_new"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def in_role_order(members):
    """Return members chair first, then vice-chair, members, supervisors; by name within a role."""
    return sorted(members, key=lambda m: (ROLE_ORDER[m.role], m.name, m.id))


def split_by_day(members, today):
    """Return (current, upcoming, past) on a day; a term includes its first and its last day."""
    current = [m for m in members if m.term_start <= today <= m.term_end]
    upcoming = [m for m in members if m.term_start > today]
    past = [m for m in members if m.term_end < today]
    return in_role_order(current), in_role_order(upcoming), past


def by_term(members):
    """Return [((start, end), members in role order)], the latest term first."""
    terms = {}
    for member in members:
        terms.setdefault((member.term_start, member.term_end), []).append(member)
    return [(term, in_role_order(terms[term])) for term in sorted(terms, reverse=True)]


def shared_term(members):
    """Return the (start, end) most of these members share, shown once instead of on every card; or None."""
    if not members:
        return None
    return Counter((m.term_start, m.term_end) for m in members).most_common(1)[0][0]


def members_of(compound):
    """Every roster entry of the compound, past terms included."""
    return db.session.scalars(select(RosterMember).where(RosterMember.compound_id == compound.id)).all()


def current_members(compound, today):
    """Return the members in office on a day, in role order."""
    return split_by_day(members_of(compound), today)[0]


def supervisor_notes(compound, members):
    """{roster entry id: (state, appointment)} for the supervisors among `members`: "appointed" (with the
    appointment that seated them, None if it predates the records) or "not_appointed" -- the roster is the
    committee's text, so a supervisor listed there who holds no appointment says so."""
    basis = supervision.basis(compound)
    seated = {m.name_key: m.user_id for m in supervision.sitting(compound)}
    notes = {}
    for member in members:
        if member.role == Role.supervisor:
            user_id = seated.get(name_key(member.name))
            notes[member.id] = ("appointed", basis.get(user_id)) if user_id else ("not_appointed", None)
    return notes


def save(compound, actor, member, fields):
    """Create or update a roster entry from cleaned fields."""
    creating = member is None
    before = None if creating else member.snapshot()
    if creating:
        member = RosterMember(compound_id=compound.id)
        db.session.add(member)
    for name, value in fields.items():
        setattr(member, name, value)
    record_change(compound, actor, AREA, "create" if creating else "edit", member, before, member.snapshot())
    return member


def end_term(compound, actor, member, today):
    """Make yesterday the last day of a current member's term, so from today they are listed as history.
    Refused for a member not in office today, and for a term that began yesterday or today (it would end before
    it began: an entry made by mistake is deleted instead)."""
    if not member.term_start <= today <= member.term_end:
        raise RosterRefused("not_current")
    if member.term_start >= today - timedelta(days=1):
        raise RosterRefused("too_new")
    before = member.snapshot()
    member.term_end = today - timedelta(days=1)
    record_change(compound, actor, AREA, "end_term", member, before, member.snapshot())


def delete(compound, actor, member):
    """Remove an entry made by mistake; the audit log keeps what it said."""
    record_change(compound, actor, AREA, "remove", member, member.snapshot(), None)
    db.session.delete(member)
