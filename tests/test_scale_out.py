"""Must hold (issue 7): two `kiosk serve` processes behind nginx, sharing one PostgreSQL, behave as one site.

The set-up is the documented one: docs/nginx-kiosk.conf is started as it ships (only its listen addresses,
upstream ports and certificate paths are swapped for the test's), TLS with a throwaway certificate, both
processes with the same KIOSK_DATABASE_URL (a fresh schema of the test PostgreSQL), the same
KIOSK_SECRET_KEY, one shared KIOSK_UPLOAD_DIR, KIOSK_TRUSTED_PROXIES=1 and each its own instance folder.

- a phone votes through process A; B's pulse reports the change within a second, B's topic page and B's
  (page-cached) lobby slide show "已投 1 / N 户";
- a login made through nginx is accepted by A and by B directly; logging out on A ends it on B too;
- wrong passwords alternated between A and B slow the account down (a phone that never logged in to it waits)
  after LOGIN_ACCOUNT_LIMIT failures in all;
- an image uploaded through A is served by B (and through nginx);
- nginx's X-Forwarded-For/-Proto reach the app (waitress must not strip them): the failure is recorded
  under the client's address, not nginx's, a spoofed X-Forwarded-For is not, and the cookie is Secure;
- both processes' sweepers close a due vote exactly once;
- with A stopped (a rolling restart), nginx sends everything to B, a login POST included.

Also: processes starting together on one instance folder agree on one generated secret key, and
docs/deploy.md prints the nginx site file as it ships.

Without KIOSK_TEST_DATABASE_URL, nginx or openssl the test is skipped (it fails when CI=true).
"""
import http.client
import io
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from kiosk.auth.models import LoginFailure, Membership, Role, User
from kiosk.changes import AuditEntry
from kiosk.compounds.models import Compound
from kiosk.consult import service as consult
from kiosk.consult.models import Status, Topic
from kiosk.extensions import db
from kiosk.households.cards import COOKIE as CARD_COOKIE
from kiosk.households.service import issue
from kiosk.households.models import Household
from kiosk.screen.models import Screen
from kiosk.uploads import Image

from conftest import CSRF_RE, IN_CI, PG_URL, SECRET, ago, ahead, make_app, pg_schema_url

ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = ROOT / "docs" / "nginx-kiosk.conf"
SLUG = "scale"
HOST = "kiosk.example.org"
NGINX_ADDRESS = "127.0.0.2"  # nginx listens here and the test's browser comes from CLIENT_ADDRESS, so the
CLIENT_ADDRESS = "127.0.0.3"  # address the app records tells nginx's X-Forwarded-For from nginx's own socket
PASSWORD = "scale-out-password-42"
ACCOUNT_LIMIT = 4
HOUSEHOLDS = 6
SESSION_COOKIE = "kiosk_session"


def _missing(reason):
    """Skip for a missing part, or fail when CI=true: there the scale-out test must run."""
    message = f"SCALE-OUT: {reason}"
    if IN_CI:
        pytest.fail(message + " (CI=true: the scale-out test must run in CI; scripts/test installs it)")
    pytest.skip(reason=message)  # e.g. "SCALE-OUT: nginx is not installed" (outside CI only)


