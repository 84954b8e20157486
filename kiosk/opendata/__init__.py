"""Open data (开放数据): every disclosed ledger period, decided result and resolution as CSV and JSON with the
chain hashes, a README of the fields and the hashing recipe, per compound and for the whole district."""

AREA = "opendata"


def init_app(app):
    """Register the open-data pages (the compound's page may be served from the page cache)."""
    from .. import areas, pagecache
    from . import views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
    pagecache.register_cacheable(app, AREA, "opendata.index")
