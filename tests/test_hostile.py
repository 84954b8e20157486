"""Hostile input the other security suites leave out (issue 7, "Hostile input").

- Request smuggling against the real server (`kiosk serve`'s waitress, cli.make_server, raw sockets):
  ambiguous framings are answered 400 (501 for an unknown coding, 413/431 for sizes) and the connection is
  closed; a request hidden in the body is never run (a control proves the same bytes, pipelined honestly,
  would have been).
- Cookie flags for every cookie the app sets, over plain http and each way of being on https.
- A login cookie copied before logout or a password change is refused on every admin state change.
- 101 wrong passwords for one account in an hour: slowed to a trickle, calm, the same for unknown accounts,
  others unaffected, and the owner still gets in from her own phone.
- Upload attacks through every upload field (notice image, roster photo, ledger receipts).
- Hypothesis fuzzing of every POST form and of the GET query strings: never a 500, never a traceback.

test_security_access/web, test_auth, test_uploads and test_forwarded cover the rest; nothing here repeats them.
"""
import io
import os
import re
import shutil
import socket
import struct
import zlib
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import threading

import pytest
import time_machine
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image as PILImage
from sqlalchemy import func, select
from waitress.adjustments import Adjustments
from wtforms.fields.core import UnboundField

from kiosk.auth.models import LoginFailure, Membership, Role, User
from kiosk import serving
from kiosk.auth.sessions import DEVICE_COOKIE
from kiosk.cli import make_server
from kiosk.compounds.models import Compound
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households import service as household_service
from kiosk.households.cards import COOKIE as CARD_COOKIE
from kiosk.households.models import Household, Occupancy
from kiosk.ledger import service as ledger_service
from kiosk.ledger.models import Category as LedgerCategory
from kiosk.notices.models import Notice
from kiosk.uploads import Image

from conftest import CSRF_RE, PASSWORD, csrf_token, login_as, make_app, password_hash, post_form
from factories import jpeg
from security_support import (  # noqa: F401  (app and world are fixtures)
    EVERY_FORM_FIELD, ROUTE_APP, app, fill, form_body, redirect_path, rule_variants, soup_of, state,
    traceback_signs, world,
)

LOGIN = "/admin/login"
ADMIN = "/admin/maple/notices/"


# ==== 1. request smuggling against the real server =======================================================

@pytest.fixture(scope="module")
def live(tmp_path_factory, sqlite_template):
    """The app under `kiosk serve`'s waitress (cli.make_server) on a free port, with maple's chair logged
    in over HTTP: (port, app, session cookie, CSRF token)."""
    folder = tmp_path_factory.mktemp("live")
    path = folder / "kiosk.sqlite3"
    shutil.copyfile(sqlite_template, path)
    app = make_app(folder, f"sqlite:///{path}")
    with app.app_context():
        compound = Compound(slug="maple", name="枫叶小区")
        user = User(username="chair", display_name="Chair", password_hash=password_hash(app),
                    must_change_password=False)
        db.session.add_all([compound, user])
        db.session.flush()
        db.session.add(Membership(user_id=user.id, compound_id=compound.id, role=Role.chair))
        db.session.commit()
        db.session.remove()
    server = make_server(app, "127.0.0.1", 0, 4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        port = server.effective_port
        jar = {}
        status, _, text = exchange(port, http_request("GET", LOGIN), jar)
        token = CSRF_RE.search(text).group(1)
        body = f"csrf_token={token}&username=chair&password={PASSWORD}".encode()
        status, _, _ = exchange(port, http_request("POST", LOGIN, body, jar=jar, form=True), jar)
        assert status == 302, "could not log in over HTTP"
        status, headers, text = exchange(port, http_request("GET", "/admin/maple/notices/new", jar=jar), jar)
        assert status == 200, (status, headers, text[:300])
        yield port, app, "; ".join(f"{k}={v}" for k, v in jar.items()), CSRF_RE.search(text).group(1)
    finally:
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: [channel.handle_close() for channel in list(server._map.values())])
        thread.join(10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def http_request(method, path, body=b"", jar=None, form=False, extra=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if jar:
        lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in jar.items()))
    if form:
        lines.append("Content-Type: application/x-www-form-urlencoded")
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode() + b"\r\n" + extra + b"\r\n" + body


def exchange(port, raw, jar=None):
    """One request on its own connection (Connection: close): (status, headers, text)."""
    raw = raw.replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nConnection: close\r\n", 1)
    data, _ = send_raw(port, raw)
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = head.decode("latin-1").split("\r\n")[1:]
    if jar is not None:
        for line in headers:
            if line.lower().startswith("set-cookie:"):
                for name, morsel in SimpleCookie(line.split(":", 1)[1].strip()).items():
                    jar[name] = morsel.value
    return status, headers, body.decode("utf-8", "replace")


