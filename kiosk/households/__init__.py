"""Households: the owners' roll, household QR cards, the committee roster, and gift distribution."""


def init_app(app):
    """Register the area's blueprints and its lobby-screen slides."""
    from . import cards, distribution, roll, roster

    for module in (roll, cards, roster, distribution):
        for bp in module.blueprints():
            app.register_blueprint(bp)
    roster.register_slides()
    distribution.register_slides()
