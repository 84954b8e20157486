"""Written proxies (书面委托) and numbered paper ballots (表决票): the tables behind them.

A proxy is an owner's written authorisation of a named person for one topic; the ballot the proxy casts is a
normal Ballot, linked from the proxy (the ballot table itself stays as migration 0007's triggers guard it).
A numbered paper ballot is printed once per household of the electorate; each return is typed in by a
committee member (a PaperEntry), a second member confirms it blind, and only then does it become the
household's Ballot.
"""
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db

# How many owners one person may represent on one topic, unless the committee sets another figure. Neither
# 物业管理条例 art. 12 nor the city rules we read fix a number; five lets a relative or neighbour carry a
# few elderly owners' papers while keeping any one person's weight small (5 of 200 households is 2.5%).
DEFAULT_PROXY_LIMIT = 5


class ProxyState(enum.StrEnum):
    standing = "standing"  # recorded, not yet used
    voted = "voted"  # the proxy's ballot is cast: it stands, the owner can no longer revoke
    revoked = "revoked"  # by the owner (phone) or by the committee (a written revocation)


class Proxy(db.Model):
    """An owner's written authorisation of a named person to vote for the household on one topic."""

    __table_args__ = (
        Index("uq_proxy_standing", "topic_id", "household_id", unique=True,
              sqlite_where=text("state <> 'revoked'"), postgresql_where=text("state <> 'revoked'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    name: Mapped[str] = mapped_column(String(40))  # personal data: committee pages and the owner's phone only
    id_last4: Mapped[str] = mapped_column(String(4), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    scan_image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id"))  # the signed 委托书, committee only
    state: Mapped[str] = mapped_column(String(10), default=ProxyState.standing)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    revoked_by_owner: Mapped[bool] = mapped_column(default=False)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))  # what the proxy cast

    household = relationship("Household")
    scan = relationship("Image")


class ProxyLimit(db.Model):
    """A compound's own limit on how many owners one proxy may represent on a topic (absent: the default)."""

    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), primary_key=True)
    max_owners: Mapped[int] = mapped_column(default=DEFAULT_PROXY_LIMIT)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    set_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class PaperState(enum.StrEnum):
    printed = "printed"  # out with the household, nothing entered
    entered = "entered"  # entered once, waiting for a second member
    confirmed = "confirmed"  # two members agree: it is the household's ballot
    mismatch = "mismatch"  # two members disagree: the chair looks at the paper
    resolved = "resolved"  # the chair decided a mismatch: it is the household's ballot
    set_aside = "set_aside"  # confirmed, but the household's proxy had already voted: not counted


PAPER_STATE_LABELS = {PaperState.printed: _l("未交回"), PaperState.entered: _l("已录入一次，待复核"),
                      PaperState.confirmed: _l("已复核，计票"), PaperState.mismatch: _l("两次录入不一致"),
                      PaperState.resolved: _l("主任裁定，计票"), PaperState.set_aside: _l("受托人已代投，不计")}


class PaperBallot(db.Model):
    """One printed, numbered ballot for one household of a topic's electorate."""

    __table_args__ = (UniqueConstraint("topic_id", "number"), UniqueConstraint("topic_id", "household_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    number: Mapped[int]
    # In the printed QR's URL: it names the ballot, not the household's card, and opens a committee-only page.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(10), default=PaperState.printed)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))  # the Ballot it became
    printed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    printed_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    household = relationship("Household")
    entries: Mapped[list["PaperEntry"]] = relationship(order_by="PaperEntry.id", back_populates="paper")

    @property
    def state_label(self):
        return PAPER_STATE_LABELS[PaperState(self.state)]


class EntryStage(enum.StrEnum):
    first = "first"  # the paper came back and was typed in
    confirm = "confirm"  # a second member typed it in again without seeing the first entry
    duplicate = "duplicate"  # another paper with a number already entered: kept for the record, never counted
    chair = "chair"  # the chair's third look at a mismatch


class PaperEntry(db.Model):
    """One committee member's typing-in of a returned numbered ballot."""

    __table_args__ = (
        Index("uq_paper_entry_stage", "paper_id", "stage", unique=True,
              sqlite_where=text("stage <> 'duplicate'"), postgresql_where=text("stage <> 'duplicate'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("paper_ballot.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    choices = mapped_column(JSON, nullable=False)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("image.id"))  # a photo of the paper, committee only
    entered_by: Mapped[int] = mapped_column(ForeignKey("user.id"))
    entered_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    paper = relationship("PaperBallot", back_populates="entries")
    enterer = relationship("User")
    image = relationship("Image")
