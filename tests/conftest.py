"""Fixtures: a fresh app and database per test, on SQLite and (when available) on a real PostgreSQL.

Time bombs: no test may depend on today's date. To find one before it goes off, run the suite in the future:
`KIOSK_TEST_CLOCK_SHIFT_DAYS=400 .venv/bin/python -m pytest -p no:cacheprovider -q tests/test_x.py` travels
the whole session 400 days ahead (time-machine, clock ticking; negative values go back; fractions move the
time of day, e.g. into 16:00-24:00 UTC, when Shanghai's date is already the next day). Python subprocesses
(a `kiosk serve` under test) are shifted too, unless a test clears KIOSK_* from their environment; the
database server's own clock (PostgreSQL now()) and nginx stay on today.
"""
import fcntl
import http.client
import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from functools import partial

import pytest
import time_machine
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError

from factories import new_compound, new_user
from kiosk import create_app
from kiosk.auth.models import LoginSession, Role, User
from kiosk.database import utcnow
from kiosk.extensions import db

IN_CI = os.environ.get("CI") == "true"
# Under pytest-xdist (./scripts/test runs the suite on every core) each worker is a process named gw0, gw1...
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
BASE_PG_URL = os.environ.get("KIOSK_TEST_DATABASE_URL")


def _worker_url(url):
    """The database of this xdist worker: <name>_gw0, <name>_gw1... on the same server (the URL as given when
    pytest runs in one process). Each session empties and migrates its database, so two workers cannot share one."""
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = _worker_url(BASE_PG_URL)
SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct-horse-battery-9"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _share_url_builders():
    """Make each URL rule's builder once per test process instead of once per app.

    Every test makes a fresh app, and werkzeug compiles two Python functions for each of its ~190 URL rules
    (it builds an AST and runs compile()): about four fifths of create_app's time, a fifth of the suite's. A
    builder is a function of the rule's text and parsed parts only (the Rule comes in as its first argument,
    the converters are looked up on it), so the same rule text gets the same function in every app. Rules
    whose defaults fill in one of their own variables are compiled as ever. Only this test process is
    affected: the app as served, and `kiosk serve` under test, compile their rules as usual."""
    from werkzeug.routing.rules import Rule

    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "shared_by_tests", False):
        return  # another werkzeug: leave it alone (slower, never wrong)
    made = {}

    def compile_builder(self, append_unknown=True):
        defaults = self.defaults or {}
        if any(dynamic and data in defaults for dynamic, data in self._trace):
            return original(self, append_unknown)
        key = (append_unknown, self.rule, tuple(self._trace), tuple(defaults))
        if key not in made:
            made[key] = original(self, append_unknown)
        return made[key]

    compile_builder.shared_by_tests = True
    compile_builder.original = original
    Rule._compile_builder = compile_builder


_share_url_builders()


def make_app(tmp_path, database_url, **extra):
    """Create an app for tests with its own instance folder."""
    config = {
        "TESTING": True,
        "SECRET_KEY": SECRET,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Tests change rows behind the app's back; the page cache has its own tests (test_pagecache.py).
        "PAGE_CACHE_SECONDS": 0,
        "VERIFY_CACHE_SECONDS": 0,  # likewise the public chain check (its cache is tested in test_ledger_public.py)
    }
    config.update(extra)
    return create_app(config)


def _migrate(app):
    from kiosk.cli import migrate_to_head

    with app.app_context():
        migrate_to_head()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A SQLite database migrated to head once per session; tests get a copy."""
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.sqlite3"
    _migrate(make_app(folder, f"sqlite:///{path}"))
    return path


_worker_databases = set()


def ensure_worker_database():
    """Create this xdist worker's database the first time a test needs it, as the role of
    KIOSK_TEST_DATABASE_URL (which needs CREATEDB: scripts/test grants it on the cluster it makes)."""
    if not WORKER or not BASE_PG_URL or PG_URL in _worker_databases:
        return
    name = make_url(PG_URL).database
    engine = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as exc:
        pytest.fail(f"xdist worker {WORKER} needs its own PostgreSQL database {name!r} and could not create it "
                    f"({exc.orig}): give the role CREATEDB, or create the database, or run with -n 0")
    finally:
        engine.dispose()
    _worker_databases.add(PG_URL)


def require_postgres():
    """Return the PostgreSQL URL for tests (this xdist worker's own database), skipping without one (failing
    in CI)."""
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but KIOSK_TEST_DATABASE_URL is not set: PostgreSQL tests must run in CI")
        pytest.skip("POSTGRES: set KIOSK_TEST_DATABASE_URL to run the PostgreSQL variant")
    ensure_worker_database()
    return PG_URL


@pytest.fixture(scope="session")
def postgres_schema(tmp_path_factory):
    """A PostgreSQL database emptied and migrated to head once per session."""
    url = require_postgres()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _migrate(make_app(tmp_path_factory.mktemp("pg"), url))
    return url


def pg_schema_url(url, schema):
    """A PostgreSQL URL whose connections work in their own, freshly emptied schema."""
    ensure_worker_database()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


def _truncate_postgres(url):
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(request, tmp_path, sqlite_template):
    """The URL of a fresh, migrated database for one test (SQLite unless parametrised to postgresql)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_schema")
        _truncate_postgres(url)
        return url
    path = tmp_path / "kiosk.sqlite3"
    shutil.copyfile(sqlite_template, path)
    os.chmod(path, 0o600)  # as the app makes its database; it would tighten (and log) a 0644 copy
    return f"sqlite:///{path}"


