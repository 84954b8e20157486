"""Upgrading a database made by the first released schema (revision 0004, git 5b30f68) keeps every row.

- SQLite: tests/fixtures/schema-0004-demo.sql is that version's demo (`kiosk demo --no-serve`), dumped with
  `sqlite3 .dump`. It is loaded into a fresh file and migrated to head; every table keeps every row (and every
  value of the columns it had), the new tables exist, and the upgraded database serves the demo compound, a
  notice, a household card and the distribution page.
- PostgreSQL: an empty schema is upgraded to 0004, a handful of rows go in with plain SQL written against the
  0004 schema, then it is upgraded to head and the rows are all there, unchanged.
"""
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import create_engine, inspect, select, text

from kiosk.cli import migrate_to_head
from kiosk.compounds.models import Compound
from kiosk.extensions import db

from conftest import make_app, pg_schema_url, require_postgres

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schema-0004-demo.sql"
# The dump was made on this day; its notices' display windows are relative to it (one ended 2026-11-29).
FIXTURE_MADE = datetime(2026, 11, 27, 19, 21, tzinfo=timezone.utc)
NEW_TABLES = {"topic", "ballot", "elector", "topic_option", "kiosk_code", "opinion", "proposal", "topic_update",
              "ledger_book", "ledger_category", "ledger_entry", "ledger_period", "ledger_signoff",
              "ledger_question", "ledger_receipt"}


def head_revision(app):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config()).get_current_head()


def snapshot(conn, tables_and_columns):
    """Every row of every table, as sorted tuples of the given columns (the columns the old schema had)."""
    return {table: sorted(tuple(row) for row in conn.execute(text(
        f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} FROM "{table}"')))
        for table, columns in tables_and_columns.items()}


def as_upgraded(before, tables):
    """The rows an upgrade should leave: unchanged, except what a migration renames on purpose: 0015 splits
    the roll's "occupied" into owner-occupied and rented, and moves every "occupied" unit to owner-occupied."""
    expected = dict(before)
    if "household" in tables:
        at = tables["household"].index("occupancy")
        expected["household"] = sorted(
            tuple("owner_occupied" if i == at and value == "occupied" else value for i, value in enumerate(row))
            for row in before["household"])
    return expected


def load_fixture(path):
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()


@pytest.mark.sqlite_only("the fixture is a SQLite dump of the first released demo; PostgreSQL has its own test")
@time_machine.travel(FIXTURE_MADE, tick=True)
def test_the_first_released_demo_database_upgrades_to_head_keeping_every_row(tmp_path):
    path = tmp_path / "instance" / "kiosk.sqlite3"
    path.parent.mkdir()
    load_fixture(path)
    url = f"sqlite:///{path}"
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"
        old = inspect(conn)
        tables = {t: [c["name"] for c in old.get_columns(t)] for t in old.get_table_names() if t != "alembic_version"}
        before = snapshot(conn, tables)
    engine.dispose()
    counts = {table: len(rows) for table, rows in before.items()}
    # The demo filled what it had then: a roster, households, a distribution and its pickups, an audit trail.
    assert counts["household"] >= 200 and counts["pickup"] >= 200 and counts["audit_entry"] >= 20
    assert counts["notice"] >= 5 and counts["compound"] == 2 and counts["roster_member"] > 0

    app = make_app(tmp_path, url)
    with app.app_context():
        migrate_to_head()
        db.session.remove()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision(app)
            after = snapshot(conn, tables)
            now = set(inspect(conn).get_table_names())
        # Every table of the fixture keeps every row, every old column keeps its value.
        assert {t: len(r) for t, r in after.items()} == counts
        assert after == as_upgraded(before, tables)
        assert NEW_TABLES <= now

        # Spot checks through the models of today's code.
        from kiosk.changes import AuditEntry
        from kiosk.distribution.models import Pickup
        from kiosk.households.models import Household
        from kiosk.notices.models import Notice

        compound = db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))
        assert compound.name == "桂香园小区"
        notice = db.session.scalar(select(Notice).where(Notice.title == "明天上午8点至12点全小区停水"))
        assert notice is not None and notice.compound_id == compound.id
        first = db.session.get(Household, 1)
        assert (first.building, first.entrance, first.room, first.area_centi) == ("1", "1", "101", 8683)
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.id == 1)).after["title"] == notice.title
        pickup = db.session.get(Pickup, 1)
        assert (pickup.event_id, pickup.household_id) == (1, 1)
        db.session.remove()

        # It serves: the demo compound's home page with its notices, the notice itself, a household card.
        client = app.test_client()
        home = client.get("/guixiang/")
        assert home.status_code == 200 and "明天上午8点至12点全小区停水" in home.get_data(as_text=True)
        assert client.get(f"/guixiang/n/{notice.id}").status_code == 200
        assert client.get("/guixiang/topics", follow_redirects=True).status_code == 200  # the consultations added since
        assert client.get("/guixiang/ledger/").status_code == 200  # and the ledger

        from kiosk.auth.models import User
        from kiosk.households.service import issue

        chair = db.session.scalar(select(User).where(User.username == "demo-chair"))
        household = db.session.get(Household, 1)
        compound = db.session.get(Compound, household.compound_id)
        [(_, token)] = issue(compound, chair, [household])
        db.session.commit()
        phone = app.test_client()
        opened = phone.get(f"/h/{token}")
        assert opened.status_code == 302
        ours = phone.get(opened.headers["Location"], follow_redirects=True)
        assert ours.status_code == 200
        db.session.remove()
        db.engine.dispose()

    # The upgraded file is sound.
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


