"""The work behind consultations: topics, the frozen electorate, ballots on every channel, the tally and its
freezing at close, correction notes, opinions, proposals, the resolution notice and follow-through.
Secret topics' released figures live in snapshots.py, votes at the lobby screen in kiosk_votes.py.

Views and the CLI call these; every state change goes through record_change() in the same transaction.
Casting a ballot commits by itself, because it may have to retry after a race with the same household.
"""
import hashlib
import json
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from ..changes import record_change
from ..database import utcnow, writing
from ..extensions import db
from ..households.models import Household, Occupancy, address_order, natural
from ..notices import service as notices
from ..notices.models import Category
from . import AREA, kiosk_votes, snapshots
from . import tally as counting
from .models import (Ballot, Channel, Elector, Kind, Opinion, Option, Phase, Proposal, ProposalStatus, Status, Topic,
                     TopicCorrection, TopicUpdate, Visibility)

YES_NO = (("yes", "同意"), ("no", "不同意"), ("abstain", "弃权"))
OPINIONS_PER_TOPIC = 5  # a household's opinions on one topic
OPINION_BURST, OPINION_WINDOW = 2, timedelta(minutes=10)  # a household's opinions on a topic in a short while
PROPOSALS_PER_DAY = 3  # a household's proposals in 24 hours


class VoteRefused(Exception):
    """A ballot that can't be taken; `reason` is a code the view turns into a sentence."""

    def __init__(self, reason, ballot=None):
        super().__init__(reason)
        self.reason = reason
        self.ballot = ballot


# --- topics -----------------------------------------------------------------------------------------------

def owner_group(household):
    """The owner group a unit counts under: all developer-held units are one owner, as are one buyer's units."""
    if household.occupancy == Occupancy.developer:
        return "developer"
    if household.owner_key:
        return "owner:" + household.owner_key
    return f"unit-{household.id}"


def save_topic(compound, actor, topic, fields, option_labels):
    """Create or edit a draft topic from cleaned fields; yes/no topics get 同意/不同意/弃权 as options."""
    creating = topic is None
    before = None if creating else topic.snapshot()
    if creating:
        topic = Topic(compound_id=compound.id, created_by=actor.id, status=Status.draft)
        db.session.add(topic)
    elif topic.status != Status.draft:
        raise ValueError("only a draft can be edited")
    for name, value in fields.items():
        setattr(topic, name, value)
    if topic.kind == Kind.yesno:
        pairs = list(YES_NO)
    else:
        pairs = [(str(i + 1), label) for i, label in enumerate(option_labels)]
    topic.options.clear()
    db.session.flush()
    for position, (key, label) in enumerate(pairs):
        topic.options.append(Option(key=key, label=label, position=position))
    record_change(compound, actor, AREA, "create" if creating else "edit", topic, before, topic.snapshot())
    return topic


def add_correction(compound, actor, topic, body, now=None):
    """Append a dated, signed correction note to a published topic: its wording itself never changes once
    households are discussing and voting on it."""
    if topic.status != Status.published:
        raise VoteRefused("frozen")
    correction = TopicCorrection(topic_id=topic.id, body=body, created_by=actor.id, created_at=now or utcnow())
    db.session.add(correction)
    record_change(compound, actor, AREA, "correct", topic, None, {"correction": body})
    return correction


def corrections(topic):
    """The topic's correction notes, oldest first."""
    return db.session.scalars(select(TopicCorrection).where(TopicCorrection.topic_id == topic.id)
                              .order_by(TopicCorrection.id)).all()


def publish(compound, actor, topic, now=None):
    """Publish a draft: discussion starts and the electorate is frozen from the roll as it stands now.

    The topic row is locked first, so two committee phones publishing at once publish it once."""
    now = now or utcnow()
    locked = db.session.execute(select(Topic.status, Topic.closes_at).where(Topic.id == topic.id)
                                .with_for_update()).one()
    if locked.status != Status.draft:
        raise VoteRefused("published")
    if locked.closes_at <= now:
        raise VoteRefused("closed")
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()
    if not households:
        raise VoteRefused("no_households")
    db.session.execute(insert(Elector), [
        {"topic_id": topic.id, "household_id": h.id, "area_centi": h.area_centi, "owner": owner_group(h),
         "building": h.building} for h in households])
    before = topic.snapshot()
    topic.status = Status.published
    topic.published_at = now
    record_change(compound, actor, AREA, "publish", topic, before, {**topic.snapshot(),
                                                                    "electorate": len(households)})
    return len(households)