def _tool(name):
    found = shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)),
                                       None)
    if found is None:
        _missing(f"{name} is not installed (apt-get install {name})")
    return found


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, proc, log, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{log.name} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on {host}:{port} after {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc, timeout=10):
    """Terminate a process we started, killing it if it does not go."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


# --- a browser that keeps its cookies, over plain HTTP (one process) or TLS (nginx) -------------------------

@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def cookies(self):
        """{name: (value, attributes)} set by this answer."""
        found = {}
        for header in self.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                found[name] = (morsel.value, header)
        return found


@dataclass
class Browser:
    """Requests to one address (a process directly, or nginx over TLS) with a cookie jar of its own."""

    port: int
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    jar: dict = field(default_factory=dict)

    def request(self, method, path, form=None, files=None, headers=None):
        headers = dict(headers or {})
        if self.tls is not None:
            headers.setdefault("Host", HOST)
            conn = http.client.HTTPSConnection(self.host, self.port, timeout=30, context=self.tls,
                                               source_address=(CLIENT_ADDRESS, 0))
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = None
        if files:
            boundary = uuid.uuid4().hex
            body = multipart(boundary, form or {}, files)
            headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
        elif form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            conn.close()
        for name, (value, header) in answer.cookies().items():
            if not value or "Max-Age=0" in header or "1970" in header:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return answer

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def csrf(self, path="/admin/login"):
        answer = self.get(path)
        assert answer.status == 200, (path, answer.status)
        return CSRF_RE.search(answer.text).group(1)

    def post(self, path, form, token_from="/admin/login", headers=None, **kwargs):
        form = dict(form)
        form.setdefault("csrf_token", self.csrf(token_from))
        headers = dict(headers or {})
        if self.tls is not None:
            # As a browser does; over HTTPS Flask-WTF wants a Referer from the same host (the forwarded one).
            headers.setdefault("Referer", f"https://{HOST}{token_from}")
        return self.request("POST", path, form=form, headers=headers, **kwargs)

    def log_in(self, username, password):
        return self.post("/admin/login", {"username": username, "password": password})


def multipart(boundary, form, files):
    out = io.BytesIO()
    for name, value in form.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content_type, data) in files.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                  f"Content-Type: {content_type}\r\n\r\n".encode())
        out.write(data + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue()


def png_bytes():
    from PIL import Image as PILImage

    buf = io.BytesIO()
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


# --- the district: data, two processes, nginx --------------------------------------------------------------

def nginx_config(tmp, ports, http_port, https_port, cert, key, webroot):
    """docs/nginx-kiosk.conf with the test's addresses swapped in, wrapped in a main config of its own."""
    site = NGINX_TEMPLATE.read_text(encoding="utf-8")
    swaps = [
        ("server 127.0.0.1:8081 ", f"server 127.0.0.1:{ports[0]} "),
        ("server 127.0.0.1:8082 ", f"server 127.0.0.1:{ports[1]} "),
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen {NGINX_ADDRESS}:{http_port};"),
        ("listen 443 ssl http2;", f"listen {NGINX_ADDRESS}:{https_port} ssl http2;"),
        ("/etc/letsencrypt/live/kiosk.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/kiosk.example.org/privkey.pem", str(key)),
        ("root /var/www/html;", f"root {webroot};"),
    ]
    for old, new in swaps:
        assert site.count(old) == 1, f"docs/nginx-kiosk.conf no longer has {old!r} once: update the test with it"
        site = site.replace(old, new)
    (tmp / "kiosk.conf").write_text(site)
    temp = tmp / "temp"
    temp.mkdir()
    main = tmp / "nginx.conf"
    main.write_text(f"""
daemon off;
master_process on;
worker_processes 1;
{"user root;" if os.geteuid() == 0 else ""}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {tmp}/kiosk.conf;
}}
""")
    return main


def self_signed(tmp):
    openssl = _tool("openssl")
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={HOST}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def kiosk_command():
    script = Path(sys.executable).parent / "kiosk"
    return [str(script)] if script.exists() else [sys.executable, "-c", "from kiosk.cli import main; main()"]


@dataclass
class District:
    url: str
    a: int
    b: int
    nginx: int
    tls: ssl.SSLContext
    upload_dir: Path
    instances: list
    data: dict
    logs: list
    procs: list

    def browser(self, which):
        if which == "nginx":
            return Browser(self.nginx, NGINX_ADDRESS, self.tls)
        return Browser({"A": self.a, "B": self.b}[which])


