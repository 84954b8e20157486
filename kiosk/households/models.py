"""The roll of households (units, their area and owners) and their QR cards."""
import enum
import hashlib
import re
import secrets

from flask import has_request_context
from flask_babel import get_locale, lazy_gettext as _l
from sqlalchemy import Enum, ForeignKey, String, UniqueConstraint, and_, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db


def format_address(building, entrance, room):
    """An address as the reader writes it: 3栋2单元501 in Chinese, "Bldg 3, Entrance 2, Room 501" in English."""
    if has_request_context() and str(get_locale() or "").startswith("en"):
        return f"Bldg {building}, " + (f"Entrance {entrance}, " if entrance else "") + f"Room {room}"
    return f"{building}栋{entrance + '单元' if entrance else ''}{room}"


def natural(text):
    """A sort key that puts 2 before 10 (楼栋 and rooms are text)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text or "")]


def address_order(household):
    """Sort households by building, entrance and room, numbers as numbers."""
    return natural(household.building), natural(household.entrance), natural(household.room)


class Occupancy(enum.StrEnum):
    """The unit's tenure: who lives in it and who holds it. Votes count by owner whatever the tenure (a rented
    unit counts for its owner); developer-held units count as one owner together."""

    owner_occupied = "owner_occupied"
    rented = "rented"
    vacant = "vacant"
    developer = "developer"
    # The name before tenure was recorded (issue 14), kept so older callers keep working: an alias of
    # owner_occupied, never stored (migration 0015 moved stored "occupied" rows to "owner_occupied").
    occupied = "owner_occupied"


OCCUPANCY_LABELS = {Occupancy.owner_occupied: _l("自住"), Occupancy.rented: _l("出租"), Occupancy.vacant: _l("空置"),
                    Occupancy.developer: _l("开发商持有")}
LIVED_IN = (Occupancy.owner_occupied, Occupancy.rented)  # someone lives there: gifts, notices, door-knocking


class Delivery(enum.StrEnum):
    """How a household card reached its household."""

    in_person = "in_person"  # handed over after checking the ID card and the property certificate
    mailbox = "mailbox"
    other = "other"


DELIVERY_LABELS = {Delivery.in_person: _l("当面核验身份证和房产证"), Delivery.mailbox: _l("投入信箱"),
                   Delivery.other: _l("其他")}


class Holder(enum.StrEnum):
    """Who holds a card: the owner (or their family) or a tenant; tenants do not vote in statutory votes."""

    owner = "owner"
    tenant = "tenant"


HOLDER_LABELS = {Holder.owner: _l("业主"), Holder.tenant: _l("租户")}


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
                                                 default=Occupancy.owner_occupied)
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


def address_columns():
    """The roll's order in a query: building, entrance, room (as stored text; address_order sorts naturally)."""
    return Household.building, Household.entrance, Household.room


def hash_token(token):
    """The stored form of a card token."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token():
    """A card token: 160 random bits, URL-safe."""
    return secrets.token_urlsafe(20)


class CardBatch(db.Model):
    """One print run of cards. Its cards wait (pending) until the committee confirms the sheet was printed and
    handed out: only then do they work and the households' old cards stop. Cancelled, its cards never work."""

    __tablename__ = "card_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    description: Mapped[str] = mapped_column(String(80), default="")  # which cards: 全部住户, 3 栋, an address
    count: Mapped[int] = mapped_column(default=0)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at = mapped_column(UTCDateTime, nullable=True)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    cancelled_at = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    @property
    def pending(self):
        """Printed (or not) but neither confirmed nor cancelled yet."""
        return self.confirmed_at is None and self.cancelled_at is None

    def snapshot(self):
        """What the audit log keeps of a batch."""
        return {"description": self.description, "count": self.count,
                "confirmed": self.confirmed_at is not None, "cancelled": self.cancelled_at is not None}


class HouseholdCard(db.Model):
    """A printed card; only the token's hash is kept, and a revoked card stops working at once. A card of a
    print run not yet confirmed (pending) does not work yet."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoked_at = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("card_batch.id"), index=True)
    pending: Mapped[bool] = mapped_column(default=False, server_default=false())
    # How the card reached its household (committee only, never on a public page): recorded after printing.
    delivery: Mapped[str | None] = mapped_column(String(20), nullable=True)  # a Delivery, None = not recorded
    delivered_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    delivered_at = mapped_column(UTCDateTime, nullable=True)
    holder: Mapped[str] = mapped_column(String(10), default=Holder.owner, server_default=Holder.owner.value)

    household: Mapped[Household] = relationship()

    @property
    def verified(self):
        """Handed over in person against the ID card and the property certificate."""
        return self.delivery == Delivery.in_person

    @property
    def tenant(self):
        return self.holder == Holder.tenant

    def delivery_snapshot(self):
        """What the audit log keeps of a card's delivery."""
        return {"household": self.household.address if self.household else None, "delivery": self.delivery,
                "holder": self.holder,
                "delivered_at": self.delivered_at.isoformat() if self.delivered_at else None}


def live_card(card=None):
    """The condition of a card that works now: not revoked, and not waiting for its print run's confirmation
    (`card`: an alias of HouseholdCard, when the statement has two)."""
    card = HouseholdCard if card is None else card
    return and_(card.revoked_at.is_(None), card.pending.is_(False))


class CardFailure(db.Model):
    """A card URL that matched no live card, kept to slow down guessing from one address."""

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
