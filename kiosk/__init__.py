"""Community Kiosk (社区公示屏): create_app() assembles the application."""
import logging
import os
from pathlib import Path

from flask import Flask
from flask_login import current_user
from htmx_flask import Htmx
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    areas,
    auth,
    committee,
    consult,
    distribution,
    documents,
    home,
    households,
    ledger,
    meetings,
    notices,
    opendata,
    platform,
    practice,
    roster,
    screen,
    setup,
    supervisors,
)
from . import config as config_module
from .extensions import csrf, db, login_manager, migrate
from .version import __version__  # noqa: F401  (kiosk.__version__)

# Every area, in the order its pages are registered; each area's init_app says what it brings (see areas.py).
# home comes last: its /<compound>/ is the most general page.
AREAS = (auth, notices, screen, households, roster, distribution, consult, supervisors, ledger, meetings, documents,
         committee, platform, practice, opendata, setup, home)

_PACKAGE = Path(__file__).resolve().parent
SQLITE_POOL_SIZE = 12  # connections kept open to a SQLite file: 8 serving threads, the sweeper, and room


def _resource_dir(name):
    """Return templates/ or static/: inside the package when installed from a wheel, beside it in a checkout."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def create_app(test_config=None):
    """Build the application: settings, extensions, blueprints, CLI and security headers."""
    app = Flask(
        __name__,
        # None lets Flask choose: instance/ beside the package in a checkout, <prefix>/var/kiosk-instance
        # when installed from a wheel (never inside site-packages).
        instance_path=(test_config or {}).get("INSTANCE_PATH") or os.environ.get("KIOSK_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder=str(_resource_dir("templates")),
        static_folder=str(_resource_dir("static")),
    )
    # Jinja's default template cache is an LRU behind one lock that every render_template takes. Under load, a
    # thread preempted while holding it (the GIL changes hands every 0.5 ms, serving.shorten_switch_interval)
    # stalls every other thread's render behind it: py-spy found two thirds of the uncached period page's
    # samples waiting there. Our templates are a fixed set, so a plain dict, read without a lock, is enough.
    app.jinja_options = {**app.jinja_options, "cache_size": -1}
    from .templating import KioskEnvironment
    app.jinja_environment = KioskEnvironment  # before anything renders: Flask makes app.jinja_env on first use
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.env_overrides())
    if test_config:
        app.config.update(test_config)
    _finish_config(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_PACKAGE / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    # Templates get current_user as the proxy, resolved only by a template that uses it: Flask-Login's context
    # processor would load the visitor (session, remember cookie) for every page rendered, though few show it.
    login_manager.init_app(app, add_context_processor=False)
    app.jinja_env.globals["current_user"] = current_user
    Htmx(app)

    from . import compress, i18n, security, errors, templating
    from . import request as kiosk_request
    kiosk_request.init_app(app)  # first: the bounded `int` converter must exist before any route is added
    compress.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from . import health, media, pagecache
    from .compounds import context as compound_context

    compound_context.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(media.bp)
    for area in AREAS:
        area.init_app(app)
    areas.check(app)
    pagecache.init_app(app)

    @app.teardown_request
    def _end_transaction(exc):
        # Each request ends its own transaction, so a read (deferred) one never carries into the next.
        db.session.rollback()

    from . import cli
    cli.init_app(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app):
    """Behind KIOSK_TRUSTED_PROXIES reverse proxies, take the client's address, scheme and host from the last
    hops' X-Forwarded-For/-Proto/-Host; with 0 (the default) those headers are ignored.

    Installed last, so it wraps the page cache and the fast pulse too: they key on the same host and scheme
    Flask renders with. X-Forwarded-Prefix is never trusted: the kiosk lives at the root of its host (its
    URLs are printed on posters), and a prefix a client slipped past the proxy would end up in cached pages.
    """
    proxies = int(app.config.get("TRUSTED_PROXIES") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


def _sqlite_file(uri):
    """Whether the database is a SQLite file (pooled; an in-memory one has one shared connection)."""
    return uri.startswith("sqlite:///") and ":memory:" not in uri and "mode=memory" not in uri


def _finish_config(app):
    """Derive settings that depend on others: database URL, secret key, cookies."""
    from . import storage

    cfg = app.config
    storage.private_dir(app.instance_path)
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        cfg["SQLALCHEMY_DATABASE_URI"] = cfg.get("DATABASE_URL") or (
            "sqlite:///" + str(Path(app.instance_path) / "kiosk.sqlite3"))
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A server restart must not hand out dead connections; a SQLite file has nothing to ping.
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10})
    elif _sqlite_file(cfg["SQLALCHEMY_DATABASE_URI"]):
        # SQLAlchemy keeps 5 SQLite connections by default: with 8 serving threads and the sweeper the others
        # were opened (four PRAGMAs) and closed again on every request under load, a quarter of a vote's time.
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_size": SQLITE_POOL_SIZE})
    if not cfg.get("SECRET_KEY"):
        cfg["SECRET_KEY"] = config_module.load_or_create_secret(app.instance_path)
    config_module.check_secret(cfg["SECRET_KEY"])
    config_module.check_password_iterations(cfg["PASSWORD_ITERATIONS"])
    if cfg.get("PUBLIC_URL", "") and str(cfg["PUBLIC_URL"]).startswith("https://"):
        # Not setdefault: Flask's own defaults already hold SESSION_COOKIE_SECURE = False.
        cfg["SESSION_COOKIE_SECURE"] = True
    app.debug = cfg.get("KIOSK_ENV") == "development" and not cfg.get("TESTING")
    if not app.debug:
        logging.getLogger("kiosk").setLevel(logging.INFO)
    storage.secure_instance(app)  # after the log level: tightening an old file is reported
