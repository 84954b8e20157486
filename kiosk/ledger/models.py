"""The ledger: a compound's books (public income, the maintenance fund, working funds), each with its categories,
entries (integer fen), receipts, periods with supervisors' sign-offs; transfers between books; residents'
questions.

A posted entry is never edited or deleted; a mistake is corrected by a reversing entry (negative amount,
linked to the original; a UNIQUE constraint makes a second reversal impossible). Posted entries form a
hash chain per book (chain.py), and a signed period keeps the chain's head, so an edit made behind the
application's back shows up in `kiosk verify`, on every page showing the figures and on residents' phones.
The database itself refuses to change posted entries (migration 0006), published periods, a submitted
period's figures, and sign-offs (0008).
"""
import enum

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Kind(enum.StrEnum):
    income = "income"
    expense = "expense"


KIND_LABELS = {Kind.income: _l("收入"), Kind.expense: _l("支出")}

DEFAULT_CATEGORIES = {
    Kind.income: ["停车费", "场地租金", "广告费", "其他收入"],
    Kind.expense: ["监控门禁", "管道疏通", "垃圾清运", "消杀", "福利发放", "维修", "其他支出"],
}


class Method(enum.StrEnum):
    cash = "cash"
    bank = "bank"
    wechat = "wechat"
    alipay = "alipay"


METHOD_LABELS = {Method.cash: _l("现金"), Method.bank: _l("银行转账"), Method.wechat: _l("微信"),
                 Method.alipay: _l("支付宝")}


