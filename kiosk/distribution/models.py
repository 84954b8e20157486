"""Distribution of benefits (福利发放): an event, the households on its list, and their pickups."""
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..households.models import Household


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

    def state(self, now=None):
        """"open", "upcoming" or "past"."""
        now = now or utcnow()
        return "open" if self.is_open(now) else "upcoming" if self.starts_at > now else "past"

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
