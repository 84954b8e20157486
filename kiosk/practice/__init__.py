"""The practice compound (练习小区): a copy of a real compound's committee with invented demo data, marked 练习 on
every page and screen, never counted in the district's figures, and reset with one button."""

AREA = "practice"


def init_app(app):
    """Declare practice; register its pages, its template helper and what every practice page carries."""
    from .. import areas
    from . import marking, views

    areas.declare(app, AREA)
    areas.register_blueprints(app, *views.blueprints())
    areas.template_helpers(app, practice_marked=marking.practice_marked)
    app.before_request(marking.mirror_visitor)
    app.after_request(marking.no_index)
