"""Ballots on every channel (phone, lobby screen, paper): who may vote, what a ballot may choose, and taking
it, exactly one current ballot per household however many arrive at once."""
import threading
from contextlib import contextmanager

from flask import current_app, g
from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from ...changes import record_change
from ...database import DEFAULT_BUSY_TIMEOUT_MS, utcnow
from ...extensions import db
from ...households.models import Delivery, Holder, HouseholdCard, live_card
from .. import AREA, kiosk_votes
from ..models import Ballot, Channel, Elector, Kind, Status, Topic
from ..tally import Rule
from .base import VoteRefused


# The ballot's statements, built once: building a statement (its clauses, its cache key) cost more than
# running it, and each of these runs inside the write lock on every ballot. Values come as parameters.
_TOPIC_WINDOW = (select(Topic.status, Topic.opens_at, Topic.closes_at).where(Topic.id == bindparam("topic"))
                 .with_for_update(read=True))
_LIVE_CARD = (select(HouseholdCard.holder, HouseholdCard.delivery)
              .where(HouseholdCard.household_id == bindparam("household"), live_card())
              .order_by(HouseholdCard.id.desc()).limit(1))
# A ballot's admission in one statement: the topic's window (share-locked, so a close cannot slip between),
# the household's elector row (locked: its concurrent ballots queue here on PostgreSQL) and its live card.
# No row: the household is not on the electorate (lock_open then judges the window first, as ever).
# SQLite's write lock serializes ballots anyway; it renders no locking clause.
_ADMISSION = (select(Topic.status, Topic.opens_at, Topic.closes_at,
                     _LIVE_CARD.with_only_columns(HouseholdCard.holder).scalar_subquery().label("holder"),
                     _LIVE_CARD.with_only_columns(HouseholdCard.delivery).scalar_subquery().label("delivery"))
              .join_from(Topic, Elector, and_(Elector.topic_id == Topic.id,
                                              Elector.household_id == bindparam("household")))
              .where(Topic.id == bindparam("topic"))
              .suffix_with(f"FOR SHARE OF {Topic.__tablename__} FOR UPDATE OF {Elector.__tablename__}",
                           dialect="postgresql"))
_CURRENT_BALLOT_ID = select(Ballot.id).where(Ballot.topic_id == bindparam("topic"),
                                             Ballot.household_id == bindparam("household"), Ballot.current.is_(True))
_INSERT_BALLOT = insert(Ballot)


def is_elector(topic, household):
    return db.session.get(Elector, (topic.id, household.id)) is not None


def live_card_of(household):
    """The household's card that works now (a confirmed print run replaces the old one), or None."""
    return db.session.scalar(select(HouseholdCard).where(HouseholdCard.household_id == household.id, live_card())
                             .order_by(HouseholdCard.id.desc()).limit(1))


def card_refusal(topic, household):
    """Why the household's own card may not vote on this topic, or None. Owners decide: a card held by a tenant
    votes only in 意见征集 (the informal rule), never in a statutory vote (art. 278) nor in 协商一致, whose
    "everyone agrees" speaks for the owners too ("tenant"); tenants read and comment everywhere. A statutory
    topic that requires verified cards refuses a card not handed over in person against ID and property
    certificate ("unverified"). Paper ballots typed in by the committee are not checked here: checking who
    filled a paper ballot in is the committee's responsibility."""
    if topic.rule == Rule.informal:
        return None
    # Two columns, not the card object: this runs inside the ballot's write transaction.
    card = db.session.connection().execute(_LIVE_CARD, {"household": household.id}).first()
    return _card_reason(topic, card.holder if card else None, card.delivery if card else None)


def _card_reason(topic, holder, delivery):
    """card_refusal on the newest live card's holder and delivery (None, None: the household has no live card);
    the ballot's own admission reads them in its first statement."""
    if topic.rule == Rule.informal:
        return None
    if holder == Holder.tenant:
        return "tenant"
    if topic.statutory and topic.require_verified and delivery != Delivery.in_person:
        return "unverified"
    return None


