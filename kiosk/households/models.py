"""The roll of households, their cards, the committee roster, and distribution events with pickups."""
import enum
import hashlib
import secrets

from flask import has_request_context
from flask_babel import get_locale, lazy_gettext as _l
from sqlalchemy import Date, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Role
from ..database import UTCDateTime, utcnow
from ..extensions import db


def format_address(building, entrance, room):
    """An address as the reader writes it: 3栋2单元501 in Chinese, "Bldg 3, Entrance 2, Room 501" in English."""
    if has_request_context() and str(get_locale() or "").startswith("en"):
        return f"Bldg {building}, " + (f"Entrance {entrance}, " if entrance else "") + f"Room {room}"
    return f"{building}栋{entrance + '单元' if entrance else ''}{room}"


class Occupancy(enum.StrEnum):
    """Who holds the unit; developer-held units count as one owner together in votes."""

    occupied = "occupied"
    vacant = "vacant"
    developer = "developer"


OCCUPANCY_LABELS = {Occupancy.occupied: _l("自住/出租"), Occupancy.vacant: _l("空置"),
                    Occupancy.developer: _l("开发商持有")}


class Household(db.Model):
    """One registered unit (专有部分) of a compound: its address, area and private contact details."""

    __table_args__ = (UniqueConstraint("compound_id", "building", "entrance", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    building: Mapped[str] = mapped_column(String(20))
    entrance: Mapped[str] = mapped_column(String(10), default="")
    room: Mapped[str] = mapped_column(String(20))
    area_centi: Mapped[int]  # registered unit area in hundredths of a m² (exact, for vote counting)
    occupancy: Mapped[Occupancy] = mapped_column(Enum(Occupancy, native_enum=False, length=20),
                                                 default=Occupancy.occupied)
    owner_key: Mapped[str] = mapped_column(String(60), default="")  # units of one owner share it
    contact_name: Mapped[str] = mapped_column(String(40), default="")  # committee only
    contact_phone: Mapped[str] = mapped_column(String(30), default="")  # committee only
    note: Mapped[str] = mapped_column(String(200), default="")  # committee only
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    @property
    def address(self):
        """The public address: 3栋2单元501 (never a name)."""
        return format_address(self.building, self.entrance, self.room)

    @property
    def area(self):
        """The area as text with two decimals, e.g. 86.35."""
        return f"{self.area_centi // 100}.{self.area_centi % 100:02d}"

    def snapshot(self):
        """Fields kept in the audit log (private ones included: the log is committee-only)."""
        return {"building": self.building, "entrance": self.entrance, "room": self.room, "area": self.area,
                "occupancy": str(self.occupancy), "owner_key": self.owner_key,
                "contact_name": self.contact_name, "contact_phone": self.contact_phone, "note": self.note}


def hash_token(token):
    """The stored form of a card token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token():
    """A card token: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


class HouseholdCard(db.Model):
    """A printed card; only the token's hash is kept, and a revoked card stops working at once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    household: Mapped[Household] = relationship()


class CardFailure(db.Model):
    """A card URL that matched no live card, kept to slow down guessing from one address."""

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)


class RosterMember(db.Model):
    """A committee member as residents see them: name, role, term, photo and a short introduction."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    term_start = mapped_column(Date, nullable=False)
    term_end = mapped_column(Date, nullable=False)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("image.id"))
    intro: Mapped[str] = mapped_column(Text, default="")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    photo = relationship("Image")

    def snapshot(self):
        return {"name": self.name, "role": str(self.role), "term_start": self.term_start.isoformat(),
                "term_end": self.term_end.isoformat(), "photo_id": self.photo_id, "intro": self.intro}


class DistributionEvent(db.Model):
    """A hand-out of benefits (福利发放), e.g. the Dragon Boat gift package, to a set of households."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    item: Mapped[str] = mapped_column(String(120))
    eligibility: Mapped[str] = mapped_column(String(200), default="")  # how the list was chosen, for people
    starts_at = mapped_column(UTCDateTime, nullable=False)
    ends_at = mapped_column(UTCDateTime, nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def is_open(self, now=None):
        """Return whether pickups are being handed out right now."""
        now = now or utcnow()
        return self.starts_at <= now < self.ends_at

    def snapshot(self):
        return {"name": self.name, "item": self.item, "eligibility": self.eligibility,
                "starts_at": self.starts_at.isoformat(), "ends_at": self.ends_at.isoformat()}


class Eligibility(db.Model):
    """A household entitled to an event (the list is fixed when the event is created)."""

    __table_args__ = (UniqueConstraint("event_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("distribution_event.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)


class Pickup(db.Model):
    """A household collected an event's benefit; the database allows one per household and event."""

    __table_args__ = (UniqueConstraint("event_id", "household_id"),
                      Index("ix_pickup_compound_event", "compound_id", "event_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("distribution_event.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    collected_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recorder = relationship("User")
    household: Mapped[Household] = relationship()
