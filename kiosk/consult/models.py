"""Consultations (协商议事): resident proposals, topics with their options and electorate, ballots, opinions.

A topic's electorate is frozen when it is published, so an edit to the roll during a vote cannot swing the
result. A household has at most one *current* ballot per topic (a partial unique index says so, on both
engines); a changed vote keeps the old ballot as history. At close the result is frozen as JSON with a
fingerprint of every counted ballot.
"""
import enum

from flask import has_request_context
from flask_babel import gettext, lazy_gettext as _l
from sqlalchemy import (JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, bindparam, false, inspect,
                        select, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from .tally import RULES, Rule


class ProposalKind(enum.StrEnum):
    suggestion = "suggestion"
    request = "request"


PROPOSAL_KIND_LABELS = {ProposalKind.suggestion: _l("提议"), ProposalKind.request: _l("诉求")}


class ProposalStatus(enum.StrEnum):
    received = "received"
    answered = "answered"
    topic = "topic"
    closed = "closed"


PROPOSAL_STATUS_LABELS = {ProposalStatus.received: _l("已收到"), ProposalStatus.answered: _l("已答复"),
                          ProposalStatus.topic: _l("已转为议题"), ProposalStatus.closed: _l("已办结")}


class Proposal(db.Model):
    """A resident's suggestion or request; the public sees it without who sent it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))  # committee only
    kind: Mapped[str] = mapped_column(String(20), default=ProposalKind.suggestion)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=ProposalStatus.received)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at = mapped_column(UTCDateTime, nullable=True)
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    household = relationship("Household")

    @property
    def kind_label(self):
        return PROPOSAL_KIND_LABELS[ProposalKind(self.kind)]

    @property
    def status_label(self):
        return PROPOSAL_STATUS_LABELS[ProposalStatus(self.status)]

    def snapshot(self):
        return {"kind": self.kind, "title": self.title, "body": self.body, "status": self.status,
                "answer": self.answer, "topic_id": self.topic_id}


class Kind(enum.StrEnum):
    yesno = "yesno"
    single = "single"
    multi = "multi"
    election = "election"


KIND_LABELS = {Kind.yesno: _l("同意 / 不同意 / 弃权"), Kind.single: _l("单选"), Kind.multi: _l("多选"),
               Kind.election: _l("选举")}


YES_NO_LABELS = {"yes": _l("同意"), "no": _l("不同意"), "abstain": _l("弃权")}



class Visibility(enum.StrEnum):
    live = "live"
    after_vote = "after_vote"
    after_close = "after_close"


VISIBILITY_LABELS = {Visibility.live: _l("实时公开（大屏和手机随投随显）"),
                     Visibility.after_vote: _l("投票后可见（本户投票后手机可看结果，大屏只显示参与率）"),
                     Visibility.after_close: _l("截止后公开（截止前只显示参与率）")}


class Status(enum.StrEnum):
    draft = "draft"
    published = "published"
    closed = "closed"
    done = "done"


class Phase(enum.StrEnum):
    """Where a topic is right now, from its status and the clock."""

    draft = "draft"
    discussion = "discussion"
    voting = "voting"
    closed = "closed"
    done = "done"


PHASE_LABELS = {Phase.draft: _l("草稿"), Phase.discussion: _l("讨论中"), Phase.voting: _l("投票中"),
                Phase.closed: _l("已截止"), Phase.done: _l("已落实")}


class Channel(enum.StrEnum):
    phone = "phone"
    kiosk = "kiosk"
    paper = "paper"


CHANNEL_LABELS = {Channel.phone: _l("手机"), Channel.kiosk: _l("大屏"), Channel.paper: _l("纸质票（委员代录）")}


class Topic(db.Model):
    """A matter put to the households: its question, options, decision rule and voting window."""

    __table_args__ = (Index("ix_topic_compound_status", "compound_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    title: Mapped[str] = mapped_column(String(120))
    background: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20), default=Kind.yesno)
    rule: Mapped[str] = mapped_column(String(20), default=Rule.ordinary)
    seats: Mapped[int] = mapped_column(default=1)  # winners for elections, most choices for multiple choice
    secret: Mapped[bool] = mapped_column(default=True)
    visibility: Mapped[str] = mapped_column(String(20), default=Visibility.live)
    allow_change: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20), default=Status.draft)
    opens_at = mapped_column(UTCDateTime, nullable=False)
    closes_at = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    published_at = mapped_column(UTCDateTime, nullable=True)
    closed_at = mapped_column(UTCDateTime, nullable=True)
    result = mapped_column(JSON, nullable=True)  # frozen at close
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    resolution_notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    done_at = mapped_column(UTCDateTime, nullable=True)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # approved spending, if any
    # Secret topics while open: the figures released last (see snapshots.py) and the moment they count up to.
    released_figures = mapped_column(JSON, nullable=True)
    released_at = mapped_column(UTCDateTime, nullable=True)
    # Procedure (consult/procedure.py): an extraordinary meeting has a shorter notice; a window extended once
    # keeps the deadline it had, when and why it moved (residents read the reason).
    extraordinary: Mapped[bool] = mapped_column(default=False, server_default=false())
    extended_from = mapped_column(UTCDateTime, nullable=True)
    extended_at = mapped_column(UTCDateTime, nullable=True)
    extension_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Whose vote it is (issue 14): no buildings = the whole compound; one building, with an entrance = one 单元;
    # several = the owners of those buildings (a shared lift, a roof). Chosen in a draft, frozen at publication.
    scope_buildings = mapped_column(JSON, nullable=True)
    scope_entrance: Mapped[str] = mapped_column(String(10), default="", server_default="")
    # Statutory votes only from cards handed over in person against ID and property certificate.
    require_verified: Mapped[bool] = mapped_column(default=False, server_default=false())

    options: Mapped[list["Option"]] = relationship(order_by="Option.position", cascade="all, delete-orphan")
    resolution_notice = relationship("Notice")

    def phase(self, now=None):
        """The topic's phase now: voting opens and closes by the clock, whether or not anyone is looking."""
        if self.status == Status.draft:
            return Phase.draft
        if self.status == Status.done:
            return Phase.done
        if self.status == Status.closed:
            return Phase.closed
        now = now or utcnow()
        if now >= self.closes_at:
            return Phase.closed
        return Phase.voting if now >= self.opens_at else Phase.discussion

    @property
    def kind_label(self):
        return KIND_LABELS[Kind(self.kind)]

    @property
    def rule_label(self):
        """The decision rule in full (tally.RULES has every word about a rule)."""
        return _l(RULES[Rule(self.rule)].label)

    @property
    def rule_short(self):
        return _l(RULES[Rule(self.rule)].short)

    @property
    def visibility_label(self):
        return VISIBILITY_LABELS[Visibility(self.visibility)]

    def option_keys(self):
        """The options' keys in order. Without the options loaded, one bare column is read instead of loading
        them as objects: every ballot checks its choices against these and needs nothing more."""
        state = inspect(self)
        if not state.persistent or "options" not in state.unloaded:
            return [o.key for o in self.options]
        return list(db.session.scalars(_OPTION_KEYS, {"topic": self.id}))

    @property
    def statutory(self):
        """Decided under art. 278 (双过半 or 双四分之三), where only owners vote."""
        return RULES[Rule(self.rule)].statutory

    @property
    def scope(self):
        """(buildings, entrance) of a partial electorate, or None for the whole compound."""
        return scope_of(self.scope_buildings, self.scope_entrance)

    @property
    def electorate_label(self):
        """Whose vote it is: 3栋业主表决, 3栋2单元业主表决, 3栋、5栋业主表决; "" for the whole compound."""
        return electorate_label(self.scope)

    def label_of(self, key):
        """What people read for an option key; 同意/不同意/弃权 follow the reader's language."""
        if self.kind == Kind.yesno and key in YES_NO_LABELS:
            return str(YES_NO_LABELS[key])
        for option in self.options:
            if option.key == key:
                return option.label
        return key

    def labels_of(self, keys):
        """Chosen option keys as the labels people read, joined: 同意 or 张三、李四."""
        return "、".join(self.label_of(k) for k in keys)

    def snapshot(self):
        return {"title": self.title, "background": self.background, "kind": self.kind, "rule": self.rule,
                "seats": self.seats, "secret": self.secret, "visibility": self.visibility,
                "allow_change": self.allow_change, "status": self.status,
                "opens_at": self.opens_at.isoformat(), "closes_at": self.closes_at.isoformat(),
                "options": [o.label for o in self.options], "fingerprint": self.fingerprint or None,
                "extraordinary": bool(self.extraordinary),
                "scope_buildings": self.scope_buildings or None, "scope_entrance": self.scope_entrance or None,
                "require_verified": bool(self.require_verified)}


def scope_of(buildings, entrance=""):
    """A stored scope as (buildings tuple, entrance), or None for the whole compound; an entrance only counts
    with exactly one building."""
    buildings = tuple(b for b in (buildings or ()) if b)
    if not buildings:
        return None
    return buildings, (entrance or "") if len(buildings) == 1 else ""


def electorate_label(scope):
    """The "whose vote" line for a scope; "" for the whole compound (nothing extra is said then)."""
    if scope is None:
        return ""
    return _say(N_("%(where)s业主表决"), where=scope_place(scope))


def scope_place(scope):
    """The part of the compound a scope covers: 3栋, 3栋2单元, 3栋、5栋."""
    buildings, entrance = scope
    if entrance:
        return _say(N_("%(b)s栋%(e)s单元"), b=buildings[0], e=entrance)
    return _say(N_("、")).join(_say(N_("%(b)s栋"), b=b) for b in buildings)


def N_(message):
    """Mark a message for extraction; _say translates it where it is shown."""
    return message


def _say(message, **values):
    """A message in the reader's language; in Chinese outside a request (the CLI, the demo's printout)."""
    if has_request_context():
        return gettext(message, **values)
    return message % values if values else message


class Option(db.Model):
    """One choice of a topic (同意 / 不同意 / 弃权, an option, or a candidate)."""

    __tablename__ = "topic_option"
    __table_args__ = (UniqueConstraint("topic_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    key: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)


_OPTION_KEYS = select(Option.key).where(Option.topic_id == bindparam("topic")).order_by(Option.position)


class Elector(db.Model):
    """A household on a topic's electorate, as the roll stood when the topic was published."""

    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    area_centi: Mapped[int]
    owner: Mapped[str] = mapped_column(String(80))  # owner group: shared by one owner's units, or "developer"
    building: Mapped[str] = mapped_column(String(20), default="")


class Ballot(db.Model):
    """One household's ballot; `current` marks the one that counts, earlier ones are kept as history."""

    __table_args__ = (
        Index("uq_ballot_current", "topic_id", "household_id", unique=True,
              sqlite_where=text("current"), postgresql_where=text("current")),
        Index("ix_ballot_topic_current", "topic_id", "current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    choices = mapped_column(JSON, nullable=False)  # list of option keys
    channel: Mapped[str] = mapped_column(String(10), default=Channel.phone)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # paper ballots: who typed it in
    cast_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    current: Mapped[bool] = mapped_column(default=True)

    enterer = relationship("User")


class Opinion(db.Model):
    """A household's view posted during discussion; the committee may hide it, giving a public reason."""

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    hidden_at = mapped_column(UTCDateTime, nullable=True)
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    hidden_reason: Mapped[str] = mapped_column(String(200), default="")

    household = relationship("Household")


class KioskCode(db.Model):
    """A one-time code a household's phone shows, to vote at the lobby screen without the card's secret."""

    __table_args__ = (Index("ix_kiosk_code_household", "household_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)


class TopicUpdate(db.Model):
    """Follow-through (落实情况): what has been done since the decision, posted until the matter is done."""

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class KioskStep(db.Model):
    """A keypad step a lobby screen passed: the code or card was taken there, and only this step's random
    nonce (stored hashed) goes back to the screen, so the ballot form never carries a code or a card."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    screen_id: Mapped[int] = mapped_column(ForeignKey("screen.id"))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    nonce_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at = mapped_column(UTCDateTime, nullable=False)
    used_at = mapped_column(UTCDateTime, nullable=True)


class KioskGuess(db.Model):
    """A wrong code or card typed at a lobby screen's keypad, counted to slow guessing down."""

    __table_args__ = (Index("ix_kiosk_guess_compound_at", "compound_id", "at"),
                      Index("ix_kiosk_guess_screen_at", "screen_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    screen_id: Mapped[int | None] = mapped_column(ForeignKey("screen.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


class TopicCorrection(db.Model):
    """A dated, signed correction of a published topic's wording: appended, never edited (the wording itself is
    fixed from publication, so nobody can change what households are voting on)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topic.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    author = relationship("User")


from . import paper_models  # noqa: E402,F401  (proxies and numbered paper ballots join the metadata)
