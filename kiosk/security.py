"""Security headers on every response, and cookies marked Secure whenever the request came over TLS."""
from flask import abort, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.http import dump_cookie

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
])

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin keeps the Referer that Flask-WTF checks on HTTPS, and sends none elsewhere.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=()",
}


class TLSAwareSessionInterface(SecureCookieSessionInterface):
    """Mark the session cookie Secure when configured or when this request arrived over HTTPS; and make the
    signing serializer once per set of keys (Flask makes one for every request, about 30 µs, mostly its check
    that the JSON serializer gives text)."""

    _signing = None  # (the keys it was made with, the serializer)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        kept = self._signing
        if kept is not None and kept[0] == keys:
            return kept[1]
        serializer = super().get_signing_serializer(app)
        self._signing = (keys, serializer)
        return serializer

    def get_cookie_secure(self, app):
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def session_cookie(app, serializer, data, secure):
    """The Set-Cookie value Flask's session interface would send for a (not permanent) session holding `data`,
    for answers made below Flask (the fast vote, a topic page filled from its shell). `serializer`: the app's
    session signing serializer; `secure`: the request came over HTTPS."""
    interface = app.session_interface
    return dump_cookie(
        interface.get_cookie_name(app), serializer.dumps(data), expires=None,
        httponly=interface.get_cookie_httponly(app), domain=interface.get_cookie_domain(app),
        path=interface.get_cookie_path(app), secure=bool(app.config["SESSION_COOKIE_SECURE"]) or secure,
        partitioned=interface.get_cookie_partitioned(app), samesite=interface.get_cookie_samesite(app),
        max_size=app.config["MAX_COOKIE_SIZE"])


def local_path(target, fallback):
    r"""Return target if a browser following it stays on this site, else fallback (for ?next= redirects).

    Besides "//host" and "/\host", browsers drop tabs and newlines from a URL ("/\t/evil.example" becomes
    "//evil.example"), and a newline would not fit in a Location header at all.
    """
    if (not target or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)):
        return fallback
    return target


def add_security_headers(response):
    """Set the security headers; private pages are also kept out of caches."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith(("/admin", "/h/")) or request.path.endswith("/my"):
        response.headers["Cache-Control"] = "no-store"
    return response


def refuse_nul(endpoint=None, view_args=None):
    """Refuse (400) a NUL character in the URL, the query or a form field: no field needs one, and
    PostgreSQL cannot store or even compare text holding one (it would be a 500 there, stored on SQLite).

    Installed as the app's URL value preprocessor, which runs before the blueprints' (they look up the compound).
    """
    values = [v for v in (view_args or {}).values() if isinstance(v, str)]
    for multi in (request.args, request.form):
        for key, value in multi.items(multi=True):
            values += [key, value]
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app):
    """Install the session interface and the header hook."""
    app.session_interface = TLSAwareSessionInterface()
    app.url_value_preprocessor(refuse_nul)
    app.after_request(add_security_headers)
