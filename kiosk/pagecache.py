"""A micro-cache for anonymous public pages, in front of Flask.

Phones and screens ask for the same few pages over and over; rendering each one costs milliseconds,
serving it from memory microseconds. The key carries the compound's version, so any committee change
makes a new key at once (in this process; within versions.TTL in others), and entries also expire
after PAGE_CACHE_SECONDS so time-driven changes (a notice's window ending) show without a change.
Only anonymous GETs of public compound pages that answered 200 without setting a cookie are kept.
"""
import re
import threading
import time
from http.cookies import SimpleCookie

from sqlalchemy import text

from . import versions

PUBLIC = re.compile(r"^/([a-z0-9][a-z0-9-]*)/(?:|n/\d+|committee|events/\d+|topics(?:/\d+)?|proposals|ledger/(?:\d+)?|screen/[A-Za-z0-9_-]+(?:/[A-Za-z0-9_/-]*)?|qr/[A-Za-z0-9/_-]+\.svg)$")
VARY_COOKIES = ("kiosk_lang", "kiosk_large")
PRIVATE_COOKIES = ("kiosk_household",)  # households.cards.COOKIE: pages for that household alone
HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST")
MAX_ENTRIES = 1024
_VERSION = text("SELECT version FROM compound WHERE slug = :slug")


class PageCache:
    """WSGI middleware keeping rendered public pages for a few seconds per compound version."""

    def __init__(self, wsgi_app, flask_app, seconds, session_cookie):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.seconds = seconds
        self.session_cookie = session_cookie
        self.entries = {}
        self._engine = None
        self._refreshing = threading.Lock()

    def _load_version(self, slug):
        if self._engine is None:
            from .extensions import db

            with self.flask_app.app_context():
                self._engine = db.engine
        with self._engine.connect().execution_options(kiosk_read_only=True) as conn:
            return conn.execute(_VERSION, {"slug": slug}).scalar()

    def _key(self, environ):
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        match = PUBLIC.match(environ.get("PATH_INFO", ""))
        if match is None:
            return None
        cookies = SimpleCookie()
        try:
            cookies.load(environ.get("HTTP_COOKIE", ""))
        except Exception:  # noqa: BLE001 - a malformed cookie header: just don't cache
            return None
        if self.session_cookie in cookies:
            return None  # a committee member or a pending message: always render
        if any(name in cookies for name in PRIVATE_COOKIES):
            return None  # a phone that remembers its household sees its own ballot and forms
        try:
            version = versions.get(versions.cache_of(self.flask_app), match.group(1), self._load_version)
        except Exception:  # noqa: BLE001 - database trouble: let Flask answer (and report) it
            return None
        if version is None:
            return None
        # The host and scheme are in the key: without PUBLIC_URL, QR payloads are built from the address used
        # (behind a trusted proxy, ProxyFix has already put the forwarded host and scheme here).
        return (match.group(1), version, environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""),
                environ.get("PATH_INFO"),
                environ.get("QUERY_STRING", ""),
                "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""),
                tuple(environ.get(h, "") for h in HTMX_HEADERS),
                tuple(cookies[c].value if c in cookies else "" for c in VARY_COOKIES))

    def __call__(self, environ, start_response):
        key = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and hit[0] > now:
            start_response(hit[1], hit[2])
            return [hit[3]]
        if hit is not None and not self._refreshing.acquire(blocking=False):
            # Same compound version, just older than the TTL, and another thread is already rendering
            # the page again: answer with the copy we have rather than piling up renders.
            start_response(hit[1], hit[2])
            return [hit[3]]
        try:
            return self._render(key, now, environ, start_response)
        finally:
            if hit is not None:
                self._refreshing.release()

    def _render(self, key, now, environ, start_response):
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = b"".join(self.wsgi_app(environ, capture))
        status, headers = captured.get("status", ""), captured.get("headers", [])
        if status.startswith("200") and not any(h.lower() == "set-cookie" for h, _ in headers):
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.clear()
            self.entries[key] = (now + self.seconds, status, headers, body)
        return [body]


def init_app(app):
    """Install the cache unless PAGE_CACHE_SECONDS is 0."""
    seconds = int(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds > 0:
        app.wsgi_app = PageCache(app.wsgi_app, app, seconds, app.config["SESSION_COOKIE_NAME"])
