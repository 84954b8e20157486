"""The committee's pages about itself: its accounts (the members page) and the audit log of every change made in
the compound. The rules for accounts and supervisors are auth's (accounts.py, supervision.py)."""


def init_app(app):
    """Register the members page, the audit log and the dashboard flags other areas raise."""
    from .. import areas
    from . import flags, views

    areas.register_blueprints(app, *views.blueprints())
    areas.template_helpers(app, committee_flags=flags.committee_flags)
