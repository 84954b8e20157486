"""Written proxies (书面委托, 物业管理条例 art. 12): recording one, the owner revoking it from the phone, the
committee entering the proxy's ballot, and the rules between a proxy's ballot and the owner's own.

The stated rules: an owner may revoke until the proxy's ballot is cast; an owner who votes themselves while a
proxy stands has revoked it (the proxy's ballot is then refused); once the proxy has voted, that ballot stands
and the owner's own vote is refused. One person may represent at most the compound's limit of owners on one
topic (paper_models.DEFAULT_PROXY_LIMIT unless the committee set another figure).
"""
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from .. import AREA
from ..models import Ballot, Channel, Elector, Phase, Status
from ..paper_models import DEFAULT_PROXY_LIMIT, PaperBallot, Proxy, ProxyLimit, ProxyState
from .base import VoteRefused
from .voting import clean_choices, lock_open

LIMIT_RANGE = (1, 50)


def limit_for(compound):
    """How many owners one proxy may represent on one topic in this compound."""
    row = db.session.get(ProxyLimit, compound.id)
    return row.max_owners if row is not None else DEFAULT_PROXY_LIMIT


def set_limit(compound, actor, max_owners):
    """Set the compound's proxy limit (audited); the caller commits."""
    if not LIMIT_RANGE[0] <= max_owners <= LIMIT_RANGE[1]:
        raise VoteRefused("limit_range")
    row = db.session.get(ProxyLimit, compound.id)
    before = {"max_owners": row.max_owners if row else DEFAULT_PROXY_LIMIT}
    if row is None:
        row = ProxyLimit(compound_id=compound.id)
        db.session.add(row)
    row.max_owners, row.set_by, row.set_at = max_owners, actor.id, utcnow()
    record_change(compound, actor, AREA, "proxy_limit", row, before, {"max_owners": max_owners})


def proxies(topic):
    """Every proxy of a topic, newest first."""
    return db.session.scalars(select(Proxy).where(Proxy.topic_id == topic.id).order_by(Proxy.id.desc())).all()


def standing(topic, household):
    """The household's proxy on this topic that is not revoked (standing or already voted), or None."""
    return db.session.scalar(select(Proxy).where(Proxy.topic_id == topic.id, Proxy.household_id == household.id,
                                                 Proxy.state != ProxyState.revoked))


def same_person(name, id_last4):
    """A filter for proxies naming the same person: the same name, and the same ID digits unless one is blank
    (a blank cannot be told apart, so it counts against the limit rather than slipping past it)."""
    return (Proxy.name == name) & or_(Proxy.id_last4 == id_last4, Proxy.id_last4 == "", id_last4 == "")


def _check_recordable(topic):
    """Proxies are recorded while a published topic has not closed."""
    if topic.status != Status.published or topic.phase() in (Phase.closed, Phase.done):
        raise VoteRefused("closed")


def record(compound, actor, topic, household, name, id_last4="", phone="", scan=None):
    """Record an owner's written proxy for one topic; the caller commits. Refused: topic closed, household not on
    the electorate, a proxy already standing for it, or the person already at the compound's limit."""
    _check_recordable(topic)
    if db.session.get(Elector, (topic.id, household.id)) is None:
        raise VoteRefused("not_elector")
    if standing(topic, household) is not None:
        raise VoteRefused("proxy_exists")
    limit = limit_for(compound)
    held = db.session.scalar(select(func.count()).select_from(Proxy).where(
        Proxy.topic_id == topic.id, Proxy.state != ProxyState.revoked, same_person(name, id_last4)))
    if held >= limit:
        raise VoteRefused("proxy_limit", limit=limit, held=held)
    proxy = Proxy(compound_id=compound.id, topic_id=topic.id, household_id=household.id, name=name,
                  id_last4=id_last4, phone=phone, scan_image_id=scan.id if scan is not None else None,
                  recorded_by=actor.id, recorded_at=utcnow())
    db.session.add(proxy)
    # The audit names the household, not the proxy: the name is personal data and stays on the proxy's row.
    record_change(compound, actor, AREA, "proxy", topic, None, {"household": household.address, "proxy": "recorded",
                                                                 "scan": scan is not None})
    return proxy


