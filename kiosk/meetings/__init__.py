"""Committee meetings (委员会会议): the agenda sent to the 居委会, attendance, decisions with how each member voted,
minutes confirmed by a majority of members from their phones, and the decision posted as a public notice within
the procedure profile's deadline. Residents see the posted decision as a notice (tallies, no names)."""

AREA = "meetings"


def init_app(app):
    """Declare meetings; register the committee's meeting pages and the dashboard flags they raise."""
    from .. import areas
    from ..committee.flags import register_flags
    from . import admin, service

    areas.declare(app, AREA)
    areas.register_blueprints(app, admin.bp)
    register_flags(app, AREA, service.flags)
