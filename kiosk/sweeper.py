"""A background thread in the serving process that does what the clock decides: close votes on time, and
release secret votes' figures when their batch is due.

Requests also close due topics when they look at them; the sweeper makes sure a vote closes (and the lobby
screens learn the result) at its deadline even when nobody is looking. Several processes may sweep at once:
closing claims the topic with a conditional UPDATE, so each topic is frozen exactly once.
"""
import logging
import threading

log = logging.getLogger(__name__)


def sweep(app):
    """Run one pass: freeze every topic whose voting has ended and release due secret-vote figures; return how
    many topics were closed."""
    from .consult import service
    from .extensions import db

    with app.app_context():
        try:
            return service.keep_time()
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
