"""Distribution of benefits (福利发放): a list of households fixed when the event is made, pickups ticked off by
scanning cards (one per household, the database says so), progress on the lobby screen and residents' phones."""

AREA = "distribution"


def init_app(app):
    """Declare distribution; register its pages, its slides, its section of "our household" and its cacheable
    page."""
    from flask_babel import lazy_gettext as _l

    from .. import areas, pagecache
    from ..households.sections import register_section
    from ..screen.registry import register_slide
    from . import service, slides, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
    register_slide(app, AREA, slides.slides, slides.detail, "households/_event_slide_detail.html", order=60,
                   label=_l("发放活动"))
    register_section(app, AREA, "households/_mine_pickups.html",
                     lambda household: {"entries": service.for_household(household)}, order=10)
    pagecache.register_cacheable(app, AREA, "distribution.public_show")
