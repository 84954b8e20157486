"""The lobby screen: registered screens, the attract loop, the pulse, and the slide registry that the other
areas fill (screen/ never imports them)."""

AREA = "screens"


def init_app(app):
    """Declare screens; register their pages, the fast pulse below Flask, and the loop's cacheable pages."""
    from .. import areas, pagecache
    from . import admin, models, views  # noqa: F401  (models: the tables join the metadata)

    areas.declare(app, AREA)
    areas.register_blueprints(app, admin.bp, admin.platform_bp, views.bp)
    views.init_app(app)
    pagecache.register_cacheable(app, AREA, "screen.show", "screen.slides", "screen.banner", "screen.detail",
                                 "screen.qr")
