"""Logging in and staying logged in: sessions, throttling, passwords and the secret key."""
import os
import re
import stat
import threading
import time
from datetime import timedelta

import pytest
import time_machine
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash

from kiosk import create_app
from kiosk.auth.models import LoginFailure, LoginSession, Role, User
from kiosk.database import utcnow
from kiosk.extensions import db

from conftest import PASSWORD, SECRET, csrf_token, login_as, post_form
from security_support import app, fill, redirect_path, request_as, rule_variants, state, world  # noqa: F401

LOGIN = "/admin/login"
ADMIN = "/admin/maple/notices/"
NEW_PASSWORD = "a-brand-new-password-1"


def log_in(client, username, password=PASSWORD, address=None, **kwargs):
    """Log in through the real form (a third of a second of PBKDF2 each)."""
    if address:
        kwargs["environ_base"] = {"REMOTE_ADDR": address}
    token = csrf_token(client, LOGIN)
    return client.post(LOGIN, data={"username": username, "password": password, "csrf_token": token}, **kwargs)


def logged_in(client):
    response = client.get(ADMIN)
    return response.status_code == 200


# --- the login form ------------------------------------------------------------------------------------

def test_right_password_logs_in_and_wrong_one_does_not(client, chair):
    response = log_in(client, "chair", "wrong-password-123")
    assert response.status_code == 200 and "用户名或密码不对" in response.get_data(as_text=True)
    assert not logged_in(client)
    response = log_in(client, " Chair ")  # as typed on a phone: capital letter, stray spaces
    assert response.status_code == 302
    assert logged_in(client)


def test_login_starts_a_fresh_session(client, chair):
    """Session fixation: nothing planted in the session before login survives it, not even its CSRF secret."""
    old_token = csrf_token(client, LOGIN)
    with client.session_transaction() as session:
        session["planted"] = "attacker"
        session["_user_id"] = "attackers-own-key"
    assert log_in(client, "chair").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        key = session["_user_id"]
    assert key != "attackers-own-key"
    assert db.session.scalar(select(LoginSession).where(LoginSession.key_hash == LoginSession.hash_key(key)))
    # The token an attacker could have read before the login is no good after it.
    response = client.post("/admin/maple/notices/new", data={"title": "x", "category": "notice",
                                                              "csrf_token": old_token})
    assert response.status_code == 400


def test_each_login_gets_its_own_random_key(app, chair):
    first, second = app.test_client(), app.test_client()
    log_in(first, "chair")
    log_in(second, "chair")
    keys = []
    for client in (first, second):
        with client.session_transaction() as session:
            keys.append(session["_user_id"])
    assert keys[0] != keys[1] and len(keys[0]) >= 40


def _comparable(response, username):
    html = response.get_data(as_text=True)
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    html = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", html)
    return response.status_code, html.replace(username, "USERNAME")


def test_unknown_user_and_wrong_password_look_the_same(app, chair):
    """Same status, same page, and about the same time: the form does not tell which accounts exist."""
    log_in(app.test_client(), "warm-up", "x")  # the first unknown name pays for the dummy hash once
    timings, answers = {}, {}
    for username in ("nobody", "chair"):
        client = app.test_client()
        started = time.perf_counter()
        response = log_in(client, username, "wrong-password-123")
        timings[username] = time.perf_counter() - started
        answers[username] = _comparable(response, username)
    assert answers["nobody"] == answers["chair"]
    assert answers["chair"][0] == 200
    # An unknown name still pays for a full PBKDF2 check (a skipped one would take ~1% of the time).
    assert timings["nobody"] > 0.4 * timings["chair"], timings


def test_inactive_account_cannot_log_in(client, chair):
    chair.active = False
    db.session.commit()
    response = log_in(client, "chair")
    assert response.status_code == 200 and "用户名或密码不对" in response.get_data(as_text=True)
    assert not logged_in(client)


# --- throttling ------------------------------------------------------------------------------------------

def guess_from_everywhere(app, username, count, first=0):
    """Wrong passwords for one account, each from another address (as from a botnet)."""
    for i in range(first, first + count):
        response = log_in(app.test_client(), username, f"guess-{i}-123456", f"198.51.{100 + i // 250}.{i % 250 + 1}")
        assert response.status_code in (200, 429)


def own_phone(app, username="chair", address="192.0.2.10"):
    """The owner's phone: it logged in once (and so carries the device cookie), then logged out."""
    phone = app.test_client()
    assert log_in(phone, username, PASSWORD, address).status_code == 302
    phone.post("/admin/logout", data={"csrf_token": csrf_token(phone, "/admin/password")})
    assert phone.get_cookie("kiosk_device", path="/admin") is not None
    return phone


