"""The Notice model and which notices the public sees."""
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, Index, String, Text, UniqueConstraint, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Category(enum.StrEnum):
    """What kind of notice this is."""

    notice = "notice"
    disclosure = "disclosure"
    event = "event"
    safety = "safety"
    other = "other"


CATEGORY_LABELS = {
    Category.notice: _l("通知"),
    Category.disclosure: _l("公示"),
    Category.event: _l("活动"),
    Category.safety: _l("安全提示"),
    Category.other: _l("其他"),
}


class Status(enum.StrEnum):
    """Where a notice is in its life."""

    draft = "draft"
    published = "published"
    archived = "archived"


STATUS_LABELS = {
    Status.draft: _l("草稿"),
    Status.published: _l("已发布"),
    Status.archived: _l("已归档"),
}


class Notice(db.Model):
    """A notice posted by the committee of one compound."""

    __table_args__ = (Index("ix_notice_compound_status", "compound_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = mapped_column(Enum(Category, native_enum=False, length=20))
    urgent: Mapped[bool] = mapped_column(default=False)
    pinned: Mapped[bool] = mapped_column(default=False)
    # "" for the whole compound, else the buildings it is for ("3,5"): their lobby screens show it first, the
    # other lobbies' screens leave it out.
    buildings: Mapped[str] = mapped_column(String(60), default="", server_default="")
    status: Mapped[Status] = mapped_column(Enum(Status, native_enum=False, length=20), default=Status.draft)
    starts_at = mapped_column(UTCDateTime, nullable=True)
    ends_at = mapped_column(UTCDateTime, nullable=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id"))
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcast.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    published_at = mapped_column(UTCDateTime, nullable=True)

    image = relationship("Image")
    author = relationship("User")

    @property
    def category_label(self):
        return CATEGORY_LABELS[self.category]

    @property
    def status_label(self):
        return STATUS_LABELS[self.status]

    def is_public(self, now=None):
        """Return whether residents see this notice right now."""
        now = now or utcnow()
        return (self.status == Status.published
                and (self.starts_at is None or self.starts_at <= now)
                and (self.ends_at is None or self.ends_at > now))

    def window_state(self, now=None):
        """Return "waiting" before the window opens, "ended" after it closes, else "open"."""
        now = now or utcnow()
        if self.starts_at is not None and self.starts_at > now:
            return "waiting"
        if self.ends_at is not None and self.ends_at <= now:
            return "ended"
        return "open"

    def snapshot(self):
        """Return the fields the audit log keeps, as plain JSON values."""
        return {
            "title": self.title, "body": self.body, "category": str(self.category),
            "urgent": self.urgent, "pinned": self.pinned, "status": str(self.status),
            "starts_at": self.starts_at.isoformat() if self.starts_at else None,
            "ends_at": self.ends_at.isoformat() if self.ends_at else None,
            "image_id": self.image_id, "buildings": self.buildings,
        }


class Broadcast(db.Model):
    """An urgent notice the street office sent to every compound at once (water cut, typhoon)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    withdrawn_at = mapped_column(UTCDateTime, nullable=True)

    author = relationship("User")


class NoticeTemplate(db.Model):
    """A compound's ready-made notice (停水停电, 议事会通知...): a committee member starts a new notice from it and
    fills in the blanks marked 【】. Admin only; residents never see a template."""

    __tablename__ = "notice_template"
    __table_args__ = (UniqueConstraint("compound_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = mapped_column(Enum(Category, native_enum=False, length=20))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    @property
    def category_label(self):
        return CATEGORY_LABELS[self.category]

    def snapshot(self):
        """The fields the audit log keeps."""
        return {"title": self.title, "body": self.body, "category": str(self.category)}


def public_notices(compound, category=None, now=None):
    """Select the notices residents of a compound see now: urgent first, then pinned, newest first."""
    now = now or utcnow()
    query = select(Notice).where(
        Notice.compound_id == compound.id,
        Notice.status == Status.published,
        or_(Notice.starts_at.is_(None), Notice.starts_at <= now),
        or_(Notice.ends_at.is_(None), Notice.ends_at > now),
    )
    if category is not None:
        query = query.where(Notice.category == category)
    return query.order_by(Notice.urgent.desc(), Notice.pinned.desc(),
                          Notice.published_at.desc(), Notice.id.desc())


def shows_image(image):
    """Whether a notice residents see now carries this image (then the image is public too)."""
    return any(n.is_public() for n in db.session.scalars(select(Notice).where(Notice.image_id == image.id)))
