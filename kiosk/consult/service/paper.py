"""Numbered paper ballots (表决票): printing one per household of the electorate, typing returned ones in twice
(a second member confirms blind), listing mismatches and duplicates, and the chair's decision on a mismatch.

The stated rules:
- only a confirmed paper ballot counts; two entries that disagree wait for the chair, who decides (audited);
- a number is entered once per stage: the first entry of a returned paper, then a second member's blind
  confirmation. Any further entry of the same number is a duplicate return, kept and listed, never counted;
- a member cannot confirm their own entry;
- 以纸质票为准: a confirmed paper ballot replaces the household's online or lobby-screen ballot, whatever the
  order (the paper is signed; when the committee typed it in says nothing about when the owner decided), and
  the household cannot vote online over it afterwards (proxies.guard_own_vote). A proxy's ballot, once cast,
  stands: a paper ballot confirmed after it is set aside and listed;
- secret topics follow voting.py's audit rule: no audit row per ballot or entry; the chair's decision is
  audited without the choice.
"""
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select, update

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from ...households.models import address_order
from .. import AREA
from ..models import Ballot, Channel, Elector, Status, Topic
from ..paper_models import EntryStage, PaperBallot, PaperEntry, PaperState, Proxy
from .base import VoteRefused
from .voting import clean_choices, lock_open

TOKEN_RE = re.compile(r"/paper/([0-9a-f]{32})(?:[/?#]|$)")
NUMBER_RE = re.compile(r"^\s*(?:no\.?|№|#)?\s*0*(\d{1,6})\s*$", re.IGNORECASE)
COUNTED = (PaperState.confirmed, PaperState.resolved)


def papers(topic):
    """The topic's printed ballots, by number."""
    return db.session.scalars(select(PaperBallot).where(PaperBallot.topic_id == topic.id)
                              .order_by(PaperBallot.number)).all()


def printed(topic):
    """Whether the topic's ballot set has been printed."""
    return db.session.scalar(select(func.count()).select_from(PaperBallot)
                             .where(PaperBallot.topic_id == topic.id)) > 0


def print_set(compound, actor, topic):
    """Number one ballot per household of the electorate (in address order) and record the set; the caller
    commits. Refused before publication, after the close, or when the set exists (numbers are for good)."""
    from ...households.models import Household

    if topic.status != Status.published or utcnow() >= topic.closes_at:
        raise VoteRefused("closed")
    if printed(topic):
        raise VoteRefused("printed")
    households = db.session.scalars(select(Household).join(Elector, Elector.household_id == Household.id)
                                    .where(Elector.topic_id == topic.id)).all()
    for number, household in enumerate(sorted(households, key=address_order), start=1):
        db.session.add(PaperBallot(compound_id=compound.id, topic_id=topic.id, household_id=household.id,
                                   number=number, token=secrets.token_hex(16), printed_by=actor.id,
                                   printed_at=utcnow()))
    record_change(compound, actor, AREA, "paper_printed", topic, None, {"ballots": len(households)})
    return len(households)


def find(compound, topic, text):
    """The paper ballot a scanned URL or a typed number names, or VoteRefused: "unknown_number",
    "other_compound" (a ballot of another compound's), "other_topic" (detail: its topic's title)."""
    text = (text or "").strip()
    match = TOKEN_RE.search(text)
    if match:
        paper = db.session.scalar(select(PaperBallot).where(PaperBallot.token == match.group(1)))
        if paper is None:
            raise VoteRefused("unknown_number", text=text)
        if paper.compound_id != compound.id:
            raise VoteRefused("other_compound")
        if paper.topic_id != topic.id:
            raise VoteRefused("other_topic", title=db.session.get(Topic, paper.topic_id).title)
        return paper
    match = NUMBER_RE.match(text)
    paper = None
    if match:
        paper = db.session.scalar(select(PaperBallot).where(PaperBallot.topic_id == topic.id,
                                                            PaperBallot.number == int(match.group(1))))
    if paper is None:
        raise VoteRefused("unknown_number", text=text)
    return paper