def seed(app):
    """A compound with households, cards, an open vote, a vote closing in a few seconds, a screen, accounts."""
    with app.app_context():
        compound = Compound(slug=SLUG, name="扩展测试小区", community="东湖社区", district="湘江街道")
        db.session.add(compound)
        db.session.flush()
        chair = User(username="chair", display_name="主任", must_change_password=False)
        chair.set_password(PASSWORD)
        locked = User(username="lockme", display_name="试锁", password_hash=chair.password_hash,
                      must_change_password=False)
        db.session.add_all([chair, locked])
        db.session.flush()
        db.session.add_all([Membership(user_id=chair.id, compound_id=compound.id, role=Role.chair),
                            Membership(user_id=locked.id, compound_id=compound.id, role=Role.member)])
        households = [Household(compound_id=compound.id, building="1", entrance="", room=str(101 + i),
                                area_centi=8000 + 100 * i) for i in range(HOUSEHOLDS)]
        db.session.add_all(households)
        db.session.commit()
        tokens = [token for _, token in issue(compound, chair, households)]
        db.session.commit()

        def topic(where, title, closes_at):
            # Named: each ballot moves its figures and the pulse at once (a secret vote's move in released
            # batches, which test_consult_secrecy.py covers).
            made = consult.save_topic(where, chair, None, {
                "title": title, "background": "测试。", "kind": "yesno", "rule": "ordinary", "seats": 1,
                "secret": False, "visibility": "live", "allow_change": True, "opens_at": ago(hours=1),
                "closes_at": closes_at}, [])
            db.session.flush()
            consult.publish(where, chair, made)
            db.session.commit()
            return made.id

        open_id = topic(compound, "是否在东侧空地增设充电桩", ahead(days=2))
        # The vote the sweepers close is in another compound, so its closing never moves this one's version.
        other = Compound(slug=f"{SLUG}-other", name="另一小区", community="东湖社区", district="湘江街道")
        db.session.add(other)
        db.session.flush()
        db.session.add_all([Household(compound_id=other.id, building="2", entrance="", room=str(201 + i),
                                      area_centi=9000) for i in range(2)])
        db.session.commit()
        closing_id = topic(other, "是否更换单元门禁", ahead(seconds=6))
        screen = Screen(compound_id=compound.id, name="一号楼大堂")
        db.session.add(screen)
        db.session.commit()
        data = {"tokens": tokens, "topic": open_id, "closing": closing_id, "screen": screen.key}
        db.session.remove()
        db.engine.dispose()
    return data


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    if not PG_URL:
        _missing("set KIOSK_TEST_DATABASE_URL to a PostgreSQL database to run the scale-out test")
    nginx = _tool("nginx")
    tmp = tmp_path_factory.mktemp("district")
    schema = f"scale_{secrets.token_hex(4)}"
    url = pg_schema_url(PG_URL, schema)
    procs, logs = [], []
    try:
        base_env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        shared_uploads = tmp / "shared-uploads"
        env = {**base_env, "KIOSK_DATABASE_URL": url, "KIOSK_SECRET_KEY": SECRET,
               "KIOSK_UPLOAD_DIR": str(shared_uploads), "KIOSK_TRUSTED_PROXIES": "1",
               "KIOSK_LOGIN_ACCOUNT_LIMIT": str(ACCOUNT_LIMIT), "KIOSK_SWEEP_SECONDS": "1"}
        init = subprocess.run(kiosk_command() + ["init"], check=False, env={**env, "KIOSK_INSTANCE_PATH": str(tmp / "init")},
                              capture_output=True, text=True, timeout=120)
        assert init.returncode == 0, init.stderr
        data = seed(make_app(tmp / "seed", url))

        ports, instances = [], []
        for name in ("A", "B"):
            port = free_port()
            instance = tmp / f"instance-{name}"  # each its own: only the shared settings may make them agree
            log = tmp / f"kiosk-{name}.log"
            handle = log.open("wb")
            proc = subprocess.Popen(kiosk_command() + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                                       "--threads", "4"],
                                    env={**env, "KIOSK_INSTANCE_PATH": str(instance)}, stdout=handle,
                                    stderr=subprocess.STDOUT, cwd=tmp)
            handle.close()
            procs.append(proc)
            logs.append(log)
            ports.append(port)
            instances.append(instance)
        for port, proc, log in zip(ports, procs, logs):
            wait_for_port("127.0.0.1", port, proc, log)

        cert, key = self_signed(tmp)
        webroot = tmp / "webroot"
        webroot.mkdir()
        http_port, https_port = free_port(NGINX_ADDRESS), free_port(NGINX_ADDRESS)
        conf = nginx_config(tmp, ports, http_port, https_port, cert, key, webroot)
        nginx_log = tmp / "nginx.out"
        handle = nginx_log.open("wb")
        proxy = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")],
                                 stdout=handle, stderr=subprocess.STDOUT)
        handle.close()
        procs.append(proxy)
        logs.append(nginx_log)
        wait_for_port(NGINX_ADDRESS, https_port, proxy, nginx_log)
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False  # the certificate names kiosk.example.org; we connect to 127.0.0.2
        yield District(url, ports[0], ports[1], https_port, context, shared_uploads, instances, data, logs,
                       procs)
        for log in logs[:2]:
            assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]
    finally:
        for proc in reversed(procs):
            stop(proc)
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def query(district):
    """Run a function against the shared database from the test process."""
    engine = create_engine(district.url)

    def run(statement):
        with engine.connect() as conn:
            return conn.execute(statement)

    yield run
    engine.dispose()


