"""Settings as an operator gives them: defaults, then instance/config.py, then KIOSK_* environment
variables, then (for tests) the config passed to create_app()."""
import os
import stat
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, insert, select

from kiosk import create_app
from kiosk.auth.models import LoginFailure
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.notices.models import Category, Notice, Status

from conftest import SECRET, make_app, post_form


@pytest.fixture(autouse=True)
def no_kiosk_environment(monkeypatch):
    """Start every test from an operator's clean environment."""
    for name in list(os.environ):
        if name.startswith("KIOSK_") or name == "FLASK_DEBUG":
            monkeypatch.delenv(name)


def bare_app(tmp_path, **config):
    """An app configured like a real server: no database URL or secret unless given here or in env."""
    return create_app({"INSTANCE_PATH": str(tmp_path / "instance"), **config})


def close(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def add_compound_with_notice(app, published_at=None):
    with app.app_context():
        compound = Compound(slug="maple", name="枫叶小区")
        db.session.add(compound)
        db.session.flush()
        notice = Notice(compound_id=compound.id, title="停水通知", category=Category.notice,
                        status=Status.published, published_at=published_at or datetime.now(timezone.utc))
        db.session.add(notice)
        db.session.commit()
        return notice.id


def failed_login(client, remote_addr, forwarded_for=None, username="ghost"):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return post_form(client, "/admin/login", {"username": username, "password": "not-the-password"},
                     headers=headers, environ_base={"REMOTE_ADDR": remote_addr})


def test_each_layer_overrides_the_one_before(tmp_path, database_url, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        'TIMEZONE = "Europe/Berlin"\nMAX_CONTENT_LENGTH = 1000\nLOGIN_WINDOW_MINUTES = 7\n')
    monkeypatch.setenv("KIOSK_MAX_CONTENT_LENGTH", "3000")
    monkeypatch.setenv("KIOSK_LOGIN_WINDOW_MINUTES", "9")
    app = make_app(tmp_path, database_url, LOGIN_WINDOW_MINUTES=11)
    try:
        assert app.config["TIMEZONE"] == "Europe/Berlin"  # instance/config.py over the default
        assert app.config["MAX_CONTENT_LENGTH"] == 3000  # environment over instance/config.py, as a number
        assert app.config["LOGIN_WINDOW_MINUTES"] == 11  # test config over the environment
        assert app.config["ADMIN_IDLE_MINUTES"] == 30  # untouched default

        # What residents and committee members notice: times in the configured zone...
        notice_id = add_compound_with_notice(app, datetime(2026, 6, 12, 1, 30, tzinfo=timezone.utc))
        client = app.test_client()
        page = client.get(f"/maple/n/{notice_id}").get_data(as_text=True)
        assert "2026年6月12日 03:30" in page  # Berlin summer time, not Shanghai's 09:30
        # ...and request bodies limited by the environment's value, not instance/config.py's.
        assert failed_login(client, "10.0.0.2", username="a" * 1500).status_code != 413
        assert post_form(client, "/admin/login", {"username": "a" * 4000, "password": "x"}).status_code == 413
    finally:
        close(app)


def test_defaults_without_any_configuration(tmp_path):
    app = bare_app(tmp_path)
    try:
        assert app.config["TIMEZONE"] == "Asia/Shanghai"
        assert app.config["MAX_CONTENT_LENGTH"] == 8 * 1024 * 1024
        assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'kiosk.sqlite3'}"
        assert app.config["SESSION_COOKIE_SECURE"] is False
        assert not app.debug
    finally:
        close(app)


