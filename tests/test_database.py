"""The database under the app: SQLite settings and write locking, concurrent writers, the append-only
audit log, version bumps, and migrations that match the models on both engines."""
import http.client
import logging
import threading
import urllib.parse
from contextlib import contextmanager
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask_migrate import downgrade
from sqlalchemy import create_engine, event, func, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from waitress.server import create_server

from kiosk.auth.models import LoginSession
from kiosk.changes import AuditEntry, Change, record_change
from kiosk.cli import migrate_to_head, schema_is_current
from kiosk.compounds.models import Compound
from kiosk.database import WriteOutsideImmediate, utcnow, writing
from kiosk.extensions import db
from kiosk.notices.models import Category, Notice, Status

from conftest import csrf_token, make_app, pg_schema_url, post_form, require_postgres

NEW = "/admin/maple/notices/new"
TABLES = {"compound", "user", "membership", "login_session", "login_failure", "notice", "image", "audit_entry",
          "change"}


def notice_form(title, **extra):
    return {"title": title, "body": "请留意。", "category": "notice", "action": "publish", **extra}


@contextmanager
def recorded_statements():
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.strip())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --- SQLite settings and BEGIN IMMEDIATE ---------------------------------------------------------

@pytest.mark.sqlite_only("PRAGMAs and write locking are SQLite's")
def test_every_sqlite_connection_uses_wal_foreign_keys_and_a_busy_timeout(app, compound):
    connections = [db.engine.raw_connection() for _ in range(3)]  # three distinct pooled connections
    try:
        for conn in connections:
            pragma = lambda name: conn.cursor().execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
            assert pragma("journal_mode") == "wal"
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") >= 5000
    finally:
        for conn in connections:
            conn.close()
    # Foreign keys are enforced: a notice for a compound that does not exist is refused.
    db.session.add(Notice(compound_id=compound.id + 999, title="孤儿", category=Category.notice))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.sqlite_only("BEGIN IMMEDIATE is how SQLite writers queue instead of failing")
def test_posting_a_notice_writes_in_an_immediate_transaction_and_reading_does_not(committee_client, client):
    with recorded_statements() as statements:
        response = post_form(committee_client, NEW, notice_form("停电通知"))
    assert response.status_code == 302
    insert_at = next(i for i, s in enumerate(statements) if s.upper().startswith("INSERT INTO NOTICE"))
    begins = [s for s in statements[:insert_at] if s.upper().startswith("BEGIN")]
    assert begins and begins[-1] == "BEGIN IMMEDIATE"

    with recorded_statements() as statements:
        page = client.get("/maple/")
    assert page.status_code == 200 and "停电通知" in page.get_data(as_text=True)
    begins = [s for s in statements if s.upper().startswith("BEGIN")]
    # Residents' pages take no write lock, so they never wait for (or hold up) the committee.
    assert begins and set(begins) == {"BEGIN DEFERRED"}


@pytest.mark.sqlite_only("WriteOutsideImmediate guards SQLite's deferred transactions")
def test_write_during_get_must_use_writing(app, compound):
    db.session.rollback()
    with app.test_request_context("/maple/", method="GET"):
        db.session.add(Compound(slug="oak", name="橡树小区"))
        with pytest.raises(WriteOutsideImmediate):
            db.session.commit()
        db.session.rollback()
        with writing():
            db.session.add(Compound(slug="oak", name="橡树小区"))
    assert db.session.scalar(select(Compound.name).where(Compound.slug == "oak")) == "橡树小区"


@pytest.mark.sqlite_only("the one-statement read leaves out SQLite's BEGIN; PostgreSQL ignores the option")
def test_a_one_statement_read_sends_no_begin_and_still_cannot_write(app, compound):
    slug, expected, compound_id = compound.slug, compound.version, compound.id
    db.session.commit()
    db.session.remove()
    with recorded_statements() as statements:
        with db.engine.connect().execution_options(kiosk_one_read=True) as conn:
            version = conn.scalar(select(Compound.version).where(Compound.slug == slug))
            assert not conn.connection.driver_connection.in_transaction  # SQLite's autocommit: no snapshot kept
    assert version == expected
    assert not [s for s in statements if s.upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))], statements
    with db.engine.connect().execution_options(kiosk_one_read=True) as conn:
        with pytest.raises(WriteOutsideImmediate):
            conn.execute(update(Compound).where(Compound.id == compound_id).values(name="改了"))
    assert db.session.get(Compound, compound_id).name != "改了"


