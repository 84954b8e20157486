"""The /<compound>/ URL prefix: load g.compound once, and keep every lookup inside it."""
from flask import abort, g
from sqlalchemy import bindparam, select

from ..extensions import db
from .models import Compound


# Every /<compound>/ request runs this; built once, since building it cost about as much as running it.
_BY_SLUG = select(Compound).where(Compound.slug == bindparam("slug"))


def bind_compound(bp):
    """Make a blueprint's <compound> URL value load g.compound, 404 if unknown."""

    @bp.url_value_preprocessor
    def _load(endpoint, values):
        slug = values.pop("compound", None) if values else None
        compound = db.session.scalar(_BY_SLUG, {"slug": slug}) if slug else None
        if compound is None:
            abort(404)
        g.compound = compound

    return bp


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
