"""Upgrading the released demo (tests/fixtures/schema-0006-demo.sql: `kiosk demo --no-serve` at 8be1b81, the
clock frozen at 2026-12-05 12:00 UTC) keeps every published figure and head hash, and `kiosk verify` passes
period by period; then the upgraded ledger works on: its recipe-1 entries are checked by a resident's own
checker where they can be (not the ones naming a person), the database guards periods and sign-offs, a new
entry is sealed with recipe 2 and the waiting month takes its second signature.

On SQLite the dump is loaded as it is; on PostgreSQL an empty schema is upgraded to 0006 and the dump's rows
are copied in, table by table, before both are upgraded to head the same way.
"""
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import time_machine
from flask_migrate import upgrade
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.exc import DBAPIError

from kiosk.cli import migrate_to_head
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.timefmt import local_date

from conftest import make_app, pg_schema_url, require_postgres
from test_ledger_recipe import PERSON, check

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schema-0006-demo.sql"
FIXTURE_MADE = datetime(2026, 12, 5, 12, 0, 30, tzinfo=timezone.utc)
PERIOD_COLUMNS = ("id", "starts_on", "ends_on", "status", "round", "opening_fen", "income_fen", "expense_fen",
                  "closing_fen", "actual_fen", "entry_count", "head_number", "head_hash", "published_at")


def load_fixture(path):
    conn = sqlite3.connect(path)
    conn.executescript(FIXTURE.read_text(encoding="utf-8"))
    conn.close()


def ledger_snapshot(conn):
    """Every period's figures and head, every entry's number, amount and hashes, as stored."""
    periods = conn.execute(text(f"SELECT {', '.join(PERIOD_COLUMNS)} FROM ledger_period ORDER BY id")).all()
    entries = conn.execute(text("SELECT number, amount_fen, prev_hash, hash FROM ledger_entry "
                                "WHERE posted ORDER BY number")).all()
    return [tuple(p) for p in periods], [tuple(e) for e in entries]


def copy_rows(source_url, target_url):
    """Every row of every table of the 0006 dump, into the same tables of an empty 0006 PostgreSQL schema."""
    source, target = create_engine(source_url), create_engine(target_url)
    old = MetaData()
    old.reflect(source)
    new = MetaData()
    new.reflect(target)
    with source.connect() as read, target.begin() as write:
        write.execute(text("SET TIME ZONE 'UTC'"))
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = [dict(row._mapping) for row in read.execute(select(table))]
            if rows:
                write.execute(new.tables[table.name].insert(), rows)
            if "id" in new.tables[table.name].c:
                write.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                                   f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table.name}\"), false)"))
    source.dispose()
    target.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def upgraded(request, tmp_path):
    """(app, snapshot before the upgrade) of the released demo upgraded to head, with the clock at its day."""
    dump = tmp_path / "fixture.sqlite3"
    load_fixture(dump)
    sqlite_url = f"sqlite:///{dump}"
    with create_engine(sqlite_url).connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0006"
    url, cleanup = sqlite_url, None
    if request.param == "postgresql":
        base = require_postgres()
        url = pg_schema_url(base, "ledger_upgrade")

        def cleanup():
            engine = create_engine(base)
            with engine.begin() as conn:
                conn.execute(text('DROP SCHEMA IF EXISTS "ledger_upgrade" CASCADE'))
            engine.dispose()
    with time_machine.travel(FIXTURE_MADE, tick=True):
        app = make_app(tmp_path, url)
        with app.app_context():
            if request.param == "postgresql":
                upgrade(directory=app.extensions["migrate"].directory, revision="0006")
                db.session.remove()
                db.engine.dispose()
                copy_rows(sqlite_url, url)
            with db.engine.connect() as conn:
                before = ledger_snapshot(conn)
            migrate_to_head()
            db.session.remove()
            yield app, before
            db.session.remove()
            db.engine.dispose()
    if cleanup:
        cleanup()