def visible_topics(compound):
    """Every topic residents may see, newest first."""
    return db.session.scalars(select(Topic).where(Topic.compound_id == compound.id, Topic.status != Status.draft)
                              .order_by(Topic.opens_at.desc(), Topic.id.desc())).all()


def voting_now(compound, now=None):
    """Topics whose voting is open right now, closing soonest first."""
    now = now or utcnow()
    return db.session.scalars(select(Topic).where(Topic.compound_id == compound.id, Topic.status == Status.published,
                                                  Topic.opens_at <= now, Topic.closes_at > now)
                              .order_by(Topic.closes_at)).all()


def all_topics(compound):
    return db.session.scalars(select(Topic).where(Topic.compound_id == compound.id)
                              .order_by(Topic.created_at.desc(), Topic.id.desc())).all()


# --- the electorate and the ballots -----------------------------------------------------------------------

def is_elector(topic, household):
    return db.session.get(Elector, (topic.id, household.id)) is not None


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


def _take(compound, topic, household, chosen, channel, entered_by):
    """One attempt at recording a ballot inside the current transaction."""
    locked = db.session.execute(select(Topic.status, Topic.opens_at, Topic.closes_at).where(Topic.id == topic.id)
                                .with_for_update(read=True)).one()
    now = utcnow()
    if locked.status != Status.published or now >= locked.closes_at:
        raise VoteRefused("closed")
    if now < locked.opens_at:
        raise VoteRefused("not_open")
    # Lock the household's elector row: its concurrent ballots queue here instead of failing retries
    # (PostgreSQL). The current ballot is read by a second statement, which (in READ COMMITTED) sees what
    # the ballot we waited for committed; a join in the locking statement would see the stale row.
    if db.session.scalar(select(Elector.household_id).where(Elector.topic_id == topic.id,
                                                            Elector.household_id == household.id)
                         .with_for_update()) is None:
        raise VoteRefused("not_elector")
    previous_id = db.session.scalar(select(Ballot.id).where(Ballot.topic_id == topic.id,
                                                            Ballot.household_id == household.id,
                                                            Ballot.current.is_(True)))
    if previous_id is not None:
        if not topic.allow_change:
            raise VoteRefused("already", db.session.get(Ballot, previous_id))
        moved = db.session.execute(update(Ballot).where(Ballot.id == previous_id, Ballot.current.is_(True))
                                   .values(current=False)).rowcount
        if moved != 1:
            raise IntegrityError("ballot superseded meanwhile", None, Exception())
    ballot = Ballot(topic_id=topic.id, household_id=household.id, choices=chosen, channel=channel,
                    entered_by=entered_by.id if entered_by else None, cast_at=now)
    db.session.add(ballot)
    if topic.secret:
        # No audit row and no version bump per secret ballot: either would tell screens and the committee the
        # moment each household voted. The next snapshot release writes one row for its batch (snapshots.py).
        db.session.flush()
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


def cast(compound, topic, household, choices, channel=Channel.phone, entered_by=None, step=None):
    """Record a household's ballot and commit; refuse after close, outside the electorate, or a second ballot
    when changes are not allowed. A race with the same household's other ballot is retried, so exactly one
    stays current. With `step` (a lobby screen's keypad step), the step is used up in the same transaction."""
    chosen = clean_choices(topic, choices)
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


def compute(topic):
    """Tally the topic from its frozen electorate and current ballots (a fresh recount).

    The choices column is read as text and each distinct ballot (there are only a few: 同意, 不同意, ...)
    decoded once; decoding 5,000 JSON values one by one cost more than the tally itself."""
    voters = [counting.Voter(h, a, o) for h, a, o in db.session.execute(
        select(Elector.household_id, Elector.area_centi, Elector.owner).where(Elector.topic_id == topic.id))]
    shapes = {}
    casts = []
    for ballot_id, household_id, text_ in db.session.execute(
            select(Ballot.id, Ballot.household_id, sql_cast(Ballot.choices, String))
            .where(Ballot.topic_id == topic.id, Ballot.current.is_(True))):
        key = text_ if isinstance(text_, str) else json.dumps(text_)
        choices = shapes.get(key)
        if choices is None:
            choices = shapes[key] = tuple(json.loads(key))
        casts.append(counting.Cast(household_id, choices, ballot_id))
    return counting.tally(topic.kind, topic.rule, topic.option_keys(), voters, casts, topic.seats)


