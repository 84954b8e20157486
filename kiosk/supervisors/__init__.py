"""The supervisory body's election: platform staff apply a decided supervisors' election to the compound.

Its own area because it reads consultations (the election's result) and changes accounts (auth/supervision.py):
in auth/ it would tie auth and consult in a cycle, and consult must not know about accounts' roles. Appointing
and removing one supervisor happens on the members page (committee/views.py) through auth/supervision.py; the
changes are recorded under auth's SUPERVISORS name.
"""


def init_app(app):
    """Register the election page."""
    from .. import areas
    from . import views

    areas.register_blueprints(app, views.bp)