@pytest.mark.sqlite_only("the pool size set here is for SQLite files (PostgreSQL's is its own setting)")
def test_the_sqlite_pool_keeps_a_connection_for_every_serving_thread(app):
    """Eight serving threads and the sweeper at once: after the first time, no connection is opened again
    (SQLAlchemy's default pool of 5 closed the others after each request, and opened them again, with their
    PRAGMAs, on the next)."""
    db.session.remove()
    opened = []

    def count(*args):
        opened.append(1)

    event.listen(db.engine, "connect", count)
    try:
        for _ in range(3):
            held = [db.engine.connect().execution_options(kiosk_read_only=True) for _ in range(9)]
            for conn in held:
                conn.execute(text("SELECT 1"))
            for conn in held:
                conn.close()
    finally:
        event.remove(db.engine, "connect", count)
    assert len(opened) <= 9

def test_a_get_that_refreshes_the_login_session_works(committee_client, chair):
    """Loading an admin page after a minute updates last_seen inside writing(); the page still opens."""
    session = db.session.scalar(select(LoginSession).where(LoginSession.user_id == chair.id))
    db.session.execute(update(LoginSession).where(LoginSession.id == session.id)
                       .values(last_seen=utcnow() - timedelta(minutes=5)))
    db.session.commit()
    assert committee_client.get("/admin/maple/notices/").status_code == 200
    db.session.expire_all()
    assert utcnow() - db.session.get(LoginSession, session.id).last_seen < timedelta(minutes=1)


# --- concurrency through a real server -----------------------------------------------------------

@contextmanager
def live_server(app, threads=8):
    """Serve the app with waitress in a thread, the way `kiosk serve` does; yield (host, port)."""
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="kiosk-test")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", server.effective_port
    finally:
        # Stop the worker threads, then close every channel (listener and trigger included) from the
        # server's own loop thread, so the loop ends with nothing left to poll.
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: [channel.handle_close() for channel in list(server._map.values())])
        thread.join(10)
        assert not thread.is_alive(), "waitress did not stop"


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.mark.slow
def test_twenty_committee_phones_posting_at_once_all_succeed(app, committee_client, compound):
    writers, per_writer, readers = 20, 10, 4
    token = csrf_token(committee_client, NEW)
    cookie = committee_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    compound_id, version_before = compound.id, compound.version
    db.session.rollback()  # the test's own transaction must not hold a lock while the server works
    statuses, problems, stop_reading = [], [], threading.Event()
    log = ListHandler()
    logging.getLogger("kiosk").addHandler(log)
    logging.getLogger("waitress").addHandler(log)

    def post_notices(host, port, writer):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            for i in range(per_writer):
                body = urllib.parse.urlencode({**notice_form(f"并发通知 {writer}-{i}"), "csrf_token": token})
                conn.request("POST", NEW, body, {"Content-Type": "application/x-www-form-urlencoded",
                                                 "Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"})
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
        except Exception as problem:  # noqa: BLE001 - reported below
            problems.append(repr(problem))
        finally:
            conn.close()

    def read_pages(host, port):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        try:
            while not stop_reading.is_set():
                for path in ("/maple/", "/healthz"):
                    conn.request("GET", path)
                    response = conn.getresponse()
                    response.read()
                    if response.status != 200:
                        problems.append(f"GET {path} -> {response.status}")
        except Exception as problem:  # noqa: BLE001 - reported below
            problems.append(repr(problem))
        finally:
            conn.close()

    try:
        with live_server(app) as (host, port):
            reading = [threading.Thread(target=read_pages, args=(host, port)) for _ in range(readers)]
            posting = [threading.Thread(target=post_notices, args=(host, port, w)) for w in range(writers)]
            for thread in reading + posting:
                thread.start()
            for thread in posting:
                thread.join(300)
            stop_reading.set()
            for thread in reading:
                thread.join(60)
    finally:
        logging.getLogger("kiosk").removeHandler(log)
        logging.getLogger("waitress").removeHandler(log)

    assert problems == []
    assert statuses == [302] * (writers * per_writer)
    assert not [m for m in log.messages if "locked" in m or "unavailable" in m or "Exception" in m]
    db.session.expire_all()
    titles = set(db.session.scalars(select(Notice.title).where(Notice.compound_id == compound_id)))
    assert titles == {f"并发通知 {w}-{i}" for w in range(writers) for i in range(per_writer)}
    # Every change got its own version number: screens that poll the version miss nothing.
    assert db.session.get(Compound, compound_id).version == version_before + writers * per_writer
    versions = db.session.scalars(select(Change.version).where(Change.compound_id == compound_id)).all()
    assert sorted(versions) == list(range(version_before + 1, version_before + writers * per_writer + 1))


# --- audit log and versions ----------------------------------------------------------------------

