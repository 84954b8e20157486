"""Backups an operator can trust, and `kiosk restore` to put one back (SQLite; PostgreSQL uses pg_dump).

- `kiosk backup`, run as its own process while 20 phones vote through a real waitress server, gives a copy
  that restores (`kiosk restore`) into a fresh instance where the tally equals a recount from the copy's
  ballots, no household has two current ballots, every ballot has its audit entry and change row, and the
  ledger (posted entries, a period signed by two supervisors) verifies — with `kiosk verify` too.
- A round trip: backup, a change, restore: the change is gone and the database as it was before the restore
  is kept beside it. A file that is not a Community Kiosk database is refused and nothing changes; a database
  that another process has open (a running server) is refused unless --force; an old backup is upgraded.
"""
import os
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry, Change
from kiosk.extensions import db
from kiosk.ledger import service as ledger
from kiosk.ledger.models import Category, PeriodStatus
from kiosk.notices.models import Notice

from conftest import SECRET, make_app, require_postgres
from test_vote_storm import (CHOICES, Phone, assert_tally_is_a_recount, ballot_counts, big_roll, cards_for,
                             live_server, open_topic, succeeded)

SQLITE_ONLY = pytest.mark.sqlite_only("`kiosk backup` and `kiosk restore` copy the SQLite file; "
                                      "PostgreSQL is backed up with pg_dump")
FIXTURE_0004 = Path(__file__).resolve().parent / "fixtures" / "schema-0004-demo.sql"


def kiosk_command(*args, database, instance, timeout=120):
    """Run the real `kiosk` command in its own process, as an operator would."""
    env = {**os.environ, "KIOSK_DATABASE_URL": database, "KIOSK_INSTANCE_PATH": str(instance),
           "KIOSK_SECRET_KEY": SECRET}
    return subprocess.run([sys.executable, "-c", "from kiosk.cli import main; main()", *args], env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def signed_ledger(compound, chair, make_user):
    """A ledger with posted entries, a January signed by two of three supervisors, and a later entry."""
    ledger.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    sups = [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(3)]

    def record(name, fen, day):
        cat = db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == name))
        entry = ledger.save_draft(compound, chair, None, {"kind": cat.kind, "occurred_on": day, "category_id": cat.id,
                                                         "amount_fen": fen, "description": f"{name} {day:%m-%d}"})
        ledger.post(compound, chair, entry)
        db.session.commit()

    record("停车费", 120000, date(2026, 1, 10))
    record("场地租金", 50000, date(2026, 1, 31))
    record("管道疏通", 30050, date(2026, 1, 15))
    period = ledger.submit(compound, chair, 139950)
    db.session.commit()
    ledger.decide(compound, sups[0], period, True)
    ledger.decide(compound, sups[1], period, True)
    db.session.commit()
    assert period.status == PeriodStatus.published
    record("停车费", 99900, date(2026, 2, 1))
    assert ledger.verify(compound).ok


