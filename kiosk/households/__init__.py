"""Households: the owners' roll (units, their area and owners) and the household QR cards that open "our
household" on a resident's phone."""

AREA = "households"
CARDS = "cards"  # changes to cards are recorded under their own name


def init_app(app):
    """Declare the roll and the cards, and register their blueprints."""
    from .. import areas
    from . import cards, delivery, models, roll  # noqa: F401  (models: the tables join the metadata; delivery: its routes)

    areas.declare(app, AREA, CARDS)
    areas.register_blueprints(app, *roll.blueprints(), *cards.blueprints())
    areas.template_helpers(app, occupancy_label=lambda value: models.OCCUPANCY_LABELS[value])