def by_token(compound, token):
    """The compound's paper ballot with this QR token, or None."""
    return db.session.scalar(select(PaperBallot).where(PaperBallot.token == token,
                                                       PaperBallot.compound_id == compound.id))


@dataclass(frozen=True)
class Entered:
    """What became of an entry: "entered" (waits for a second member), "confirmed", "mismatch", "duplicate",
    "set_aside" (the proxy had voted)."""

    outcome: str
    paper: PaperBallot


def _check_open(topic):
    """Paper entries, like every ballot, go in only while the vote is open (the database agrees, 0007)."""
    lock_open(topic)


def _entry(paper, stage):
    return db.session.scalar(select(PaperEntry).where(PaperEntry.paper_id == paper.id, PaperEntry.stage == stage))


def enter(compound, actor, topic, paper, stage, choices, image=None):
    """Record one member's entry of a returned paper (stage "first" or "confirm") and commit. The second
    entry compares with the first: equal, the household's ballot is the paper's; different, it is a mismatch.
    Refused: closed or not open, bad choices, "not_entered" (confirming a number nobody entered), "own_entry"
    (confirming one's own entry)."""
    chosen = clean_choices(topic, choices)
    try:
        result = _enter(compound, actor, topic, paper, stage, chosen, image)
        db.session.commit()
        return result
    except Exception:
        db.session.rollback()
        raise


def _enter(compound, actor, topic, paper, stage, chosen, image):
    """enter() inside the current transaction."""
    _check_open(topic)
    # One member's entry of a paper at a time: the paper's row is the queue.
    db.session.execute(select(PaperBallot.id).where(PaperBallot.id == paper.id).with_for_update())
    first, confirm = _entry(paper, EntryStage.first), _entry(paper, EntryStage.confirm)
    if stage == EntryStage.confirm and first is None:
        raise VoteRefused("not_entered")
    if stage == EntryStage.confirm and confirm is None and first.entered_by == actor.id:
        raise VoteRefused("own_entry")
    if first is None:
        taken = EntryStage.first
    elif confirm is None and stage == EntryStage.confirm:
        taken = EntryStage.confirm
    else:
        taken = EntryStage.duplicate  # another paper with this number, or the same one typed in again
    db.session.add(PaperEntry(paper_id=paper.id, stage=taken, choices=chosen, entered_by=actor.id,
                              image_id=image.id if image is not None else None, entered_at=utcnow()))
    if taken == EntryStage.first:
        paper.state = PaperState.entered
        outcome = "entered"
    elif taken == EntryStage.duplicate:
        outcome = "duplicate"
    elif sorted(first.choices) == sorted(chosen):
        outcome = _count(compound, actor, topic, paper, chosen)
    else:
        paper.state = PaperState.mismatch
        outcome = "mismatch"
    if not topic.secret:
        record_change(compound, actor, AREA, "paper_entry", topic, None,
                      {"number": paper.number, "household": paper.household.address, "stage": str(taken),
                       "outcome": outcome, "choices": [o.label for o in topic.options if o.key in chosen]})
    db.session.flush()
    return Entered(outcome, paper)


def _count(compound, actor, topic, paper, chosen, state=PaperState.confirmed):
    """Make the paper the household's ballot (replacing an online one: 以纸质票为准), unless its proxy has
    voted (then the paper is set aside). Returns the outcome's name."""
    if db.session.scalar(select(Elector.household_id).where(Elector.topic_id == topic.id,
                                                            Elector.household_id == paper.household_id)
                         .with_for_update()) is None:
        raise VoteRefused("not_elector")
    previous_id = db.session.scalar(select(Ballot.id).where(Ballot.topic_id == topic.id,
                                                            Ballot.household_id == paper.household_id,
                                                            Ballot.current.is_(True)))
    if previous_id is not None and db.session.scalar(select(Proxy.id).where(Proxy.ballot_id == previous_id)):
        paper.state = PaperState.set_aside
        return "set_aside"
    if previous_id is not None:
        db.session.execute(update(Ballot).where(Ballot.id == previous_id).values(current=False))
    ballot = Ballot(topic_id=topic.id, household_id=paper.household_id, choices=chosen, channel=Channel.paper,
                    entered_by=actor.id, cast_at=utcnow())
    db.session.add(ballot)
    db.session.flush()
    paper.ballot_id, paper.state = ballot.id, state
    return "confirmed"