def test_the_released_demo_upgrades_without_changing_a_published_figure(upgraded):
    from kiosk.ledger import evidence, service
    from kiosk.ledger.models import Book, Entry, Period, Signoff

    app, before = upgraded
    with db.engine.connect() as conn:
        assert ledger_snapshot(conn) == before
    periods, entries = before
    assert len(periods) == 12 and sum(p[3] == "published" for p in periods) == 11 and len(entries) == 77
    compound = db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))
    report = evidence.check(compound)
    assert report.ok and report.checked == 77 and report.periods and all(v.ok for v in report.periods.values())
    assert {e.recipe for e in db.session.scalars(select(Entry))} == {1}
    for period in service.periods(compound):
        assert period.signoffs_required == 2
        for signoff in service.current_signoffs(period):
            assert (signoff.closing_fen, signoff.head_number, signoff.head_hash) == \
                (period.closing_fen, period.head_number, period.head_hash)
    assert db.session.scalar(select(Book.signoffs_since).where(Book.compound_id == compound.id)) == \
        date(2025, 12, 1)
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["verify", "guixiang"])
    assert result.exit_code == 0, result.output
    assert "guixiang: OK: 77 entries" in result.output and "11 signed periods match" in result.output
    assert result.output.count("): OK") == 12
    with pytest.raises(DBAPIError, match="never changed"):
        db.session.execute(text("UPDATE ledger_period SET income_fen = 0 WHERE status = 'published'"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM ledger_signoff"))
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(Signoff.id).limit(1)) is not None
    assert db.session.scalar(select(Period.id).where(Period.status == "submitted")) is not None


def test_recipe_one_entries_check_on_a_phone_where_they_can(upgraded):
    """January 2026 paid a person (recipe 1 seals the name): a phone checks what follows that entry and says
    the rest needs the server; a month without a person checks whole."""
    from kiosk.ledger import service

    app, _before = upgraded
    compound = db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))
    client = app.test_client()
    checked = {}
    for period in service.periods(compound, published_only=True):
        response = client.get(f"/guixiang/ledger/{period.id}/chain.json")
        assert response.status_code == 200 and PERSON not in response.get_data(as_text=True)
        data = response.get_json()
        reached, trusted_from, changed = check(data, period.head_hash)
        assert reached and changed is None, period.starts_on
        checked[period.starts_on] = (trusted_from, data["start"]["number"] + 1,
                                     [e["number"] for e in data["entries"] if e.get("sealed") == "person"])
    trusted_from, first, people = checked[date(2026, 1, 1)]
    assert people and trusted_from == people[-1] + 1 > first
    trusted_from, first, people = checked[date(2026, 2, 1)]
    assert not people and trusted_from == first
    page = client.get(f"/guixiang/ledger/check/{service.periods(compound, published_only=True)[0].id}")
    assert page.status_code == 200 and "含个人信息，请用服务器核对" in page.get_data(as_text=True)


def test_the_upgraded_ledger_posts_with_recipe_two_and_publishes_the_waiting_month(upgraded):
    from kiosk.auth.models import User
    from kiosk.ledger import evidence, service
    from kiosk.ledger.models import Category, PeriodStatus

    app, _before = upgraded
    compound = db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))
    chair = db.session.scalar(select(User).where(User.username == "demo-chair"))
    category = db.session.scalar(select(Category).where(Category.compound_id == compound.id,
                                                        Category.name == "维修"))
    entry = service.save_draft(compound, chair, None, {
        "kind": "expense", "occurred_on": local_date(), "category_id": category.id, "amount_fen": 12000,
        "description": "换门禁电池", "counterparty": "王师傅", "counterparty_is_person": True})
    service.post(compound, chair, entry)
    db.session.commit()
    assert entry.number == 78 and entry.recipe == 2 and len(entry.counterparty_nonce) == 32
    waiting = next(p for p in service.periods(compound) if p.status == PeriodStatus.submitted)
    signed = {s.user_id for s in service.current_signoffs(waiting)}
    second = next(u for u in service.supervisors(compound) if u.id not in signed)
    service.decide(compound, second, waiting, True)
    db.session.commit()
    assert waiting.status == PeriodStatus.published
    assert evidence.check(compound).ok


def test_the_upgraded_ledger_becomes_the_public_income_book_and_a_second_book_chains_on_its_own(upgraded):
    from kiosk.auth.models import User
    from kiosk.ledger import chain, evidence, service
    from kiosk.ledger.models import Book, Category, Entry, Period

    app, before = upgraded
    compound = db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))
    books = service.books(compound)
    assert [(b.kind, b.name) for b in books] == [("public_income", "公共收益")]
    for model in (Entry, Period, Category):
        assert set(db.session.scalars(select(model.book_id).where(model.compound_id == compound.id))) == \
            {books[0].id}
    chair = db.session.scalar(select(User).where(User.username == "demo-chair"))
    with service.using_book("maintenance_fund"):
        service.open_book(compound, started_on=date(2026, 7, 1))
        deposit = db.session.scalar(select(Category).where(Category.book_id == service.book(compound).id,
                                                           Category.name == "业主续筹"))
        entry = service.save_draft(compound, chair, None, {
            "kind": "income", "occurred_on": date(2026, 9, 1), "category_id": deposit.id, "amount_fen": 100000,
            "description": "3栋续筹", "building": "3"})
        service.post(compound, chair, entry)
        db.session.commit()
        assert (entry.number, entry.prev_hash) == (1, chain.GENESIS)
        assert evidence.check(compound).ok
    assert evidence.check(compound).ok and evidence.check(compound).checked == 77  # public income as it was
    db.session.rollback()
    with db.engine.connect() as conn:
        assert ledger_snapshot(conn)[0] == before[0]
    assert db.session.scalar(select(Book.id).where(Book.kind == "maintenance_fund")) is not None
    db.session.rollback()
    result = app.test_cli_runner().invoke(args=["verify", "guixiang"])
    assert result.exit_code == 0, result.output
    assert "guixiang: OK: 77 entries" in result.output and "guixiang/maintenance_fund: OK: 1 entries" in result.output