class Cadence(enum.StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    half_yearly = "half_yearly"


CADENCE_LABELS = {Cadence.monthly: _l("每月"), Cadence.quarterly: _l("每季度"), Cadence.half_yearly: _l("每半年")}


class BookKind(enum.StrEnum):
    """A compound's books: each has its own numbering, hash chain, periods and sign-offs."""

    public_income = "public_income"  # 公共收益 (parking, rent, adverts): the book every compound had first
    maintenance_fund = "maintenance_fund"  # 专项维修资金: the owners' money, spent only as they decide (民法典 281)
    working_funds = "working_funds"  # 委员会工作经费


BOOK_KINDS = list(BookKind)
BOOK_NAMES = {BookKind.public_income: "公共收益", BookKind.maintenance_fund: "专项维修资金",
              BookKind.working_funds: "委员会工作经费"}
BOOK_LABELS = {BookKind.public_income: _l("公共收益"), BookKind.maintenance_fund: _l("专项维修资金"),
               BookKind.working_funds: _l("委员会工作经费")}
BOOK_SOURCES = {BookKind.public_income: "小区公共收益", BookKind.maintenance_fund: "专项维修资金",
                BookKind.working_funds: "委员会工作经费"}
BOOK_CADENCES = {BookKind.public_income: Cadence.monthly, BookKind.maintenance_fund: Cadence.half_yearly,
                 BookKind.working_funds: Cadence.quarterly}


class Book(db.Model):
    """One of a compound's books and its settings: where the money started, how often it is disclosed, who
    must sign. Entries, periods and categories belong to one book; each book numbers and chains its own."""

    __tablename__ = "ledger_book"
    __table_args__ = (UniqueConstraint("compound_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=BookKind.public_income, server_default="public_income")
    name: Mapped[str] = mapped_column(String(30), default="公共收益", server_default="公共收益")  # shown name
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    opening_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # balance before the first entry
    started_on = mapped_column(Date, nullable=False)  # first day the ledger covers
    cadence: Mapped[str] = mapped_column(String(20), default=Cadence.monthly)
    signoffs_required: Mapped[int] = mapped_column(default=2)  # N of the supervisors must sign later submissions
    signoffs_since = mapped_column(Date, nullable=True)  # the day the current number took effect
    disclosure_days: Mapped[int] = mapped_column(default=15)  # how long a disclosure stays posted (公示期)
    source: Mapped[str] = mapped_column(String(80), default="小区公共收益")  # funding source on the notice

    @property
    def cadence_label(self):
        return CADENCE_LABELS[Cadence(self.cadence)]

    @property
    def label(self):
        """The book's shown name: its default translated, or the name the committee gave it."""
        kind = BookKind(self.kind or BookKind.public_income)
        return BOOK_LABELS[kind] if (self.name or BOOK_NAMES[kind]) == BOOK_NAMES[kind] else self.name


class Category(db.Model):
    """An income or expense category; editable per compound, archived rather than deleted."""

    __tablename__ = "ledger_category"
    __table_args__ = (UniqueConstraint("book_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("ledger_book.id"))
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(30))
    position: Mapped[int] = mapped_column(default=0)
    archived: Mapped[bool] = mapped_column(default=False)

    book: Mapped[Book] = relationship()


class Entry(db.Model):
    """One income or expense line. Drafts have no number; posting numbers it and chains it."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("book_id", "number"),
        UniqueConstraint("reverses_id"),
        # A period's page lists entries by date and number, and sums them by kind and category: both from
        # an index alone, so a 100,000-entry ledger answers as fast as a small one.
        Index("ix_ledger_entry_book_date", "book_id", "posted", "occurred_on", "number"),
        Index("ix_ledger_entry_sums", "book_id", "posted", "occurred_on", "kind", "category_id", "amount_fen"),
        Index("ix_ledger_entry_compound_id", "compound_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    book_id: Mapped[int] = mapped_column(ForeignKey("ledger_book.id"))
    number: Mapped[int | None]  # sequential per book, given at posting
    building: Mapped[str | None] = mapped_column(String(20))  # maintenance fund: the building charged (None: shared)
    posted: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[str] = mapped_column(String(10))
    occurred_on = mapped_column(Date, nullable=False)
    category_id: Mapped[int] = mapped_column(ForeignKey("ledger_category.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # negative only for a reversing entry
    description: Mapped[str] = mapped_column(String(200))
    counterparty: Mapped[str] = mapped_column(String(80), default="")
    counterparty_is_person: Mapped[bool] = mapped_column(default=False)  # a person's name is never public
    method: Mapped[str] = mapped_column(String(10), default=Method.bank)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"), index=True)  # the resolution it carries out
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"))
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    posted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    posted_at = mapped_column(UTCDateTime, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    recipe: Mapped[int] = mapped_column(default=1, server_default="1")  # how it was sealed (chain.py)
    counterparty_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")  # never public

    category: Mapped[Category] = relationship()
    book: Mapped[Book] = relationship()
    receipts: Mapped[list["Receipt"]] = relationship(order_by="Receipt.id", back_populates="entry")
    reverses = relationship("Entry", remote_side=[id], foreign_keys=[reverses_id])
    topic = relationship("Topic")
    recorder = relationship("User", foreign_keys=[recorded_by])
    poster = relationship("User", foreign_keys=[posted_by])

    @property
    def kind_label(self):
        return KIND_LABELS[Kind(self.kind)]

    @property
    def book_kind(self):
        """The kind of the book the entry is in (sealed with it, outside the public income book)."""
        found = self.book if self.book is not None else db.session.get(Book, self.book_id or 0)
        return BookKind(found.kind) if found is not None else BookKind.public_income

    @property
    def transfer(self):
        """The transfer this entry is one side of, or None."""
        from sqlalchemy import or_, select

        if self.id is None:
            return None
        return db.session.scalar(select(Transfer).where(
            or_(Transfer.from_entry_id == self.id, Transfer.to_entry_id == self.id)))

    @property
    def transfer_number(self):
        """The number of the transfer this entry is one side of (sealed with it), or None."""
        pending = getattr(self, "_pending_transfer", None)
        if pending is not None:
            return pending
        found = self.transfer
        return found.number if found is not None else None

    @property
    def method_label(self):
        return METHOD_LABELS[Method(self.method)]

    @property
    def public_counterparty(self):
        """What residents see: an organisation's name, or just "个人" for a person."""
        if self.counterparty_is_person:
            return str(_l("个人"))
        return self.counterparty

    @property
    def signed_fen(self):
        """The entry's effect on the balance: income adds, expense subtracts."""
        return self.amount_fen if self.kind == Kind.income else -self.amount_fen

    def snapshot(self):
        return {"number": self.number, "kind": self.kind, "occurred_on": self.occurred_on.isoformat(),
                "category": self.category.name if self.category else self.category_id,
                "amount_fen": self.amount_fen, "description": self.description, "counterparty": self.counterparty,
                "counterparty_is_person": self.counterparty_is_person, "method": self.method,
                "topic_id": self.topic_id, "reverses_id": self.reverses_id, "posted": self.posted,
                "book": str(self.book_kind), "building": self.building}


class Receipt(db.Model):
    """A receipt photo of an entry; residents see it only when it is marked public and the entry is posted."""

    __tablename__ = "ledger_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("image.id"), index=True)
    public: Mapped[bool] = mapped_column(default=True)

    entry: Mapped[Entry] = relationship(back_populates="receipts")
    image = relationship("Image")


class PeriodStatus(enum.StrEnum):
    submitted = "submitted"  # waiting for the supervisors
    returned = "returned"  # a supervisor refused; the committee corrects and submits again
    published = "published"  # signed by enough supervisors and disclosed


PERIOD_STATUS_LABELS = {PeriodStatus.submitted: _l("待监督委员签字"), PeriodStatus.returned: _l("已退回"),
                        PeriodStatus.published: _l("已公示")}


class Period(db.Model):
    """A closed stretch of the ledger (a month or a quarter) with its figures, as submitted and signed: the
    chain's head when submitted, and how many signatures publish it (fixed then). Periods are signed in
    order; posting into an earlier one sends a submitted later one back (returned_entry)."""

    __tablename__ = "ledger_period"
    __table_args__ = (UniqueConstraint("book_id", "starts_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("ledger_book.id"))
    starts_on = mapped_column(Date, nullable=False)
    ends_on = mapped_column(Date, nullable=False)  # inclusive
    status: Mapped[str] = mapped_column(String(20), default=PeriodStatus.submitted)
    round: Mapped[int] = mapped_column(default=1)  # grows each time the period is submitted again
    opening_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    income_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    expense_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    closing_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    actual_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # counted cash + bank at close
    entry_count: Mapped[int] = mapped_column(default=0)
    head_number: Mapped[int] = mapped_column(default=0)  # the last posted entry when the period was submitted
    head_hash: Mapped[str] = mapped_column(String(64), default="")
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    submitted_at = mapped_column(UTCDateTime, nullable=True)
    published_at = mapped_column(UTCDateTime, nullable=True)
    disclosure_ends_on = mapped_column(Date, nullable=True)
    returned_reason: Mapped[str] = mapped_column(String(300), default="")
    returned_entry: Mapped[int | None]  # sent back by itself: this entry was posted into an earlier period
    signoffs_required: Mapped[int] = mapped_column(default=2, server_default="2")  # fixed when submitted

    signoffs: Mapped[list["Signoff"]] = relationship(order_by="Signoff.id", back_populates="period")
    book: Mapped[Book] = relationship()

    @property
    def status_label(self):
        return PERIOD_STATUS_LABELS[PeriodStatus(self.status)]

    @property
    def code(self):
        """The short verification code printed on the notice."""
        return self.head_hash[:12].upper() if self.head_hash else ""

    def seen(self):
        """What a supervisor is shown and signs: the submission, its figures and its head."""
        return {"round": self.round, "opening_fen": self.opening_fen, "income_fen": self.income_fen,
                "expense_fen": self.expense_fen, "closing_fen": self.closing_fen, "head_number": self.head_number,
                "head_hash": self.head_hash}

    def snapshot(self):
        return {"starts_on": self.starts_on.isoformat(), "ends_on": self.ends_on.isoformat(),
                "status": self.status, "round": self.round, "opening_fen": self.opening_fen,
                "income_fen": self.income_fen, "expense_fen": self.expense_fen, "closing_fen": self.closing_fen,
                "actual_fen": self.actual_fen, "head_number": self.head_number, "head_hash": self.head_hash,
                "signoffs_required": self.signoffs_required}


class Signoff(db.Model):
    """A supervisor's decision on one submission of a period: sign, or refuse with a reason. It keeps the
    figures and the head hash the supervisor was shown (sign-offs made before issue 11 have none of the
    earlier rounds'), and is never changed or deleted (a database trigger refuses)."""

    __tablename__ = "ledger_signoff"
    __table_args__ = (UniqueConstraint("period_id", "round", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("ledger_period.id"), index=True)
    round: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    signed: Mapped[bool]
    reason: Mapped[str] = mapped_column(String(300), default="")
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    opening_fen: Mapped[int | None] = mapped_column(BigInteger)
    income_fen: Mapped[int | None] = mapped_column(BigInteger)
    expense_fen: Mapped[int | None] = mapped_column(BigInteger)
    closing_fen: Mapped[int | None] = mapped_column(BigInteger)
    head_number: Mapped[int | None]
    head_hash: Mapped[str | None] = mapped_column(String(64))

    period: Mapped[Period] = relationship(back_populates="signoffs")
    user = relationship("User")


class Question(db.Model):
    """A resident's question (质询) about one posted entry, and the committee's public answer."""

    __tablename__ = "ledger_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))  # committee only
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at = mapped_column(UTCDateTime, nullable=True)

    entry = relationship("Entry")
    household = relationship("Household")


class Transfer(db.Model):
    """Money moved between two of a compound's books (e.g. public income topped up into the maintenance fund):
    an expense posted in one book and an income posted in the other, in one transaction, numbered per compound.
    Reversed only as a pair."""

    __tablename__ = "ledger_transfer"
    __table_args__ = (UniqueConstraint("compound_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    number: Mapped[int]
    from_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    to_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    from_entry = relationship("Entry", foreign_keys=[from_entry_id])
    to_entry = relationship("Entry", foreign_keys=[to_entry_id])
