"""A background thread in the serving process that does what the clock decides: each area registers its work
(consultations: close votes on time, release secret votes' figures when their batch is due).

Requests also do that work when they look (a topic page closes its due vote); the sweeper makes sure it happens
on time even when nobody is looking. Several processes may sweep at once: each task claims what it changes (a
conditional UPDATE), so nothing is done twice.
"""
import logging
import threading

from . import areas

POINT = "clock"

log = logging.getLogger(__name__)


def register_clock(app, area, task):
    """An area's work the clock decides: task() -> how many things it changed, run on every sweep."""
    areas.register(app, POINT, area, task)


def sweep(app):
    """Run one pass of every area's clock work; return how many things it changed (topics closed, ...)."""
    from .extensions import db

    with app.app_context():
        try:
            return sum(task() or 0 for task in areas.registered(POINT).values())
        finally:
            db.session.remove()


def start(app, every=None):
    """Start the daemon thread (once per app) that sweeps every `every` seconds."""
    if app.extensions.get("kiosk_sweeper"):
        return app.extensions["kiosk_sweeper"]
    interval = every or app.config["SWEEP_SECONDS"]
    stop = threading.Event()

    def loop():
        while not stop.wait(interval):
            try:
                sweep(app)
            except Exception:  # noqa: BLE001 - a database hiccup must not end the thread; the next pass retries
                log.exception("sweep failed; retrying in %s s", interval)

    thread = threading.Thread(target=loop, name="kiosk-sweeper", daemon=True)
    thread.stop = stop
    thread.start()
    app.extensions["kiosk_sweeper"] = thread
    return thread
