"""kiosk/rawsql.py: statements sent straight to the DBAPI cursor keep SQLAlchemy's type handling and refuse a
missing parameter instead of sending NULL."""
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import JSON, Boolean, Column, Integer, MetaData, Table, bindparam, insert, select
from sqlalchemy.dialects import sqlite

from kiosk import rawsql
from kiosk.database import UTCDateTime

ROWS = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("at", UTCDateTime),
             Column("choices", JSON), Column("current", Boolean))
INSERT = insert(ROWS).values({name: bindparam(name) for name in ("id", "at", "choices", "current")})
READ = select(ROWS.c.at, ROWS.c.choices, ROWS.c.current).where(ROWS.c.id == bindparam("id")).limit(1)


@pytest.fixture
def cursor():
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, at DATETIME, choices JSON, current BOOLEAN)")
    yield connection.cursor()
    connection.close()


def test_values_go_in_and_come_back_as_sqlalchemy_would_have_them(cursor):
    dialect = sqlite.dialect()
    at = datetime.now(timezone(timedelta(hours=8)))  # Beijing time in, UTC out, as UTCDateTime promises
    rawsql.Compiled(INSERT, dialect).run(cursor, {"id": 1, "at": at, "choices": ["yes"], "current": True})
    stored = cursor.execute("SELECT at, choices, current FROM rows").fetchone()
    assert stored == (at.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" "), '["yes"]', 1)
    (row,) = rawsql.Compiled(READ, dialect).rows(cursor, {"id": 1})
    assert row.at == at and row.at.tzinfo == timezone.utc
    assert row.choices == ["yes"] and row.current is True


def test_a_missing_value_is_refused_before_anything_is_sent(cursor):
    with pytest.raises(KeyError, match="choices"):
        rawsql.Compiled(INSERT, sqlite.dialect()).run(cursor, {"id": 1, "at": None, "current": True})
    assert cursor.execute("SELECT count(*) FROM rows").fetchone() == (0,)
