"""record_change(): the audit row, the compound's version bump and the change row, in one transaction."""
from flask import current_app, has_app_context
from sqlalchemy import JSON, ForeignKey, Index, String, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from . import areas, versions
from .compounds import context
from .database import UTCDateTime, utcnow
from .extensions import db


class AuditEntry(db.Model):
    """One append-only line of the audit log: who did what, when, with before and after."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    area: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(30))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int | None]
    before = mapped_column(JSON, nullable=True)
    after = mapped_column(JSON, nullable=True)


class Change(db.Model):
    """Which area changed at which compound version; screens read these to know what to refresh."""

    # The ledger's pages ask "the last ledger change of this compound" on every new compound version.
    __table_args__ = (Index("ix_change_compound_area_version", "compound_id", "area", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    version: Mapped[int]
    area: Mapped[str] = mapped_column(String(30))
    at = mapped_column(UTCDateTime, default=utcnow, nullable=False)


def record_change(compound, actor, area, action, obj, before=None, after=None):
    """Write the audit entry and, for a compound, bump its version; the caller commits. `area` must be a declared
    area name (its screens refresh on it): an unknown one raises areas.UnknownArea before anything is written."""
    areas.require(area)
    session = db.session
    session.flush()  # gives new objects their ids
    if compound is not None:
        # An UPDATE ... SET version = version + 1 is atomic across processes.
        model = type(compound)
        version = session.execute(update(model).where(model.id == compound.id).values(version=model.version + 1)
                                  .returning(model.version)).scalar_one()
        set_committed_value(compound, "version", version)
        session.add(Change(compound_id=compound.id, version=compound.version, area=area))
        session.info.setdefault("kiosk_changed_slugs", set()).add(compound.slug)
    session.add(AuditEntry(
        compound_id=compound.id if compound is not None else None,
        actor_id=actor.id if actor is not None else None,
        area=area, action=action, object_type=type(obj).__name__.lower(),
        object_id=getattr(obj, "id", None), before=before, after=after,
    ))


@event.listens_for(Session, "after_commit")
def _forget_cached_versions(session):
    slugs = session.info.pop("kiosk_changed_slugs", ())
    if slugs and has_app_context():
        cache = versions.cache_of(current_app)
        for slug in slugs:
            versions.forget(cache, slug)
            context.forget(current_app, slug)


@event.listens_for(Session, "after_rollback")
def _drop_pending_slugs(session):
    session.info.pop("kiosk_changed_slugs", None)
