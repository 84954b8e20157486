"""The `kiosk` command as an operator uses it: init, demo, user add, backup and serve."""
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, inspect, select, text
from sqlalchemy.engine import make_url

from kiosk.auth.models import Membership, Role, User
from kiosk.cli import schema_is_current
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.notices.models import Category, Notice, Status

from conftest import make_app, pg_schema_url, post_form, require_postgres

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
APP_COMMANDS = {"serve", "init", "demo", "user", "backup", "verify"}


def head_revision(app):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()


def drop_pg_schema(url, schema):
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def release():
    """End the test's own transaction: outside a request it is BEGIN IMMEDIATE and would block writers."""
    db.session.rollback()


QUICK_HASHING = {"PASSWORD_ITERATIONS": 1000}


@pytest.fixture
def quick_hashing(app):
    """Hash new passwords cheaply: these tests are about the command, not PBKDF2 (whose floor is
    enforced when the app starts, so it is lowered only after start-up)."""
    app.config.update(QUICK_HASHING)


def one_time_password(output):
    match = re.search(r"one-time password: (\S+)", output, re.I)
    assert match, output
    return match.group(1)


def login(client, username, password):
    return post_form(client, "/admin/login", {"username": username, "password": password})


def add_notices(compound_id, count, body_size=0, prefix="通知"):
    db.session.execute(insert(Notice), [
        {"compound_id": compound_id, "title": f"{prefix} {i}", "body": "水" * body_size,
         "category": Category.notice, "status": Status.published}
        for i in range(count)])
    db.session.commit()


def sqlite_titles(path):
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {row[0] for row in conn.execute("SELECT title FROM notice")}
    finally:
        conn.close()


# --- init -----------------------------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """The URL of a database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.sqlite3'}"
        return
    base = require_postgres()
    yield pg_schema_url(base, "kiosk_cli_init")
    drop_pg_schema(base, "kiosk_cli_init")


def test_init_creates_schema_at_head_and_is_idempotent(tmp_path, empty_database):
    app = make_app(tmp_path, empty_database)
    runner = app.test_cli_runner()
    with app.app_context():
        try:
            assert not schema_is_current()
            first = runner.invoke(args=["init"])
            assert first.exit_code == 0, first.output
            assert "Database ready" in first.output
            assert "kiosk:kiosk@" not in first.output  # the password is not printed
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision(app)
                tables = set(inspect(conn).get_table_names())
            assert {"compound", "user", "membership", "notice", "audit_entry", "change", "image"} <= tables
            assert schema_is_current()

            db.session.add(Compound(slug="maple", name="枫叶小区"))
            db.session.commit()
            second = runner.invoke(args=["init"])
            assert second.exit_code == 0, second.output
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
            assert db.session.scalar(select(Compound.name)) == "枫叶小区"  # data survives a second init
        finally:
            db.session.remove()
            db.engine.dispose()


# --- demo -----------------------------------------------------------------------------------------

def test_demo_prints_where_to_look_and_a_working_one_time_login(app, runner, quick_hashing):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    out = result.output
    home = re.search(r"Phone home \(residents\):\s+(http://\S+)", out)
    admin = re.search(r"Committee admin \(phone\):\s+(http://\S+)", out)
    notice = re.search(r"An urgent notice:\s+(http://\S+/n/\d+)", out)
    chair = re.search(r"chair login:\s+(\S+)", out)
    assert home and admin and notice and chair, out
    assert home.group(1) == "http://127.0.0.1:8080/guixiang/"
    assert admin.group(1) == "http://127.0.0.1:8080/admin/"
    assert chair.group(1) == "demo-chair"
    password = one_time_password(out)

    client = app.test_client()
    for url in (home.group(1), notice.group(1)):
        path = url.removeprefix("http://127.0.0.1:8080")
        page = client.get(path)
        assert page.status_code == 200, path
    assert "停水" in client.get(notice.group(1).removeprefix("http://127.0.0.1:8080")).get_data(as_text=True)

    assert login(client, "demo-chair", "wrong-password-123").status_code == 200  # refused, form again
    response = login(client, "demo-chair", password)
    assert response.status_code == 302
    # A one-time password must be replaced before anything else.
    assert client.get("/admin/").headers["Location"].endswith("/admin/password")
    assert client.get("/admin/guixiang/notices/").headers["Location"].endswith("/admin/password")


