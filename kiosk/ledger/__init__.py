"""The ledger disclosure (收支公示): entries in fen, periods signed by supervisors, a hash chain, questions."""


def init_app(app):
    """Register the area's blueprints, its lobby-screen slide and its money filters."""
    # models: their tables join the metadata; exports: its routes join admin's blueprint before it is registered
    from . import admin, exports, models, money, public, slides  # noqa: F401

    for module in (public, admin):
        for bp in module.blueprints():
            app.register_blueprint(bp)
    slides.register()
    app.jinja_env.filters["yuan"] = money.format_yuan
    app.jinja_env.filters["daxie"] = money.uppercase