# Plain SQL written against the 0004 schema (as a database of that release would hold it).
ROWS_0004 = [
    """INSERT INTO compound (id, slug, name, community, district, version, created_at)
       VALUES (1, 'guixiang', '桂香园小区', '东湖社区', '湘江街道', 7, '2026-06-01 08:00:00+00')""",
    """INSERT INTO "user" (id, username, display_name, password_hash, is_platform_admin, active,
       must_change_password, created_at)
       VALUES (1, 'chair', '王主任', 'pbkdf2:sha256:600000$x$y', false, true, false, '2026-06-01 08:00:00+00')""",
    """INSERT INTO membership (id, user_id, compound_id, role) VALUES (1, 1, 1, 'chair')""",
    """INSERT INTO notice (id, compound_id, title, body, category, urgent, pinned, status, author_id,
       created_at, updated_at, published_at)
       VALUES (1, 1, '明天停水', '8点到12点停水，请储水。', 'notice', false, false, 'published', 1,
               '2026-06-02 08:00:00+00', '2026-06-02 08:00:00+00', '2026-06-02 08:00:00+00')""",
    """INSERT INTO household (id, compound_id, building, entrance, room, area_centi, occupancy, owner_key,
       contact_name, contact_phone, note, created_at, updated_at)
       VALUES (1, 1, '3', '2', '501', 8950, 'occupied', '', '丁国华', '13149787911', '',
               '2026-06-01 08:00:00+00', '2026-06-01 08:00:00+00')""",
    """INSERT INTO distribution_event (id, compound_id, name, item, eligibility, starts_at, ends_at, created_by,
       created_at) VALUES (1, 1, '中秋慰问品', '月饼一盒', '全体住户', '2026-09-10 00:00:00+00',
                           '2026-09-20 00:00:00+00', 1, '2026-09-01 00:00:00+00')""",
    """INSERT INTO pickup (id, compound_id, event_id, household_id, collected_at, recorded_by)
       VALUES (1, 1, 1, 1, '2026-09-12 02:00:00+00', 1)""",
    """INSERT INTO audit_entry (id, compound_id, actor_id, at, area, action, object_type, object_id, before, after)
       VALUES (1, 1, 1, '2026-06-02 08:00:00+00', 'notices', 'create', 'notice', 1, 'null',
               '{"title": "明天停水"}')""",
]


@pytest.mark.postgres
def test_a_postgresql_database_at_the_first_released_schema_upgrades_keeping_its_rows(tmp_path):
    from flask_migrate import upgrade

    url = pg_schema_url(require_postgres(), "migrate_0004")
    app = make_app(tmp_path, url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="0004")
        db.session.remove()
        with db.engine.begin() as conn:
            for statement in ROWS_0004:
                conn.execute(text(statement))
            old = inspect(conn)
            tables = {t: [c["name"] for c in old.get_columns(t)] for t in old.get_table_names()
                      if t != "alembic_version"}
            before = snapshot(conn, tables)
        assert sum(len(rows) for rows in before.values()) == len(ROWS_0004)

        migrate_to_head()
        db.session.remove()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == head_revision(app)
            assert snapshot(conn, tables) == as_upgraded(before, tables)
            assert NEW_TABLES <= set(inspect(conn).get_table_names())
        home = app.test_client().get("/guixiang/")
        assert home.status_code == 200 and "明天停水" in home.get_data(as_text=True)
        db.session.remove()
        db.engine.dispose()
    engine = create_engine(require_postgres())
    with engine.begin() as conn:
        conn.execute(text('DROP SCHEMA IF EXISTS "migrate_0004" CASCADE'))
    engine.dispose()