def test_demo_prints_the_public_url_when_one_is_configured(tmp_path, database_url):
    app = make_app(tmp_path, database_url, PUBLIC_URL="https://kiosk.example.org/")
    app.config.update(QUICK_HASHING)
    with app.app_context():
        try:
            result = app.test_cli_runner().invoke(args=["demo", "--no-serve"])
            assert result.exit_code == 0, result.output
            assert "https://kiosk.example.org/guixiang/" in result.output
            assert "https://kiosk.example.org/admin/" in result.output
            assert "127.0.0.1" not in result.output
        finally:
            db.session.remove()
            db.engine.dispose()


def test_demo_twice_keeps_one_copy_and_replaces_the_one_time_password(app, runner, quick_hashing):
    first = runner.invoke(args=["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    counts = (db.session.scalar(select(func.count()).select_from(Notice)),
              db.session.scalar(select(func.count()).select_from(Compound)),
              db.session.scalar(select(func.count()).select_from(User)),
              db.session.scalar(select(func.count()).select_from(Membership)))
    release()
    second = runner.invoke(args=["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert (db.session.scalar(select(func.count()).select_from(Notice)),
            db.session.scalar(select(func.count()).select_from(Compound)),
            db.session.scalar(select(func.count()).select_from(User)),
            db.session.scalar(select(func.count()).select_from(Membership))) == counts
    assert counts[0] >= 7
    release()
    old, new = one_time_password(first.output), one_time_password(second.output)
    assert old != new
    client = app.test_client()
    assert login(client, "demo-chair", old).status_code == 200  # the old one no longer works
    assert login(client, "demo-chair", new).status_code == 302


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_errors_are_still_logged_after_demo_ran_the_migrations(app, runner, quick_hashing):
    """`kiosk demo` migrates and then serves in the same process: the migration must not silence
    the app's and waitress's loggers, or an operator never hears about server errors."""
    assert runner.invoke(args=["demo", "--no-serve"]).exit_code == 0
    assert not logging.getLogger("waitress").disabled

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaput")

    handler = ListHandler()
    logger = logging.getLogger("kiosk")
    logger.addHandler(handler)
    try:
        assert app.test_client().get("/boom").status_code == 500
    finally:
        logger.removeHandler(handler)
    assert any("unhandled error on GET /boom" in message for message in handler.messages), handler.messages


# --- user add -------------------------------------------------------------------------------------

def test_user_add_prints_a_one_time_password_for_a_new_member(app, runner, compound, quick_hashing):
    result = runner.invoke(args=["user", "add", "Wang", "--compound", "maple", "--role", "vice_chair",
                                 "--name", "王副主任"])
    assert result.exit_code == 0, result.output
    password = one_time_password(result.output)
    user = db.session.scalar(select(User).where(User.username == "wang"))
    assert user.display_name == "王副主任" and user.must_change_password and not user.is_platform_admin
    assert user.role_in(db.session.get(Compound, compound.id)) == Role.vice_chair
    release()
    client = app.test_client()
    assert login(client, "wang", password).status_code == 302
    assert client.get("/admin/").headers["Location"].endswith("/admin/password")


def test_user_add_refuses_a_supervisor_and_says_who_appoints_them(app, runner, compound, quick_hashing):
    """Whoever makes a supervisor's account holds its first password: the street office does that on the
    members page, where the public roster records it -- not a shell account."""
    result = runner.invoke(args=["user", "add", "wang", "--compound", "maple", "--role", "supervisor"])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "platform staff appoint them" in result.output and "/admin/<compound>/members" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_user_add_to_a_compound_is_in_the_audit_log_as_the_command_line(app, runner, compound, make_user,
                                                                        quick_hashing):
    """Reproduced: `kiosk user add --compound` added a committee member with no audit entry."""
    from kiosk.changes import AuditEntry
    from conftest import login_as

    assert runner.invoke(args=["user", "add", "zhao", "--compound", "maple", "--role", "chair",
                               "--name", "赵主任"]).exit_code == 0
    release()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.area == "accounts"))
    assert entry is not None and entry.actor_id is None and entry.compound_id == compound.id
    assert entry.after == {"username": "zhao", "display_name": "赵主任", "role": "chair", "via": "cli"}
    reader = app.test_client()
    login_as(reader, make_user("reader", compound, Role.supervisor))
    page = reader.get("/admin/maple/audit").get_data(as_text=True)
    assert "服务器命令行（无登录账号）" in page and "服务器命令行（kiosk user add）" in page and "赵主任" in page


