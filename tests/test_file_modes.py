"""Residents' data on disk is the server account's alone: the database, its WAL, backups, the secret key 0600;
the instance and upload folders 0700 -- on first run, `kiosk init`, `kiosk backup`, `kiosk restore`, and for
files an older version left readable, tightened at start-up with a line in the log.

Run as an operator would (real `kiosk` processes), with the common umask 022 that made them 0644 before.
"""
import os
import sqlite3
import stat
from contextlib import contextmanager

import pytest

from kiosk.extensions import db

from conftest import make_app
from test_backup import kiosk_command

pytestmark = pytest.mark.sqlite_only("file modes of the SQLite database; PostgreSQL keeps its own files")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@contextmanager
def umask(value):
    """Run with this umask (inherited by the processes started inside), as a shell usually has."""
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def site(tmp_path):
    """An instance folder that does not exist yet, and the `kiosk` command pointed at it."""
    instance = tmp_path / "var" / "kiosk"
    database = f"sqlite:///{instance}/kiosk.sqlite3"

    def kiosk(*args):
        with umask(0o022):
            result = kiosk_command(*args, database=database, instance=instance)
        assert result.returncode == 0, result.stderr
        return result

    return instance, kiosk


def test_kiosk_init_on_a_new_box_makes_the_instance_uploads_and_database_private(site):
    instance, kiosk = site
    kiosk("init")
    assert mode(instance) == 0o700
    assert mode(instance / "uploads") == 0o700
    assert mode(instance / "kiosk.sqlite3") == 0o600
    assert mode(instance.parent) == 0o755  # folders above the instance are the operator's business


def test_the_wal_and_shm_of_a_serving_process_are_private(site):
    """While the server writes, SQLite's -wal and -shm files hold recent data: they follow the database."""
    instance, kiosk = site
    kiosk("init")
    with umask(0o022):
        app = make_app(instance.parent, f"sqlite:///{instance}/kiosk.sqlite3", INSTANCE_PATH=str(instance))
        with app.app_context():
            db.session.execute(db.text("CREATE TABLE IF NOT EXISTS wal_probe (x INTEGER)"))
            db.session.execute(db.text("INSERT INTO wal_probe VALUES (1)"))
            db.session.commit()
            assert (instance / "kiosk.sqlite3-wal").exists()
            assert mode(instance / "kiosk.sqlite3-wal") == 0o600
            assert mode(instance / "kiosk.sqlite3-shm") == 0o600
            db.session.remove()
            db.engine.dispose()


def test_kiosk_backup_writes_a_private_file(site, tmp_path):
    instance, kiosk = site
    kiosk("init")
    kiosk("backup", str(tmp_path / "kiosk-20260601.sqlite3"))
    assert mode(tmp_path / "kiosk-20260601.sqlite3") == 0o600


def test_kiosk_restore_leaves_the_database_and_the_kept_copy_private(site, tmp_path):
    instance, kiosk = site
    kiosk("init")
    backup = tmp_path / "backup.sqlite3"
    kiosk("backup", str(backup))
    os.chmod(backup, 0o644)  # copied around by hand since
    kiosk("restore", str(backup))
    kept = [p for p in instance.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and mode(kept[0]) == 0o600
    assert mode(instance / "kiosk.sqlite3") == 0o600
    for companion in ("-wal", "-shm"):
        path = instance / f"kiosk.sqlite3{companion}"
        assert not path.exists() or mode(path) == 0o600


def test_files_an_older_version_left_readable_are_tightened_at_start_up_with_a_log_line(site):
    instance, kiosk = site
    with umask(0o022):
        (instance / "uploads").mkdir(parents=True)
        conn = sqlite3.connect(instance / "kiosk.sqlite3")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
        conn.close()
        (instance / "kiosk.sqlite3-wal").write_bytes(b"")
        (instance / "secret_key").write_text("an-old-secret-key-that-is-long-enough-0123456789\n")
    os.chmod(instance, 0o755)
    before = {p: mode(p) for p in (instance, instance / "uploads", instance / "kiosk.sqlite3",
                                   instance / "kiosk.sqlite3-wal", instance / "secret_key")}
    assert all(m & 0o044 for m in before.values()), before
    log = kiosk("init").stderr
    for path in before:
        assert f"tightened {path} from {before[path]:04o}" in log, log
        if path.exists():  # (the -wal is gone once init's last connection closed cleanly)
            assert mode(path) == (0o700 if path.is_dir() else 0o600), path
    assert "tightened" not in kiosk("init").stderr  # once only