_live_lock = threading.Lock()


def live_result(topic):
    """The running tally, recounted only when a ballot arrived since the last count (any process's ballot:
    the key is read from the database). Phones refresh results every few seconds while a vote is open."""
    key = tuple(db.session.execute(select(func.count(), func.max(Ballot.id)).where(Ballot.topic_id == topic.id)).one())
    # topic id -> ((ballot rows, newest ballot id), result): per app, since ids repeat across databases
    _live = current_app.extensions.setdefault("kiosk_live_tallies", {})
    with _live_lock:
        found = _live.get(topic.id)
        if found is not None and found[0] == key:
            return found[1]
    result = result_dict(compute(topic))
    with _live_lock:
        _live[topic.id] = (key, result)
    return result


def fingerprint(topic):
    """sha256 over the topic, its electorate and every counted ballot, in a fixed order: the frozen result's seal."""
    digest = hashlib.sha256(f"topic:{topic.id}:{topic.kind}:{topic.rule}:{topic.seats}\n".encode())
    for row in db.session.execute(select(Elector.household_id, Elector.area_centi, Elector.owner)
                                  .where(Elector.topic_id == topic.id).order_by(Elector.household_id)):
        digest.update(f"e:{row[0]}:{row[1]}:{row[2]}\n".encode())
    for row in db.session.execute(select(Ballot.household_id, Ballot.choices, Ballot.channel)
                                  .where(Ballot.topic_id == topic.id, Ballot.current.is_(True))
                                  .order_by(Ballot.household_id)):
        digest.update(f"b:{row[0]}:{','.join(row[1])}:{row[2]}\n".encode())
    return digest.hexdigest()


def result_dict(result):
    """A tally result as plain JSON (fractions as [numerator, denominator])."""
    def frac(value):
        return None if value is None else [value.numerator, value.denominator]
    return {
        "kind": result.kind, "rule": result.rule, "seats": result.seats,
        "total_area_centi": result.total_area_centi, "total_heads": result.total_heads,
        "total_households": result.total_households, "part_area_centi": result.part_area_centi,
        "part_heads": result.part_heads, "part_households": result.part_households,
        "options": [{"key": o.key, "area_centi": o.area_centi, "heads": o.heads, "households": o.households,
                     "approved": o.approved} for o in result.options],
        "quorum_required": result.quorum_required, "quorum_area_met": result.quorum_area_met,
        "quorum_heads_met": result.quorum_heads_met, "approval": frac(result.approval),
        "approval_strict": result.approval_strict, "passed": result.passed, "winners": list(result.winners),
        "tied": list(result.tied), "reasons": list(result.reasons), "conflicts": result.conflicts,
    }


def result_of(topic):
    """What may be shown of the count now, as a dict: the frozen result after close; the last released snapshot
    of an open secret topic (snapshots.py: per-option households only); else the running tally."""
    if topic.result is not None:
        return topic.result
    if snapshots.sealed(topic):
        return snapshots.shown(topic)
    return live_result(topic)


def close_due(compound=None, now=None):
    """Freeze every topic whose voting has ended (called by requests and by the server's sweeper); return how many."""
    now = now or utcnow()
    query = select(Topic.id).where(Topic.status == Status.published, Topic.closes_at <= now)
    if compound is not None:
        query = query.where(Topic.compound_id == compound.id)
    due = db.session.scalars(query).all()
    closed = 0
    for topic_id in due:
        with writing():
            # Claim the topic first: the row lock waits for ballots in flight, and another process can't close it twice.
            claimed = db.session.execute(update(Topic).where(Topic.id == topic_id, Topic.status == Status.published)
                                         .values(status=Status.closed, closed_at=now)).rowcount
            if not claimed:
                continue
            topic = db.session.get(Topic, topic_id)
            db.session.refresh(topic)
            topic.result = result_dict(compute(topic))
            topic.fingerprint = fingerprint(topic)
            from ..compounds.models import Compound
            owner = db.session.get(Compound, topic.compound_id)
            after = {"fingerprint": topic.fingerprint, "passed": topic.result["passed"],
                     "part_households": topic.result["part_households"]}
            if topic.secret:  # paper ballots typed in since the last release, named once, without times
                after["paper"] = snapshots.paper_between(topic, topic.released_at, None)
            record_change(owner, None, AREA, "close", topic, None, after)
        closed += 1
    return closed


