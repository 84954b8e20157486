"""The Compound model."""
import re

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])$")
# First path segments the application owns; a compound may not take them.
RESERVED_SLUGS = frozenset(
    {"admin", "static", "healthz", "h", "media", "platform", "login", "logout", "api", "lang",
     "screen", "pulse", "favicon.ico", "robots.txt", "assets", "district", "verify", "open-data"}
)


class Compound(db.Model):
    """A residential compound (小区): the tenant every domain row belongs to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    community: Mapped[str] = mapped_column(String(80), default="")
    district: Mapped[str] = mapped_column(String(80), default="")
    # Bumped in the same transaction as every change; screens poll it.
    version: Mapped[int] = mapped_column(default=0)
    # Which procedure profile its votes follow (consult/procedure.py): national, or a city's preset.
    procedure_profile: Mapped[str] = mapped_column(String(20), default="national", server_default="national")
    created_at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # Set on a practice compound (练习小区): the real compound whose committee trains on it. At most one per
    # real compound (unique); its data never counts in district figures or open data.
    practice_of: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), unique=True, nullable=True)

    @property
    def practice(self):
        """Whether this is a practice compound (its data is for training and counts nowhere)."""
        return self.practice_of is not None

    def __repr__(self):
        return f"<Compound {self.slug}>"


# The filter every district-wide list uses: practice compounds are never counted in the district's figures.
REAL = Compound.practice_of.is_(None)


def slug_problem(slug):
    """Return why a slug is unusable (Chinese sentence), or None if it is fine."""
    from flask_babel import gettext as _

    if not SLUG_RE.match(slug or ""):
        return _("只能用 2–40 个小写字母、数字或连字符，且不能以连字符开头或结尾。")
    if slug in RESERVED_SLUGS:
        return _("这个名称被系统占用，请换一个。")
    return None
