"""Login, logout, password change and the committee's start page."""
from flask import Blueprint, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..security import local_path
from . import landing, sessions
from .access import login_redirect, require_login
from .forms import LoginForm, PasswordForm
from .models import User

bp = Blueprint("auth", __name__, url_prefix="/admin")

_dummy_hashes = {}


def _dummy_hash():
    """A hash to check unknown usernames against, so they take as long as wrong passwords."""
    iterations = current_app.config["PASSWORD_ITERATIONS"]
    if iterations not in _dummy_hashes:
        _dummy_hashes[iterations] = generate_password_hash("not-a-password", method=f"pbkdf2:sha256:{iterations}")
    return _dummy_hashes[iterations]


def _landing(user, target):
    """Where a login goes: the page asked for (if it is on this site), else whatever waits for this person (a
    supervisor's month to sign), else the start page."""
    fallback = url_for("auth.index")  # asked for explicitly, it is still "no page in mind"
    asked = local_path(target, fallback)
    if asked != fallback:
        return asked
    return landing.landing_for(user) or fallback


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log in on a right password unless throttled."""
    form = LoginForm()
    status = 200
    if not current_user.is_authenticated and g.get("session_expired"):  # loading the user notes a timeout
        flash(_("太久没有操作，已自动退出，请重新登录。"), "info")
    retry_after = None
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        address = request.remote_addr or "unknown"
        cookie = request.cookies.get(sessions.DEVICE_COOKIE)
        device = sessions.trusted_device(cookie, username)
        wait, by_address = sessions.claim_attempt(username, address, device)  # counted as failed until proven
        if wait:
            form.form_errors.append(_wait_sentence(wait, by_address))
            status, retry_after = 429, wait
        else:
            user = db.session.scalar(select(User).where(User.username == username))
            ok = user.check_password(form.password.data) if user else check_password_hash(_dummy_hash(), form.password.data)
            if ok and user.active:
                sessions.clear_failures(username, address, device)
                sessions.start_session(user)
                db.session.commit()
                response = redirect(_landing(user, request.args.get("next")))
                sessions.remember_device(response, cookie, username)
                return response
            form.form_errors.append(_("用户名或密码不对。"))
    response = make_response(render_template("auth/login.html", form=form), status)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _wait_sentence(seconds, by_address):
    """How long to wait, in words people use: seconds under a minute, else whole minutes."""
    wait = _("%(n)s 秒", n=seconds) if seconds < 60 else _("%(n)s 分钟", n=-(-seconds // 60))
    if by_address:
        return _("登录失败次数太多，请 %(wait)s后再试。", wait=wait)
    return _("登录失败次数太多，为了防止别人猜密码，这个账号请 %(wait)s后再试。在您以前登录过的手机上不用等。", wait=wait)


@bp.route("/logout", methods=["POST"])
def logout():
    """End the login session on the server and go back to the login page."""
    sessions.end_session()
    db.session.commit()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    """Change one's password; required right after logging in with a one-time password."""
    refusal = require_login()
    if refusal is not None:
        return refusal
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors.append(_("当前密码不对。"))
        else:
            # Straight after a first login the one-time password sent them here instead of where they would have
            # landed (a supervisor's month to sign): go there now. Asked before the session is renewed below.
            target = landing.landing_for(current_user._get_current_object()) or url_for("auth.index")
            current_user.set_password(form.new.data)
            current_user.must_change_password = False
            sessions.end_other_sessions(current_user)
            sessions.start_session(current_user)  # a new key too: a cookie copied before the change is dead
            db.session.commit()
            flash(_("密码已更新。"), "success")
            return redirect(target)
    return render_template("auth/password.html", form=form)


@bp.route("/")
def index():
    """The committee's start page: straight to the only compound, or a list to pick from."""
    if not current_user.is_authenticated:
        return login_redirect()
    refusal = require_login()
    if refusal is not None:
        return refusal
    compounds = current_user.compounds()
    if len(compounds) == 1 and not current_user.is_platform_admin:
        return redirect(url_for("notices_admin.index", compound=compounds[0].slug))
    return render_template("admin/start.html", compounds=compounds)