def keep_time(compound=None, now=None):
    """Do what the clock decides: freeze votes whose deadline passed and release secret topics' snapshots that
    are due. Pages that show topics call it first; so does the server's sweeper."""
    closed = close_due(compound, now)
    snapshots.release_due(compound, now)
    return closed


def turnout_by_building(topic):
    """[(building, voted, electors)] in natural order: what any screen may show, never a household's choice.
    An open secret topic shows its last released snapshot's."""
    if snapshots.sealed(topic):
        return [tuple(row) for row in snapshots.shown(topic)["turnout"]]
    electors = dict(db.session.execute(select(Elector.building, func.count()).where(Elector.topic_id == topic.id)
                                       .group_by(Elector.building)).all())
    voted = dict(db.session.execute(
        select(Elector.building, func.count()).join(Ballot, (Ballot.topic_id == Elector.topic_id)
                                                    & (Ballot.household_id == Elector.household_id))
        .where(Elector.topic_id == topic.id, Ballot.current.is_(True)).group_by(Elector.building)).all())
    return [(b, voted.get(b, 0), electors[b]) for b in sorted(electors, key=natural)]


def participation(topic):
    """(households that voted, households on the electorate); an open secret topic's as last released."""
    if snapshots.sealed(topic):
        figures = snapshots.shown(topic)
        return figures["part_households"], figures["total_households"]
    total = db.session.scalar(select(func.count()).select_from(Elector).where(Elector.topic_id == topic.id))
    voted = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic.id,
                                                                            Ballot.current.is_(True)))
    return voted, total


class RollRow:
    """One household of the roll call: whether it voted; its ballot (channel, time, choices) in a named topic only."""

    def __init__(self, household, voted, ballot=None):
        self.household, self.voted, self.ballot = household, voted, ballot


def roll_call(topic):
    """For the committee: every elector household in address order and whether it voted. A named topic shows
    each ballot (channel, time, choices); a secret one only "voted", as of its last release while open, and
    never a time or a channel, even after the close (see snapshots.py)."""
    if topic.secret:
        households = db.session.scalars(select(Household).join(
            Elector, (Elector.household_id == Household.id) & (Elector.topic_id == topic.id))).all()
        if snapshots.sealed(topic):
            voted = snapshots.voted_households(topic)
        else:
            voted = set(db.session.scalars(select(Ballot.household_id).where(Ballot.topic_id == topic.id,
                                                                             Ballot.current.is_(True))))
        return [RollRow(h, h.id in voted) for h in sorted(households, key=address_order)]
    rows = db.session.execute(
        select(Household, Ballot).join(Elector, (Elector.household_id == Household.id) & (Elector.topic_id == topic.id))
        .outerjoin(Ballot, (Ballot.topic_id == topic.id) & (Ballot.household_id == Household.id)
                   & Ballot.current.is_(True))).all()
    return [RollRow(h, b is not None, b) for h, b in sorted(rows, key=lambda r: address_order(r[0]))]


def results_visible(topic, household_voted=False, kiosk=False, now=None):
    """Whether tallies (not just turnout) may be shown to this viewer now."""
    phase = topic.phase(now)
    if phase in (Phase.closed, Phase.done):
        return True
    if topic.visibility == Visibility.live:
        return True
    if topic.visibility == Visibility.after_vote:
        return household_voted and not kiosk
    return False


# --- opinions ---------------------------------------------------------------------------------------------

def post_opinion(compound, topic, household, body):
    """A household's opinion while the topic is discussed or voted on: at most OPINIONS_PER_TOPIC per topic, and
    OPINION_BURST within OPINION_WINDOW (one household can't drown the others out)."""
    if topic.phase() != Phase.discussion and topic.phase() != Phase.voting:
        raise VoteRefused("discussion_over")
    mine = (Opinion.topic_id == topic.id, Opinion.household_id == household.id)
    if db.session.scalar(select(func.count()).select_from(Opinion).where(*mine)) >= OPINIONS_PER_TOPIC:
        raise VoteRefused("opinions_full")
    recent = db.session.scalar(select(func.count()).select_from(Opinion).where(
        *mine, Opinion.created_at > utcnow() - OPINION_WINDOW))
    if recent >= OPINION_BURST:
        raise VoteRefused("opinion_too_soon")
    opinion = Opinion(topic_id=topic.id, household_id=household.id, body=body)
    db.session.add(opinion)
    record_change(compound, None, AREA, "opinion", topic, None, {"household": household.address, "body": body})
    return opinion


