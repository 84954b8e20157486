"""Must hold (issue 7): a client can't choose its own address, scheme or prefix with X-Forwarded-* headers.

The app runs under a real waitress with the settings `kiosk serve` uses (cli.waitress_options), so what
waitress itself does with these headers is part of the test.

- Without KIOSK_TRUSTED_PROXIES: rotating X-Forwarded-For does not get a card guesser (/h/<token>) or a
  password guesser past the per-address limits; the address recorded is the socket's; X-Forwarded-Proto
  does not make the session cookie Secure; X-Forwarded-Host does not change the links.
- With KIOSK_TRUSTED_PROXIES=1: the last X-Forwarded-For value (the one the proxy appended) is the client's
  address, and a value the client put in front of it is not believed; X-Forwarded-Proto https makes the
  cookie Secure; X-Forwarded-Prefix is never believed.
"""
import http.client
import re
import threading
import urllib.parse
from contextlib import contextmanager
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select
from waitress.server import create_server

from kiosk.auth.models import LoginFailure
from kiosk.cli import waitress_options
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.households import cards
from kiosk.households.cards import CardFailure

from conftest import CSRF_RE, make_app

GUESS_LIMIT = 4
ADDRESS_LIMIT = 3


@contextmanager
def served(tmp_path, database_url, trusted):
    """The app under waitress as `kiosk serve` runs it; yields (port, app)."""
    app = make_app(tmp_path, database_url, TRUSTED_PROXIES=trusted, LOGIN_ADDRESS_LIMIT=ADDRESS_LIMIT,
                   LOGIN_ACCOUNT_LIMIT=100, PAGE_CACHE_SECONDS=10)
    with app.app_context():
        db.session.add(Compound(slug="maple", name="枫叶小区"))
        db.session.commit()
        db.session.remove()
    server = create_server(app, host="127.0.0.1", port=0, **waitress_options(app, 4))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port, app
    finally:
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: [channel.handle_close() for channel in list(server._map.values())])
        thread.join(10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


class Client:
    """One browser: a cookie jar, a fresh connection per request, and headers it chooses itself."""

    def __init__(self, port):
        self.port = port
        self.jar = {}

    def request(self, method, path, form=None, headers=None):
        headers = dict(headers or {})
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        set_cookies = response.headers.get_all("Set-Cookie") or []
        for header in set_cookies:
            for name, morsel in SimpleCookie(header).items():
                self.jar[name] = morsel.value
        return response.status, text, set_cookies

    def failed_login(self, username, forwarded_for):
        headers = {"X-Forwarded-For": forwarded_for}
        status, text, _ = self.request("GET", "/admin/login", headers=headers)
        assert status == 200
        token = CSRF_RE.search(text).group(1)
        status, text, _ = self.request("POST", "/admin/login", headers=headers,
                                       form={"csrf_token": token, "username": username, "password": "not-it-123"})
        return status, text


def guess_card(port, forwarded_for):
    status, _, _ = Client(port).request("GET", "/h/not-a-real-card-token", headers={"X-Forwarded-For": forwarded_for})
    return status


def recorded(app, model):
    with app.app_context():
        try:
            return set(db.session.scalars(select(model.address)))
        finally:
            db.session.remove()


@pytest.fixture
def small_guess_limit(monkeypatch):
    monkeypatch.setattr(cards, "GUESS_LIMIT", GUESS_LIMIT)


def test_without_a_trusted_proxy_rotating_forwarded_for_does_not_dodge_the_throttles(
        tmp_path, database_url, small_guess_limit):
    with served(tmp_path, database_url, trusted=0) as (port, app):
        # The card-guessing throttle: every guess claims another address, all count against the socket's.
        for i in range(GUESS_LIMIT):
            assert guess_card(port, f"198.51.100.{i}") == 404
        assert guess_card(port, "198.51.100.200") == 429
        assert recorded(app, CardFailure) == {"127.0.0.1"}

        # The login throttle by address, with a new account name and a new claimed address each time.
        client = Client(port)
        for i in range(ADDRESS_LIMIT):
            status, text = client.failed_login(f"guess{i}", f"203.0.113.{i}")
            assert status == 200 and "用户名或密码不对" in text
        status, text = client.failed_login("guess9", "203.0.113.99")
        assert status == 429 and "登录失败次数太多" in text
        assert recorded(app, LoginFailure) == {"127.0.0.1"}


def test_without_a_trusted_proxy_forwarded_proto_and_host_are_ignored(tmp_path, database_url):
    with served(tmp_path, database_url, trusted=0) as (port, _app):
        status, text, cookies = Client(port).request("GET", "/admin/login", headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Prefix": "/evil"})
        assert status == 200
        assert cookies and not any("Secure" in c for c in cookies)
        assert "evil" not in text


def test_with_one_trusted_proxy_only_the_last_hop_is_believed(tmp_path, database_url, small_guess_limit):
    with served(tmp_path, database_url, trusted=1) as (port, app):
        # The proxy appended 203.0.113.7; what the client put in front of it changes every time.
        for i in range(GUESS_LIMIT):
            assert guess_card(port, f"6.6.6.{i}, 203.0.113.7") == 404
        assert guess_card(port, "6.6.6.99, 203.0.113.7") == 429
        assert recorded(app, CardFailure) == {"203.0.113.7"}
        # Another resident behind the same proxy is not locked out by that address's guesses.
        assert guess_card(port, "203.0.113.8") == 404

        client = Client(port)
        for i in range(ADDRESS_LIMIT):
            status, _ = client.failed_login(f"guess{i}", f"6.6.6.{i}, 203.0.113.7")
            assert status == 200
        status, _ = client.failed_login("guess9", "6.6.6.9, 203.0.113.7")
        assert status == 429
        assert recorded(app, LoginFailure) == {"203.0.113.7"}
        status, _ = Client(port).failed_login("guess8", "203.0.113.8")
        assert status == 200


def test_with_one_trusted_proxy_the_scheme_and_host_come_from_it_but_never_a_prefix(tmp_path, database_url):
    with served(tmp_path, database_url, trusted=1) as (port, _app):
        status, text, cookies = Client(port).request("GET", "/admin/login", headers={
            "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "kiosk.example.org",
            "X-Forwarded-Prefix": "/evil"})
        assert status == 200
        assert cookies and all("Secure" in c for c in cookies)
        assert "/evil" not in text
        assert re.search(r'action="/admin/login"|<form[^>]+method="post"', text)
        # The public pages (kept in the page cache) are not poisoned by a prefix either.
        status, text, _ = Client(port).request("GET", "/maple/", headers={
            "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Prefix": "/evil"})
        assert status == 200 and "/evil" not in text
