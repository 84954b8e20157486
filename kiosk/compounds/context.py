"""The /<compound>/ URL prefix: load g.compound once, and keep every lookup inside it.

A page that only reads (GET, HEAD) gets its compound without asking the database when this process read the same
version of it within versions.TTL: the row is kept per process, as the compound version the pulse and the page
cache read (kiosk/versions.py), and attached to the request's session as if just loaded. A change committed in this
process (record_change, the fast vote, any ORM change of the compound row) forgets it at once; another process's
shows within versions.TTL, as it does on screens and in the page cache (and one that did not move the version
within KEEP_SECONDS). Writes load the row from the database.
"""
import time

from flask import abort, current_app, g, request
from sqlalchemy import bindparam, event, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from .. import versions
from ..database import READ_METHODS
from ..extensions import db
from .models import Compound

# Every /<compound>/ request runs this; built once, since building it cost about as much as running it.
_BY_SLUG = select(Compound).where(Compound.slug == bindparam("slug"))
_columns = []  # the mapped column attributes' names, found at first use (once every model is mapped)
ROWS = "kiosk_compound_rows"  # app.extensions: slug -> (read at, {column: value}) as last read in this process
KEEP_SECONDS = 1.0  # at most this old, whatever the version says


def bind_compound(bp):
    """Make a blueprint's <compound> URL value load g.compound, 404 if unknown."""

    @bp.url_value_preprocessor
    def _load(endpoint, values):
        slug = values.pop("compound", None) if values else None
        if not slug:
            abort(404)
        compound = _kept(slug) if request.method in READ_METHODS else _loaded(slug)
        if compound is None:
            abort(404)
        g.compound = compound

    return bp


def _loaded(slug):
    """The compound from the database (the row kept for the next reads), or None."""
    compound = db.session.scalar(_BY_SLUG, {"slug": slug})
    if compound is not None and slug not in db.session.info.get("kiosk_changed_slugs", ()):
        rows = current_app.extensions.setdefault(ROWS, {})
        if len(rows) >= 1024:
            rows.clear()
        if not _columns:
            _columns.extend(attr.key for attr in inspect(Compound).column_attrs)
        rows[slug] = (time.monotonic(), {key: getattr(compound, key) for key in _columns})
        versions.put(versions.cache_of(current_app), slug, compound.version)
    return compound


def _kept(slug):
    """The compound as kept, if this process read its current version (versions.TTL) and kept the row; else
    from the database."""
    kept = current_app.extensions.get(ROWS, {}).get(slug)
    if kept is None or time.monotonic() - kept[0] >= KEEP_SECONDS:
        return _loaded(slug)
    row = kept[1]
    try:
        version = versions.get(versions.cache_of(current_app), slug, _version)
    except Exception:  # noqa: BLE001 - database trouble: the query below reports it as any page would
        version = None
    if version != row["version"]:
        return _loaded(slug)
    key = db.session.identity_key(Compound, row["id"])
    present = db.session.identity_map.get(key)
    if present is not None:
        return present  # this session has it already (what the query would have answered)
    compound = Compound(**row)
    make_transient_to_detached(compound)  # as if just loaded: no history, nothing to write
    db.session.add(compound)
    return compound


def _version(slug):
    """The compound's version as the database has it now (its own short read, as the page cache's)."""
    with db.engine.connect().execution_options(kiosk_one_read=True) as conn:
        return conn.scalar(select(Compound.version).where(Compound.slug == slug))


def forget(app, slug):
    """Drop the kept row of a compound (after a change to it was committed)."""
    app.extensions.get(ROWS, {}).pop(slug, None)


@event.listens_for(Session, "after_flush")
def _note_changed_compounds(session, flush_context):
    # A compound row changed without record_change (a procedure profile chosen, a practice compound linked) is
    # forgotten on commit too, with the versions record_change forgets.
    changed = [obj.slug for obj in (*session.dirty, *session.new, *session.deleted) if isinstance(obj, Compound)]
    if changed:
        session.info.setdefault("kiosk_changed_slugs", set()).update(changed)


def init_app(app):
    """Let url_for fill in <compound> from g.compound for any endpoint that takes it."""

    @app.url_defaults
    def _default_compound(endpoint, values):
        if "compound" not in values and "compound" in g and app.url_map.is_endpoint_expecting(endpoint, "compound"):
            values["compound"] = g.compound.slug


def get_or_404_in_compound(model, object_id):
    """Return the model row with this id in g.compound; another compound's row is 404 like a missing one."""
    obj = db.session.get(model, object_id)
    if obj is None or obj.compound_id != g.compound.id:
        abort(404)
    return obj
