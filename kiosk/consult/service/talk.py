"""What households say: opinions on a topic while it is discussed or voted on, and proposals to the committee,
each limited so one household can't drown the others out; the committee's answers and hidden opinions."""
from datetime import timedelta

from sqlalchemy import func, select

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from .. import AREA
from ..models import Opinion, Phase, Proposal, ProposalStatus, Topic
from .base import VoteRefused

OPINIONS_PER_TOPIC = 5  # a household's opinions on one topic
OPINION_BURST, OPINION_WINDOW = 2, timedelta(minutes=10)  # a household's opinions on a topic in a short while
PROPOSALS_PER_DAY = 3  # a household's proposals in 24 hours


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


def check_hideable(opinion):
    """Refuse to hide an opinion twice ("hidden")."""
    if opinion.hidden_at is not None:
        raise VoteRefused("hidden")


def hide_opinion(compound, actor, opinion, reason):
    """Hide a household's opinion; the reason is shown publicly in its place."""
    check_hideable(opinion)
    opinion.hidden_at, opinion.hidden_by, opinion.hidden_reason = utcnow(), actor.id, reason
    topic = db.session.get(Topic, opinion.topic_id)
    record_change(compound, actor, AREA, "hide_opinion", topic, {"body": opinion.body}, {"reason": reason})


def opinions(topic):
    return db.session.scalars(select(Opinion).where(Opinion.topic_id == topic.id).order_by(Opinion.id)).all()


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


def answer_proposal(compound, actor, proposal, answer, outcome):
    """The committee's public answer; `outcome` "answered" keeps following it up, "closed" finishes it. A
    proposal already made into a topic stays marked so when answered."""
    if outcome == ProposalStatus.answered and proposal.topic_id:
        outcome = ProposalStatus.topic
    before = proposal.snapshot()
    proposal.answer, proposal.status = answer, ProposalStatus(outcome)
    proposal.answered_by, proposal.answered_at = actor.id, utcnow()
    record_change(compound, actor, AREA, "answer", proposal, before, proposal.snapshot())


def link_proposal(compound, actor, proposal, topic):
    before = proposal.snapshot()
    proposal.topic_id, proposal.status = topic.id, ProposalStatus.topic
    record_change(compound, actor, AREA, "to_topic", proposal, before, proposal.snapshot())


def proposals(compound, public=True):
    return db.session.scalars(select(Proposal).where(Proposal.compound_id == compound.id)
                              .order_by(Proposal.created_at.desc(), Proposal.id.desc())).all()
