"""The committee roster as residents read it: who serves, in which role, for which term."""
from sqlalchemy import Date, Enum, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import Role
from ..database import UTCDateTime, utcnow
from ..extensions import db


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


def shows_photo(image):
    """Whether the image is a roster member's photo: the roster, past terms included, is public."""
    return db.session.scalar(select(RosterMember.id).where(
        RosterMember.photo_id == image.id, RosterMember.compound_id == image.compound_id).limit(1)) is not None
