"""Database plumbing: SQLite pragmas, BEGIN IMMEDIATE for writes, UTC-aware times."""
import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import current_app, g, has_app_context, has_request_context, request
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from .extensions import db

DEFAULT_BUSY_TIMEOUT_MS = 10_000
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
WRITE_PREFIXES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class WriteOutsideImmediate(RuntimeError):
    """A write on SQLite inside a transaction that did not begin with BEGIN IMMEDIATE."""


def utcnow():
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A datetime stored as UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def reads_first(view):
    """Mark a POST view whose transaction begins DEFERRED: it reads first and writes only inside writing() (or
    its own IMMEDIATE transaction), so SQLite's write lock is held for the write alone, not the whole request.
    A write outside such a block still fails loudly (WriteOutsideImmediate)."""
    view.kiosk_reads_first = True
    return view


def _reads_first_request():
    """Whether this request's view was marked with reads_first."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "kiosk_reads_first", False)


def _wants_immediate():
    """Writes begin IMMEDIATE: every non-GET request (but reads_first views), CLI work, blocks inside writing()."""
    if not has_request_context():
        return True
    if g.get("kiosk_writing", False):
        return True
    return request.method not in READ_METHODS and not _reads_first_request()


def _busy_timeout_ms():
    """How long a statement waits for a lock held by another connection (KIOSK_BUSY_TIMEOUT_MS)."""
    if has_app_context():
        return int(current_app.config.get("BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))
    return DEFAULT_BUSY_TIMEOUT_MS


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        if type(dbapi_connection).__module__.startswith("psycopg"):
            # A lock held longer than this (another process's LOCK TABLE, a stuck migration) fails the
            # statement, and the request answers a calm 503, instead of holding a waitress thread forever.
            cursor = dbapi_connection.cursor()
            cursor.execute(f"SET lock_timeout = {_busy_timeout_ms()}")
            cursor.close()
            dbapi_connection.commit()
        return
    # Take transaction control away from pysqlite so the begin event below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={_busy_timeout_ms()}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    options = conn.get_execution_options()
    if options.get("kiosk_one_read", False):
        # One SELECT is its own snapshot in SQLite's autocommit mode: no BEGIN, and so no COMMIT or ROLLBACK
        # either (pysqlite skips them outside a transaction). Two statements fewer, and two fewer hand-overs of
        # the GIL, for the hottest reads (a pulse, a cached page's version, a vote's look-up). A write here
        # is still refused below: it is not in an IMMEDIATE transaction.
        conn.info["kiosk_begin"] = None
        return
    mode = "IMMEDIATE" if _wants_immediate() and not options.get("kiosk_read_only", False) else "DEFERRED"
    conn.info["kiosk_begin"] = mode
    conn.exec_driver_sql(f"BEGIN {mode}")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_guard_writes(conn, cursor, statement, parameters, context, executemany):
    if conn.dialect.name != "sqlite" or not conn.in_transaction():
        return
    if statement.lstrip()[:7].upper().startswith(WRITE_PREFIXES) and conn.info.get("kiosk_begin") != "IMMEDIATE":
        # A deferred transaction that later writes can fail with SQLITE_BUSY
        # without waiting; make such code use writing() instead.
        raise WriteOutsideImmediate("write in a deferred SQLite transaction; wrap it in kiosk.database.writing()")


@contextmanager
def writing():
    """Run a block that writes during a GET request in its own IMMEDIATE transaction and commit it."""
    db.session.commit()
    previous = g.get("kiosk_writing", False)
    g.kiosk_writing = True
    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        g.kiosk_writing = previous