def test_audit_log_is_append_only_in_the_database_itself(app, compound, chair, database_url):
    notice = Notice(compound_id=compound.id, title="公示", category=Category.disclosure, status=Status.published)
    db.session.add(notice)
    record_change(compound, chair, "notices", "create", notice, None, {"title": "公示"})
    db.session.commit()
    compound_id, chair_id = compound.id, chair.id
    db.session.remove()
    # Not through the app's models: a plain connection, as someone with database access would use.
    engine = create_engine(database_url)
    try:
        for statement in ("UPDATE audit_entry SET action = 'forged'", "DELETE FROM audit_entry"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(statement))
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT action, object_type FROM audit_entry")).all()
            assert [tuple(r) for r in rows] == [("create", "notice")]
            # Appending still works.
            conn.execute(text("INSERT INTO audit_entry (compound_id, actor_id, at, area, action, object_type) "
                              "VALUES (:c, :a, :at, 'notices', 'archive', 'notice')"),
                         {"c": compound_id, "a": chair_id, "at": utcnow().replace(tzinfo=None)})
            assert conn.execute(text("SELECT count(*) FROM audit_entry")).scalar_one() == 2
    finally:
        engine.dispose()


def test_record_change_bumps_the_version_by_one_and_writes_a_change_row(app, compound, chair):
    start = compound.version
    for n, area in enumerate(["notices", "notices", "accounts"], start=1):
        notice = Notice(compound_id=compound.id, title=f"通知{n}", category=Category.notice)
        db.session.add(notice)
        record_change(compound, chair, area, "create", notice, None, {"title": f"通知{n}"})
        db.session.commit()
        assert db.session.get(Compound, compound.id).version == start + n
    changes = db.session.execute(select(Change.version, Change.area).where(Change.compound_id == compound.id)
                                 .order_by(Change.id)).all()
    assert [tuple(c) for c in changes] == [(start + 1, "notices"), (start + 2, "notices"), (start + 3, "accounts")]
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(a.actor_id, a.compound_id, a.object_type, a.after) for a in audit] == [
        (chair.id, compound.id, "notice", {"title": f"通知{n}"}) for n in (1, 2, 3)]


def test_platform_change_is_audited_without_a_compound_version(app, compound, chair):
    start = compound.version
    record_change(None, chair, "compounds", "create", compound, None, {"slug": "maple"})
    db.session.commit()
    assert db.session.get(Compound, compound.id).version == start
    assert db.session.scalar(select(func.count()).select_from(Change)) == 0
    entry = db.session.scalar(select(AuditEntry))
    assert entry.compound_id is None and entry.object_type == "compound"


def test_posting_a_notice_bumps_the_version_once_and_a_refused_post_not_at_all(committee_client, compound):
    start = compound.version
    assert post_form(committee_client, NEW, notice_form("新通知")).status_code == 302
    db.session.expire_all()
    assert db.session.get(Compound, compound.id).version == start + 1
    assert post_form(committee_client, NEW, notice_form("")).status_code == 400
    db.session.expire_all()
    assert db.session.get(Compound, compound.id).version == start + 1
    assert db.session.scalar(select(func.count()).select_from(Change)) == 1


# --- migrations ----------------------------------------------------------------------------------

def test_migrated_schema_matches_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == [], "the models and the migrations disagree; write a migration with `kiosk db migrate`"
    assert schema_is_current()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scratch_app(request, tmp_path, sqlite_template):
    """An app on a migrated database of its own that the test may tear down completely."""
    if request.param == "sqlite":
        path = tmp_path / "scratch.sqlite3"
        path.write_bytes(sqlite_template.read_bytes())
        url, cleanup = f"sqlite:///{path}", None
    else:
        base = require_postgres()
        url = pg_schema_url(base, "kiosk_migration_test")

        def cleanup():
            engine = create_engine(base)
            with engine.begin() as conn:
                conn.execute(text('DROP SCHEMA IF EXISTS "kiosk_migration_test" CASCADE'))
            engine.dispose()
    app = make_app(tmp_path, url)
    with app.app_context():
        if request.param == "postgresql":
            migrate_to_head()
        yield app
        db.session.remove()
        db.engine.dispose()
    if cleanup:
        cleanup()


def test_downgrade_to_base_and_upgrade_again(scratch_app):
    app = scratch_app
    directory = app.extensions["migrate"].directory
    downgrade(directory=directory, revision="base")
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        if conn.dialect.name == "postgresql":
            assert conn.execute(text("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                                     "WHERE p.proname = 'audit_entry_append_only' AND n.nspname = current_schema()"
                                     )).scalar_one() == 0
    assert not schema_is_current()

    migrate_to_head()
    with db.engine.connect() as conn:
        assert TABLES <= set(inspect(conn).get_table_names())
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert differences == []
    assert schema_is_current()
    # The rebuilt schema works, append-only audit log included.
    compound = Compound(slug="maple", name="枫叶小区")
    db.session.add(compound)
    db.session.flush()
    record_change(compound, None, "notices", "create", compound)
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_entry"))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1