def pytest_generate_tests(metafunc):
    """Run every database-touching test on SQLite and on PostgreSQL."""
    if "database_url" in metafunc.fixturenames and not metafunc.definition.get_closest_marker("sqlite_only"):
        metafunc.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                             indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: runs on SQLite only (says why in the test)")
    config.addinivalue_line("markers", "both_engines: a browser journey that runs on PostgreSQL too (says why)")
    config.addinivalue_line("markers", "alone: measures time; under xdist no other test runs meanwhile (ALONE)")
    _shift_clock(config)
    _share_run_lock(config)


# Tests that hold the app to a wall-clock figure (a pulse within a second, a screen that recovers within five, a
# storm's timings, slow clients cut off on time): under pytest-xdist they run while the other workers wait, so
# their figures mean what they meant when the suite ran in one process. Node ids or their prefixes.
ALONE = (
    "tests/test_scale_out.py",
    "tests/test_slow_clients.py",
    "tests/test_vote_storm.py",
    "tests/test_faults.py",
    "tests/test_documents_pdf.py::test_ten_thousand_pages_are_refused_without_rendering_any",
    "tests/browser/test_screen_outage.py",
    "tests/browser/test_screen_power_cut.py",
    "tests/browser/test_screen_remote_journeys.py",
    "tests/browser/test_screen_live_journeys.py",
    "tests/browser/test_consult_live.py",
)

# The slowest files go to the workers first, so that none of them is what one worker is still running while the
# other has nothing left (xdist hands out whole files in collection order: --dist loadfile): these, then the
# browser journeys (seconds each), then the rest (pytest collects tests/browser/ last).
FIRST = (
    "tests/browser/test_every_page.py",
    "tests/test_security_access.py",
    "tests/test_vote_storm.py",
    "tests/test_scale_out.py",
    "tests/test_packaging.py",
)


def pytest_collection_modifyitems(config, items):
    """Mark ALONE tests, and put the FIRST modules at the front (a stable order: every worker must collect
    the same list)."""
    for item in items:
        if item.nodeid.startswith(ALONE):
            item.add_marker(pytest.mark.alone)
    rank = {name: n for n, name in enumerate(FIRST)}

    def order(item):
        path = item.nodeid.split("::")[0]
        return rank.get(path, len(rank) + (0 if path.startswith("tests/browser/") else 1))

    items.sort(key=order)


def _share_run_lock(config):
    """In the process that starts xdist's workers, make the folder of the lock ALONE tests take (the workers
    inherit its path); it goes when the run ends."""
    if hasattr(config, "workerinput") or os.environ.get("KIOSK_TEST_LOCK_DIR"):
        return
    folder = tempfile.mkdtemp(prefix="kiosk-test-lock-")
    os.environ["KIOSK_TEST_LOCK_DIR"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    config.add_cleanup(lambda: os.environ.pop("KIOSK_TEST_LOCK_DIR", None))


class RunLock:
    """A readers-writer lock between the xdist workers of one run (flock on two files): every test shares the
    room; an ALONE test has it to itself. The gate keeps a waiting ALONE test from being starved by the other
    workers' stream of tests: once it waits, no new test enters."""

    def __init__(self, folder):
        self.gate = open(os.path.join(folder, "gate"), "a")  # noqa: SIM115 - held for the whole session
        self.room = open(os.path.join(folder, "room"), "a")  # noqa: SIM115

    @contextmanager
    def held(self, alone):
        """Hold the room, alone or shared, for one test (setup, call and teardown)."""
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            if not alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(self.room, fcntl.LOCK_UN)
            if alone:
                fcntl.flock(self.gate, fcntl.LOCK_UN)


_run_lock = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """In an xdist worker, run each test inside the run lock (ALONE tests with the room to themselves)."""
    folder = os.environ.get("KIOSK_TEST_LOCK_DIR")
    if not WORKER or not folder:
        return (yield)
    if not _run_lock:
        _run_lock.append(RunLock(folder))
    with _run_lock[0].held(item.get_closest_marker("alone") is not None):
        return (yield)


# Imported by every Python subprocess the tests start (through PYTHONPATH) while the clock is shifted, so a
# `kiosk serve` process lives on the same shifted day as the test that talks to it.
SHIFTED_SITECUSTOMIZE = """\
import os
if os.environ.get("KIOSK_TEST_CLOCK_SHIFT_DAYS", "").strip():
    from datetime import datetime, timedelta, timezone
    import time_machine
    _days = float(os.environ["KIOSK_TEST_CLOCK_SHIFT_DAYS"])
    time_machine.travel(datetime.now(timezone.utc) + timedelta(days=_days), tick=True).start()
"""


def _shift_clock(config):
    """With KIOSK_TEST_CLOCK_SHIFT_DAYS=N, run the whole session N days from now (the clock keeps ticking),
    and the Python subprocesses it starts too (a sitecustomize on PYTHONPATH)."""
    days = os.environ.get("KIOSK_TEST_CLOCK_SHIFT_DAYS", "").strip()
    if not days:
        return
    traveller = time_machine.travel(datetime.now(timezone.utc) + timedelta(days=float(days)), tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)
    folder = tempfile.mkdtemp(prefix="kiosk-clock-")
    with open(os.path.join(folder, "sitecustomize.py"), "w") as fh:
        fh.write(SHIFTED_SITECUSTOMIZE)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (folder, os.environ.get("PYTHONPATH")) if p)
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def pytest_report_header(config):
    """Say so at the top of the run when the clock is shifted, so a result is never read as today's."""
    days = os.environ.get("KIOSK_TEST_CLOCK_SHIFT_DAYS", "").strip()
    if days:
        return f"clock shifted {days} days: today is {datetime.now(timezone.utc):%Y-%m-%d} for these tests"


