"""The pulse's common answer, "nothing changed", served below Flask: every screen asks every 2 s.

Only that one case is handled here (GET /<slug>/pulse?v=N where N is the compound's current version
and neither a contact write nor a screen's report is due); anything else falls through to the Flask view,
which stays the reference.
"""
import time
from urllib.parse import parse_qs

from sqlalchemy import text

from .. import versions
from ..version import __version__
from ..security import HEADERS

_QUERY = text("SELECT version FROM compound WHERE slug = :slug")


class FastPulse:
    """WSGI middleware answering unchanged pulses from the version cache (one SELECT per TTL)."""

    def __init__(self, wsgi_app, flask_app, contact_every):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.contact_every = contact_every
        self._engine = None
        self._headers = [(k, v) for k, v in HEADERS.items()] + [
            ("X-Kiosk-Code", __version__), ("Cache-Control", "no-store"), ("HX-Reswap", "none"),
            ("Content-Length", "0")]

    def engine(self):
        if self._engine is None:
            from ..extensions import db

            with self.flask_app.app_context():
                self._engine = db.engine
        return self._engine

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET":
            path = environ.get("PATH_INFO", "")
            if path.endswith("/pulse") and path.count("/") == 2:
                if self._unchanged(path[1:-len("/pulse")], environ.get("QUERY_STRING", ""),
                                   bool(environ.get("HTTP_HX_REQUEST"))):
                    start_response("200 OK", self._headers)
                    return []
        return self.wsgi_app(environ, start_response)

    def _unchanged(self, slug, query, from_htmx=False):
        args = parse_qs(query)
        if "live" in args:
            return False  # the screen's own check reports that htmx cannot run there: the Flask view records it
        try:
            seen = int(args["v"][0])
            screen_id = int(args["s"][0]) if "s" in args else None
        except (KeyError, ValueError):
            return False
        if screen_id is not None:
            contacts = self.flask_app.extensions.setdefault("kiosk_screen_contacts", {})
            if time.monotonic() - contacts.get(screen_id, 0) >= self.contact_every:
                return False  # the Flask view records the contact
            reports = self.flask_app.extensions.setdefault("kiosk_screen_reports", {})
            if from_htmx and reports.get(screen_id, (None, None))[1] is None:
                return False  # the first pulse htmx sends: the Flask view records that live updates run
        try:
            version = versions.get(versions.cache_of(self.flask_app), slug, self._load)
        except Exception:  # noqa: BLE001 - any trouble: let the full view answer (and report) it
            return False
        return version is not None and version == seen

    def _load(self, slug):
        with self.engine().connect().execution_options(kiosk_one_read=True) as conn:
            return conn.execute(_QUERY, {"slug": slug}).scalar()
