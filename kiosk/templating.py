"""Template filters and globals every area's pages use: sanitized Markdown, Chinese dates, the language switch.
(An area's own helpers are registered by its init_app: areas.template_helpers.)"""
import nh3
from flask import current_app, g, request
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

    @app.url_defaults
    def _static_version(endpoint, values):
        # Static files are cached for a day; the code version in the URL changes them on upgrade.
        if endpoint == "static":
            values.setdefault("v", app.jinja_env.globals["kiosk_version"])
    if app.config.get("TESTING"):
        from jinja2 import StrictUndefined
        app.jinja_env.undefined = StrictUndefined
