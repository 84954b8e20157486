"""Committee meetings (委员会会议): the meeting and its agenda, who attended, how each present member voted on
each item, the minutes and who confirmed them.

Attendance keeps the whole committee as it stood at the meeting (each member's name and role then), so "a majority
of all members" is counted on that roster even if accounts change later.
"""
from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Meeting(db.Model):
    """One committee meeting: when and where, its agenda, the notice to the 居委会, minutes and the decision's
    public notice."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    held_at = mapped_column(UTCDateTime, nullable=False)
    place: Mapped[str] = mapped_column(String(80), default="")
    notice_sent_on = mapped_column(Date, nullable=True)  # the day the agenda went to the 居委会
    notice_sent_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    members_total: Mapped[int | None]  # the committee's size when attendance was taken
    attendance_at = mapped_column(UTCDateTime, nullable=True)
    minutes: Mapped[str] = mapped_column(Text, default="")
    minutes_final_at = mapped_column(UTCDateTime, nullable=True)
    decision_notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    decision_posted_at = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    items: Mapped[list["AgendaItem"]] = relationship(order_by="AgendaItem.position", cascade="all, delete-orphan",
                                                     back_populates="meeting")
    attendance: Mapped[list["Attendance"]] = relationship(order_by="Attendance.position",
                                                          cascade="all, delete-orphan")
    confirmations: Mapped[list["MinutesConfirmation"]] = relationship(order_by="MinutesConfirmation.at",
                                                                      cascade="all, delete-orphan")
    decision_notice = relationship("Notice")

    @property
    def held(self):
        """Whether the meeting took place (its attendance was recorded)."""
        return self.attendance_at is not None

    @property
    def present(self):
        """The attendance rows of members who were there."""
        return [a for a in self.attendance if a.present]

    def snapshot(self):
        """What the audit log keeps of a meeting."""
        return {"held_at": self.held_at.isoformat(), "place": self.place,
                "agenda": [i.title for i in self.items],
                "notice_sent_on": self.notice_sent_on.isoformat() if self.notice_sent_on else None,
                "members_total": self.members_total, "present": [a.name for a in self.present],
                "minutes": self.minutes, "confirmations": len(self.confirmations),
                "final": self.minutes_final_at is not None, "decision_notice_id": self.decision_notice_id}


class AgendaItem(db.Model):
    """One item of a meeting's agenda and, once decided, what the committee decided."""

    __tablename__ = "meeting_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(120))
    decision: Mapped[str] = mapped_column(Text, default="")
    decided_at = mapped_column(UTCDateTime, nullable=True)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    votes: Mapped[list["MemberVote"]] = relationship(cascade="all, delete-orphan")


class Attendance(db.Model):
    """A committee member on a meeting's roster, present or not (name and role as they were then)."""

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)
    present: Mapped[bool] = mapped_column(default=False)


class MemberVote(db.Model):
    """How one present member voted on one agenda item: yes (同意), no (反对) or abstain (弃权)."""

    __tablename__ = "meeting_vote"
    __table_args__ = (UniqueConstraint("item_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("meeting_item.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    vote: Mapped[str] = mapped_column(String(10))


class MinutesConfirmation(db.Model):
    """A member's confirmation, from their own account, that the minutes are right (one per member)."""

    __tablename__ = "minutes_confirmation"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