@SQLITE_ONLY
@pytest.mark.slow
def test_a_backup_taken_during_a_vote_storm_restores_to_a_consistent_tally_and_ledger(
        app, compound, chair, make_user, database_url, tmp_path):
    signed_ledger(compound, chair, make_user)
    homes = big_roll(compound, 240)
    tokens = cards_for(compound, chair, homes)
    topic_id, slug = open_topic(compound, chair).id, compound.slug
    changes_before = db.session.scalar(select(func.count()).select_from(Change))
    phones_n, per_phone = 20, 12
    plans = [[(h.id, CHOICES[(p + k) % 3]) for k, h in enumerate(homes[p * per_phone:(p + 1) * per_phone])]
             for p in range(phones_n)]
    successes, problems, lock = [], [], threading.Lock()
    backup = tmp_path / "backups" / "during-the-storm.sqlite3"
    backup.parent.mkdir()
    backed_up = threading.Event()

    def run_phone(port, plan):
        phone = Phone(port, app)
        try:
            phone.get_csrf()
            for k, (hid, choice) in enumerate(plan):
                if k == len(plan) - 1:
                    # Each phone keeps its last vote until the backup is done: on a busy machine the backup
                    # process may take longer to start than the whole storm lasts.
                    backed_up.wait(120)
                phone.open_card(tokens[hid])
                status, flashes = phone.vote(topic_id, choice, follow=False)
                assert status == 303 and succeeded(flashes), (status, flashes)
                with lock:
                    successes.append(hid)
                time.sleep(0.02)  # phones are people: the storm lasts while the backup runs
        except Exception as problem:  # noqa: BLE001 - reported below
            with lock:
                problems.append(repr(problem))
        finally:
            phone.close()

    with live_server(app) as (port, _log), ThreadPoolExecutor(phones_n) as pool:
        storm = [pool.submit(run_phone, port, plan) for plan in plans]
        deadline = time.monotonic() + 60
        while len(successes) < 40 and time.monotonic() < deadline and not problems:
            time.sleep(0.05)
        at_start = len(successes)
        try:
            done = kiosk_command("backup", str(backup), database=database_url, instance=tmp_path / "instance")
        finally:
            at_end = len(successes)
            backed_up.set()
        for future in storm:
            future.result()
    assert problems == [] and done.returncode == 0, (problems, done.stderr)
    total_votes = phones_n * per_phone
    assert len(successes) == total_votes
    assert 0 < at_start and at_end < total_votes, "the backup did not run while the phones were voting"

    # Restore into a fresh instance (its own empty database), as on a replacement machine.
    fresh = tmp_path / "fresh"
    fresh_url = f"sqlite:///{fresh / 'kiosk.sqlite3'}"
    restored = kiosk_command("restore", str(backup), database=fresh_url, instance=fresh)
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout
    checked = kiosk_command("verify", database=fresh_url, instance=fresh)
    assert checked.returncode == 0 and f"{slug}: OK: 4 entries" in checked.stdout, checked.stdout

    again = make_app(fresh, fresh_url)
    with again.app_context():
        total, current, doubled = ballot_counts(topic_id)
        assert doubled == [] and total == current, "a household has two current ballots"
        assert at_start <= total <= at_end, (at_start, total, at_end)
        # Every ballot in the copy came with its audit entry and its change row (one transaction each).
        audits = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ballot"))
        changes = db.session.scalar(select(func.count()).select_from(Change))
        assert audits == total and changes == changes_before + total
        figures = assert_tally_is_a_recount(topic_id)  # service.compute == a recount from the copy's rows
        assert figures["part_households"] == total
        from kiosk.compounds.models import Compound

        copy = db.session.scalar(select(Compound).where(Compound.slug == slug))
        check = ledger.verify(copy)
        assert check.ok and check.checked == 4
        assert again.test_client().get(f"/{slug}/ledger/").status_code == 200
        db.session.remove()
        db.engine.dispose()
    assert sqlite3.connect(backup).execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def add_notice(compound_id, title):
    from kiosk.database import utcnow
    from kiosk.notices.models import Category, Status

    db.session.add(Notice(compound_id=compound_id, title=title, body="", category=Category.notice,
                          status=Status.published, published_at=utcnow()))
    db.session.commit()


def titles():
    db.session.expire_all()
    return set(db.session.scalars(select(Notice.title)))


@SQLITE_ONLY
def test_restore_puts_the_backup_back_and_keeps_the_database_it_replaced(app, runner, compound, database_url,
                                                                         tmp_path):
    compound_id = compound.id
    add_notice(compound.id, "电梯年检通知")
    backup = tmp_path / "nightly.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    add_notice(compound.id, "这条是备份之后才发的")
    db.session.remove()

    result = runner.invoke(args=["restore", str(backup)])
    assert result.exit_code == 0, result.output
    assert titles() == {"电梯年检通知"}  # the change made after the backup is gone
    database = Path(database_url.removeprefix("sqlite:///"))
    [kept] = database.parent.glob(f"{database.name}.before-restore-*")
    assert f"Kept the previous database as {kept}" in result.output
    assert f"Restored {backup}" in result.output and "Schema is current" in result.output
    previous = sqlite3.connect(kept)
    kept_titles = {t for (t,) in previous.execute("SELECT title FROM notice")}
    previous.close()
    assert kept_titles == {"电梯年检通知", "这条是备份之后才发的"}
    # The restored database is the live one: the app goes on writing to it.
    add_notice(compound_id, "恢复之后的新通知")
    assert titles() == {"电梯年检通知", "恢复之后的新通知"}
    assert backup.exists()  # the backup itself is left as it was
    assert {t for (t,) in sqlite3.connect(backup).execute("SELECT title FROM notice")} == {"电梯年检通知"}


