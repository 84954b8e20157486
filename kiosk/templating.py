"""Template filters and globals every area's pages use: sanitized Markdown, Chinese dates, the language switch.
(An area's own helpers are registered by its init_app: areas.template_helpers.)"""
from collections import ChainMap
from types import MappingProxyType

import nh3
from flask import current_app, g, has_request_context, request
from flask.templating import Environment
from flask_babel import get_locale
from markdown_it import MarkdownIt
from markupsafe import Markup

from .exports import in_wechat
from .timefmt import format_date, format_datetime, format_day, format_month
from .version import __version__

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "u", "s", "del", "ul", "ol", "li", "blockquote", "code", "pre",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "a", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text):
    """Render committee Markdown to HTML with raw HTML off and the result sanitized again."""
    html = _markdown.render(text or "")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)


class KioskEnvironment(Environment):
    """Flask's Jinja environment, where a template without globals of its own reads the environment's globals
    through a read-only view rather than a ChainMap over them.

    Jinja copies a template's globals into every context it makes (each render, include and macro import with
    context) and compares their keys on every import: through a ChainMap of our ~45 globals that cost about
    14 µs a time, a tenth of a small page; through the view, 2 µs. The view keeps what the ChainMap was for:
    the environment's globals show as they are now, and a template's own can never be written into them (Jinja
    would update a cached template's globals only for get_template(globals=...), which nothing here does; on
    the view that is an error, not a change to every page). A template given its own globals gets the ChainMap.
    """

    def make_globals(self, d):
        return MappingProxyType(self.globals) if not d else ChainMap(d, self.globals)


def init_app(app):
    """Register filters and globals."""
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["month"] = format_month
    app.jinja_env.globals["current_path"] = lambda: request.full_path.rstrip("?")
    app.jinja_env.globals["kiosk_version"] = __version__
    app.jinja_env.globals["html_lang"] = lambda: "en" if str(get_locale()).startswith("en") else "zh-CN"
    app.jinja_env.globals["in_wechat"] = in_wechat
    app.jinja_env.globals["icp_number"] = lambda: (current_app.config.get("ICP_NUMBER") or "").strip()

    @app.after_request
    def _vary_by_agent(response):
        # A page that looked at the User-Agent (WeChat or not) must not be reused for another browser.
        if g.get("asked_user_agent"):
            response.vary.add("User-Agent")
        return response

    app.jinja_env.globals["url_for"] = _static_urls_kept(app, app.jinja_env.globals["url_for"])

    @app.url_defaults
    def _static_version(endpoint, values):
        # Static files are cached for a day; the code version in the URL changes them on upgrade.
        if endpoint == "static":
            values.setdefault("v", app.jinja_env.globals["kiosk_version"])
    if app.config.get("TESTING"):
        from jinja2 import StrictUndefined
        app.jinja_env.undefined = StrictUndefined


def _static_urls_kept(app, url_for):
    """Templates' url_for, with the URL of a static file built once per file, code version and script root (every
    page links five or six, and building one costs as much as a small query): it depends on nothing else."""
    kept = {}

    def kept_url_for(endpoint, **values):
        if endpoint != "static" or len(values) != 1 or not has_request_context():
            return url_for(endpoint, **values)
        filename = values.get("filename")
        if not isinstance(filename, str):
            return url_for(endpoint, **values)
        key = (filename, app.jinja_env.globals["kiosk_version"], request.script_root)
        found = kept.get(key)
        if found is None:
            found = url_for(endpoint, filename=filename)
            if len(kept) >= 256:
                kept.clear()
            kept[key] = found
        return found

    return kept_url_for
