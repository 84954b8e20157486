"""The first pages: the compound's phone home (/<compound>/) and the bare server address (/); and the lobby
loop's closing slide, which tells everyone how to follow it all on a phone."""

AREA = "compound"  # the closing slide's group on the lobby screen


def init_app(app):
    """Declare the home slide's group; register the pages, the slide and the phone home as cacheable."""
    from flask_babel import lazy_gettext as _l

    from .. import areas, pagecache
    from ..screen.registry import register_slide
    from . import slides, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
    register_slide(app, AREA, slides.slides, slides.detail, "compounds/_slide_detail.html", order=90,
                   label=_l("小区介绍"))
    pagecache.register_cacheable(app, AREA, "compounds.home")
