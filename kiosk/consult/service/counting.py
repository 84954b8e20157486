"""Counting: the tally from the frozen electorate and the current ballots, the running result, freezing it at
the close with its fingerprint, and the turnout and roll call anyone may see."""
import hashlib
import json
import threading

from flask import current_app
from sqlalchemy import String, func, select, update
from sqlalchemy import cast as sql_cast

from ...changes import record_change
from ...compounds.models import Compound
from ...database import utcnow, writing
from ...extensions import db
from ...households.models import Household, address_order, natural
from .. import AREA, snapshots
from .. import tally as counting
from ..models import Ballot, Elector, Phase, Status, Topic, Visibility


def compute(topic):
    """Tally the topic from its frozen electorate and current ballots (a fresh recount).

    Two plain Core statements on the session's connection (the ORM's per-row bookkeeping is not needed for
    bare columns): the electorate's totals, summed by the database, and each current ballot joined with its
    household's area and owner group. tally_voted() counts those rows as they come, decoding each distinct
    choices text (同意, 不同意, ...) once. A 5,000-household topic used to load 9,400 rows into Voter and Cast
    objects first, and its recount's time went on that and on the garbage collector they woke."""
    connection = db.session.connection()
    households, area, owners, smallest = connection.execute(
        select(func.count(), func.coalesce(func.sum(Elector.area_centi), 0), func.count(func.distinct(Elector.owner)),
               func.min(Elector.area_centi)).where(Elector.topic_id == topic.id)).one()
    if smallest is not None and smallest < 0:
        raise ValueError("a household on the electorate has a negative area")
    voted = connection.execute(
        select(Ballot.household_id, Elector.area_centi, Elector.owner, sql_cast(Ballot.choices, String), Ballot.id)
        .join(Elector, (Elector.topic_id == Ballot.topic_id) & (Elector.household_id == Ballot.household_id))
        .where(Ballot.topic_id == topic.id, Ballot.current.is_(True)))
    return counting.tally_voted(topic.kind, topic.rule, topic.option_keys(), (int(area), owners, households),
                                voted, topic.seats, decode=_choices_of)


def _choices_of(text_):
    """A ballot's choices column read as text, as a tuple of option keys."""
    return tuple(json.loads(text_) if isinstance(text_, str) else text_)


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
    result = compute(topic).as_record()
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
            topic.result = compute(topic).as_record()
            topic.fingerprint = fingerprint(topic)
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
