"""Accounts, their roles per compound, server-side login sessions and failed-login records."""
import enum
import hashlib
import secrets

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint, event, inspect, select, update
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..database import UTCDateTime, utcnow
from ..extensions import db
from .names import KEY_LENGTH, name_key


class Role(enum.StrEnum):
    """A committee role in one compound."""

    chair = "chair"  # 主任
    vice_chair = "vice_chair"  # 副主任
    member = "member"  # 自治委员
    supervisor = "supervisor"  # 监督委员


ROLE_LABELS = {Role.chair: _l("主任"), Role.vice_chair: _l("副主任"), Role.member: _l("自治委员"),
               Role.supervisor: _l("监督委员")}

# Roles that may publish and edit notices; supervisors review, they do not post.
EDITOR_ROLES = frozenset({Role.chair, Role.vice_chair, Role.member})


class User(UserMixin, db.Model):
    """A committee or platform account."""

    session_key = None  # set for the request by the login session loader

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_platform_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    memberships: Mapped[list["Membership"]] = relationship(back_populates="user", cascade="all, delete-orphan")

    def get_id(self):
        """Flask-Login stores the login session's key, never the account id."""
        return self.session_key

    @property
    def is_active(self):
        return self.active

    def set_password(self, password):
        """Hash and store a password with PBKDF2-SHA256 at the configured iteration count."""
        iterations = current_app.config["PASSWORD_ITERATIONS"]
        self.password_hash = generate_password_hash(password, method=f"pbkdf2:sha256:{iterations}")

    def check_password(self, password):
        """Return whether the password matches."""
        return check_password_hash(self.password_hash, password)

    def role_in(self, compound):
        """Return this account's Role in the compound, or None."""
        for m in self.memberships:
            if m.compound_id == compound.id:
                return m.role
        return None

    def compounds(self):
        """Return the compounds this account serves, by name."""
        return sorted((m.compound for m in self.memberships), key=lambda c: c.name)


class Membership(db.Model):
    """An account's role in one compound: one role per account per compound, so nobody is both a committee
    member and a supervisor of it; and one name per compound, as people read names (see names.py)."""

    __table_args__ = (UniqueConstraint("user_id", "compound_id"), UniqueConstraint("compound_id", "name_key"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    # The account's display name folded by names.name_key, kept in step with it by the listeners below.
    name_key: Mapped[str] = mapped_column(String(KEY_LENGTH))

    user: Mapped[User] = relationship(back_populates="memberships")
    compound = relationship("Compound")


@event.listens_for(Membership, "before_insert")
def _key_new_membership(mapper, connection, membership):
    """Fill in the name key from the account's display name, however the membership was made."""
    user = inspect(membership).attrs.user.loaded_value
    if user is NO_VALUE or user is None:
        name = connection.execute(select(User.display_name).where(User.id == membership.user_id)).scalar_one()
    else:
        name = user.display_name
    membership.name_key = name_key(name)


@event.listens_for(User, "before_update")
def _rekey_renamed_account(mapper, connection, user):
    """A renamed account's memberships follow its new name (and the uniqueness check sees it)."""
    if inspect(user).attrs.display_name.history.has_changes():
        connection.execute(update(Membership).where(Membership.user_id == user.id)
                           .values(name_key=name_key(user.display_name)))


class LoginSession(db.Model):
    """A server-side record of one login; the cookie holds only its random key."""

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_seen = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    ended_at = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    @staticmethod
    def new_key():
        """Return a fresh random session key (256 bits)."""
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(key):
        """Return the stored form of a session key."""
        return hashlib.sha256(key.encode()).hexdigest()


class LoginFailure(db.Model):
    """A failed login, kept for throttling by account, by address and by trusted device (sessions.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    # The trusted-device id the attempt presented for this account, if any.
    device: Mapped[str | None] = mapped_column(String(32), index=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


class SupervisorSource(enum.StrEnum):
    """On whose authority the supervisory body changed."""

    platform = "platform"  # street-office (platform) staff appointed or removed
    election = "election"  # the result of a decided election topic, applied by platform staff


class SupervisorAction(enum.StrEnum):
    appoint = "appoint"  # took office (a new supervisor, or re-elected)
    remove = "remove"  # left office


class SupervisorChange(db.Model):
    """One change of a compound's supervisory body (append-only, shown on the public roster): who, when, on
    whose authority, and for an election the topic it applied."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    name: Mapped[str] = mapped_column(String(40))  # the display name then
    action: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id"))
    topic_title: Mapped[str] = mapped_column(String(120), default="")
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    actor = relationship("User", foreign_keys=[actor_id])