def pulse_version(answer):
    return int(re.search(r'data-version="(\d+)"', answer.text).group(1))




# --- the checks ------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.postgres
def test_a_vote_through_a_shows_on_b_pulse_page_and_slide(district):
    b = district.browser("B")
    topic, screen = district.data["topic"], district.data["screen"]
    first = b.get(f"/{SLUG}/pulse?v=0")
    assert first.status == 200
    seen = pulse_version(first)
    unchanged = b.get(f"/{SLUG}/pulse?v={seen}")
    assert unchanged.status == 200 and unchanged.body == b"" and unchanged.headers["HX-Reswap"] == "none"
    slide = f"/{SLUG}/screen/{screen}/slides/consult"
    before = b.get(slide)
    assert before.status == 200 and f"已投 0 / {HOUSEHOLDS} 户" in before.text  # now in B's page cache

    phone = district.browser("A")
    assert phone.get(f"/h/{district.data['tokens'][0]}").status == 302 and CARD_COOKIE in phone.jar
    voted = phone.post(f"/{SLUG}/topics/{topic}/vote", {"choice": "yes"})
    assert voted.status == 303, voted.text[:300]
    cast_at = time.monotonic()
    while True:
        answer = b.get(f"/{SLUG}/pulse?v={seen}")
        if answer.body:
            break
        assert time.monotonic() - cast_at < 1.0, "B's pulse did not report A's vote within a second"
        time.sleep(0.05)
    assert time.monotonic() - cast_at < 1.0
    assert pulse_version(answer) > seen
    assert "kiosk-area-consult" in answer.headers["HX-Trigger"]

    page = b.get(f"/{SLUG}/topics/{topic}")
    assert page.status == 200 and f"已投 1 / {HOUSEHOLDS} 户" in page.text
    assert f"已投 1 / {HOUSEHOLDS} 户" in b.get(slide).text
    # And through nginx, whichever process answers.
    for _ in range(4):
        assert f"已投 1 / {HOUSEHOLDS} 户" in district.browser("nginx").get(f"/{SLUG}/topics/{topic}").text


@pytest.mark.slow
@pytest.mark.postgres
def test_a_login_through_nginx_works_on_both_processes_and_logout_on_a_ends_it_on_b(district):
    front = district.browser("nginx")
    answer = front.log_in("chair", PASSWORD)
    assert answer.status == 302, answer.text[:500]
    value, header = answer.cookies()[SESSION_COOKIE]
    # X-Forwarded-Proto reached the app: the login cookie is Secure although KIOSK_PUBLIC_URL is not set.
    assert "Secure" in header and "HttpOnly" in header
    admin = f"/admin/{SLUG}/notices/"
    for which in ("A", "B", "nginx"):
        other = district.browser(which)
        other.jar[SESSION_COOKIE] = value
        assert other.get(admin).status == 200, which

    on_a = district.browser("A")
    on_a.jar[SESSION_COOKIE] = value
    assert on_a.post("/admin/logout", {}, token_from=admin).status == 302
    replay = district.browser("B")
    replay.jar[SESSION_COOKIE] = value  # the cookie as it was before logging out
    refused = replay.get(admin)
    assert refused.status in (302, 303) and "/admin/login" in refused.headers["Location"]


@pytest.mark.slow
@pytest.mark.postgres
def test_wrong_passwords_on_both_processes_count_together(district):
    for i in range(ACCOUNT_LIMIT):
        answer = district.browser("AB"[i % 2]).log_in("lockme", f"wrong-guess-{i}")
        assert answer.status == 200 and "用户名或密码不对" in answer.text, (i, answer.status)
    # Each process saw only half the failures; a new phone must wait on both all the same.
    for which in ("A", "B"):
        browser = district.browser(which)
        answer = browser.log_in("lockme", PASSWORD)
        assert answer.status == 429 and "登录失败次数太多" in answer.text, which
        assert browser.get(f"/admin/{SLUG}/notices/").status == 302  # not logged in