def send_raw(port, raw, timeout=5):
    """Send bytes, read until the server closes: (everything read, how it ended)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data, ended = b"", "closed"
    try:
        try:
            sock.sendall(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused and hung up before taking it all (an over-long header)
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                ended = "left open"
                break
            except ConnectionResetError:
                ended = "reset"
                break
            if not chunk:
                break
            data += chunk
    finally:
        sock.close()
    return data, ended


def statuses(data):
    """The status of each response in what the server sent, read one after another by Content-Length."""
    found = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        match = re.match(rb"HTTP/1\.[01] (\d{3}) ", head)
        assert match and sep, f"not an HTTP response: {data[:80]!r}"
        found.append(int(match.group(1)))
        length = re.search(rb"^content-length: *(\d+)", head, re.M | re.I)
        assert length, "a response without Content-Length"
        data = rest[int(length.group(1)):]
    return found


def hidden_request(cookie, token):
    """What an attacker would hide in a body: maple's chair publishing a notice (a row the state shows)."""
    form = f"csrf_token={token}&title=smuggled&body=x&category=notice&action=publish".encode()
    return (b"POST /admin/maple/notices/new HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Cookie: " + cookie.encode() + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(form)).encode() + b"\r\n\r\n" + form)


FRONT = b"POST /maple/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
CHUNK_END = b"0\r\n\r\n"


