"""Accounts, roles, login/logout, throttling and role checks; committee accounts and the supervisory body (who
may sign the ledger), whose pages are in committee/ and supervisors/."""

AREA = "accounts"
SUPERVISORS = "supervisors"  # changes to the supervisory body are recorded under their own name


def init_app(app):
    """Declare accounts and supervisors; register the login pages and the role checks templates use."""
    from .. import areas
    from . import access, models, views

    areas.declare(app, AREA, SUPERVISORS)
    areas.register_blueprints(app, views.bp)
    areas.template_helpers(app, can_edit=access.can_edit, is_chair=access.is_chair,
                           role_label=lambda role: models.ROLE_LABELS[role])
