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

Card holders (issue 16): a phone that opened its household card sends the household cookie, and a session
cookie, on every visit for two years. Most pages never look at either, so such a request may be served the page
a passer-by with the same preferences gets, under strict conditions: the cookies are exactly the preferences,
the household cookie and the session cookie (each once, parsed as Flask parses them); the session is validly
signed and holds nothing a page shows (only a CSRF token: no login; flash messages only for a page with holes,
below); and the kept page was rendered for a passer-by and did not look up the household cookie
(mark_identifying_reads tells the cache so, through the WSGI environ; no word counts as "it did"). Such a request
never stores its own answer: when nothing fits, the cache renders the page once as a passer-by would ask for it
(the same request without those two cookies) and keeps that; a page
that turns out to read the household cookie is remembered as personal for the entry's lifetime, and the card
holder's request goes to Flask as before. A card holder's page is therefore never kept or handed to anyone.

Pages with holes (the open topic page, kiosk/consult/topic_page.py): a view may leave in the environ (SHELL) an
object that answers card holders' requests itself, from the request's card cookie and plain session, or says it
can't; it may give the session a first CSRF token and take its flash messages out (the cache then sets the
session cookie as Flask would). It holds nothing of the household it was rendered for. The cache keeps it, with
the answer's status and headers (never its Set-Cookie), under the request's key, for PAGE_CACHE_SECONDS at most;
later card holders with
the same key are answered by it without Flask, and while one request renders it again the others still are.
Passers-by with the same key are answered by it too, with every hole left empty (no card, no session), unless
that page would need a CSRF token: then Flask answers, as for everyone before.

