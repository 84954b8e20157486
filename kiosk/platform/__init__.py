"""Street-office (platform) staff's pages: every compound, and a new compound with its first chair. (Their other
pages belong to the areas they act on: broadcasts in notices/, the district's ledger view in ledger/, supervisors
in committee/ and supervisors/.)"""

AREA = "compounds"  # a new compound is recorded in its own audit log under this name


def init_app(app):
    """Declare compounds; register the compounds page."""
    from .. import areas
    from . import views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