def test_kiosk_database_url_selects_the_database(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    app = bare_app(tmp_path, TESTING=True, SECRET_KEY=SECRET)
    try:
        assert app.config["SQLALCHEMY_DATABASE_URI"] == database_url
        # A compound written straight into that database is what the server shows.
        engine = create_engine(database_url)
        with engine.begin() as conn:
            conn.execute(insert(Compound).values(slug="maple", name="环境变量小区", community="", district="",
                                                 version=0, created_at=datetime.now(timezone.utc)))
        engine.dispose()
        page = app.test_client().get("/maple/")
        assert page.status_code == 200 and "环境变量小区" in page.get_data(as_text=True)
        assert not (tmp_path / "instance" / "kiosk.sqlite3").exists()
    finally:
        close(app)


def test_database_url_in_instance_config_is_used(tmp_path, sqlite_template):
    instance = tmp_path / "instance"
    instance.mkdir()
    target = tmp_path / "elsewhere.sqlite3"
    target.write_bytes(sqlite_template.read_bytes())
    (instance / "config.py").write_text(f'DATABASE_URL = "sqlite:///{target}"\n')
    app = bare_app(tmp_path, TESTING=True, SECRET_KEY=SECRET)
    try:
        add_compound_with_notice(app)
        assert app.test_client().get("/maple/").status_code == 200
        assert not (instance / "kiosk.sqlite3").exists()
    finally:
        close(app)


def test_without_trusted_proxies_a_spoofed_forwarded_for_is_ignored(tmp_path, database_url):
    app = make_app(tmp_path, database_url, LOGIN_ADDRESS_LIMIT=3)
    try:
        client = app.test_client()
        for i in range(3):
            assert failed_login(client, "10.0.0.2", f"198.51.100.{i}", username=f"guess{i}").status_code == 200
        with app.app_context():
            assert set(db.session.scalars(select(LoginFailure.address))) == {"10.0.0.2"}
        # Rotating the header does not get a guesser past the per-address limit.
        assert failed_login(client, "10.0.0.2", "198.51.100.99", username="guess9").status_code == 429
    finally:
        close(app)


def test_with_one_trusted_proxy_the_client_address_comes_from_forwarded_for(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("KIOSK_TRUSTED_PROXIES", "1")
    app = make_app(tmp_path, database_url, LOGIN_ADDRESS_LIMIT=3)
    try:
        client = app.test_client()
        # The proxy appends the address it saw; anything the client put before it is not trusted.
        for i in range(3):
            failed_login(client, "10.0.0.2", f"6.6.6.{i}, 203.0.113.7", username=f"guess{i}")
        with app.app_context():
            assert set(db.session.scalars(select(LoginFailure.address))) == {"203.0.113.7"}
        assert failed_login(client, "10.0.0.2", "6.6.6.9, 203.0.113.7", username="guess9").status_code == 429
        # Another resident behind the same proxy is not locked out by that address's failures.
        assert failed_login(client, "10.0.0.2", "203.0.113.8", username="guess8").status_code == 200
        # The proxy's X-Forwarded-Proto makes the session cookie Secure.
        response = app.test_client().get("/admin/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.8"},
                              environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert "Secure" in response.headers.get("Set-Cookie", "")
    finally:
        close(app)


def session_cookie(app):
    response = app.test_client().get("/admin/login")  # the login form stores its CSRF token in the session
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(app.config["SESSION_COOKIE_NAME"])]
    assert cookies, response.headers
    return cookies[0]


def test_https_public_url_makes_the_session_cookie_secure(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("KIOSK_PUBLIC_URL", "https://kiosk.example.org")
    app = make_app(tmp_path, database_url)
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
        # Even when the TLS proxy does not say so (no trusted X-Forwarded-Proto), the cookie is Secure.
        assert "; Secure" in session_cookie(app)
    finally:
        close(app)


def test_http_public_url_keeps_cookies_usable_over_plain_http(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("KIOSK_PUBLIC_URL", "http://192.168.1.20:8080")
    app = make_app(tmp_path, database_url)
    try:
        assert "; Secure" not in session_cookie(app)
    finally:
        close(app)


@pytest.mark.parametrize("environment, debug", [
    ({}, False),
    ({"KIOSK_ENV": "production"}, False),
    ({"FLASK_DEBUG": "1"}, False),  # Flask's own switch (and `kiosk --debug`) does not turn it on
    ({"KIOSK_ENV": "development"}, True),
])
def test_debug_is_off_unless_kiosk_env_is_development(tmp_path, monkeypatch, environment, debug):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    app = bare_app(tmp_path)
    try:
        assert app.debug is debug
        assert app.config["DEBUG"] is debug
    finally:
        close(app)


def test_production_error_page_shows_no_traceback(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("KIOSK_DATABASE_URL", database_url)
    app = bare_app(tmp_path)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    try:
        response = app.test_client().get("/boom")
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "secret internals" not in body and "Traceback" not in body
        assert "服务器出了点问题" in body
    finally:
        close(app)


def test_secret_key_is_generated_once_private_and_reused(tmp_path):
    first = bare_app(tmp_path)
    close(first)
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = bare_app(tmp_path)
    close(second)
    # Sessions survive a restart because the key does.
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == path.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32


@pytest.mark.parametrize("value", ["dev", "change-me", "short-but-not-placeholder"])
def test_placeholder_or_short_secret_stops_the_server(tmp_path, monkeypatch, value):
    monkeypatch.setenv("KIOSK_SECRET_KEY", value)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        bare_app(tmp_path)
