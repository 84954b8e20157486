"""The setup checklist (开通清单): a new compound's steps, each ticking itself from the data, the district's view
of every compound's progress, and the starter kit to print in one go (开通材料包)."""

AREA = "setup"


def init_app(app):
    """Register the checklist, the district progress and the starter kit, and the landing's checklist helper."""
    from .. import areas
    from . import checklist, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
    areas.template_helpers(app, setup_checklist=checklist.current_checklist)
