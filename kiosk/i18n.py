"""Visitor preferences kept in cookies: language (Chinese unless English was picked) and large type."""
from flask import Blueprint, current_app, redirect, request, url_for

from .extensions import babel
from .security import local_path

bp = Blueprint("i18n", __name__)
COOKIE = "kiosk_lang"


def select_locale():
    """Return the visitor's chosen language, zh_CN by default."""
    chosen = request.cookies.get(COOKIE)
    return chosen if chosen in current_app.config["LANGUAGES"] else current_app.config["BABEL_DEFAULT_LOCALE"]


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
    """Return whether this visitor turned on large type (长辈模式)."""
    return request.cookies.get(LARGE_COOKIE) == "1"


@bp.route("/large/<any(on, off):state>")
def choose_large(state):
    """Remember the large-type choice for a year and go back to the page."""
    back = local_path(request.args.get("next", ""), url_for("site.index"))
    response = redirect(back)
    response.set_cookie(LARGE_COOKIE, "1" if state == "on" else "0", max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=request.is_secure)
    return response


def init_app(app):
    """Bind Flask-Babel with our selectors and register the language route."""
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone,
                   default_translation_directories="translations")
    app.register_blueprint(bp)
    app.jinja_env.globals["large_type"] = large_type
