"""Visitor preferences kept in cookies: language (Chinese unless English was picked) and large type."""
from babel import Locale
from flask import Blueprint, current_app, g, has_app_context, redirect, request, url_for
from flask_babel import get_translations
from jinja2 import pass_context
from markupsafe import Markup

from .extensions import babel
from .security import local_path

bp = Blueprint("i18n", __name__)
COOKIE = "kiosk_lang"


def select_locale():
    """Return the visitor's chosen language, zh_CN by default: a Locale made once per language (Flask-Babel would
    parse the name into a new one for every request, and the new one would load its data again)."""
    chosen = request.cookies.get(COOKIE)
    code = chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]
    found = _LOCALES.get(code)
    if found is None:
        found = _LOCALES[code] = Locale.parse(code)
    return found


_LOCALES = {}  # language code -> babel Locale


def select_timezone():
    """Return the display time zone."""
    return current_app.config["TIMEZONE"]


@bp.route("/lang/<code>")
def choose(code):
    """Remember a language choice and go back to a page on this site."""
    back = local_path(request.args.get("next", ""), url_for("auth.index"))
    response = redirect(back)
    if code in current_app.config["LANGUAGES"]:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=request.is_secure)
    return response


LARGE_COOKIE = "kiosk_large"


def large_type():
    """Return whether this visitor turned on large type (长辈模式); read once per request (a page asks five times)."""
    current = request._get_current_object()
    found = current.__dict__.get("kiosk_large_type")
    if found is None:
        found = current.__dict__["kiosk_large_type"] = current.cookies.get(LARGE_COOKIE) == "1"
    return found


@bp.route("/large/<any(on, off):state>")
def choose_large(state):
    """Remember the large-type choice for a year and go back to the page."""
    back = local_path(request.args.get("next", ""), url_for("site.index"))
    response = redirect(back)
    response.set_cookie(LARGE_COOKIE, "1" if state == "on" else "0", max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=request.is_secure)
    return response


def translations():
    """Flask-Babel's translations for this request (or app context), found once per locale: Flask-Babel looks
    them up again on every call (its context, the locale, the locale's name; about 8 µs of the 10 a template's
    `_()` took), and a page calls it dozens of times. A locale forced for a while (force_locale) is another
    locale object, so it finds its own."""
    if not has_app_context():
        return get_translations()
    ctx = g.get("_flask_babel")  # Flask-Babel's per-request namespace (it holds the chosen locale)
    kept = getattr(ctx, "kiosk_translations", None)
    if kept is not None and kept[0] is getattr(ctx, "babel_locale", None):
        return kept[1]
    found = get_translations()  # chooses the locale (select_locale) if nothing has yet
    ctx = g.get("_flask_babel")
    locale = getattr(ctx, "babel_locale", None)
    if locale is not None:
        ctx.kiosk_translations = (locale, found)
    return found


@pass_context
def template_gettext(context, string, **variables):
    """`_()` and `gettext()` in templates: what Jinja's i18n extension does with newstyle gettext (escaped
    arguments; the text is always a format string), without its two indirections per call."""
    text = translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def init_app(app):
    """Bind Flask-Babel with our selectors and register the language route."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories="translations")
    # Jinja's i18n extension wraps these (ngettext, pgettext, npgettext); gettext and _ are template_gettext.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n), newstyle=True)
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = template_gettext
    app.register_blueprint(bp)
    app.jinja_env.globals["large_type"] = large_type
