"""After the close: the resolution notice (决议公告), once, and the follow-through (落实情况) until it is done."""
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from ...notices import service as notices
from ...notices.models import Category
from .. import AREA
from ..models import Phase, Status, Topic, TopicUpdate
from .base import VoteRefused


def check_resolvable(topic):
    """Refuse a resolution notice before the close ("not_closed") and a second one ("resolved")."""
    if topic.result is None or topic.phase() not in (Phase.closed, Phase.done):
        raise VoteRefused("not_closed")
    if topic.resolution_notice_id is not None:
        raise VoteRefused("resolved")


def check_updatable(topic):
    """Refuse a follow-through update before the close ("too_early") or once the matter is done ("done")."""
    phase = topic.phase()
    if phase != Phase.closed:
        raise VoteRefused("done" if phase == Phase.done else "too_early")


def publish_resolution(compound, actor, topic, title, body):
    """Post the resolution notice (决议公告) as a published disclosure notice and link it to the topic, once:
    of two committee phones publishing at once, the second is refused (the caller rolls back)."""
    check_resolvable(topic)
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
    check_updatable(topic)
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
