"""The ledger disclosure (收支公示): entries in fen, periods signed by supervisors, a hash chain, questions."""

AREA = "ledger"


def init_app(app):
    """Declare the ledger; register its pages, its slide, its public receipt photos, its cacheable pages, its
    money filters, and where a supervisor with a month to sign lands after logging in."""
    from flask_babel import lazy_gettext as _l

    from .. import areas, media, money, pagecache
    from ..auth.landing import register_landing
    from ..screen.registry import register_slide
    from . import admin, lines, public, slides, waiting

    areas.declare(app, AREA)
    areas.register_blueprints(app, *public.blueprints(), *admin.blueprints())
    register_slide(app, AREA, slides.slides, slides.detail, "ledger/_slide_detail.html", order=40,
                   label=_l("收支公示"))
    media.register_public_images(app, AREA, public.shows_receipt)
    pagecache.register_cacheable(app, AREA, "ledger.index", "ledger.period")
    areas.template_filters(app, yuan=money.format_yuan, daxie=money.uppercase)
    areas.template_helpers(app, ledger_cadence_line=lines.cadence_line, ledger_memory_suffix=lines.memory_suffix,
                          ledger_book_label=lines.book_label)
    register_landing(app, AREA, waiting.period_to_sign)