@pytest.mark.slow
@pytest.mark.postgres
def test_nginx_forwards_the_client_address_and_a_spoofed_one_is_not_believed(district, query):
    front = district.browser("nginx")
    answer = front.post("/admin/login", {"username": "nobody-here", "password": "guess"},
                        headers={"X-Forwarded-For": "198.51.100.7"})
    assert answer.status == 200
    addresses = query(select(LoginFailure.address).where(LoginFailure.username == "nobody-here")).scalars().all()
    # Not 127.0.0.1 (nginx's socket: the header was stripped) and not the client's own claim.
    assert addresses == [CLIENT_ADDRESS]


@pytest.mark.slow
@pytest.mark.postgres
def test_an_image_uploaded_through_a_is_served_by_b(district, query):
    chair = district.browser("A")
    assert chair.log_in("chair", PASSWORD).status == 302
    data = png_bytes()
    new = f"/admin/{SLUG}/notices/new"
    answer = chair.request("POST", new, form={
        "csrf_token": chair.csrf(new), "title": "电梯检修，请走楼梯", "body": "周六上午。", "category": "notice",
        "action": "publish"}, files={"image": ("lift.png", "image/png", data)})
    assert answer.status == 302, answer.text[:500]
    name = query(select(Image.filename).order_by(Image.id.desc()).limit(1)).scalar_one()
    stored = district.upload_dir / name
    assert stored.is_file()
    assert not any((instance / "uploads" / name).exists() for instance in district.instances)
    for which in ("B", "nginx"):
        served = district.browser(which).get(f"/{SLUG}/media/{name}")
        assert served.status == 200, which
        assert served.body == stored.read_bytes() and served.headers["Content-Type"].startswith("image/")


@pytest.mark.slow
@pytest.mark.postgres
def test_two_sweepers_close_a_due_vote_exactly_once(district, query):
    closing = district.data["closing"]
    deadline = time.monotonic() + 20
    while query(select(Topic.status).where(Topic.id == closing)).scalar_one() != Status.closed:
        assert time.monotonic() < deadline, "no sweeper closed the vote"
        time.sleep(0.2)
    time.sleep(2.5)  # both sweepers have had two more passes
    closes = query(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == "topic", AuditEntry.object_id == closing, AuditEntry.action == "close")).scalar_one()
    assert closes == 1


@pytest.mark.slow
@pytest.mark.postgres
def test_with_one_process_stopped_nginx_keeps_serving(district):
    """A rolling restart: while A is down, nginx sends everything (a login POST too) to B. Runs last: it stops A."""
    stop(district.procs[0])
    for _ in range(6):
        answer = district.browser("nginx").get(f"/{SLUG}/topics/{district.data['topic']}")
        assert answer.status == 200 and f"/ {HOUSEHOLDS} 户" in answer.text
    front = district.browser("nginx")
    assert front.log_in("chair", PASSWORD).status == 302
    assert front.get(f"/admin/{SLUG}/notices/").status == 200


@pytest.mark.slow
def test_processes_starting_together_write_one_secret_key(tmp_path):
    """Several processes on one instance folder with no KIOSK_SECRET_KEY, first start: all sign with one key."""
    # Load config.py alone (not the whole package, which takes a second to import) and start together.
    program = ("import importlib.util, sys, time\n"
               "spec = importlib.util.spec_from_file_location('config', sys.argv[1])\n"
               "config = importlib.util.module_from_spec(spec); spec.loader.exec_module(config)\n"
               "time.sleep(max(0, float(sys.argv[3]) - time.time()))\n"
               "print(config.load_or_create_secret(sys.argv[2]))\n")
    start = str(time.time() + 1.0)
    procs = [subprocess.Popen([sys.executable, "-c", program, str(ROOT / "kiosk" / "config.py"),
                               str(tmp_path / "instance"), start],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8, [err for _, err in results]
    keys = {out.strip() for out, _ in results}
    stored = (tmp_path / "instance" / "secret_key").read_text().strip()
    assert keys == {stored} and len(stored) >= 32
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (tmp_path / "instance").iterdir()) == ["secret_key"]


def test_deploy_doc_shows_the_nginx_site_the_test_runs():
    """docs/deploy.md prints docs/nginx-kiosk.conf in full: the same directives, comments aside."""
    def directives(conf):
        return " ".join(re.sub(r"#[^\n]*", "", conf).split())

    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", doc, re.DOTALL)
    assert len(blocks) == 1
    assert directives(blocks[0]) == directives(NGINX_TEMPLATE.read_text(encoding="utf-8"))
