"""The committee roster (委员名单): who serves, in which role and term; the committee keeps it, residents read it
on their phones and the lobby screen, with the supervisory body and every change to it."""

AREA = "roster"


def init_app(app):
    """Declare the roster; register its pages, its slide, its public photos and its cacheable page."""
    from flask_babel import lazy_gettext as _l

    from .. import areas, media, pagecache
    from ..screen.registry import register_slide
    from . import models, slides, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
    register_slide(app, AREA, slides.slides, slides.detail, "households/_roster_slide_detail.html", order=70,
                   label=_l("住户名册"))
    media.register_public_images(app, AREA, models.shows_photo)
    pagecache.register_cacheable(app, AREA, "roster.show")