def test_wrong_guesses_elsewhere_do_not_lock_the_owner_out_of_her_own_phone(app, chair):
    """Reproduced: 10 wrong passwords from anywhere locked the account, the right password refused too. Now
    the owner's phone (it has logged in before) gets in at once however many guesses come from elsewhere."""
    phone = own_phone(app)
    guess_from_everywhere(app, "chair", 25)
    assert log_in(phone, "chair", PASSWORD, "192.0.2.10").status_code == 302
    assert logged_in(phone)
    # Her login forgets only her own mistakes: the guesser's failures still count against them.
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) >= 10


def test_too_many_failures_slow_an_account_down_for_a_new_phone_without_locking_it(app, chair, make_user, compound):
    app.config["LOGIN_ACCOUNT_LIMIT"] = 3
    other = make_user("other", compound, Role.member)
    with time_machine.travel(utcnow(), tick=False) as clock:
        # From three different addresses, with the name typed three ways: it is the account that counts.
        for username, address in (("chair", "198.51.100.1"), ("CHAIR", "198.51.100.2"), (" Chair", "198.51.100.3")):
            assert log_in(app.test_client(), username, "guess-123456", address).status_code == 200
        client = app.test_client()
        response = log_in(client, "chair", PASSWORD, "198.51.100.9")
        assert response.status_code == 429 and response.headers["Retry-After"] == "30"
        assert "请 30 秒后再试" in response.get_data(as_text=True)
        assert "在您以前登录过的手机上不用等" in response.get_data(as_text=True)
        assert not logged_in(client)
        assert log_in(app.test_client(), "other", PASSWORD, "198.51.100.9").status_code == 302
        clock.shift(31)  # the wait is over: the right password gets in, from any phone
        assert log_in(client, "chair", PASSWORD, "198.51.100.9").status_code == 302
    assert other is not None


def test_each_further_failure_doubles_the_wait_up_to_the_window(app, chair):
    app.config["LOGIN_ACCOUNT_LIMIT"] = 3
    waits = []
    with time_machine.travel(utcnow(), tick=False) as clock:
        guess_from_everywhere(app, "chair", 3)
        for i in range(8):
            response = log_in(app.test_client(), "chair", f"wrong-{i}-1234", f"203.0.113.{i + 1}")
            assert response.status_code == 429
            waits.append(int(response.headers["Retry-After"]))
            clock.shift(waits[-1])
            assert log_in(app.test_client(), "chair", f"wrong-{i}-5678", f"203.0.113.{i + 101}").status_code == 200
    assert waits == [30, 60, 120, 240, 480, 900, 900, 900]


def test_a_guesser_with_any_number_of_addresses_stays_slow(app, chair):
    """Six hours of the best an attacker can do: a fresh address for every try, each try the moment the wait
    ends. The account answers at most LOGIN_ACCOUNT_LIMIT + 5 (the doublings) + one per 15-minute window
    guesses -- and the owner on her own phone still gets in at any moment."""
    limit = app.config["LOGIN_ACCOUNT_LIMIT"]
    phone = own_phone(app)
    hours, guesses, tries = 6, 0, 0
    with time_machine.travel(utcnow(), tick=False) as clock:
        end = utcnow() + timedelta(hours=hours)
        while utcnow() < end:
            tries += 1
            response = log_in(app.test_client(), "chair", f"guess-{tries}-123456",
                              f"198.51.{100 + tries // 250}.{tries % 250 + 1}")
            if response.status_code == 429:
                clock.shift(int(response.headers["Retry-After"]))
            else:
                assert "用户名或密码不对" in response.get_data(as_text=True)
                guesses += 1
        assert guesses <= limit + 5 + hours * 4 + 1, guesses
        assert log_in(phone, "chair", PASSWORD, "192.0.2.10").status_code == 302