@SQLITE_ONLY
@pytest.mark.parametrize("content", ["text", "sqlite-not-ours", "truncated"])
def test_restore_refuses_a_file_that_is_not_a_kiosk_database_and_changes_nothing(app, runner, compound,
                                                                                  database_url, tmp_path, content):
    add_notice(compound.id, "电梯年检通知")
    db.session.remove()
    bogus = tmp_path / "not-a-backup.sqlite3"
    if content == "text":
        bogus.write_text("these are my holiday photos\n" * 100)
        why = "is not a SQLite database"
    elif content == "sqlite-not-ours":
        other = sqlite3.connect(bogus)
        other.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
        other.commit()
        other.close()
        why = "not a Community Kiosk one"
    else:
        good = tmp_path / "good.sqlite3"
        assert runner.invoke(args=["backup", str(good)]).exit_code == 0
        bogus.write_bytes(good.read_bytes()[:5000])  # a copy cut short
        why = "not a readable SQLite database"
    database = Path(database_url.removeprefix("sqlite:///"))
    before = database.read_bytes()
    listing = sorted(p.name for p in database.parent.iterdir())
    bogus_bytes = bogus.read_bytes()

    result = runner.invoke(args=["restore", str(bogus)])
    assert result.exit_code == 1, result.output
    assert why in result.output and "Nothing was changed." in result.output, result.output
    assert database.read_bytes() == before
    assert sorted(p.name for p in database.parent.iterdir()) == listing  # no before-restore copy, no temp file
    assert bogus.read_bytes() == bogus_bytes
    assert titles() == {"电梯年检通知"}


@SQLITE_ONLY
def test_restore_refuses_while_another_process_has_the_database_open(app, runner, compound, database_url, tmp_path):
    backup = tmp_path / "b.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    db.session.remove()
    db.engine.dispose()
    database = database_url.removeprefix("sqlite:///")
    holder = subprocess.Popen(  # a server-like process: a WAL connection that stays open
        [sys.executable, "-c", ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
                                "c.execute('PRAGMA journal_mode=WAL'); c.execute('SELECT 1 FROM notice').fetchall(); "
                                "print('open', flush=True); sys.stdin.read()"), database],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        refused = runner.invoke(args=["restore", str(backup)])
        assert refused.exit_code == 1 and "stop the server first" in refused.output, refused.output
        assert list(Path(database).parent.glob("*.before-restore-*")) == []
        forced = runner.invoke(args=["restore", "--force", str(backup)])
        assert forced.exit_code == 0, forced.output
    finally:
        holder.communicate("", timeout=10)
    assert runner.invoke(args=["restore", str(backup)]).exit_code == 0  # and without it once it has gone


@SQLITE_ONLY
def test_restoring_a_backup_from_the_first_release_upgrades_it(app, runner, database_url, tmp_path):
    old = tmp_path / "from-2026-06.sqlite3"
    conn = sqlite3.connect(old)
    conn.executescript(FIXTURE_0004.read_text(encoding="utf-8"))
    conn.close()
    db.session.remove()
    result = runner.invoke(args=["restore", str(old)])
    assert result.exit_code == 0, result.output
    assert "schema version 0004" in result.output and "Upgraded it to schema version" in result.output
    assert "明天上午8点至12点全小区停水" in titles()
    assert app.test_client().get("/guixiang/").status_code == 200


@pytest.mark.postgres
def test_restore_on_postgresql_prints_the_pg_restore_steps(tmp_path):
    app = make_app(tmp_path, require_postgres())
    backup = tmp_path / "kiosk.dump"
    backup.write_bytes(b"PGDMP")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["restore", str(backup)])
        db.engine.dispose()
    assert result.exit_code == 2 and "pg_restore" in result.output and "kiosk init" in result.output