Requests arriving together for a page nothing is kept of yet (two hundred phones opening the vote when the chair
says so; every ballot moves the compound's version, so the key is new) wait, up to COALESCE_SECONDS, for the first
of them to render it, and are then answered from what it kept, rather than each rendering it.
"""
import functools
import gzip
import threading
import time

from flask import request
from sqlalchemy import text
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_dict_header, parse_set_header
from werkzeug.routing import RoutingException

from . import areas, compress, versions
from .security import session_cookie

POINT = "cacheable"
VARY_COOKIES = ("kiosk_lang", "kiosk_large")  # preferences: the page differs, the person doesn't matter
PRIVATE_COOKIES = ("kiosk_household",)  # households.cards.COOKIE: pages for that household alone
HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST")
# Request headers the key covers, by the names a response's Vary uses (Cookie: see _cookie_key).
KEYED_HEADERS = frozenset({"cookie", "accept-encoding", "hx-request", "hx-boosted", "hx-history-restore-request"})
REFUSED_DIRECTIVES = ("no-store", "private", "no-cache")
# Set in the WSGI environ by mark_identifying_reads when the app answered without looking up the household
# cookie; its absence (another path, a middleware that copied the environ) counts as "it may have read it".
HOUSEHOLD_UNREAD = "kiosk.household_unread"
# What a card holder's session may hold and still be served a passer-by's page: a CSRF token is only ever shown
# inside a form, and a page that renders one for a passer-by sets the session cookie, so it is never kept;
# Flask-Login's "_fresh" is False without a login (any other value, or a user id, and Flask renders).
SHAREABLE_SESSION = {"csrf_token": lambda value: True, "_fresh": lambda value: value is False}
# Flash messages waiting (a ballot's "已投票"): only a page with holes shows them (and takes them out of the
# session); any other page goes to Flask, which does.
FLASHES = "_flashes"
MAX_ENTRIES = 1024
# How long requests for a page nothing is kept of wait for the first one rendering it, before rendering it too.
COALESCE_SECONDS = 2
# Where a view leaves a page with holes for card holders (consult/topic_page.py): an object with
# seconds_left() (None or how long it may be served) and answer(card cookie, session) -> None or (bytes, None or
# the session to set: with a card holder's first CSRF token, without the flash messages the page showed).
SHELL = "kiosk.page_shell"
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
        self.entries = {}  # key -> (expires, status, headers, body, never read the household cookie)
        self.personal = {}  # key -> until when card holders' requests go straight to Flask
        self.unkept = {}  # key -> until when passers-by render it without waiting for each other (nothing to keep)
        self.shells = {}  # key -> (expires, status, headers, a page with holes its view left: SHELL)
        self._engine = None
        self._refreshing = threading.Lock()
        self._refreshing_shells = threading.Lock()
        self._pending = {}  # key -> Event: the first request for a page nothing is kept of is rendering it
        self._pending_lock = threading.Lock()
        self.endpoints = frozenset(e for found in areas.registered(POINT, flask_app).values() for e in found)
        # Bound once: the cache sees only PATH_INFO (no host matching, no subdomains in this app). Phones and
        # screens ask for the same few paths, so each path's answer is remembered (a match costs ~15 µs).
        self._urls = flask_app.url_map.bind("localhost")
        self._compound_of = functools.lru_cache(maxsize=MAX_ENTRIES)(self._match)
        # A phone sends the same session cookie for minutes: check its signature and contents once.
        self._plain_session = functools.lru_cache(maxsize=MAX_ENTRIES)(self._check_session)
        # ... and the same Cookie header on every request: parse it once (a third of a card holder's page).
        self._cookie_key = functools.lru_cache(maxsize=MAX_ENTRIES)(self._parse_cookie_header)

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
        with self._engine.connect().execution_options(kiosk_one_read=True) as conn:
            return conn.execute(_VERSION, {"slug": slug}).scalar()

    def _key(self, environ):
        """(key, the card holder's (card cookie, session) or False) for a request the cache may answer, or
        (None, False)."""
        if environ.get("REQUEST_METHOD") != "GET":
            return None, False
        slug = self._compound_of(environ.get("PATH_INFO", ""))
        if slug is None:
            return None, False
        raw = environ.get("HTTP_COOKIE", "")
        found = self._cookie_key(raw) if raw.strip(" \t;") else ((), False)
        if found is None:
            return None, False
        cookies, holder = found
        try:
            version = versions.get(versions.cache_of(self.flask_app), slug, self._load_version)
        except Exception:  # noqa: BLE001 - database trouble: let Flask answer (and report) it
            return None, False
        if version is None:
            return None, False
        # The host and scheme are in the key: without PUBLIC_URL, QR payloads are built from the address used
        # (behind a trusted proxy, ProxyFix has already put the forwarded host and scheme here).
        return (slug, version, environ.get("wsgi.url_scheme", ""), environ.get("HTTP_HOST", ""),
                environ.get("PATH_INFO"),
                environ.get("QUERY_STRING", ""),
                "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""),
                tuple(environ.get(h, "") for h in HTMX_HEADERS),
                cookies), holder

    def _parse_cookie_header(self, raw):
        """(the cookies as the key holds them, the card holder's (card cookie, session) or False), or None when
        the request may not be served; `raw` is a Cookie header with at least one cookie in it.

        Parsed by the app's own request class, so the cache sees exactly the cookies Flask will read. A card
        holder's key holds only the preferences: it names the passer-by's page they may be served.
        """
        cookies = self.flask_app.request_class({"HTTP_COOKIE": raw}).cookies
        pairs = list(cookies.items(multi=True))
        names = [name for name, _ in pairs]
        if not names or len(names) != len(set(names)):
            return None  # unparsable or repeated cookies: no guessing what the app makes of them
        preferences = tuple(sorted((name, value) for name, value in pairs if name in VARY_COOKIES))
        private = set(names) - set(VARY_COOKIES)
        folded = raw.lower()
        if not private:
            if any(name.lower() in folded for name in self.private_cookies):
                return None  # an identifying name Flask did not parse as such: don't guess
            return preferences, False
        if not private <= set(self.private_cookies) or PRIVATE_COOKIES[0] not in private:
            return None  # a committee member, a pending message, an unknown cookie: always render
        if sum(folded.count(name.lower()) for name in self.private_cookies) != len(private):
            return None  # an identifying name hidden elsewhere in the header (another case, inside a value)
        session = self._plain_session(cookies.get(self.private_cookies[0]))
        if session is None:
            return None
        return preferences, (cookies[PRIVATE_COOKIES[0]], session)

    def _check_session(self, value):
        """A card holder's session (a dict; {} without a session cookie) when it holds nothing a public page would
        show but flash messages (which only a page with holes shows), else None.

        (Remembered per cookie value: one that expires meanwhile would be an empty session to Flask, which
        shows the passer-by's page too.)"""
        if value is None:
            return {}
        app = self.flask_app
        serializer = app.session_interface.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            data = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()))
        except Exception:  # noqa: BLE001 - a bad signature, an expired or garbled cookie: let Flask decide
            return None
        plain = isinstance(data, dict) and all(
            _plain_flashes(value) if name == FLASHES else name in SHAREABLE_SESSION and SHAREABLE_SESSION[name](value)
            for name, value in data.items())
        return data if plain else None

    def __call__(self, environ, start_response):
        key, holder = self._key(environ)
        if key is None:
            return self.wsgi_app(environ, start_response)
        if holder:
            return self._serve_holder(key, holder, time.monotonic(), environ, start_response)
        return self._serve_passer_by(key, time.monotonic(), environ, start_response)

    def _serve_passer_by(self, key, now, environ, start_response, wait=True):
        hit = self.entries.get(key)
        if hit is not None and hit[0] > now:
            start_response(hit[1], hit[2])
            return [hit[3]]
        if key in self.shells:  # a page with holes: a passer-by's is the one with every hole left empty
            answered = self._from_shell(key, (None, {}), now, environ, start_response)
            if answered is not None:
                return answered
        # A page that keeps nothing (it sets a cookie, says no-store) is rendered by every request, without waiting.
        wait = wait and hit is None and self.unkept.get(key, 0) <= now
        first = self._first_render(key) if wait else None
        if wait and first is None:  # another request rendered it meanwhile: see what it kept
            return self._serve_passer_by(key, time.monotonic(), environ, start_response, wait=False)
        if hit is not None and not self._refreshing.acquire(blocking=False):
            # Same compound version, just older than the TTL, and another thread is already rendering
            # the page again: answer with the copy we have rather than piling up renders.
            start_response(hit[1], hit[2])
            return [hit[3]]
        try:
            body, kept = self._render(key, now, environ, start_response)
            if kept is None and key not in self.shells:
                if len(self.unkept) >= MAX_ENTRIES:
                    self.unkept.clear()
                self.unkept[key] = now + self.seconds
            return [body]
        finally:
            if hit is not None:
                self._refreshing.release()
            if first is not None:
                self._rendered(key, first)

    def _serve_holder(self, key, holder, now, environ, start_response, wait=True):
        """A card holder's request: filled into a page with holes when its view left one, the passer-by's page
        when it never looked at the household cookie, else Flask, with the real request (and nothing kept)."""
        answered = self._from_shell(key, holder, now, environ, start_response)
        if answered is not None:
            return answered
        if FLASHES in holder[1] or self.personal.get(key, 0) > now:
            return self._through_app(key, now, environ, start_response)
        hit = self.entries.get(key)
        if hit is not None and not hit[4]:
            return self._through_app(key, now, environ, start_response)  # a passer-by's page that read the cookie
        first = self._first_render(key) if wait and hit is None else None
        if wait and hit is None and first is None:  # another request rendered it meanwhile: see what it kept
            return self._serve_holder(key, holder, time.monotonic(), environ, start_response, wait=False)
        if hit is not None and (hit[0] > now or not self._refreshing.acquire(blocking=False)):
            start_response(hit[1], hit[2])  # fresh, or stale while another thread renders it again
            return [hit[3]]
        try:
            passer_by = self._as_passer_by(environ, key)
            if passer_by is not None:
                _, kept = self._render(key, now, passer_by, lambda *args: None)
                if kept is not None and kept[4]:
                    start_response(kept[1], kept[2])
                    return [kept[3]]
                # A page with holes (its view left one while rendering for the passer-by): fill this one in.
                answered = self._from_shell(key, holder, now, environ, start_response)
                if answered is not None:
                    return answered
                if len(self.personal) >= MAX_ENTRIES:
                    self.personal.clear()
                self.personal[key] = now + self.seconds
        finally:
            if hit is not None:
                self._refreshing.release()
            if first is not None:
                self._rendered(key, first)
        return self._through_app(key, now, environ, start_response)

    def _first_render(self, key):
        """For a page nothing is kept of yet: an Event to set when done if this request is the first to render
        it; else None, after waiting (at most COALESCE_SECONDS) for the one that is. When two hundred phones
        open the vote at once, one renders and the rest are answered from what it kept."""
        with self._pending_lock:
            pending = self._pending.get(key)
            if pending is None:
                if len(self._pending) >= MAX_ENTRIES:
                    return threading.Event()  # never expected: render without coalescing rather than grow
                pending = self._pending[key] = threading.Event()
                return pending
        pending.wait(COALESCE_SECONDS)
        return None

    def _rendered(self, key, event):
        with self._pending_lock:
            if self._pending.get(key) is event:
                del self._pending[key]
        event.set()

    def _from_shell(self, key, holder, now, environ, start_response):
        """Answer from the page with holes kept under `key`, or None (none kept, or it can't answer this one).
        One request renders an old one again through Flask (the same compound version, older than the TTL);
        meanwhile the others are filled in from it rather than piling up renders."""
        shell = self.shells.get(key)
        if shell is None:
            return None
        if shell[0] <= now and self._refreshing_shells.acquire(blocking=False):
            try:
                return self._through_app(key, now, environ, start_response)
            finally:
                self._refreshing_shells.release()
        return self._fill(shell, holder, environ, start_response)

    def _through_app(self, key, now, environ, start_response):
        """Flask answers a card holder; a page with holes its view left in the environ (SHELL) is kept, with the
        answer's status and headers, for the next card holders with the same key."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, capture)
        self._keep_shell(key, now, environ, captured.get("status", ""), captured.get("headers", []))
        return body

    def _keep_shell(self, key, now, environ, status, headers):
        """Keep the page with holes a view left in the environ (SHELL), with its answer's status and headers,
        for the next requests with the same key."""
        shell = environ.get(SHELL)
        if shell is None or not status.startswith("200"):
            return
        left = shell.seconds_left()
        if left is not None and left <= 0:
            return
        if len(self.shells) >= MAX_ENTRIES:
            self.shells.clear()
        # A Set-Cookie was this request's own (its session's new CSRF token, Flask-Login's "_fresh" mark): a
        # shell sets only the session its own answer changed (a first CSRF token, flash messages shown: _fill).
        kept = [(n, v) for n, v in headers if n.lower() not in ("content-length", "set-cookie")]
        self.shells[key] = (now + min(self.seconds, left or self.seconds), status, kept, shell)

    def _fill(self, kept, holder, environ, start_response):
        """Answer from a kept shell, filled in for this card holder (gzipped when Flask's answer was), with the
        session cookie Flask would set when the shell changed the session (a first CSRF token, flash messages
        shown); or None when only Flask can answer."""
        _, status, headers, shell = kept
        answered = shell.answer(*holder)
        if answered is None:
            return None
        body, session = answered
        if any(n.lower() == "content-encoding" for n, _ in headers):
            if len(body) < compress.MIN_SIZE:
                return None  # Flask would not have compressed it: let it answer
            body = gzip.compress(body, compresslevel=compress.LEVEL, mtime=0)
        headers = [*headers, ("Content-Length", str(len(body)))]
        if session is not None:
            app = self.flask_app
            headers.append(("Set-Cookie", session_cookie(app, app.session_interface.get_signing_serializer(app),
                                                          session, environ.get("wsgi.url_scheme") in ("https", "wss"))))
        start_response(status, headers)
        return [body]

    def _as_passer_by(self, environ, key):
        """A copy of a GET's environ without the household and session cookies, or None if it would not ask
        for the very page the key names."""
        copy = dict(environ)
        copy.pop(HOUSEHOLD_UNREAD, None)
        cookies = key[-1]
        if cookies:
            copy["HTTP_COOKIE"] = "; ".join(f"{name}={value}" for name, value in cookies)
        else:
            copy.pop("HTTP_COOKIE", None)
        again, holder = self._key(copy)
        return copy if again == key and not holder else None

    def _render(self, key, now, environ, start_response):
        """Render through Flask and keep a shareable answer, noting whether it read the household cookie;
        return (body, the kept entry or None)."""
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, headers, exc_info)

        body = b"".join(self.wsgi_app(environ, capture))
        status, headers = captured.get("status", ""), captured.get("headers", [])
        self._keep_shell(key, now, environ, status, headers)
        if not (status.startswith("200") and shareable(headers)):
            return body, None
        if len(self.entries) >= MAX_ENTRIES:
            self.entries.clear()
        entry = (now + self.seconds, status, headers, body, environ.get(HOUSEHOLD_UNREAD) is True)
        self.entries[key] = entry
        return body, entry


def _plain_flashes(value):
    """Whether a session's flash messages are as flask.flash stores them: (category, message) pairs of text."""
    return isinstance(value, list) and all(
        isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(part, str) for part in pair)
        for pair in value)


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
    if not hasattr(cookies, "looked_up_any"):
        return response
    if not cookies.looked_up_any(PRIVATE_COOKIES):
        request.environ[HOUSEHOLD_UNREAD] = True  # the page cache may hand this page to card holders too
    else:
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