def test_concurrent_guesses_cannot_share_one_open_slot(app, chair):
    """Eight tries at the same moment when the account's wait has just ended (eight waitress threads): one is
    answered, the other seven wait. Checking and counting a try happen under one lock, and a try counts as a
    failure before its password is checked, so the slow-down holds under concurrency too."""
    app.config["LOGIN_ACCOUNT_LIMIT"] = 3
    guess_from_everywhere(app, "chair", 3)
    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(seconds=31)))
    db.session.commit()
    db.session.commit()
    addresses = [f"203.0.113.{i + 50}" for i in range(8)]
    barrier, answers = threading.Barrier(len(addresses)), []

    def guess(address):
        client = FlaskClient(app, app.response_class, use_cookies=True)  # its own app context per request
        token = csrf_token(client, LOGIN)
        barrier.wait()
        answers.append(client.post(LOGIN, data={"username": "chair", "password": f"guess-{address}",
                                                "csrf_token": token}, environ_base={"REMOTE_ADDR": address}).status_code)

    threads = [threading.Thread(target=guess, args=(address,)) for address in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == [200] + [429] * 7


def test_a_trusted_phone_that_keeps_failing_loses_its_pass(app, chair):
    """The device cookie exempts the owner's phone, not a phone that guesses: after LOGIN_ACCOUNT_LIMIT
    failures of its own it waits like any other."""
    app.config["LOGIN_ACCOUNT_LIMIT"] = 3
    phone = own_phone(app)
    for i in range(3):
        assert log_in(phone, "chair", f"typo-{i}-123456", "192.0.2.10").status_code == 200
    assert log_in(phone, "chair", PASSWORD, "192.0.2.10").status_code == 429


def test_another_accounts_or_a_forged_device_cookie_is_not_trusted(app, chair, make_user, compound):
    app.config["LOGIN_ACCOUNT_LIMIT"] = 3
    make_user("other", compound, Role.member)
    others_phone = own_phone(app, "other", "192.0.2.20")
    guess_from_everywhere(app, "chair", 3)
    assert log_in(others_phone, "chair", PASSWORD, "192.0.2.20").status_code == 429
    forged = app.test_client()
    forged.set_cookie("kiosk_device", others_phone.get_cookie("kiosk_device", path="/admin").value[:-3] + "abc",
                      path="/admin")
    assert log_in(forged, "chair", PASSWORD, "192.0.2.21").status_code == 429


def test_a_slowed_unknown_name_looks_like_a_slowed_account(app, chair):
    app.config["LOGIN_ACCOUNT_LIMIT"] = 2
    answers = {}
    with time_machine.travel(utcnow(), tick=False):
        for username in ("nobody", "chair"):
            guess_from_everywhere(app, username, 2, first=10 if username == "chair" else 0)
            response = log_in(app.test_client(), username, "wrong-password-123", "203.0.113.77")
            answers[username] = (_comparable(response, username), response.headers.get("Retry-After"))
    assert answers["nobody"] == answers["chair"]
    assert answers["chair"][0][0] == 429


def test_many_usernames_from_one_address_are_throttled(app, chair):
    app.config["LOGIN_ADDRESS_LIMIT"] = 3
    for name in ("admin", "root", "zhangsan"):
        assert log_in(app.test_client(), name, "guess-123456", "203.0.113.5").status_code == 200
    client = app.test_client()
    response = log_in(client, "chair", PASSWORD, "203.0.113.5")
    assert response.status_code == 429 and "登录失败次数太多" in response.get_data(as_text=True)
    assert not logged_in(client)
    # A forged X-Forwarded-For does not escape it (no trusted proxy is configured)...
    response = log_in(app.test_client(), "chair", PASSWORD, "203.0.113.5", headers={"X-Forwarded-For": "192.0.2.44"})
    assert response.status_code == 429
    # ...while the chair on another network still gets in.
    assert log_in(app.test_client(), "chair", PASSWORD, "203.0.113.6").status_code == 302


def test_throttle_window_passes(app, chair):
    app.config["LOGIN_ACCOUNT_LIMIT"] = 2
    for _ in range(2):
        log_in(app.test_client(), "chair", "guess-123456")
    assert log_in(app.test_client(), "chair").status_code == 429
    db.session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=16)))
    db.session.commit()
    assert log_in(app.test_client(), "chair").status_code == 302


# --- the session after login -----------------------------------------------------------------------------

def test_logout_ends_the_session_on_the_server(app, client, world):
    """A copy of the cookie taken before logout (shared computer, stolen cookie) is worthless after it."""
    login_as(client, world.chair)
    assert logged_in(client)
    copied = client.get_cookie("kiosk_session").value
    response = client.post("/admin/logout", data={"csrf_token": csrf_token(client, ADMIN)})
    assert response.status_code == 302 and redirect_path(response) == LOGIN
    assert not logged_in(client)
    replay = app.test_client()
    replay.set_cookie("kiosk_session", copied)
    response = replay.get(ADMIN)
    assert response.status_code == 302 and redirect_path(response) == LOGIN


