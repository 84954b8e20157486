"""The work behind the committee's notice actions; each records the change in the same transaction."""
from ..changes import record_change
from ..database import utcnow
from ..extensions import db
from . import AREA
from .models import Notice, Status


def save(compound, actor, notice, fields, publish):
    """Create or update a notice from cleaned form fields; publish it or keep it a draft."""
    creating = notice is None
    before = None if creating else notice.snapshot()
    if creating:
        notice = Notice(compound_id=compound.id, author_id=actor.id)
        db.session.add(notice)
    for name, value in fields.items():
        setattr(notice, name, value)
    if publish:
        _mark_published(notice)
    elif creating:
        notice.status = Status.draft
    action = "create" if creating else "edit"
    record_change(compound, actor, AREA, action, notice, before, notice.snapshot())
    return notice


def _mark_published(notice):
    if notice.status != Status.published:
        notice.status = Status.published
        notice.published_at = utcnow()


def set_status(compound, actor, notice, action):
    """Publish, unpublish (back to draft) or archive a notice."""
    before = notice.snapshot()
    if action == "publish":
        _mark_published(notice)
    elif action == "unpublish":
        notice.status = Status.draft
    elif action == "archive":
        notice.status = Status.archived
    else:
        raise ValueError(action)
    record_change(compound, actor, AREA, action, notice, before, notice.snapshot())
    return notice
