"""Server-side login sessions (so logout and idle timeout really end them) and login throttling."""
from datetime import timedelta

from flask import current_app, g, session
from flask_login import login_user, logout_user
from sqlalchemy import delete, func, select, update

from ..database import utcnow, writing
from ..extensions import db, login_manager
from .models import LoginFailure, LoginSession, User

TOUCH_EVERY = timedelta(seconds=60)


@login_manager.user_loader
def load_user(key):
    """Return the account of a live login session key, ending it if idle too long."""
    row = db.session.scalar(select(LoginSession).where(
        LoginSession.key_hash == LoginSession.hash_key(key), LoginSession.ended_at.is_(None)))
    if row is None or not row.user.active:
        return None
    now = utcnow()
    idle = timedelta(minutes=current_app.config["ADMIN_IDLE_MINUTES"])
    if now - row.last_seen > idle:
        with writing():
            db.session.execute(update(LoginSession).where(LoginSession.id == row.id).values(ended_at=now))
        g.session_expired = True
        return None
    if now - row.last_seen > TOUCH_EVERY:
        with writing():
            db.session.execute(update(LoginSession).where(LoginSession.id == row.id).values(last_seen=now))
    user = db.session.get(User, row.user_id)
    user.session_key = key
    g.login_session_id = row.id
    return user


def _end_cookie_session():
    """End the server-side login session whose key this request's cookie holds, if any."""
    # By the key in the cookie: the user loader (which sets g.login_session_id) may not have run yet.
    key = session.get("_user_id")
    if key:
        db.session.execute(update(LoginSession).where(
            LoginSession.key_hash == LoginSession.hash_key(key), LoginSession.ended_at.is_(None),
        ).values(ended_at=utcnow()))


def start_session(user):
    """End and clear the old session, record a new server-side login and log the account in."""
    _end_cookie_session()  # logging in again (another account on a shared phone) retires the previous login
    session.clear()
    key = LoginSession.new_key()
    db.session.add(LoginSession(key_hash=LoginSession.hash_key(key), user_id=user.id))
    user.session_key = key
    login_user(user)
    session.permanent = True


def end_session():
    """End the current login session on the server and clear the cookie session."""
    _end_cookie_session()
    logout_user()
    session.clear()


def end_other_sessions(user):
    """End every login session of an account except the current one (after a password change)."""
    db.session.execute(update(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.ended_at.is_(None),
        LoginSession.id != g.get("login_session_id", -1)).values(ended_at=utcnow()))


def is_throttled(username, address):
    """Return whether too many recent failures for this account name or this address forbid a try."""
    cfg = current_app.config
    since = utcnow() - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    by_account = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.username == username, LoginFailure.at >= since))
    if by_account >= cfg["LOGIN_ACCOUNT_LIMIT"]:
        return True
    by_address = db.session.scalar(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.address == address, LoginFailure.at >= since))
    return by_address >= cfg["LOGIN_ADDRESS_LIMIT"]


def record_failure(username, address):
    """Remember a failed login and forget failures older than a day."""
    db.session.add(LoginFailure(username=username, address=address))
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - timedelta(days=1)))


def clear_failures(username):
    """Forget an account's failures after it logs in."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
