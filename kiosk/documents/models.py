"""The document library (文件公开): documents of a compound by kind, their versions (each with its posting period
and the decision that adopted it), each version's pages as clean images with their text, the contracts' links to
the ledger entries paid under them, and the seal-use log (用印登记)."""
import enum

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Kind(enum.StrEnum):
    """What a document is; the posting rules and whether an owners' decision must be named depend on it."""

    statute = "statute"  # 管理规约
    rules = "rules"  # 议事规则
    contract = "contract"  # 服务合同
    minutes = "minutes"  # 会议纪要
    audit = "audit"  # 审计报告
    other = "other"  # 其他


class Document(db.Model):
    """One document of the library (a title of a kind); its text lives in its versions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    # An audit report's auditor and what it covers (a date range, e.g. a year, and/or a committee term).
    auditor: Mapped[str] = mapped_column(String(120), default="")
    covers_from = mapped_column(Date, nullable=True)
    covers_until = mapped_column(Date, nullable=True)
    covers_term: Mapped[str] = mapped_column(String(120), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    versions: Mapped[list["Version"]] = relationship(order_by="Version.number.desc()", back_populates="document")

    def posted_versions(self):
        """Versions published to residents, newest first."""
        return [v for v in self.versions if v.posted_at is not None]

    def current(self):
        """The version residents read now: the newest published one (it supersedes the others), or None."""
        posted = self.posted_versions()
        return posted[0] if posted else None

    def snapshot(self):
        """What the audit log keeps of a document."""
        return {"kind": self.kind, "title": self.title, "auditor": self.auditor,
                "covers_from": self.covers_from.isoformat() if self.covers_from else None,
                "covers_until": self.covers_until.isoformat() if self.covers_until else None,
                "covers_term": self.covers_term}


class Version(db.Model):
    """One version of a document: its pages, its posting period and the decided topic that adopted it.

    A draft (posted_at None) is the committee's; publishing it makes it the current version."""

    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    number: Mapped[int]
    posted_from = mapped_column(Date, nullable=False)
    posted_until = mapped_column(Date, nullable=False)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    posted_at = mapped_column(UTCDateTime, nullable=True)
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    document: Mapped[Document] = relationship(back_populates="versions")
    pages: Mapped[list["Page"]] = relationship(order_by="Page.position", cascade="all, delete-orphan")
    topic = relationship("Topic")

    def posting(self, today=None):
        """Where the posting period stands on `today` (default: today, local): "upcoming", "running" or "ended"."""
        if today is None:
            from ..timefmt import local_date

            today = local_date()
        if today < self.posted_from:
            return "upcoming"
        return "running" if today <= self.posted_until else "ended"

    def snapshot(self):
        """What the audit log keeps of a version."""
        return {"document_id": self.document_id, "number": self.number,
                "posted_from": self.posted_from.isoformat(), "posted_until": self.posted_until.isoformat(),
                "topic_id": self.topic_id, "pages": len(self.pages), "note": self.note,
                "posted": self.posted_at is not None}


class Page(db.Model):
    """One page of a version: the re-encoded image residents see and the text extracted from it."""

    __tablename__ = "document_page"
    __table_args__ = (UniqueConstraint("version_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id"), index=True)
    position: Mapped[int]
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")

    image = relationship("Image")


class EntryLink(db.Model):
    """A ledger entry paid under a contract (document_entry): stored by entry id, shown as "#number 描述 金额"."""

    __tablename__ = "document_entry"
    __table_args__ = (UniqueConstraint("document_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    entry = relationship("Entry")


class SealUse(db.Model):
    """One line of the seal-use log (用印登记). Lines are never deleted: a correction is a new line that voids an
    earlier one, and both stay visible."""

    __tablename__ = "seal_use"
    __table_args__ = (UniqueConstraint("compound_id", "number"), Index("ix_seal_use_compound_day", "compound_id",
                                                                        "used_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    number: Mapped[int]  # 1, 2, 3... per compound, in the order lines were written
    used_on = mapped_column(Date, nullable=False)
    sealed: Mapped[str] = mapped_column(String(120))  # the document sealed
    purpose: Mapped[str] = mapped_column(String(200))
    approved_by: Mapped[str] = mapped_column(String(20))  # a role (committee meeting, chair...), never a name
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id"))
    voids_id: Mapped[int | None] = mapped_column(ForeignKey("seal_use.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")  # why an earlier line is voided
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    image = relationship("Image")
    topic = relationship("Topic")
    voids = relationship("SealUse", remote_side=[id])

    def snapshot(self):
        """What the audit log keeps of a line."""
        return {"number": self.number, "used_on": self.used_on.isoformat(), "sealed": self.sealed,
                "purpose": self.purpose, "approved_by": self.approved_by, "topic_id": self.topic_id,
                "image_id": self.image_id, "voids_id": self.voids_id, "reason": self.reason}
