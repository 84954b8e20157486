"""The work behind consultations: topics, the frozen electorate, ballots on every channel, the tally and its
freezing at close, opinions, proposals, one-time kiosk codes, the resolution notice and follow-through.

Views and the CLI call these; every state change goes through record_change() in the same transaction.
Casting a ballot commits by itself, because it may have to retry after a race with the same household.
"""
import hashlib
import json
import secrets
import threading
from datetime import timedelta

from flask import current_app
from sqlalchemy import String, func, insert, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.exc import IntegrityError

from ..changes import record_change
from ..database import utcnow, writing
from ..extensions import db
from ..households.models import Household, Occupancy
from ..notices import service as notices
from ..notices.models import Category
from . import tally as counting
from .models import (Ballot, Channel, Elector, KioskCode, Kind, Opinion, Option, Phase, Proposal, ProposalStatus,
                     Status, Topic, TopicUpdate, Visibility)

AREA = "consult"
YES_NO = (("yes", "同意"), ("no", "不同意"), ("abstain", "弃权"))
CODE_LIFETIME = timedelta(minutes=10)


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


def edit_published(compound, actor, topic, title, background):
    """After publishing only the wording may change: never the options, the rule or the window."""
    before = topic.snapshot()
    topic.title, topic.background = title, background
    record_change(compound, actor, AREA, "edit", topic, before, topic.snapshot())


def publish(compound, actor, topic):
    """Publish a draft: discussion starts and the electorate is frozen from the roll as it stands now."""
    if topic.status != Status.draft:
        raise ValueError("already published")
    households = db.session.scalars(select(Household).where(Household.compound_id == compound.id)).all()
    if not households:
        raise VoteRefused("no_households")
    db.session.execute(insert(Elector), [
        {"topic_id": topic.id, "household_id": h.id, "area_centi": h.area_centi, "owner": owner_group(h),
         "building": h.building} for h in households])
    before = topic.snapshot()
    topic.status = Status.published
    topic.published_at = utcnow()
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
    after = {"household": household.address, "channel": str(channel), "changed": previous_id is not None}
    if not topic.secret:
        after["choices"] = [topic.label_of(k) for k in chosen]
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


def cast(compound, topic, household, choices, channel=Channel.phone, entered_by=None, code=None):
    """Record a household's ballot and commit; refuse after close, outside the electorate, or a second ballot
    when changes are not allowed. A race with the same household's other ballot is retried, so exactly one
    stays current. With `code`, the one-time kiosk code is used up in the same transaction."""
    chosen = clean_choices(topic, choices)
    for attempt in range(3):
        try:
            if code is not None and not _use_code(compound, household, code):
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
    """The frozen result after close, else the running tally; as a dict."""
    if topic.result is not None:
        return topic.result
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
                                         .values(status=Status.closed, closed_at=utcnow())).rowcount
            if not claimed:
                continue
            topic = db.session.get(Topic, topic_id)
            db.session.refresh(topic)
            topic.result = result_dict(compute(topic))
            topic.fingerprint = fingerprint(topic)
            from ..compounds.models import Compound
            owner = db.session.get(Compound, topic.compound_id)
            record_change(owner, None, AREA, "close", topic, None,
                          {"fingerprint": topic.fingerprint, "passed": topic.result["passed"],
                           "part_households": topic.result["part_households"]})
        closed += 1
    return closed


def turnout_by_building(topic):
    """[(building, voted, electors)] in natural order: what any screen may show, never a household's choice."""
    from ..households.distribution_service import natural

    electors = dict(db.session.execute(select(Elector.building, func.count()).where(Elector.topic_id == topic.id)
                                       .group_by(Elector.building)).all())
    voted = dict(db.session.execute(
        select(Elector.building, func.count()).join(Ballot, (Ballot.topic_id == Elector.topic_id)
                                                    & (Ballot.household_id == Elector.household_id))
        .where(Elector.topic_id == topic.id, Ballot.current.is_(True)).group_by(Elector.building)).all())
    return [(b, voted.get(b, 0), electors[b]) for b in sorted(electors, key=natural)]


def participation(topic):
    """(households that voted, households on the electorate)."""
    total = db.session.scalar(select(func.count()).select_from(Elector).where(Elector.topic_id == topic.id))
    voted = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic.id,
                                                                            Ballot.current.is_(True)))
    return voted, total


def roll_call(topic):
    """For the committee: every elector household, whether and how (channel, time) it voted; choices only
    in a named topic."""
    rows = db.session.execute(
        select(Household, Ballot).join(Elector, (Elector.household_id == Household.id) & (Elector.topic_id == topic.id))
        .outerjoin(Ballot, (Ballot.topic_id == topic.id) & (Ballot.household_id == Household.id)
                   & Ballot.current.is_(True))).all()
    from ..households.distribution_service import address_order
    return sorted(rows, key=lambda r: address_order(r[0]))


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
    if topic.phase() != Phase.discussion and topic.phase() != Phase.voting:
        raise VoteRefused("discussion_over")
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


# --- one-time kiosk codes ---------------------------------------------------------------------------------

def _code_hash(compound, code):
    return hashlib.sha256(f"{compound.id}:{code}".encode()).hexdigest()


def issue_code(compound, household):
    """A six-digit code, valid for ten minutes and once, to vote at the lobby screen; the caller commits."""
    now = utcnow()
    for _ in range(20):
        code = f"{secrets.randbelow(10 ** 6):06d}"
        taken = db.session.scalar(select(KioskCode.id).where(
            KioskCode.code_hash == _code_hash(compound, code), KioskCode.used_at.is_(None),
            KioskCode.expires_at > now))
        if taken is None:
            break
    db.session.add(KioskCode(compound_id=compound.id, household_id=household.id,
                             code_hash=_code_hash(compound, code), expires_at=now + CODE_LIFETIME))
    return code


def code_household(compound, code):
    """The household a live, unused code belongs to, or None (the code is not used up here)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if len(code) != 6:
        return None
    row = db.session.scalar(select(KioskCode).where(
        KioskCode.code_hash == _code_hash(compound, code), KioskCode.used_at.is_(None),
        KioskCode.expires_at > utcnow()))
    return db.session.get(Household, row.household_id) if row else None


def _use_code(compound, household, code):
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    return db.session.execute(update(KioskCode).where(
        KioskCode.code_hash == _code_hash(compound, code), KioskCode.household_id == household.id,
        KioskCode.used_at.is_(None), KioskCode.expires_at > utcnow()).values(used_at=utcnow())).rowcount == 1


# --- resolution and follow-through ------------------------------------------------------------------------

def publish_resolution(compound, actor, topic, title, body):
    """Post the resolution notice (决议公告) as a published disclosure notice and link it to the topic."""
    notice = notices.save(compound, actor, None, {"title": title, "body": body, "category": Category.disclosure,
                                                  "urgent": False, "pinned": True}, publish=True)
    db.session.flush()
    topic.resolution_notice_id = notice.id
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