def revoke(compound, topic, proxy, actor=None, by_owner=False):
    """Revoke a standing proxy (the owner from the phone, or the committee from a written revocation); the
    caller commits. Refused once the proxy has voted, or after the close."""
    _check_recordable(topic)
    if proxy.state == ProxyState.voted:
        raise VoteRefused("proxy_used")
    if proxy.state == ProxyState.revoked:
        raise VoteRefused("proxy_revoked")
    moved = db.session.execute(update(Proxy).where(Proxy.id == proxy.id, Proxy.state == ProxyState.standing)
                               .values(state=ProxyState.revoked, revoked_at=utcnow(), revoked_by_owner=by_owner)
                               ).rowcount
    if moved != 1:  # the proxy's ballot went in meanwhile
        raise VoteRefused("proxy_used")
    db.session.refresh(proxy)
    if not topic.secret:  # a secret topic's audit would date the household's decision
        record_change(compound, actor, AREA, "proxy_revoked", topic, None,
                      {"household": proxy.household.address, "by_owner": by_owner})
    return proxy


def cast_by_proxy(compound, actor, topic, proxy, choices):
    """Enter the ballot a proxy cast (in person or on paper) for the owner, recorded as paper, entered by
    `actor` and linked from the proxy; commits. Refused when the owner has already voted themselves (that
    revoked the proxy), after the close, or when the proxy is not standing."""
    chosen = clean_choices(topic, choices)
    try:
        ballot = _take_for_proxy(compound, actor, topic, proxy, chosen)
        db.session.commit()
        return ballot
    except (VoteRefused, IntegrityError):
        db.session.rollback()
        raise


def _take_for_proxy(compound, actor, topic, proxy, chosen):
    """The proxy's ballot inside the current transaction."""
    now = lock_open(topic)
    if db.session.scalar(select(Elector.household_id).where(Elector.topic_id == topic.id,
                                                            Elector.household_id == proxy.household_id)
                         .with_for_update()) is None:
        raise VoteRefused("not_elector")
    state = db.session.scalar(select(Proxy.state).where(Proxy.id == proxy.id).with_for_update())
    if state == ProxyState.voted:
        raise VoteRefused("proxy_used")
    if state != ProxyState.standing:
        raise VoteRefused("proxy_revoked")
    if db.session.scalar(select(Ballot.id).where(Ballot.topic_id == topic.id, Ballot.household_id == proxy.household_id,
                                                 Ballot.current.is_(True))) is not None:
        raise VoteRefused("owner_voted")
    ballot = Ballot(topic_id=topic.id, household_id=proxy.household_id, choices=chosen, channel=Channel.paper,
                    entered_by=actor.id, cast_at=now)
    db.session.add(ballot)
    db.session.flush()
    db.session.execute(update(Proxy).where(Proxy.id == proxy.id).values(state=ProxyState.voted, ballot_id=ballot.id))
    db.session.refresh(proxy)
    if not topic.secret:  # the same audit rule as every other ballot (voting.py)
        record_change(compound, actor, AREA, "ballot", topic, None,
                      {"household": proxy.household.address, "channel": "proxy", "changed": False,
                       "choices": [o.label for o in topic.options if o.key in chosen]})
    return ballot


def proxy_ballot_count(topic):
    """How many of the topic's current ballots a proxy cast (shown with the result; a count, never a name)."""
    return db.session.scalar(select(func.count()).select_from(Proxy).join(Ballot, Ballot.id == Proxy.ballot_id)
                             .where(Proxy.topic_id == topic.id, Ballot.current.is_(True))) or 0


def guard_own_vote(previous_id):
    """Refuse a household's own ballot (phone, lobby screen, typed-in paper) over one that must stand: its
    proxy's ("proxy_voted") or its confirmed numbered paper ballot ("paper_final", 以纸质票为准)."""
    if previous_id is None:
        return
    # Both questions in one statement: a changed vote asks them inside the write lock.
    by_proxy, on_paper = db.session.connection().execute(select(
        select(Proxy.id).where(Proxy.ballot_id == previous_id).exists(),
        select(PaperBallot.id).where(PaperBallot.ballot_id == previous_id).exists())).one()
    if by_proxy:
        raise VoteRefused("proxy_voted")
    if on_paper:
        raise VoteRefused("paper_final")