def probes(hidden):
    """name -> (raw bytes, statuses a refusal may carry)."""
    chunked = CHUNK_END + hidden
    n = str(len(chunked)).encode()
    header_limit = max(Adjustments.max_request_header_size, serving.MAX_HEADER_BYTES)  # past waitress's and ours
    return {
        "Content-Length with Transfer-Encoding chunked":
            (FRONT + b"Content-Length: " + n + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, {400}),
        "Content-Length short of the chunked body (CL.TE)":
            (FRONT + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, {400}),
        "Transfer-Encoding first, then Content-Length (TE.CL)":
            (FRONT + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" + chunked, {400}),
        "Transfer-Encoding: chunked, chunked":
            (FRONT + b"Transfer-Encoding: chunked, chunked\r\n\r\n" + chunked, {400}),
        "Transfer-Encoding on two lines":
            (FRONT + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, {400}),
        "Transfer-Encoding: xchunked":
            (FRONT + b"Content-Length: " + n + b"\r\nTransfer-Encoding: xchunked\r\n\r\n" + chunked, {400, 501}),
        "Transfer-Encoding with a tab and trailing space":
            (FRONT + b"Content-Length: " + n + b"\r\nTransfer-Encoding:\t chunked \r\n\r\n" + chunked, {400}),
        "Transfer-Encoding with a vertical tab":
            (FRONT + b"Content-Length: " + n + b"\r\nTransfer-Encoding: \x0bchunked\r\n\r\n" + chunked, {400, 501}),
        "Transfer-Encoding folded onto the next line":
            (FRONT + b"Content-Length: " + n + b"\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + chunked, {400}),
        "Transfer-Encoding with a space before the colon":
            (FRONT + b"Content-Length: " + n + b"\r\nTransfer-Encoding : chunked\r\n\r\n" + chunked, {400}),
        "Transfer-Encoding on HTTP/1.0":
            (FRONT.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Connection: keep-alive\r\nContent-Length: " + n
             + b"\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked, {400}),
        "Content-Length: +N":
            (FRONT + b"Content-Length: +" + str(len(hidden)).encode() + b"\r\n\r\n" + hidden, {400}),
        "Content-Length: 1, 2":
            (FRONT + b"Content-Length: 1, 2\r\n\r\nx" + hidden, {400}),
        "two different Content-Length headers":
            (FRONT + b"Content-Length: 0\r\nContent-Length: " + str(len(hidden)).encode() + b"\r\n\r\n" + hidden,
             {400}),
        "bare LF line endings":
            (FRONT.replace(b"\r\n", b"\n") + b"Content-Length: 0\n\n" + hidden, {400}),
        "a bare LF inside one header":
            (FRONT + b"X-Note: a\nContent-Length: 0\r\n\r\n" + hidden, {400}),
        "an over-long header line":
            (FRONT + b"X-Long: " + b"a" * (header_limit + 1024) + b"\r\nContent-Length: 0\r\n\r\n" + hidden,
             {400, 431}),
    }


PROBE_NAMES = list(probes(b"x"))


def notices_in(app):
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(Notice))
        finally:
            db.session.remove()


# Request framing is waitress's and ours, not the database's: SQLite only.
@pytest.mark.sqlite_only
def test_the_hidden_request_would_run_if_honestly_pipelined(live):
    """The control: the same hidden request, pipelined after an honest one, does run, so the probes below
    would see it if waitress ran it."""
    port, app, cookie, token = live
    before = notices_in(app)
    data, _ = send_raw(port, b"GET /maple/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + hidden_request(cookie, token)
                       .replace(b"Host: 127.0.0.1\r\n", b"Host: 127.0.0.1\r\nConnection: close\r\n"))
    assert statuses(data) == [200, 302]
    assert notices_in(app) == before + 1
    # An honest chunked body is still read.
    form = f"csrf_token={token}&title=chunked&body=x&category=notice&action=publish".encode()
    chunked = hex(len(form))[2:].encode() + b"\r\n" + form + b"\r\n" + CHUNK_END
    data, _ = send_raw(port, b"POST /admin/maple/notices/new HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                       b"Cookie: " + cookie.encode() + b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
    assert statuses(data) == [302]
    assert notices_in(app) == before + 2


@pytest.mark.sqlite_only
@pytest.mark.parametrize("probe", PROBE_NAMES)
def test_ambiguous_framing_is_refused_and_the_hidden_request_never_runs(live, probe):
    port, app, cookie, token = live
    raw, refusals = probes(hidden_request(cookie, token))[probe]
    with app.app_context():
        before = state()
    data, ended = send_raw(port, raw)
    answered = statuses(data)
    assert len(answered) <= 1, f"answered as {len(answered)} requests: {answered}"
    assert ended != "left open", "the connection was kept open after an ambiguous request"
    assert answered == [] or answered[0] in refusals, answered
    with app.app_context():
        assert state() == before


@pytest.mark.sqlite_only
def test_a_huge_declared_body_is_refused_by_the_server_before_it_is_sent(live):
    """waitress would buffer up to 1 GB (to disk) before the app's 413: cli.waitress_options caps it."""
    port, app, cookie, token = live
    declared = 50 * app.config["MAX_CONTENT_LENGTH"]
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(b"POST /admin/maple/notices/new HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: " + cookie.encode()
                     + b"\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: "
                     + str(declared).encode() + b"\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):  # answered without a byte of the body sent, then closed
            data += chunk
    finally:
        sock.close()
    assert statuses(data) == [413]


@pytest.mark.sqlite_only
def test_a_body_just_over_the_app_limit_still_gets_the_calm_page(live):
    port, app, cookie, token = live
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    data, _ = send_raw(port, b"POST /admin/maple/notices/new HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                       b"Cookie: " + cookie.encode() + b"\r\nContent-Type: multipart/form-data; boundary=x\r\n"
                       b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body, timeout=30)
    assert statuses(data) == [413]
    assert "文件太大了" in data.decode("utf-8", "replace")


# ==== 2. cookie flags ===================================================================================

def set_cookie(response, name):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            attrs = {}
            for part in header.split(";")[1:]:
                key, _, value = part.strip().partition("=")
                attrs[key.lower()] = value
            return attrs
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


# How a request can be on https: directly, behind a trusted proxy that says so, or with KIOSK_PUBLIC_URL
# https (a TLS proxy that does not say so). The last row: an untrusted X-Forwarded-Proto is not believed.
SCHEMES = {
    "plain http": ({}, {}, False),
    "https": ({}, {"base_url": "https://localhost"}, True),
    "trusted proxy says https": ({"TRUSTED_PROXIES": 1}, {"headers": {"X-Forwarded-Proto": "https",
                                                                       "X-Forwarded-For": "203.0.113.9"}}, True),
    "public url https": ({"PUBLIC_URL": "https://kiosk.example.org"}, {}, True),
    "untrusted proxy says https": ({}, {"headers": {"X-Forwarded-Proto": "https"}}, False),
}
# cookie -> (how to get it set, must be HttpOnly, Secure follows the PUBLIC_URL too)
COOKIES = {
    "kiosk_session": ("/admin/login", True, True),
    CARD_COOKIE: ("/h/{token}", True, True),
    "kiosk_lang": ("/lang/en?next=/maple/", False, False),
    "kiosk_large": ("/large/on?next=/maple/", False, False),
    DEVICE_COOKIE: ("a successful login", True, True),
}
# The trusted-device cookie matters only to the login form: it goes to /admin pages, nowhere else.
COOKIE_PATHS = {DEVICE_COOKIE: "/admin"}


def cookie_response(app, name, path, token, request):
    """The response that sets the cookie: a GET of its page, or for the device cookie a real login."""
    client = app.test_client()
    if name != DEVICE_COOKIE:
        return client.get(path.format(token=token), environ_base={"REMOTE_ADDR": "10.0.0.2"}, **request)
    request = dict(request)
    headers = dict(request.pop("headers", {}), Referer="https://localhost/admin/login")  # CSRF's https check
    page = client.get(LOGIN, environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers=headers, **request)
    login = {"username": "c", "password": PASSWORD, "csrf_token": CSRF_RE.search(page.get_data(as_text=True)).group(1)}
    response = client.post(LOGIN, data=login, environ_base={"REMOTE_ADDR": "10.0.0.2"}, headers=headers, **request)
    assert response.status_code == 302, response.status_code
    return response


@pytest.mark.sqlite_only  # cookie attributes don't depend on the database
@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_cookie_has_path_samesite_httponly_and_secure_on_https(tmp_path, database_url, scheme):
    config, request, secure = SCHEMES[scheme]
    app = make_app(tmp_path, database_url, **config)
    try:
        with app.app_context():
            compound = Compound(slug="maple", name="枫叶小区")
            db.session.add(compound)
            db.session.flush()
            household = Household(compound_id=compound.id, building="1", entrance="1", room="101", area_centi=8635,
                                  occupancy=Occupancy.occupied)
            db.session.add(household)
            db.session.flush()
            chair = User(username="c", display_name="c", password_hash=password_hash(app))
            db.session.add(chair)
            db.session.flush()
            ((_, token),) = household_service.issue(compound, chair, [household])
            db.session.commit()
            db.session.remove()
        seen = set()
        for name, (path, httponly, public_url_counts) in COOKIES.items():
            response = cookie_response(app, name, path, token, request)
            attrs = set_cookie(response, name)
            assert attrs.get("path") == COOKIE_PATHS.get(name, "/"), (name, attrs)
            assert attrs.get("samesite", "").lower() == "lax", (name, attrs)
            if httponly:
                assert "httponly" in attrs, (name, attrs)
            expect_secure = secure and (public_url_counts or scheme != "public url https")
            assert ("secure" in attrs) == expect_secure, (name, scheme, attrs)
            assert "domain" not in attrs, (name, attrs)  # host-only: no other host under the domain gets it
            seen.add(name)
        assert seen == set(COOKIES)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_cookie_table_names_every_cookie_the_code_sets():
    """A new cookie must join COOKIES above: every set_cookie() in the package names one of them."""
    root = Path(ROUTE_APP.root_path)
    names = set()
    for source in root.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        if "set_cookie(" not in text:
            continue
        for constant in re.findall(r"set_cookie\(\s*([A-Z_]+)\s*,", text):
            names.update(re.findall(rf'^{constant}\s*=\s*"([^"]+)"', text, re.M))
        names.update(re.findall(r'set_cookie\(\s*"([^"]+)"', text))
    names.add(ROUTE_APP.config["SESSION_COOKIE_NAME"])
    assert names and names <= set(COOKIES), names - set(COOKIES)


# ==== 3. a copied login cookie after logout or a password change ===========================================

def admin_posts():
    return [p for p in rule_variants(lambda r: r.rule.startswith("/admin"), methods=("POST",))
            if p.values[0] not in (LOGIN,)]


def replay_everywhere(app, world, cookie, token):
    """Every admin state change, from a fresh client carrying the copied cookie and the token its page
    had carried: each is sent to the login page (or refused), and nothing changes."""
    before = state()
    for param in admin_posts():
        rule, method, fixed = param.values
        replay = app.test_client()
        replay.set_cookie("kiosk_session", cookie)
        response = replay.open(fill(rule, world.values, fixed), method=method,
                               data=form_body(world.values, csrf_token=token))
        refused = (response.status_code == 302 and redirect_path(response) == LOGIN) or \
            response.status_code in (400, 401, 403)
        assert refused, f"{param.id}: {response.status_code} {response.headers.get('Location')}"
        if rule != "/admin/logout":
            assert state() == before, f"{param.id} changed something"
    replay = app.test_client()
    replay.set_cookie("kiosk_session", cookie)
    assert redirect_path(replay.get(ADMIN)) == LOGIN


def test_a_cookie_copied_before_logout_changes_nothing_anywhere(app, world):
    client = app.test_client()
    login_as(client, world.chair)
    token = csrf_token(client, ADMIN)
    copied = client.get_cookie("kiosk_session").value
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    replay_everywhere(app, world, copied, token)


def test_a_cookie_copied_before_a_password_change_changes_nothing_anywhere(app, world):
    """Not only the account's other sessions (test_auth): the very cookie the change was made with."""
    client = app.test_client()
    login_as(client, world.chair)
    token = csrf_token(client, ADMIN)
    copied = client.get_cookie("kiosk_session").value
    new = "a-brand-new-password-1"
    response = post_form(client, "/admin/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert response.status_code == 302
    assert client.get(ADMIN).status_code == 200  # the person who changed it stays logged in
    replay_everywhere(app, world, copied, token)


# ==== 4. login throttling at scale ======================================================================

def attempt(app, username, password, address):
    client = app.test_client()
    token = csrf_token(client, LOGIN)
    response = client.post(LOGIN, data={"username": username, "password": password, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address})
    return response


def comparable(response, username):
    html = response.get_data(as_text=True)
    html = re.sub(r'(name="csrf_token"[^>]*value=")[^"]+', r"\1", html)
    html = re.sub(r'("X-CSRFToken": ")[^"]+', r"\1", html)
    return response.status_code, html.replace(username, "USERNAME")


def time_passes(seconds):
    """Every recorded failure gets older (the throttle counts back from now)."""
    db.session.rollback()
    for failure in db.session.scalars(select(LoginFailure)):
        failure.at -= timedelta(seconds=seconds)
    db.session.commit()


ATTACKER_ADDRESSES = [f"198.51.100.{i}" for i in range(1, 6)]


def test_101_wrong_passwords_in_an_hour_are_slowed_and_other_accounts_are_not(app, world, make_user):
    """An account is slowed down, never locked: its owner's phone always gets in (test_auth has the rest)."""
    cfg = app.config
    limit, window = cfg["LOGIN_ACCOUNT_LIMIT"], cfg["LOGIN_WINDOW_MINUTES"]
    assert limit <= 10 and window >= 15  # the defaults the promise is made with
    make_user("neighbour", world.maple, Role.member)
    phone = app.test_client()  # the chair's own phone logged in last week (and so carries the device cookie)
    assert phone.post(LOGIN, data={"username": "chair", "password": PASSWORD, "csrf_token": csrf_token(phone, LOGIN)},
                      environ_base={"REMOTE_ADDR": "192.0.2.5"}).status_code == 302

    # 101 wrong passwords spread over an hour, from five addresses in turn.
    step = 3600 / 101
    answers = []
    for i in range(101):
        if i:
            time_passes(step)
        response = attempt(app, "chair", f"guess-{i:04d}", ATTACKER_ADDRESSES[i % 5])
        assert response.status_code in (200, 429), response.status_code
        answers.append(response.status_code)
    checked = answers.count(200)
    # `limit` guesses, then one per wait (30 s doubling up to the window): 101 tries become at most
    # limit + 5 + 60/window -- fewer than a quarter of them.
    assert answers[:limit] == [200] * limit and 429 in answers[limit:]
    assert checked <= limit + 5 + 60 // window, answers

    # Now a burst: the account is slowed for any phone that never logged in to it, from anywhere...
    for i in range(limit):
        attempt(app, "chair", f"burst-{i}", ATTACKER_ADDRESSES[i % 5])
    for address in ATTACKER_ADDRESSES[:2] + ["192.0.2.77"]:
        refused = attempt(app, "chair", PASSWORD, address)
        assert refused.status_code == 429, address
    text = refused.get_data(as_text=True)
    assert "登录失败次数太多" in text and not traceback_signs(text)
    assert soup_of(refused).find("input", attrs={"name": "password"}) is not None  # the form, calmly, again
    # ...but not for the chair's own phone.
    assert phone.post(LOGIN, data={"username": "chair", "password": PASSWORD, "csrf_token": csrf_token(phone, LOGIN)},
                      environ_base={"REMOTE_ADDR": "192.0.2.5"}).status_code == 302

    # Another account logs in from an attacker's address and from elsewhere.
    assert attempt(app, "neighbour", PASSWORD, ATTACKER_ADDRESSES[0]).status_code == 302
    assert attempt(app, "bystander", PASSWORD, "192.0.2.78").status_code == 302

    # An unknown account hammered the same way as a real one is answered with the very same page (the clock
    # stands still meanwhile, so both are told the same wait).
    with time_machine.travel(utcnow(), tick=False):
        for username in ("no-such-user", "neighbour"):
            for i in range(limit):
                assert attempt(app, username, f"burst-{i}", "192.0.2.90").status_code == 200
        ghost, real = (attempt(app, username, PASSWORD, "192.0.2.91") for username in ("no-such-user", "neighbour"))
    assert ghost.status_code == 429 and comparable(ghost, "no-such-user") == comparable(real, "neighbour")

    # The longest wait passes: the right password works again from any phone.
    time_passes(window * 60 + 1)
    assert attempt(app, "chair", PASSWORD, "192.0.2.77").status_code == 302


# ==== 5. upload attacks through every upload field ==========================================================

def gif(size=(16, 16)):
    out = io.BytesIO()
    PILImage.new("P", size, 3).save(out, "GIF")
    return out.getvalue()


def png_declaring(width, height):
    out = io.BytesIO()
    PILImage.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def photo_with_exif():
    exif = PILImage.Exif()
    exif[0x010F] = "SpyCam"
    exif[0x8825] = {1: "N", 2: (28.0, 11.0, 30.5)}
    return jpeg(exif=exif)


HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
       b"<script>alert(1)</script></svg>")
REFUSED = {
    "text renamed .jpg": (b"just some notes, not a picture\n", "notes.jpg"),
    "HTML as .png": (HTML, "page.png"),
    "SVG as .jpg": (SVG, "drawing.jpg"),
    "SVG as .png": (b'<?xml version="1.0"?>' + SVG, "drawing.png"),
    "GIF header + HTML polyglot": (b"GIF89a" + HTML, "anim.gif"),
    "truncated JPEG": (jpeg(size=(200, 150))[:600], "cut.jpg"),
    "30000x30000 PNG bomb": (png_declaring(30000, 30000), "bomb.png"),
}
# Accepted, but only as a clean re-encoded copy stored under a random name.
ACCEPTED = {
    "real GIF + HTML appended": (gif() + HTML, "anim.gif"),
    "photo with EXIF and GPS": (photo_with_exif(), "photo.jpg"),
    "../ in the name": (jpeg(), "../../static/evil.jpg"),
    "absolute name": (jpeg(), "/etc/cron.d/evil.jpg"),
    "NUL in the name": (jpeg(), "evil.jpg\x00.html"),
    "backslashes in the name": (jpeg(), "..\\..\\evil.jpg"),
}


def ledger_form(compound, files):
    category = db.session.scalar(select(LedgerCategory).where(LedgerCategory.compound_id == compound.id,
                                                               LedgerCategory.kind == "expense"))
    return {"flow": "expense", "occurred_on": "2026-06-10", "category_id": str(category.id), "amount": "12.50",
            "description": "换灯泡", "counterparty": "", "method": "bank", "topic_id": "0",
            "receipts_public": "y", "action": "draft", "receipts": files}


# upload field -> (form page, the rest of a valid form, the input's name)
UPLOAD_FIELDS = {
    "notice image": ("/admin/maple/notices/new",
                     lambda compound, f: {"title": "楼道照片", "body": "", "category": "notice", "action": "publish",
                                          "image": f}, "image"),
    "roster photo": ("/admin/maple/roster/new",
                     lambda compound, f: {"name": "周建华", "role": "member", "term_start": "2024-06-01",
                                          "term_end": "2027-05-31", "intro": "", "photo": f}, "photo"),
    "ledger receipt": ("/admin/maple/ledger/entries/new", lambda compound, f: ledger_form(compound, [f]), "receipts"),
}


@pytest.fixture
def uploader(app, compound, chair):
    ledger_service.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    client = app.test_client()
    login_as(client, chair)
    return client


def all_files(*folders):
    return {p for folder in folders for p in Path(folder).rglob("*") if p.is_file()}


def upload_dir(app):
    return Path(app.instance_path) / "uploads"


def send(client, compound, field, data, filename, mimetype="image/jpeg"):
    page, form, _ = UPLOAD_FIELDS[field]
    return post_form(client, page, form(compound, (io.BytesIO(data), filename, mimetype)),
                     content_type="multipart/form-data")


def field_errors(response, name):
    control = soup_of(response).find("input", attrs={"name": name})
    assert control is not None, name
    box = control.find_parent(class_="field")
    return " ".join(p.get_text() for p in box.find_all(class_="error"))


@pytest.mark.sqlite_only  # image checks happen before the database; the PG variants of the rows are in test_uploads
@pytest.mark.parametrize("field", UPLOAD_FIELDS)
def test_hostile_files_are_refused_next_to_the_field_and_nothing_is_written(app, compound, uploader, tmp_path, field):
    static = Path(ROUTE_APP.static_folder)
    for kind, (data, filename) in REFUSED.items():
        for mimetype in ("image/jpeg", "image/png", "text/html"):
            files = all_files(tmp_path, static)
            before = state()
            response = send(uploader, compound, field, data, filename, mimetype)
            assert response.status_code == 400, (kind, mimetype, response.status_code)
            errors = field_errors(response, UPLOAD_FIELDS[field][2])
            assert "图片" in errors, (kind, errors)
            assert not traceback_signs(response.get_data(as_text=True))
            assert all_files(tmp_path, static) == files, (kind, "wrote a file")
            assert state() == before, kind


@pytest.mark.sqlite_only
@pytest.mark.parametrize("field", UPLOAD_FIELDS)
def test_oversized_upload_is_413_and_nothing_is_written(app, compound, uploader, tmp_path, field):
    app.config["MAX_CONTENT_LENGTH"] = 30_000
    noise = PILImage.frombytes("RGB", (120, 120), os.urandom(120 * 120 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    files, before = all_files(tmp_path), state()
    response = send(uploader, compound, field, out.getvalue(), "big.png", "image/png")
    assert response.status_code == 413
    assert "文件太大了" in response.get_data(as_text=True)
    assert all_files(tmp_path) == files and state() == before


def stored_images():
    db.session.rollback()
    return db.session.scalars(select(Image).order_by(Image.id)).all()


@pytest.mark.sqlite_only
@pytest.mark.parametrize("field", UPLOAD_FIELDS)
def test_accepted_uploads_are_reencoded_under_a_random_name(app, compound, uploader, tmp_path, field):
    static = Path(ROUTE_APP.static_folder)
    for kind, (data, filename) in ACCEPTED.items():
        known = {image.id for image in stored_images()}
        outside = all_files(tmp_path, static) - all_files(upload_dir(app))
        response = send(uploader, compound, field, data, filename)
        assert response.status_code == 302, (kind, response.status_code)
        (image,) = [i for i in stored_images() if i.id not in known]
        assert re.fullmatch(r"[0-9a-f]{32}\.(jpg|png)", image.filename), image.filename
        assert all_files(tmp_path, static) - all_files(upload_dir(app)) == outside, (kind, "wrote outside uploads/")
        served = uploader.get(f"/maple/media/{image.filename}")
        assert served.status_code == 200 and served.mimetype in ("image/jpeg", "image/png"), kind
        assert served.data != data, kind
        assert b"<script" not in served.data and b"<html" not in served.data and b"SpyCam" not in served.data
        clean = PILImage.open(io.BytesIO(served.data))
        assert len(clean.getexif()) == 0, kind
        assert clean.format in ("JPEG", "PNG")


# ==== 6. property-based fuzzing: no 500 anywhere ============================================================

def _form_classes(base=FlaskForm):
    for sub in base.__subclasses__():
        yield sub
        yield from _form_classes(sub)


def _fields_of_the_app():
    """Every field name any of the app's forms declares: (names, file-field names)."""
    names, files = set(), set()
    for form in _form_classes():
        if not form.__module__.startswith("kiosk."):
            continue
        for klass in form.__mro__:
            for name, value in vars(klass).items():
                if isinstance(value, UnboundField):
                    names.add(name)
                    if issubclass(value.field_class, FileField) or "File" in value.field_class.__name__:
                        files.add(name)
    return names, files


APP_FIELDS, FILE_FIELDS = _fields_of_the_app()
# Fields read straight from request.form, not through a form class.
RAW_FIELDS = {"action", "household_id", "category_id", "topic_id", "next", "code", "choice", "choices", "ids",
              "household_ids", "which", "scope", "over_budget_ok", "person", "receipts_public", "public"}
FIELD_NAMES = sorted((set(EVERY_FORM_FIELD) | APP_FIELDS | RAW_FIELDS) - FILE_FIELDS - {"csrf_token"})

ODD_VALUES = [
    "", " ", "\t", "0", "-0", "-1", "-999999999999", "1e309", "-1e309", "NaN", "inf", "1e3", "0x1F", "1_000",
    "99999999999999999999999999999", "12.345", "-12.50", "1,234.567", "１２３", "٣", "¥12", "12元",
    "2026-02-30", "2026-13-01", "0000-00-00", "9999-12-31", "0001-01-01", "2026-1-1", "2026/01/01", "31/12/2026",
    "2026-01-01T25:61", "2026-01-01 10:00", "2026-01-01T10:00:00+08:00", "10:00", "today", "1700000000",
    "\x00", "a\x00b", "\r\n", "\u202e", "\ufeff", "\U0001F600", "😀" * 50, "../../etc/passwd", "<script>",
    "' OR 1=1 --", "%s%s%n", "{{7*7}}", "${7*7}", "on", "off", "y", "true", "false", "None", "null", "[]", "{}",
]
VALUE = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),  # control characters
    st.integers(min_value=-10**20, max_value=10**20).map(str),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(str),
    st.dates().map(lambda d: d.strftime(["%Y-%m-%d", "%d/%m/%Y", "%Y年%m月%d日", "%Y%m%d"][d.day % 4])),
    st.builds(lambda unit, n: (unit * n)[:10_000], st.text(min_size=1, max_size=3), st.integers(3000, 10_000)),
)
FORM = st.dictionaries(st.sampled_from(FIELD_NAMES),
                       st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=3)),  # repeated keys
                       max_size=14)
UPLOAD = st.one_of(st.none(), st.tuples(st.sampled_from(sorted(FILE_FIELDS)) if FILE_FIELDS else st.nothing(),
                                        st.binary(max_size=200), st.sampled_from(["a.jpg", "../x.png", "", "r.csv"])))
# Reproducible (derandomize: the same examples on every run, in CI too) and bounded: about 10 s per fuzz
# test per engine on a 2-core machine. KIOSK_FUZZ_SCALE=10 for a longer hunt on a workstation.
SCALE = float(os.environ.get("KIOSK_FUZZ_SCALE", "1"))


def fuzz_settings(examples):
    return settings(max_examples=int(examples * SCALE), deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


def sent_values(data):
    for value in data.values():
        if isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))
        elif isinstance(value, str):
            yield value


def assert_no_server_error(response, label, sent):
    body = response.get_data().decode("utf-8", "replace")  # a spreadsheet export is bytes
    assert response.status_code < 500, f"{label}: {response.status_code}"
    signs = [s for s in traceback_signs(body) if not any(s in value for value in sent)]
    assert not signs, f"{label}: traceback signs {signs}"


def fuzz_clients(app, world):
    """Who sends each request: the compound's chair, platform staff for the platform pages, and a resident
    phone carrying maple's household card for the public ones."""
    chair, platform, resident = app.test_client(), app.test_client(), app.test_client()
    login_as(chair, world.chair)
    login_as(platform, world.platform)
    resident.set_cookie(CARD_COOKIE, world.token)
    return {client: csrf_token(client) for client in (chair, platform, resident)}, chair, platform, resident


def pick_client(rule, chair, platform, resident):
    if rule.startswith("/admin/platform"):
        return platform
    return chair if rule.startswith("/admin") else resident


POST_ROUTES = [p for p in rule_variants(lambda r: True, methods=("POST",))
               if p.values[0] not in ("/admin/logout",)]  # logging out would only end the fuzzing session


def test_the_fuzzer_knows_the_forms():
    assert len(POST_ROUTES) >= 40 and len(FIELD_NAMES) >= 60, (len(POST_ROUTES), len(FIELD_NAMES))
    assert {"image", "photo", "receipts", "file"} <= FILE_FIELDS, FILE_FIELDS


def test_fuzzed_forms_never_get_a_500(app, world):
    tokens, chair, platform, resident = fuzz_clients(app, world)
    routes = [p.values for p in POST_ROUTES]
    seen = set()

    @fuzz_settings(600)
    @given(route=st.sampled_from(routes), form=FORM, upload=UPLOAD, htmx=st.booleans())
    def fuzz(route, form, upload, htmx):
        rule, method, fixed = route
        client = pick_client(rule, chair, platform, resident)
        data = dict(form, csrf_token=tokens[client])
        if upload:
            name, content, filename = upload
            data[name] = (io.BytesIO(content), filename)
        response = client.open(fill(rule, world.values, fixed), method=method, data=data,
                               headers={"HX-Request": "true"} if htmx else {})
        assert_no_server_error(response, f"{method} {rule}", list(sent_values(form)))
        seen.add(rule)

    fuzz()
    assert len(seen) >= len({r for r, _, _ in routes}) // 2, "the fuzzer reached too few routes"


GET_ROUTES = [p.values for p in rule_variants(lambda r: True, methods=("GET",))
              if not p.values[0].startswith("/static")]
QUERY_KEYS = ["page", "c", "code", "building", "room", "next", "q", "flow", "status", "year", "month", "kind",
              "category", "event", "after", "since", "v", "version", "area", "sort"]
QUERY = st.dictionaries(st.sampled_from(QUERY_KEYS), st.one_of(VALUE.filter(lambda v: len(v) < 2000),
                                                               st.lists(VALUE, min_size=2, max_size=2)), max_size=5)


def test_fuzzed_query_strings_never_get_a_500(app, world):
    tokens, chair, platform, resident = fuzz_clients(app, world)
    anonymous = app.test_client()

    @fuzz_settings(400)
    @given(route=st.sampled_from(GET_ROUTES), query=QUERY, who=st.sampled_from(["member", "anonymous"]),
           htmx=st.booleans())
    def fuzz(route, query, who, htmx):
        rule, method, fixed = route
        client = anonymous if who == "anonymous" else pick_client(rule, chair, platform, resident)
        response = client.get(fill(rule, world.values, fixed), query_string=query,
                              headers={"HX-Request": "true"} if htmx else {})
        assert_no_server_error(response, f"GET {rule}?{query}", list(sent_values(query)))

    fuzz()


def test_nul_in_any_field_of_an_otherwise_valid_form_is_a_calm_400(app, world):
    """The fuzzer's random forms rarely pass validation; here every route gets the form that does (the one the
    access tests use) with a NUL and other control characters in every value. PostgreSQL cannot store NUL
    (that was a 500 there, stored as is on SQLite): every such request is refused calmly, nothing changes."""
    tokens, chair, platform, resident = fuzz_clients(app, world)
    before = state()
    for param in POST_ROUTES:
        rule, method, fixed = param.values
        client = pick_client(rule, chair, platform, resident)
        dirty = {name: (value[:1] + "\x00\r\u202e" + value[1:]) if value else "\x00"
                 for name, value in EVERY_FORM_FIELD.items()}
        data = form_body(world.values, csrf_token=tokens[client], **dirty)
        response = client.open(fill(rule, world.values, fixed), method=method, data=data)
        assert_no_server_error(response, param.id, list(sent_values(dirty)))
        assert response.status_code == 400, (param.id, response.status_code)
    assert state() == before


@pytest.mark.parametrize("path", ["/maple/media/a%00b.jpg", "/h/abc%00def", "/maple%00/", "/lang/e%00n",
                                  "/maple/?c=%00", "/admin/maple/notices/?page=1%00", "/maple/screen/%00"])
def test_nul_in_a_url_is_a_calm_400(app, world, path):
    client = app.test_client()
    login_as(client, world.chair)
    for who in (client, app.test_client()):
        response = who.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert not traceback_signs(response.get_data(as_text=True))
