"""Budgets of decided resolutions (a passed consultation topic may carry the spending it approved), and what the
entries tied to each have spent."""
from sqlalchemy import func, select

from ...changes import record_change
from ...consult.models import Status as TopicStatus
from ...consult.models import Topic
from ...extensions import db
from .. import AREA
from ..models import Entry, Kind


def spent_on(topic):
    """Expense posted against a resolution (reversals net out), in fen."""
    return int(db.session.scalar(select(func.coalesce(func.sum(Entry.amount_fen), 0)).where(
        Entry.topic_id == topic.id, Entry.posted.is_(True), Entry.kind == Kind.expense)) or 0)


def decided_topics(compound):
    """Consultation topics that were decided and passed: the resolutions money can be tied to."""
    topics = db.session.scalars(select(Topic).where(
        Topic.compound_id == compound.id, Topic.status.in_([TopicStatus.closed, TopicStatus.done]))
        .order_by(Topic.closes_at.desc())).all()
    return [t for t in topics if isinstance(t.result, dict) and t.result.get("passed") is True]


def budgeted_topics(compound):
    """Decided topics that carry an approved budget, for linking expenses."""
    return db.session.scalars(select(Topic).where(
        Topic.compound_id == compound.id, Topic.budget_fen.is_not(None),
        Topic.status.in_([TopicStatus.closed, TopicStatus.done])).order_by(Topic.closes_at.desc())).all()


def over_budget(topic, extra_fen):
    """How far a further expense of `extra_fen` would go over the topic's budget (0 if within)."""
    if topic.budget_fen is None:
        return 0
    return max(0, spent_on(topic) + extra_fen - topic.budget_fen)


def set_budget(compound, actor, topic, fen):
    """Record the budget a passed resolution approved (the limit expenses tied to it are warned against)."""
    before = {"budget_fen": topic.budget_fen}
    topic.budget_fen = fen
    record_change(compound, actor, AREA, "budget", topic, before, {"budget_fen": fen, "title": topic.title})
    return topic
