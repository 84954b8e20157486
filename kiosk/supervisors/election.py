"""An election's winners become the supervisory body: what must hold first, and the change itself.

Platform staff apply it, never the committee: whoever applies it hands out the new supervisors' one-time
passwords, and the people who spend the money must not hold the accounts of those who check it. What is
checked: the topic belongs to the compound, is an election, is closed with a frozen result that decided its
seats (no tie), a fresh recount of its stored ballots gives the same winners, no later election has been
applied and this one has not been, every winner's name is readable and distinct, no winner already sits on the
committee (one person may not both spend and check), and the names the staff member confirmed are the winners.
"""
from sqlalchemy import func, select

from ..auth import supervision
from ..auth.accounts import AccountRefused, name_clash, new_password
from ..auth.models import Role, SupervisorChange, SupervisorSource, User
from ..auth.names import name_key
from ..consult import service as consult
from ..consult.models import Kind, Status, Topic
from ..extensions import db

NAME_MAX = 40


def candidates(compound):
    """The compound's closed election topics, the latest closed first."""
    return db.session.scalars(select(Topic).where(
        Topic.compound_id == compound.id, Topic.kind == Kind.election, Topic.status.in_([Status.closed, Status.done]))
        .order_by(Topic.closed_at.desc(), Topic.id.desc())).all()


def winners(topic):
    """The winners' names, as the frozen result lists them (best first)."""
    return [topic.label_of(key) for key in (topic.result or {}).get("winners", [])]


def _last_applied_close(compound):
    return db.session.scalar(select(func.max(Topic.closed_at)).join(SupervisorChange, SupervisorChange.topic_id == Topic.id)
                             .where(SupervisorChange.compound_id == compound.id,
                                    SupervisorChange.source == SupervisorSource.election))


def problem(compound, topic):
    """Return AccountRefused saying why the topic's result cannot become the supervisory body, or None."""
    result = topic.result
    if topic.compound_id != compound.id or topic.kind != Kind.election:
        return AccountRefused("not_election")
    if topic.status not in (Status.closed, Status.done) or result is None:
        return AccountRefused("not_closed")
    if not result.get("passed") or result.get("tied") or not result.get("winners"):
        return AccountRefused("not_decided")
    if list(consult.compute(topic).winners) != list(result["winners"]):
        return AccountRefused("recount_differs")
    if db.session.scalar(select(SupervisorChange.id).where(SupervisorChange.topic_id == topic.id).limit(1)):
        return AccountRefused("already_applied")
    last = _last_applied_close(compound)
    if last is not None and topic.closed_at is not None and topic.closed_at <= last:
        return AccountRefused("superseded")
    names = winners(topic)
    keys = [name_key(name) for name in names]
    if "" in keys or len(set(keys)) != len(keys) or any(len(name) > NAME_MAX for name in names):
        return AccountRefused("ambiguous")
    for name in names:
        clash = name_clash(compound, name)
        if clash is not None and clash.role != Role.supervisor:
            return AccountRefused("committee_member", name=name)
    return None


def _free_username(compound):
    """A username for a new supervisor: <slug>-jd<n> (jd: 监督), the first n not taken."""
    base = f"{compound.slug[:30]}-jd"
    taken = set(db.session.scalars(select(User.username).where(User.username.like(f"{base}%"))))
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def apply(compound, actor, topic, confirmed_names):
    """Make the topic's winners the supervisory body; return [(name, username, one-time password or None for a
    re-elected supervisor who keeps their account)]. The caller commits."""
    supervision.require_platform(actor)
    refused = problem(compound, topic)
    if refused is not None:
        raise refused
    names = winners(topic)
    if list(confirmed_names) != names:
        raise AccountRefused("names_differ")
    recorded = supervision.basis(compound)
    keep = {}
    for membership in supervision.sitting(compound):
        won = next((name for name in names if name_key(name) == membership.name_key), None)
        # Re-elected keeps the account only if the street office or an election put it in office before:
        # an account with no such record may be one the committee made (and knows the password of).
        if won is not None and membership.user_id in recorded:
            keep[won] = membership
        else:
            supervision.remove(compound, actor, membership, SupervisorSource.election, topic)
    db.session.flush()
    issued = []
    for name in names:
        if name in keep:
            supervision.reappoint(compound, actor, keep[name], topic)
            issued.append((name, keep[name].user.username, None))
        else:
            username, password = _free_username(compound), new_password()
            supervision.appoint_new(compound, actor, username, name, password, SupervisorSource.election, topic)
            issued.append((name, username, password))
    return issued