def test_user_add_refuses_a_name_the_compound_already_has(app, runner, compound, quick_hashing):
    assert runner.invoke(args=["user", "add", "zhao", "--compound", "maple", "--name", "赵主任"]).exit_code == 0
    release()
    again = runner.invoke(args=["user", "add", "zhao2", "--compound", "maple", "--name", "趙主任"])
    assert again.exit_code != 0 and "'赵主任'" in again.output and "Traceback" not in again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_user_add_platform_admin_needs_no_compound(app, runner, quick_hashing):
    result = runner.invoke(args=["user", "add", "staff1", "--platform-admin"])
    assert result.exit_code == 0, result.output
    one_time_password(result.output)
    assert db.session.scalar(select(User.is_platform_admin).where(User.username == "staff1")) is True


def test_user_add_with_given_password_prints_no_password(app, runner, compound, quick_hashing):
    result = runner.invoke(args=["user", "add", "li", "--compound", "maple", "--password", "a-long-pass-phrase-1"])
    assert result.exit_code == 0, result.output
    assert "a-long-pass-phrase-1" not in result.output and "one-time" not in result.output.lower()
    user = db.session.scalar(select(User).where(User.username == "li"))
    assert not user.must_change_password and user.role_in(db.session.get(Compound, compound.id)) == Role.member


def test_user_add_duplicate_name_is_refused_clearly(app, runner, compound, quick_hashing):
    assert runner.invoke(args=["user", "add", "zhang", "--compound", "maple"]).exit_code == 0
    release()
    again = runner.invoke(args=["user", "add", "ZHANG", "--compound", "maple", "--role", "chair"])
    assert again.exit_code != 0
    assert "already exists" in again.output and "zhang" in again.output
    assert "Traceback" not in again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 1
    assert db.session.scalar(select(Membership.role)) == Role.member


def test_user_add_without_compound_or_platform_admin_is_refused(app, runner, compound):
    result = runner.invoke(args=["user", "add", "nobody"])
    assert result.exit_code != 0
    assert "--compound" in result.output and "--platform-admin" in result.output
    unknown = runner.invoke(args=["user", "add", "nobody", "--compound", "no-such-place"])
    assert unknown.exit_code != 0 and "no-such-place" in unknown.output
    bad_role = runner.invoke(args=["user", "add", "nobody", "--compound", "maple", "--role", "king"])
    assert bad_role.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


# --- backup ---------------------------------------------------------------------------------------

@pytest.mark.sqlite_only("`kiosk backup` copies the SQLite file; PostgreSQL is backed up with pg_dump")
def test_backup_copies_the_notices_into_a_sqlite_file_that_opens(app, runner, compound, tmp_path):
    add_notices(compound.id, 5)
    target = tmp_path / "backups" / "kiosk-2026-11-27.sqlite3"
    target.parent.mkdir()
    release()
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert str(target) in result.output
    assert sqlite_titles(target) == {f"通知 {i}" for i in range(5)}
    # The copy is a working database: an app opened on it shows the notices.
    restored = make_app(tmp_path / "restored", f"sqlite:///{target}")
    with restored.app_context():
        try:
            assert "通知 3" in restored.test_client().get("/maple/").get_data(as_text=True)
        finally:
            db.session.remove()
            db.engine.dispose()
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "exists" in again.output  # never overwrites an earlier backup


@pytest.mark.sqlite_only("holds a SQLite write lock from a second connection")
def test_backup_succeeds_while_another_connection_holds_a_write_transaction(app, runner, compound, tmp_path):
    compound_id = compound.id
    add_notices(compound_id, 3)
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    release()
    other = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notice (compound_id, title, body, category, urgent, pinned, status, created_at,"
                  " updated_at) VALUES (?, '写到一半', '', 'notice', 0, 0, 'published', '2026-01-01', '2026-01-01')",
                  (compound_id,))
    timer = threading.Timer(1.0, other.execute, ("COMMIT",))
    timer.start()
    try:
        started = time.monotonic()
        result = runner.invoke(args=["backup", str(tmp_path / "during.sqlite3")])
        elapsed = time.monotonic() - started
    finally:
        timer.join()
        other.close()
    assert result.exit_code == 0, result.output
    titles = sqlite_titles(tmp_path / "during.sqlite3")
    # A consistent snapshot: the committed notices, and the open transaction all or nothing.
    assert {f"通知 {i}" for i in range(3)} <= titles <= {f"通知 {i}" for i in range(3)} | {"写到一半"}
    assert elapsed < 30


