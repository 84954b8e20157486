"""Error pages for people: a calm sentence and a way back, never a traceback."""
import logging

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, login_manager

log = logging.getLogger("kiosk")


def redacted_path():
    """The request path with a household card token blanked out, so tokens never reach a log."""
    return "/h/…" if request.path.startswith("/h/") else request.path


def _messages():
    return {
        400: _("请求有误，请返回上一页再试一次。"),
        403: _("您没有权限做这件事。"),
        404: _("找不到这个页面。它可能已经下架，或者网址有误。"),
        405: _("这个网址不能这样打开。"),
        413: _("文件太大了（最大 %(mb)s MB），什么都没有保存。请返回，换一个小一点的文件。",
               mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)),
        429: _("操作太频繁了，请稍等几分钟再试。"),
        500: _("服务器出了点问题，我们已经记下了。请稍后再试。"),
        503: _("系统正忙，请过一会儿再试。"),
    }


def _page(code, message=None):
    template = "errors/admin.html" if request.path.startswith("/admin") else "errors/public.html"
    body = render_template(template, code=code, message=message or _messages().get(code, _messages()[400]))
    return body, code


def _storage_trouble(error):
    """Whether a database error says the disk is full or read-only (SQLite or PostgreSQL), not just busy."""
    text = str(getattr(error, "orig", error)).lower()
    return any(words in text for words in ("disk is full", "readonly database", "read-only file system",
                                           "no space left on device", "could not extend file"))


def init_app(app):
    """Register handlers for HTTP errors, CSRF failures, a busy database and anything unexpected."""

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _page(400, _("页面停留太久已过期，内容没有保存。请返回，刷新页面后再提交。"))

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code in (301, 302, 303, 307, 308) or error.code < 400:
            return error
        body, code = _page(error.code)
        response = app.make_response((body, code))
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def database_busy(error):
        try:
            db.session.rollback()
        except Exception:  # a connection that went away; the pool replaces it later
            log.debug("rollback after a database error failed too", exc_info=True)
        log.warning("database unavailable: %s", error)
        # The page itself must not need the database (it may be locked, full or gone): no account lookup.
        if "_login_user" not in g:
            g._login_user = login_manager.anonymous_user()
        if _storage_trouble(error):
            code, message = 507, _("服务器的存储空间已满或只能读取，刚才的内容没有保存。请联系平台管理员。")
        else:
            code, message = 503, None
        try:
            body, code = _page(code, message)
        except Exception:  # noqa: BLE001 - still the calm sentence, without the page around it
            log.warning("error page without its template: the database is unavailable")
            body = f"<!doctype html><meta charset=utf-8><title>{code}</title><p>{message or _messages()[503]}</p>"
        response = app.make_response((body, code))
        response.headers["Retry-After"] = "5" if code == 503 else "60"
        return response

    @app.errorhandler(Exception)
    def unexpected(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error on %s %s", request.method, redacted_path())
        db.session.rollback()
        return _page(InternalServerError.code)