def outside_refusal(topic):
    """The refusal for a household not on the electorate: a scoped topic says whose vote it is."""
    if topic.scope is not None:
        return VoteRefused("outside_scope", where=topic.electorate_label)
    return VoteRefused("not_elector")


def why_not(topic, household):
    """Why this household may not vote on the topic from its phone or the lobby screen (a VoteRefused), or None."""
    if not is_elector(topic, household):
        return outside_refusal(topic)
    reason = card_refusal(topic, household)
    return VoteRefused(reason) if reason else None


def current_ballot(topic, household):
    return db.session.scalar(select(Ballot).where(Ballot.topic_id == topic.id, Ballot.household_id == household.id,
                                                  Ballot.current.is_(True)))


def clean_choices(topic, choices):
    """The chosen option keys in the topic's order, or VoteRefused("choices") when they break its rules."""
    keys = topic.option_keys()
    chosen = [k for k in keys if k in set(choices)]
    if len(chosen) != len(set(choices)) or not chosen:
        raise VoteRefused("choices")
    if topic.kind in (Kind.yesno, Kind.single) and len(chosen) != 1:
        raise VoteRefused("choices")
    if topic.kind in (Kind.multi, Kind.election) and len(chosen) > topic.seats:
        raise VoteRefused("too_many")
    return chosen


def numbered_ballots_printed(topic):
    """Whether the topic's numbered paper ballots have been printed (then paper comes in only through them)."""
    from ..paper_models import PaperBallot  # beside the paper service, which builds on this module

    return db.session.scalar(select(PaperBallot.id).where(PaperBallot.topic_id == topic.id).limit(1)) is not None


def lock_open(topic):
    """Share-lock the topic's row and refuse outside the voting window ("closed", "not_open"); return now. Every
    way a ballot goes in (phone, lobby screen, proxy, paper) starts here, so a close cannot slip between."""
    return _within_window(db.session.connection().execute(_TOPIC_WINDOW, {"topic": topic.id}).one())


def _within_window(locked):
    """Refuse outside the voting window of the locked topic row (its status, opens_at, closes_at); return now."""
    now = utcnow()
    if locked.status != Status.published or now >= locked.closes_at:
        raise VoteRefused("closed")
    if now < locked.opens_at:
        raise VoteRefused("not_open")
    return now


def _take(compound, topic, household, chosen, channel, entered_by):
    """One attempt at recording a ballot inside the current transaction."""
    # Bare-column statements go straight to the transaction's connection: the ORM's execute path cost more
    # than the statements themselves, and every one of them runs while the write lock is held.
    connection = db.session.connection()
    # The window, the household's elector row and its card in one statement (_ADMISSION), refused in the same
    # order as ever: window, electorate, card. Locking the elector row makes the household's concurrent
    # ballots queue there instead of failing retries (PostgreSQL). The current ballot is read by a second
    # statement, which (in READ COMMITTED) sees what the ballot we waited for committed; a join in the
    # locking statement would see the stale row.
    ids = {"topic": topic.id, "household": household.id}
    admitted = connection.execute(_ADMISSION, ids).first()
    if admitted is None:
        lock_open(topic)
        raise outside_refusal(topic) if channel != Channel.paper else VoteRefused("not_elector")
    now = _within_window(admitted)
    if channel != Channel.paper:
        reason = _card_reason(topic, admitted.holder, admitted.delivery)
        if reason:
            raise VoteRefused(reason)
    elif numbered_ballots_printed(topic):
        # Once numbered ballots are out, a paper counts only after two members' blind entries (paper.py): one
        # member typing a paper ballot straight in would skip that check.
        raise VoteRefused("numbered")
    previous_id = connection.execute(_CURRENT_BALLOT_ID, ids).scalar()
    if previous_id is not None:
        from .proxies import guard_own_vote  # here, not at the top: proxies.py builds on this module

        guard_own_vote(previous_id)  # a proxy's ballot, or a confirmed numbered paper ballot, stands
        if not topic.allow_change:
            raise VoteRefused("already", db.session.get(Ballot, previous_id))
        # Through the session, which also marks a loaded copy of the old ballot as no longer current.
        moved = db.session.execute(update(Ballot).where(Ballot.id == previous_id, Ballot.current.is_(True))
                                   .values(current=False)).rowcount
        if moved != 1:
            raise IntegrityError("ballot superseded meanwhile", None, Exception())
    # One INSERT on the connection, then the row as a persistent object for the caller: the ORM's flush
    # (unit of work, change tracking) cost more than the statement, inside the write lock.
    values = {"topic_id": topic.id, "household_id": household.id, "choices": chosen, "channel": channel,
              "entered_by": entered_by.id if entered_by else None, "cast_at": now, "current": True}
    ballot = Ballot(id=connection.execute(_INSERT_BALLOT, values).inserted_primary_key[0], **values)
    make_transient_to_detached(ballot)
    db.session.add(ballot)
    if topic.secret:
        # No audit row and no version bump per secret ballot: either would tell screens and the committee the
        # moment each household voted. The next snapshot release writes one row for its batch (snapshots.py).
        return ballot
    after = {"household": household.address, "channel": str(channel), "changed": previous_id is not None,
             "choices": [o.label for o in topic.options if o.key in chosen]}  # as stored, whoever reads it
    record_change(compound, entered_by, AREA, "ballot", topic, None, after)
    return ballot