@pytest.mark.slow
@pytest.mark.sqlite_only("backs up the SQLite file while another thread writes to it")
def test_backup_is_consistent_while_the_server_keeps_writing(app, runner, compound, tmp_path):
    compound_id = compound.id
    # Several megabytes, so the backup takes several steps and the writer gets in between them.
    add_notices(compound_id, 1500, body_size=1500, prefix="旧通知")
    release()
    written, errors, stop = [], [], threading.Event()

    def writer():
        with app.app_context():
            while not stop.is_set():
                try:
                    db.session.add(Notice(compound_id=compound_id, title=f"新通知 {len(written)}",
                                          category=Category.notice, status=Status.published))
                    db.session.commit()
                    written.append(1)
                except Exception as problem:  # noqa: BLE001 - reported below
                    db.session.rollback()
                    errors.append(repr(problem))
                time.sleep(0.005)
            db.session.remove()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 5 and not errors:
            time.sleep(0.01)
        before = len(written)
        result = runner.invoke(args=["backup", str(tmp_path / "busy.sqlite3")])
        during = len(written) - before
        time.sleep(0.1)
    finally:
        stop.set()
        thread.join(30)
    assert result.exit_code == 0, result.output
    assert errors == []
    assert during > 0, "the writer was blocked for the whole backup"
    titles = sqlite_titles(tmp_path / "busy.sqlite3")
    assert {f"旧通知 {i}" for i in range(1500)} <= titles
    new = {t for t in titles if t.startswith("新通知")}
    # A snapshot: the first n writes, with no gaps.
    assert new == {f"新通知 {i}" for i in range(len(new))}
    assert before <= len(new) <= len(written)


@pytest.mark.postgres
def test_backup_on_postgresql_points_to_pg_dump(tmp_path):
    app = make_app(tmp_path, require_postgres())
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.sqlite3")])
        db.engine.dispose()
    assert result.exit_code != 0 and "pg_dump" in result.output
    assert not (tmp_path / "x.sqlite3").exists()


# --- serve ----------------------------------------------------------------------------------------

def test_serve_refuses_an_empty_database(tmp_path, monkeypatch):
    served = []
    monkeypatch.setattr("kiosk.cli.serve_app", lambda *args: served.append(args))  # never block the test
    app = make_app(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["serve"])
        db.engine.dispose()
    assert served == []
    assert result.exit_code != 0
    assert "not current" in result.output and "kiosk init" in result.output
    assert "listening" not in result.output


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "FLASK_"))}
    env.update(PYTHONUNBUFFERED="1", KIOSK_INSTANCE_PATH=str(tmp_path / "instance"), **extra)
    return env


@pytest.mark.slow
def test_serve_starts_waitress_and_answers_healthz(tmp_path, sqlite_template):
    database = tmp_path / "served.sqlite3"
    shutil.copyfile(sqlite_template, database)
    port = free_port()
    process = subprocess.Popen([str(BIN / "kiosk"), "serve", "--port", str(port), "--threads", "4"],
                               cwd=tmp_path, env=command_env(tmp_path, KIOSK_DATABASE_URL=f"sqlite:///{database}"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    health = (response.status, response.headers["Content-Type"], json.load(response),
                              response.headers["Cache-Control"])
                break
            except OSError:
                time.sleep(0.1)
        assert health is not None, "the server did not answer /healthz within 30 s"
        status, content_type, body, cache = health
        assert status == 200 and content_type.startswith("application/json")
        assert body["status"] == "ok" and body["database"] == "ok" and body["version"]
        assert cache == "no-store"
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert f"listening on http://127.0.0.1:{port}/" in output
    assert "Traceback" not in output
    assert (tmp_path / "instance" / "secret_key").exists()


def command_names(help_text):
    section = help_text.split("Commands:", 1)[1]
    return {m.group(1) for m in re.finditer(r"^\s{2}(\S+)\s", section, re.M)}


@pytest.mark.slow
def test_kiosk_and_flask_commands_list_the_same_commands(tmp_path):
    env = command_env(tmp_path)
    kiosk = subprocess.run([str(BIN / "kiosk"), "--help"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
    flask = subprocess.run([sys.executable, "-m", "flask", "--app", "kiosk", "--help"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert kiosk.returncode == 0 and flask.returncode == 0, kiosk.stderr + flask.stderr
    assert "社区公示屏" in kiosk.stdout
    kiosk_commands, flask_commands = command_names(kiosk.stdout), command_names(flask.stdout)
    assert APP_COMMANDS <= kiosk_commands
    assert APP_COMMANDS <= flask_commands
    # `flask` adds its developer commands (run, shell, routes); the app's own are the same in both.
    assert kiosk_commands == flask_commands - {"run", "shell", "routes"}
    user_help = subprocess.run([str(BIN / "kiosk"), "user", "add", "--help"], cwd=tmp_path, env=env,
                               capture_output=True, text=True, timeout=120)
    assert "--compound" in user_help.stdout and "--platform-admin" in user_help.stdout
