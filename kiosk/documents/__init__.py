"""The document library (文件公开): 管理规约, 议事规则, service contracts, committee minutes, audit reports and the
seal-use log, each version posted for at least the procedure profile's days, shown to residents as page images
rendered on the server (never the uploaded file), searchable and read aloud; audit reports on the lobby screen."""

AREA = "documents"


def init_app(app):
    """Declare documents; register the committee's and residents' pages, the audit slide and public images."""
    from flask import g
    from flask_babel import lazy_gettext as _l

    from .. import areas, media
    from ..screen.registry import register_slide
    from . import admin, district, forms, service, slides, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, admin.bp, district.bp, views.bp)
    register_slide(app, AREA, slides.slides, slides.detail, "documents/_slide_detail.html", order=45,
                   label=_l("审计报告"))
    media.register_public_images(app, AREA, service.shows_image)
    # What the ledger's period page and the district view include (documents/_audits_for_period.html,
    # documents/_district_cell.html) call, so those pages need not import this area.
    areas.template_helpers(app, audits_for_period=lambda period: service.audits_covering(
        g.compound, period.starts_on, period.ends_on), document_posting=service.posting_status)
    areas.template_filters(app, doc_kind=lambda kind: forms.KIND_LABELS.get(kind, kind))
