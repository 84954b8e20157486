"""Server-side login sessions (so logout and idle timeout really end them) and login throttling."""
import math
import secrets
from datetime import timedelta

from flask import current_app, g, request, session
from flask_login import login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, or_, select, text, update

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


# --- login throttling ---------------------------------------------------------------------------------------
#
# Ten wrong passwords used to lock an account for everyone, its owner included: anyone could lock the chair
# out before a meeting. Now an account slows down instead, and its owner's own phone is not slowed at all:
#
# - Per address (strict, unchanged): LOGIN_ADDRESS_LIMIT failures from one address within the window refuse
#   every try from it until the window has passed.
# - Per account name (slow down, never lock): after LOGIN_ACCOUNT_LIMIT failures on one name within a day,
#   from any address, each further try waits after the latest failure: 30 s, doubling with every failure, at
#   most the window (15 min). Whatever the attacker's number of addresses, the guesses on one account stay
#   under LOGIN_ACCOUNT_LIMIT + 5 (the doublings) + one per window: about 110 a day against the strong hash
#   and 10+ character passwords (tests/test_auth.py measures the bound).
# - A trusted device is exempt from the account's slow-down: a browser that has logged in to the account
#   before carries a signed cookie naming it (a device id and the account names that logged in on it). It
#   still meets the address limit, and it loses the exemption after LOGIN_ACCOUNT_LIMIT failures of its own
#   within a day. An attacker cannot make such a cookie without the secret key, and cannot earn one without
#   the password, so the real user on their own phone gets in while someone elsewhere is guessing.
#
# All counts come from the database (login_failure), so several processes share them. The answer never
# depends on whether the account exists: unknown names are counted and slowed down the same way.
DEVICE_COOKIE = "kiosk_device"
DEVICE_SALT = "kiosk-login-device"
DEVICE_DAYS = 365
DEVICE_NAMES = 5  # accounts remembered per device (a shared committee phone)
FIRST_DELAY_SECONDS = 30
ACCOUNT_HORIZON = timedelta(days=1)


def _serializer():
    return URLSafeSerializer(current_app.secret_key, salt=DEVICE_SALT)


def read_device(cookie):
    """Return (device id, account names) from a device cookie, or (None, []) if absent or forged."""
    if not cookie:
        return None, []
    try:
        data = _serializer().loads(cookie)
    except BadSignature:
        return None, []
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) or not isinstance(data.get("u"), list):
        return None, []
    return data["d"][:32], [name for name in data["u"] if isinstance(name, str)]


def trusted_device(cookie, username):
    """The device id if the cookie says this browser has logged in to `username` before, else None."""
    device, names = read_device(cookie)
    return device if device and username in names else None


def remember_device(response, cookie, username):
    """After a login, (re)issue the device cookie with this account name first."""
    device, names = read_device(cookie)
    device = device or secrets.token_hex(16)
    names = [username] + [name for name in names if name != username][:DEVICE_NAMES - 1]
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps({"d": device, "u": names}),
                        max_age=DEVICE_DAYS * 86400, path="/admin", httponly=True, samesite="Lax",
                        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def _count(*conditions):
    return db.session.scalar(select(func.count()).select_from(LoginFailure).where(*conditions))


def _seconds_until(moment, now):
    return max(1, math.ceil((moment - now).total_seconds()))


def login_wait(username, address, device=None):
    """Return how many seconds this try must wait (0: it may go ahead), and whether the address is the reason."""
    cfg = current_app.config
    now = utcnow()
    window = timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    by_address = _count(LoginFailure.address == address, LoginFailure.at >= now - window)
    if by_address >= cfg["LOGIN_ADDRESS_LIMIT"]:
        # Free again when enough of them have left the window.
        freeing = db.session.scalar(select(LoginFailure.at).where(
            LoginFailure.address == address, LoginFailure.at >= now - window).order_by(LoginFailure.at)
            .offset(by_address - cfg["LOGIN_ADDRESS_LIMIT"]).limit(1))
        return _seconds_until(freeing + window, now), True
    since = now - ACCOUNT_HORIZON
    limit = cfg["LOGIN_ACCOUNT_LIMIT"]
    if device and _count(LoginFailure.username == username, LoginFailure.device == device,
                         LoginFailure.at >= since) < limit:
        return 0, False
    failures = _count(LoginFailure.username == username, LoginFailure.at >= since)
    if failures < limit:
        return 0, False
    latest = db.session.scalar(select(func.max(LoginFailure.at)).where(LoginFailure.username == username))
    delay = min(window, timedelta(seconds=FIRST_DELAY_SECONDS * 2 ** min(failures - limit, 20)))
    if now >= latest + delay:
        return 0, False
    return _seconds_until(latest + delay, now), False


def claim_attempt(username, address, device=None):
    """Decide whether this try may go ahead and, if so, count it as a failure before the password is checked
    (the owner's login removes it again). Returns login_wait()'s answer; commits.

    Checking and counting happen under a lock on the account name and the address, so concurrent tries --
    eight threads per process, several processes -- cannot all slip through the one slot that opened: each
    sees the ones before it. SQLite's write transaction is that lock already; PostgreSQL takes advisory locks,
    always name first, then address, so two tries never wait on each other crosswise."""
    if db.session.get_bind().dialect.name == "postgresql":
        for space, value in ((1, username), (2, address)):
            db.session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:value))"),
                               {"space": space, "value": value})
    wait, by_address = login_wait(username, address, device)
    if not wait:
        record_failure(username, address, device)
    db.session.commit()
    return wait, by_address


def record_failure(username, address, device=None):
    """Remember a failed login and forget failures older than a day."""
    db.session.add(LoginFailure(username=username, address=address, device=device))
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - ACCOUNT_HORIZON))


def clear_failures(username, address, device=None):
    """After the account's owner logs in, forget their own mistakes (this address or this device); failures
    from elsewhere stay counted, so a guesser is not given a fresh start by the owner's login."""
    mine = LoginFailure.address == address
    if device:
        mine = or_(mine, LoginFailure.device == device)
    db.session.execute(delete(LoginFailure).where(LoginFailure.username == username, mine))
