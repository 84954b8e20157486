"""Who may see which admin page: login checks and role checks per compound."""
from functools import wraps

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .models import EDITOR_ROLES, Role


def login_redirect():
    """Send an anonymous visitor to the login page, remembering where they were going."""
    if g.get("session_expired"):  # set by the session loader when it ended an idle session just now
        flash(_("太久没有操作，已自动退出，请重新登录。"), "info")
    return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def require_login():
    """before_request for admin blueprints: log in first, and change a one-time password before anything else."""
    if not current_user.is_authenticated:
        return login_redirect()
    if current_user.must_change_password and request.endpoint != "auth.password":
        return redirect(url_for("auth.password"))
    return None


def require_committee():
    """before_request for /admin/<compound>/...: a member of that compound (or platform staff), else 404."""
    refusal = require_login()
    if refusal is not None:
        return refusal
    g.role = current_user.role_in(g.compound)
    if g.role is None and not current_user.is_platform_admin:
        abort(404)  # another compound's admin does not exist for this account
    return None


def can_edit():
    """Return whether the current account may post and edit in g.compound."""
    return current_user.is_platform_admin or g.get("role") in EDITOR_ROLES


def is_chair():
    """Return whether the current account leads g.compound's committee (or is platform staff)."""
    return current_user.is_platform_admin or g.get("role") in (Role.chair, Role.vice_chair)


def editor_required(view):
    """Refuse (403) committee accounts that may not post, such as supervisors."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not can_edit():
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def chair_required(view):
    """Refuse (403) accounts that do not lead the committee."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not is_chair():
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def platform_required():
    """before_request for platform pages: platform staff only (403 for committee accounts)."""
    refusal = require_login()
    if refusal is not None:
        return refusal
    if not current_user.is_platform_admin:
        abort(403)
    return None