def test_logout_through_the_real_login(app, chair):
    client = app.test_client()
    log_in(client, "chair")
    copied = client.get_cookie("kiosk_session").value
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, ADMIN)})
    replay = app.test_client()
    replay.set_cookie("kiosk_session", copied)
    assert redirect_path(replay.get(ADMIN)) == LOGIN


def test_logging_in_again_retires_the_previous_login(app, world):
    """Someone else logging in on the same phone ends the earlier account's server-side session too."""
    client = app.test_client()
    login_as(client, world.chair)
    assert logged_in(client)
    copied = client.get_cookie("kiosk_session").value
    assert log_in(client, "bystander").status_code == 302
    replay = app.test_client()
    replay.set_cookie("kiosk_session", copied)
    assert redirect_path(replay.get(ADMIN)) == LOGIN


def _age_session(key, minutes):
    db.session.execute(update(LoginSession).where(LoginSession.key_hash == LoginSession.hash_key(key))
                       .values(last_seen=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_admin_session_ends_after_30_idle_minutes(app, client, world):
    key = login_as(client, world.chair)
    _age_session(key, 31)
    response = client.get(ADMIN)
    assert response.status_code == 302 and redirect_path(response) == LOGIN
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "太久没有操作" in page  # and the person is told why
    _age_session(key, 0)  # the server ended it: coming back in time does not revive it
    assert redirect_path(client.get(ADMIN)) == LOGIN


def test_admin_session_survives_29_idle_minutes_and_activity_keeps_it(app, client, world):
    key = login_as(client, world.chair)
    _age_session(key, 29)
    assert client.get(ADMIN).status_code == 200
    db.session.rollback()
    row = db.session.scalar(select(LoginSession).where(LoginSession.key_hash == LoginSession.hash_key(key)))
    assert utcnow() - row.last_seen < timedelta(minutes=1)  # the visit counted as activity


def test_one_time_password_must_be_changed_before_anything_else(app, world, make_user):
    """Every admin page and action (from the url_map) sends a one-time-password account to /admin/password."""
    newbie = make_user("newbie", world.maple, Role.chair, must_change_password=True)
    newbie.is_platform_admin = True  # even platform staff: the platform pages are included
    db.session.commit()
    client = app.test_client()
    login_as(client, newbie)
    exempt = {"/admin/login", "/admin/logout", "/admin/password"}
    checked = 0
    before = state()
    for param in rule_variants(lambda r: r.rule.startswith("/admin") and r.rule not in exempt):
        rule, method, fixed = param.values
        response = request_as(client, method, fill(rule, world.values, fixed), world.values)
        assert response.status_code == 302, param.id
        assert redirect_path(response) == "/admin/password", param.id
        checked += 1
    assert checked >= 15
    assert state() == before
    page = client.get("/admin/password").get_data(as_text=True)
    assert "一次性密码" in page
    response = post_form(client, "/admin/password", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get(ADMIN).status_code == 200


def test_password_change_ends_the_accounts_other_sessions(app, world):
    here, elsewhere, colleague = app.test_client(), app.test_client(), app.test_client()
    login_as(here, world.chair)
    login_as(elsewhere, world.chair)
    login_as(colleague, world.bystander)
    response = post_form(here, "/admin/password", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert logged_in(here)
    assert redirect_path(elsewhere.get(ADMIN)) == LOGIN
    assert logged_in(colleague)


def test_password_change_needs_the_current_password(client, world):
    login_as(client, world.chair)
    response = post_form(client, "/admin/password", {"current": "not-my-password", "new": NEW_PASSWORD,
                                                     "confirm": NEW_PASSWORD})
    assert response.status_code == 200 and "当前密码不对" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(User, world.chair.id).check_password(PASSWORD)


# --- password hashing --------------------------------------------------------------------------------------

def pbkdf2_iterations(password_hash):
    method = password_hash.split("$", 1)[0]
    kind, digest, iterations = method.split(":")
    assert (kind, digest) == ("pbkdf2", "sha256"), method
    return int(iterations)


def test_passwords_are_stored_as_pbkdf2_sha256_with_600000_iterations(app):
    assert app.config["PASSWORD_ITERATIONS"] >= 600_000  # the default config, not lowered for tests
    user = User(username="x", display_name="x")
    user.set_password(PASSWORD)
    other = User(username="y", display_name="y")
    other.set_password(PASSWORD)
    assert pbkdf2_iterations(user.password_hash) >= 600_000
    assert PASSWORD not in user.password_hash
    assert user.password_hash != other.password_hash  # salted
    assert len(user.password_hash.split("$")[1]) >= 16
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_every_way_to_get_a_password_uses_the_strong_hash(app, world):
    """Platform creating a chair, a chair adding a member, anyone changing their own password."""
    platform, chair = app.test_client(), app.test_client()
    login_as(platform, world.platform)
    login_as(chair, world.chair)
    post_form(platform, "/admin/platform/", {"name": "新小区", "slug": "newtown", "community": "", "district": "",
                                             "admin_name": "新主任", "admin_username": "new-chair"})
    post_form(chair, "/admin/maple/members", {"display_name": "新委员", "username": "new-member", "role": "member"})
    post_form(chair, "/admin/password", {"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    db.session.rollback()
    for username in ("new-chair", "new-member", "chair"):
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, username
        assert pbkdf2_iterations(user.password_hash) >= 600_000, username
    assert check_password_hash(db.session.scalar(select(User.password_hash).where(User.username == "chair")),
                               NEW_PASSWORD)


def test_lowering_the_iteration_count_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("KIOSK_PASSWORD_ITERATIONS", raising=False)
    with pytest.raises(RuntimeError):
        create_app({"TESTING": True, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(tmp_path / "i"),
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3", "PASSWORD_ITERATIONS": 1000})


# --- the secret key -----------------------------------------------------------------------------------------

def app_without_secret(tmp_path, folder="instance", **extra):
    config = {"TESTING": True, "INSTANCE_PATH": str(tmp_path / folder),
              "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/unused.sqlite3"}
    config.update(extra)
    return create_app(config)


@pytest.fixture
def no_secret_env(monkeypatch):
    monkeypatch.delenv("KIOSK_SECRET_KEY", raising=False)


def test_first_start_writes_a_private_random_secret_and_reuses_it(tmp_path, no_secret_env):
    first = app_without_secret(tmp_path)
    path = tmp_path / "instance" / "secret_key"
    assert path.exists()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert first.config["SECRET_KEY"] == path.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32
    second = app_without_secret(tmp_path)
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    elsewhere = app_without_secret(tmp_path, folder="other-instance")
    assert elsewhere.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_a_restart_keeps_people_logged_in_and_another_server_cannot_forge(tmp_path, no_secret_env):
    """Sessions signed before a restart still verify; a cookie signed with another key does not."""
    first, second = app_without_secret(tmp_path), app_without_secret(tmp_path)
    stranger = app_without_secret(tmp_path, folder="stranger")
    signed = first.session_interface.get_signing_serializer(first).dumps({"_user_id": "k"})
    assert second.session_interface.get_signing_serializer(second).loads(signed) == {"_user_id": "k"}
    with pytest.raises(Exception):
        stranger.session_interface.get_signing_serializer(stranger).loads(signed)


@pytest.mark.parametrize("value", ["change-me", "CHANGE-ME", " changeme ", "dev", "secret",
                                   "short-but-random-Xy7", "x" * 31])
def test_placeholder_or_short_secret_in_the_environment_is_refused(tmp_path, monkeypatch, value):
    monkeypatch.setenv("KIOSK_SECRET_KEY", value)
    with pytest.raises(RuntimeError):
        app_without_secret(tmp_path)
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_placeholder_secret_in_instance_config_is_refused(tmp_path, no_secret_env):
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text('SECRET_KEY = "change-me"\n')
    with pytest.raises(RuntimeError):
        app_without_secret(tmp_path)


def test_a_long_random_secret_in_the_environment_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_SECRET_KEY", "s" * 20 + "0123456789abcdefghijKLMNOP")
    app = app_without_secret(tmp_path)
    assert app.config["SECRET_KEY"] == "s" * 20 + "0123456789abcdefghijKLMNOP"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_the_device_cookie_is_httponly_lax_admin_only_and_secure_over_https(app, chair):
    plain = log_in(app.test_client(), "chair").headers.getlist("Set-Cookie")
    device = next(c for c in plain if c.startswith("kiosk_device="))
    assert "HttpOnly" in device and "SameSite=Lax" in device and "Path=/admin" in device and "Secure" not in device
    secure = log_in(app.test_client(), "chair", base_url="https://localhost",
                    headers={"Referer": "https://localhost/admin/login"}).headers.getlist("Set-Cookie")
    assert "Secure" in next(c for c in secure if c.startswith("kiosk_device="))