def resolve(compound, chair, topic, paper, choices):
    """The chair's third look at a mismatched paper decides what it says; it becomes the household's ballot.
    Audited (without the choice in a secret topic); commits."""
    chosen = clean_choices(topic, choices)
    try:
        _check_open(topic)
        db.session.execute(select(PaperBallot.id).where(PaperBallot.id == paper.id).with_for_update())
        db.session.refresh(paper)
        if paper.state != PaperState.mismatch:
            raise VoteRefused("not_mismatch")
        db.session.add(PaperEntry(paper_id=paper.id, stage=EntryStage.chair, choices=chosen, entered_by=chair.id,
                                  entered_at=utcnow()))
        outcome = _count(compound, chair, topic, paper, chosen, state=PaperState.resolved)
        after = {"number": paper.number, "household": paper.household.address, "outcome": outcome}
        if not topic.secret:
            after["choices"] = [o.label for o in topic.options if o.key in chosen]
        record_change(compound, chair, AREA, "paper_resolved", topic, None, after)
        db.session.commit()
        return outcome
    except Exception:
        db.session.rollback()
        raise


@dataclass(frozen=True)
class Problem:
    """A paper ballot that needs a look: "mismatch", "duplicate" or "set_aside", with its entries."""

    kind: str
    paper: PaperBallot
    entries: list


def problems(topic):
    """Every paper that needs a look, by number: mismatches waiting for the chair, duplicate returns (also of
    papers decided since), papers set aside because the proxy had voted."""
    found = []
    duplicated = set(db.session.scalars(select(PaperEntry.paper_id).join(PaperBallot)
                                        .where(PaperBallot.topic_id == topic.id,
                                               PaperEntry.stage == EntryStage.duplicate)))
    for paper in papers(topic):
        if paper.state in (PaperState.mismatch, PaperState.set_aside):
            found.append(Problem(str(paper.state), paper, list(paper.entries)))
        if paper.id in duplicated:
            found.append(Problem("duplicate", paper, list(paper.entries)))
    return found


def summary(topic):
    """{state: count} of the topic's paper ballots, every state present."""
    counts = dict(db.session.execute(select(PaperBallot.state, func.count()).where(PaperBallot.topic_id == topic.id)
                                     .group_by(PaperBallot.state)).all())
    return {state: counts.get(str(state), 0) for state in PaperState}


def paper_ballot_count(topic):
    """How many current ballots came from confirmed numbered paper ballots."""
    return db.session.scalar(select(func.count()).select_from(PaperBallot).join(Ballot, Ballot.id == PaperBallot.ballot_id)
                             .where(PaperBallot.topic_id == topic.id, Ballot.current.is_(True))) or 0


def ballot_origins(topic):
    """{ballot id: "proxy" or the paper's number} for a topic's ballots that came by written proxy or from a
    numbered paper ballot (the committee's roll call of a named topic says so next to each)."""
    origins = dict(db.session.execute(select(PaperBallot.ballot_id, PaperBallot.number).where(
        PaperBallot.topic_id == topic.id, PaperBallot.ballot_id.is_not(None))).all())
    origins.update({ballot_id: "proxy" for ballot_id in db.session.scalars(select(Proxy.ballot_id).where(
        Proxy.topic_id == topic.id, Proxy.ballot_id.is_not(None)))})
    return origins
