"""The committee's pages about itself: its accounts (the members page) and the audit log of every change made in
the compound. The rules for accounts and supervisors are auth's (accounts.py, supervision.py)."""


def init_app(app):
    """Register the members page and the audit log."""
    from .. import areas
    from . import views

    areas.register_blueprints(app, *views.blueprints())
