"""The ledger disclosure (收支公示): entries in fen, periods signed by supervisors, a hash chain, questions."""


def init_app(app):
    """Register the area's blueprints and its lobby-screen slide."""
    from . import admin, models, public, slides  # noqa: F401 - models: their tables join the metadata

    for module in (public, admin):
        for bp in module.blueprints():
            app.register_blueprint(bp)
    slides.register()