class FreshGClient(FlaskClient):
    """A test client whose requests each start with an empty g, as each request does in production.

    The app fixture keeps one app context open for the whole test (so tests can use db.session), and
    requests reuse it; without this, g (the compound, the logged-in user, Babel's locale) would leak
    from one request into the next.
    """

    def open(self, *args, **kwargs):
        for name in list(vars(g)) if g else []:
            delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(tmp_path, database_url):
    """A fresh application bound to a fresh database."""
    app = make_app(tmp_path, database_url)
    app.test_client_class = FreshGClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_hash_cache = {}


def password_hash(app):
    """Hash PASSWORD once per session at the real iteration count (it takes a third of a second)."""
    if "h" not in _hash_cache:
        with app.app_context():
            user = User(username="x", display_name="x")
            user.set_password(PASSWORD)
            _hash_cache["h"] = user.password_hash
    return _hash_cache["h"]


@pytest.fixture
def make_compound(app):
    """Create a compound: make_compound("fengshu", "枫树小区")."""
    return new_compound


@pytest.fixture
def make_user(app):
    """Create an account (password PASSWORD), optionally with a role in a compound."""
    return partial(new_user, password_hash(app))


def login_as(client, user):
    """Log a test client in without the password round trip (the login form has its own tests)."""
    key = LoginSession.new_key()
    db.session.add(LoginSession(key_hash=LoginSession.hash_key(key), user_id=user.id))
    db.session.commit()
    with client.session_transaction() as session:
        session["_user_id"] = key
        session["_fresh"] = True
    return key


def csrf_token(client, path="/admin/login"):
    """Return a CSRF token for the client's session, read from a page that has a form."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path, data, token_from=None, **kwargs):
    """POST a form the way a browser would: with the CSRF token its page carried."""
    data = dict(data)
    data.setdefault("csrf_token", csrf_token(client, token_from or path))
    return client.post(path, data=data, **kwargs)


@pytest.fixture
def compound(make_compound):
    return make_compound()


@pytest.fixture
def chair(make_user, compound):
    return make_user("chair", compound, Role.chair)


@pytest.fixture
def committee_client(client, chair):
    """A client logged in as the compound's chair."""
    login_as(client, chair)
    return client


def ago(**kwargs):
    return utcnow() - timedelta(**kwargs)


def ahead(**kwargs):
    return utcnow() + timedelta(**kwargs)


@contextmanager
def serving(app, threads=4):
    """Serve the app with `kiosk serve`'s waitress (cli.make_server) in a thread; yield the port.

    Shut down once, from the server's own loop, tolerating a trigger waitress has already closed.
    """
    from kiosk.cli import make_server

    server = make_server(app, "127.0.0.1", 0, threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield int(server.effective_port)
    finally:
        server.task_dispatcher.shutdown()
        try:
            server.trigger.pull_trigger(lambda: [ch.handle_close() for ch in list(server._map.values())])
        except OSError:  # the trigger is already closed: the loop has stopped on its own
            pass
        thread.join(10)


def raw_get(port, path, headers=()):
    """GET path over a fresh connection with exactly these header lines (repeats allowed); return
    (status, {lowercased name: [values]}, text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        found = {}
        for name, value in response.getheaders():
            found.setdefault(name.lower(), []).append(value)
        return response.status, found, response.read().decode("utf-8", "replace")
    finally:
        connection.close()
