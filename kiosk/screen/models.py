"""A registered lobby screen of one compound."""
import enum
import secrets
from datetime import time, timedelta

from sqlalchemy import Boolean, Enum, ForeignKey, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db


class Orientation(enum.StrEnum):
    """How the screen hangs."""

    portrait = "portrait"
    landscape = "landscape"


class Screen(db.Model):
    """A lobby touchscreen; its random key in the URL is what lets a device show the loop."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    key: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_urlsafe(12))
    name: Mapped[str] = mapped_column(String(60))
    place: Mapped[str] = mapped_column(String(80), default="")
    orientation: Mapped[Orientation] = mapped_column(Enum(Orientation, native_enum=False, length=20),
                                                     default=Orientation.portrait)
    dwell_seconds: Mapped[int] = mapped_column(default=12)
    idle_seconds: Mapped[int] = mapped_column(default=60)
    night_start = mapped_column(Time, nullable=True)
    night_end = mapped_column(Time, nullable=True)
    retired: Mapped[bool] = mapped_column(default=False)
    last_seen_at = mapped_column(UTCDateTime, nullable=True)
    # What the screen last reported: its browser ("Chrome 65") and whether live updates run there (None: unknown).
    engine = mapped_column(String(40), nullable=True)
    live_updates = mapped_column(Boolean, nullable=True)
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    def is_offline(self, poll_seconds, now=None):
        """Return whether the screen has been silent for more than 2 × 10 poll intervals."""
        if self.last_seen_at is None:
            return True
        return (now or utcnow()) - self.last_seen_at > timedelta(seconds=poll_seconds * 10 * 2)

    def night_window(self):
        """Return ("HH:MM", "HH:MM") of the night hours, or None when the screen never sleeps."""
        if self.night_start is None or self.night_end is None or self.night_start == self.night_end:
            return None
        return self.night_start.strftime("%H:%M"), self.night_end.strftime("%H:%M")

    def snapshot(self):
        """Return the audited fields as JSON values."""
        return {"name": self.name, "place": self.place, "orientation": str(self.orientation),
                "dwell_seconds": self.dwell_seconds, "idle_seconds": self.idle_seconds,
                "night_start": _hhmm(self.night_start), "night_end": _hhmm(self.night_end),
                "retired": self.retired}


def _hhmm(value: time | None):
    return value.strftime("%H:%M") if value else None