def hide_opinion(compound, actor, opinion, reason):
    opinion.hidden_at, opinion.hidden_by, opinion.hidden_reason = utcnow(), actor.id, reason
    topic = db.session.get(Topic, opinion.topic_id)
    record_change(compound, actor, AREA, "hide_opinion", topic, {"body": opinion.body}, {"reason": reason})


def opinions(topic):
    return db.session.scalars(select(Opinion).where(Opinion.topic_id == topic.id).order_by(Opinion.id)).all()


# --- proposals --------------------------------------------------------------------------------------------

def submit_proposal(compound, household, kind, title, body):
    """A household's proposal or request: at most PROPOSALS_PER_DAY in 24 hours."""
    recent = db.session.scalar(select(func.count()).select_from(Proposal).where(
        Proposal.household_id == household.id, Proposal.created_at > utcnow() - timedelta(days=1)))
    if recent >= PROPOSALS_PER_DAY:
        raise VoteRefused("proposals_full")
    proposal = Proposal(compound_id=compound.id, household_id=household.id, kind=kind, title=title, body=body)
    db.session.add(proposal)
    record_change(compound, None, AREA, "propose", proposal, None, {**proposal.snapshot(),
                                                                   "household": household.address})
    return proposal


def answer_proposal(compound, actor, proposal, answer, status):
    before = proposal.snapshot()
    proposal.answer, proposal.status = answer, status
    proposal.answered_by, proposal.answered_at = actor.id, utcnow()
    record_change(compound, actor, AREA, "answer", proposal, before, proposal.snapshot())


def link_proposal(compound, actor, proposal, topic):
    before = proposal.snapshot()
    proposal.topic_id, proposal.status = topic.id, ProposalStatus.topic
    record_change(compound, actor, AREA, "to_topic", proposal, before, proposal.snapshot())


def proposals(compound, public=True):
    return db.session.scalars(select(Proposal).where(Proposal.compound_id == compound.id)
                              .order_by(Proposal.created_at.desc(), Proposal.id.desc())).all()


# --- resolution and follow-through ------------------------------------------------------------------------

def publish_resolution(compound, actor, topic, title, body):
    """Post the resolution notice (决议公告) as a published disclosure notice and link it to the topic, once:
    of two committee phones publishing at once, the second is refused (the caller rolls back)."""
    if topic.result is None:
        raise VoteRefused("not_closed")
    notice = notices.save(compound, actor, None, {"title": title, "body": body, "category": Category.disclosure,
                                                  "urgent": False, "pinned": True}, publish=True)
    db.session.flush()
    linked = db.session.execute(update(Topic).where(Topic.id == topic.id, Topic.resolution_notice_id.is_(None))
                                .values(resolution_notice_id=notice.id)).rowcount
    if not linked:
        raise VoteRefused("resolved")
    set_committed_value(topic, "resolution_notice_id", notice.id)
    record_change(compound, actor, AREA, "resolution", topic, None, {"notice_id": notice.id})
    return notice


def post_update(compound, actor, topic, body, done, title):
    """Post a follow-through update, also as a notice; `done` marks the matter carried out."""
    notice = notices.save(compound, actor, None, {"title": title, "body": body, "category": Category.notice,
                                                  "urgent": False, "pinned": False}, publish=True)
    db.session.flush()
    entry = TopicUpdate(topic_id=topic.id, body=body, notice_id=notice.id, created_by=actor.id)
    db.session.add(entry)
    before = topic.snapshot()
    if done:
        topic.status, topic.done_at = Status.done, utcnow()
    record_change(compound, actor, AREA, "update", topic, before, {**topic.snapshot(), "update": body})
    return entry


def updates(topic):
    return db.session.scalars(select(TopicUpdate).where(TopicUpdate.topic_id == topic.id)
                              .order_by(TopicUpdate.id)).all()
