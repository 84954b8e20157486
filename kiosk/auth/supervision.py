"""The supervisory body (监督委员): the people who check the money are not chosen by the people who spend it.

A supervisor is appointed or removed only by platform (street-office) staff, directly or by applying a decided
election (kiosk/supervisors/election.py). Every change is a SupervisorChange row (append-only in the database)
and an audit entry, and the public roster shows them with their date and authority. A new supervisor always
gets a new account whose one-time password only the staff member sees: an account the committee made, whose
password the committee may know, never becomes a supervisor.
"""
from sqlalchemy import select

from ..changes import record_change
from ..extensions import db
from . import SUPERVISORS
from .accounts import AccountRefused, check_new_account, create_account, name_clash
from .models import Membership, Role, SupervisorAction, SupervisorChange, SupervisorSource, User


def require_platform(actor):
    """Raise AccountRefused unless the actor is platform staff (the committee never changes its supervisors)."""
    if actor is None or not actor.is_platform_admin:
        raise AccountRefused("not_platform")


def _record(compound, actor, user, action, source, topic=None, at=None):
    """Write the public record and the audit entry of one change."""
    change = SupervisorChange(compound_id=compound.id, user_id=user.id, name=user.display_name, action=action,
                              source=source, actor_id=actor.id, topic_id=topic.id if topic is not None else None,
                              topic_title=topic.title if topic is not None else "")
    if at is not None:
        change.at = at
    db.session.add(change)
    facts = {"display_name": user.display_name, "username": user.username, "source": str(source)}
    if topic is not None:
        facts["topic_id"] = topic.id
    before, after = (None, facts) if action == SupervisorAction.appoint else (facts, None)
    record_change(compound, actor, SUPERVISORS, str(action), user, before, after)
    return change


def appoint(compound, actor, user, source=SupervisorSource.platform, topic=None, at=None):
    """Seat an account that has no role in the compound as a supervisor and record it; the caller commits.
    `at` backdates the public record (the demo's history only). Platform accounts are never supervisors: the
    staff who appoint do not also sign."""
    require_platform(actor)
    if user.is_platform_admin:
        raise AccountRefused("platform_account")
    if user.role_in(compound) is not None:
        raise AccountRefused("committee_member", name=user.display_name)
    clash = name_clash(compound, user.display_name)
    if clash is not None:
        raise AccountRefused("name_taken", name=clash.user.display_name)
    db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role.supervisor))
    _record(compound, actor, user, SupervisorAction.appoint, source, topic, at)


def appoint_new(compound, actor, username, display_name, password, source=SupervisorSource.platform, topic=None):
    """Create a supervisor account in the compound (its one-time password is for the staff member to hand
    over in person) and record the appointment; the caller commits."""
    require_platform(actor)
    check_new_account(compound, username, display_name)
    user = create_account(username, display_name, password)
    appoint(compound, actor, user, source, topic)
    return user


def reappoint(compound, actor, membership, topic):
    """A sitting supervisor re-elected: the account stays, the record cites the election."""
    require_platform(actor)
    if membership.role != Role.supervisor:
        raise AccountRefused("not_supervisor")
    _record(compound, actor, membership.user, SupervisorAction.appoint, SupervisorSource.election, topic)


def remove(compound, actor, membership, source=SupervisorSource.platform, topic=None):
    """Take a supervisor off the supervisory body and record it; the caller commits."""
    require_platform(actor)
    if membership.role != Role.supervisor:
        raise AccountRefused("not_supervisor")
    _record(compound, actor, membership.user, SupervisorAction.remove, source, topic)
    db.session.delete(membership)


def sitting(compound):
    """The compound's supervisors' memberships now, by name."""
    return db.session.scalars(select(Membership).join(User).where(
        Membership.compound_id == compound.id, Membership.role == Role.supervisor).order_by(User.display_name)).all()


def history(compound):
    """Every change of the compound's supervisory body, newest first."""
    return db.session.scalars(select(SupervisorChange).where(SupervisorChange.compound_id == compound.id)
                              .order_by(SupervisorChange.at.desc(), SupervisorChange.id.desc())).all()


def basis(compound):
    """{user id: the appointment that put each sitting supervisor in office}; a supervisor missing here was
    added before appointments were recorded (or by hand), and the pages say so."""
    seated = {m.user_id for m in sitting(compound)}
    found = {}
    for change in reversed(history(compound)):
        if change.user_id in seated and change.action == SupervisorAction.appoint:
            found[change.user_id] = change
    return found
