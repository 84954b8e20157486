"""A registered lobby screen of one compound."""
import enum
import secrets
from datetime import time, timedelta

from sqlalchemy import JSON, Boolean, Integer, Enum, ForeignKey, String, Time
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
    # Remote care by the street office and the committee (see docs/screens.md).
    # Each press of 重新加载 adds one; the page carries the count it was loaded with, so one press reloads once.
    reload_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    slide_now = mapped_column(String(80), nullable=True)  # what the screen last reported showing: "notices-12"
    data_version = mapped_column(Integer, nullable=True)  # the compound version its slides were built from
    shown_areas = mapped_column(JSON, nullable=True)  # slide areas it shows, None: all of them
    buildings: Mapped[str] = mapped_column(String(60), default="", server_default="")  # "3" or "3,5"; "" none
    slots = mapped_column(JSON, nullable=True)  # {"consult": ["07:00", "22:00"]}: daily windows, Asia/Shanghai

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

    def building_list(self):
        """The buildings whose lobby this screen hangs in, e.g. ["3", "5"]."""
        return split_buildings(self.buildings)

    def shows_area(self, area):
        """Return whether this screen's loop includes an area's slides."""
        return self.shown_areas is None or area in self.shown_areas

    def slot_of(self, area):
        """Return ("HH:MM", "HH:MM") of the area's daily window on this screen, or None (all day)."""
        window = (self.slots or {}).get(area)
        return tuple(window) if window else None

    def snapshot(self):
        """Return the audited fields as JSON values."""
        return {"name": self.name, "place": self.place, "orientation": str(self.orientation),
                "dwell_seconds": self.dwell_seconds, "idle_seconds": self.idle_seconds,
                "night_start": _hhmm(self.night_start), "night_end": _hhmm(self.night_end),
                "retired": self.retired, "shown_areas": self.shown_areas, "buildings": self.buildings,
                "slots": self.slots}


def split_buildings(text):
    """Split "3, 5栋，6" into ["3", "5", "6"] (commas of either width; a trailing 栋 or 号楼 is dropped)."""
    parts = (part.strip().removesuffix("号楼").removesuffix("栋").strip()
             for part in (text or "").replace("，", ",").split(","))
    return [part for part in parts if part]


def _hhmm(value: time | None):
    return value.strftime("%H:%M") if value else None
