"""A micro-cache for anonymous public pages, in front of Flask.

Phones and screens ask for the same few pages over and over; rendering each one costs milliseconds,
serving it from memory microseconds. The key carries the compound's version, so any committee change
makes a new key at once (in this process; within versions.TTL in others), and entries also expire
after PAGE_CACHE_SECONDS so time-driven changes (a notice's window ending) show without a change.

Only anonymous GETs of the public pages areas declared cacheable (register_cacheable: endpoint names, matched
against the app's own url_map) are kept, and only when the response allows a shared cache
to keep it. "Anonymous" is decided from the cookies exactly as Flask parses them (Werkzeug), and any doubt
refuses: a request carrying a cookie other than the preferences in the key (language, large type), a
cookie twice, a Cookie header that parses to nothing, or the name of a cookie that identifies someone
anywhere in the header is passed to Flask and its answer is not kept. A response is kept only if it is a
200 without Set-Cookie, its Cache-Control says neither no-store, private nor no-cache, and every header
its Vary names is in the key (Cookie is: the key holds the request's whole, parsed Cookie header).
"""
import functools
import threading
import time

from flask import request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_dict_header, parse_set_header
from werkzeug.routing import RoutingException

from . import areas, versions

POINT = "cacheable"
VARY_COOKIES = ("kiosk_lang", "kiosk_large")  # preferences: the page differs, the person doesn't matter
PRIVATE_COOKIES = ("kiosk_household",)  # households.cards.COOKIE: pages for that household alone
HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST")
# Request headers the key covers, by the names a response's Vary uses (Cookie: see _cookie_key).
KEYED_HEADERS = frozenset({"cookie", "accept-encoding", "hx-request", "hx-boosted", "hx-history-restore-request"})
REFUSED_DIRECTIVES = ("no-store", "private", "no-cache")
MAX_ENTRIES = 1024
_VERSION = text("SELECT version FROM compound WHERE slug = :slug")


def register_cacheable(app, area, *endpoints):
    """Name an area's public pages (endpoints under /<compound>/) that anonymous visitors may be served from
    memory; create_app checks they exist."""
    areas.register(app, POINT, area, frozenset(endpoints))


class PageCache:
    """WSGI middleware keeping rendered public pages for a few seconds per compound version."""

    def __init__(self, wsgi_app, flask_app, seconds, session_cookie):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.seconds = seconds
        self.private_cookies = (session_cookie, *PRIVATE_COOKIES)
        self.entries = {}
        self._engine = None
        self._refreshing = threading.Lock()
        self.endpoints = frozenset(e for found in areas.registered(POINT, flask_app).values() for e in found)
        # Bound once: the cache sees only PATH_INFO (no host matching, no subdomains in this app). Phones and
        # screens ask for the same few paths, so each path's answer is remembered (a match costs ~15 µs).
        self._urls = flask_app.url_map.bind("localhost")
        self._compound_of = functools.lru_cache(maxsize=MAX_ENTRIES)(self._match)

    def _match(self, path_info):
        """The compound slug of a cacheable page at this path, or None (any other page, or no page)."""
        try:
            # WSGI gives the path as latin-1 code points; the url_map matches text, as Flask decodes it.
            endpoint, args = self._urls.match(path_info.encode("latin-1").decode("utf-8", "replace"), method="GET")
        except (HTTPException, RoutingException, UnicodeError):  # not found, a redirect to add a slash, ...
            return None
        return args.get("compound") if endpoint in self.endpoints else None

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
        slug = self._compound_of(environ.get("PATH_INFO", ""))
        if slug is None:
            return None
        cookies = self._cookie_key(environ)
        if cookies is None:
            return None
        try:
            version = versions.get(versions.cache_of(self.flask_app), slug, self._load_version)
        except Exception:  # noqa: BLE001 - database trouble: let Flask answer (and report) it
            return None
        if version is None:
            return None
        # The host and scheme are in the key: without PUBLIC_URL, QR payloads are built from the address used
        # (behind a trusted proxy, ProxyFix has already put the forwarded host and scheme here).
        return (slug, version, environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""),
                environ.get("PATH_INFO"),
                environ.get("QUERY_STRING", ""),
                "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""),
                tuple(environ.get(h, "") for h in HTMX_HEADERS),
                cookies)

    def _cookie_key(self, environ):
        """The request's cookies as the key holds them, or None when the request may not be anonymous.

        Parsed by the app's own request class, so the cache sees exactly the cookies Flask will read.
        """
        raw = environ.get("HTTP_COOKIE", "")
        if not raw.strip(" \t;"):
            return ()
        folded = raw.lower()
        if any(name.lower() in folded for name in self.private_cookies):
            return None  # a committee member, a pending message or a household's phone: always render
        cookies = self.flask_app.request_class(environ).cookies
        names = [name for name, _ in cookies.items(multi=True)]
        if not names or len(names) != len(set(names)) or not set(names) <= set(VARY_COOKIES):
            return None  # unparsable, repeated or unknown cookies: no guessing what the app makes of them
        return tuple(sorted(cookies.items(multi=True)))

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
        if status.startswith("200") and shareable(headers):
            if len(self.entries) >= MAX_ENTRIES:
                self.entries.clear()
            self.entries[key] = (now + self.seconds, status, headers, body)
        return [body]


def shareable(headers):
    """Whether a response may be kept and handed to other people: no cookie set, no Cache-Control that
    forbids a shared cache, and no Vary on a request header the key does not hold."""
    for name, value in headers:
        name = name.lower()
        if name == "set-cookie":
            return False
        if name == "cache-control" and any(d in parse_dict_header(value.lower()) for d in REFUSED_DIRECTIVES):
            return False
        if name == "vary" and not set(parse_set_header(value.lower())) <= KEYED_HEADERS:
            return False  # includes "*"
    return True


def mark_identifying_reads(response):
    """A response that looked at the household cookie varies with it and is that household's alone.

    (Flask adds Vary: Cookie itself when the session was used.) Downstream caches then keep it apart or
    not at all, and the page cache above never keeps it.
    """
    cookies = request.cookies
    if hasattr(cookies, "looked_up_any") and cookies.looked_up_any(PRIVATE_COOKIES):
        response.vary.add("Cookie")
        if any(name in request.cookies for name in PRIVATE_COOKIES):
            control = response.headers.get("Cache-Control", "")
            if "private" not in control and "no-store" not in control:
                response.headers["Cache-Control"] = f"private, {control}" if control else "private"
    return response


def init_app(app):
    """Mark responses that read the household cookie; install the cache unless PAGE_CACHE_SECONDS is 0."""
    app.after_request(mark_identifying_reads)
    seconds = int(app.config.get("PAGE_CACHE_SECONDS") or 0)
    if seconds > 0:
        app.wsgi_app = PageCache(app.wsgi_app, app, seconds, app.config["SESSION_COOKIE_NAME"])