def _commit_keeping_state():
    """Commit without expiring what the request already holds (topic, household, the new ballot): the answer
    that follows reads them, and reloading would cost a second transaction (on SQLite another write lock)."""
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


# One ballot at a time takes SQLite's write lock in this process. Threads queue here and wake the moment the
# previous ballot commits; waiting in SQLite's busy handler instead sleeps in growing steps (up to 100 ms)
# and lets a late thread overtake the queue, which made the vote storm's p99 seconds long.
_sqlite_writer = threading.Lock()


@contextmanager
def _write_turn():
    """The ballot's own write transaction. On SQLite, when the request has only read so far (a reads_first
    view: its transaction began DEFERRED), end that read, take this process's writer lock and let the next
    transaction begin IMMEDIATE, so the database's write lock is held for the ballot alone. A caller that
    already holds the write lock (an IMMEDIATE transaction, e.g. a committee POST) keeps it: taking the
    process lock then could wait on a thread that waits on us. PostgreSQL's row locks need none of this."""
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    if session.in_transaction():
        if session.connection().info.get("kiosk_begin") == "IMMEDIATE":
            yield
            return
        _commit_keeping_state()  # nothing written yet: SQLite cannot turn this read into a write safely
    # Whole seconds, rounded up: this module keeps to integers (no float where ballots are counted).
    timeout = -(-int(current_app.config.get("BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS)) // 1000)
    acquired = _sqlite_writer.acquire(timeout=timeout)  # else SQLite's own busy timeout decides
    previous = g.get("kiosk_writing", False)
    g.kiosk_writing = True
    try:
        yield
    finally:
        g.kiosk_writing = previous
        if acquired:
            _sqlite_writer.release()


def cast(compound, topic, household, choices, channel=Channel.phone, entered_by=None, step=None):
    """Record a household's ballot and commit; refuse after close, outside the electorate, from a tenant's or
    an unverified card where the topic's rule forbids it (card_refusal), or a second ballot when changes are
    not allowed. A race with the same household's other ballot is retried, so exactly one
    stays current. With `step` (a lobby screen's keypad step), the step is used up in the same transaction."""
    chosen = clean_choices(topic, choices)
    with _write_turn():
        for attempt in range(3):
            try:
                if step is not None and not kiosk_votes.use_step(step):
                    raise VoteRefused("code")
                ballot = _take(compound, topic, household, chosen, channel, entered_by)
                _commit_keeping_state()
                return ballot
            except IntegrityError:
                db.session.rollback()
                if attempt == 2:
                    raise
            except VoteRefused:
                db.session.rollback()
                raise
    raise AssertionError("unreachable")


def ballots(topic):
    """The current ballots, oldest first."""
    return db.session.scalars(select(Ballot).where(Ballot.topic_id == topic.id, Ballot.current.is_(True))
                              .order_by(Ballot.id)).all()
