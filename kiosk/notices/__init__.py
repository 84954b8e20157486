"""Notices: what the committee posts and residents read (the foundation area), and the urgent notices street-office
staff send to every compound at once."""

AREA = "notices"


def init_app(app):
    """Declare notices; register their pages, their lobby-screen slides, their public images and cacheable page."""
    from flask_babel import lazy_gettext as _l

    from .. import areas, media, pagecache
    from ..screen.registry import register_slide
    from . import admin, broadcast, models, slides, template_admin, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, broadcast.bp, admin.bp, template_admin.bp, views.bp)
    register_slide(app, AREA, slides.slides, slides.detail, "notices/_slide_detail.html", order=10,
                   label=_l("通知"))
    media.register_public_images(app, AREA, models.shows_image)
    pagecache.register_cacheable(app, AREA, "notices.show")
