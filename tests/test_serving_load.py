"""`kiosk serve` under load: what waitress does on every request stays cheap and the log stays readable.

At 64 busy connections (every screen of a street office's compounds pulsing) waitress warned "Task queue depth
is N" for nearly every request, and a check on every open connection ran on every turn of its loop: together
they cost the "nothing changed" pulse about a third of its throughput (bench/run.py). These tests hold the
behaviour that remains: one queue warning a minute with a count of the others, header deadlines still kept
(tests/test_slow_clients.py), smuggling still refused (tests/test_hostile.py).
"""
import logging
import os
import subprocess
import sys
from pathlib import Path

from kiosk import serving
from kiosk.cli import make_server

from conftest import SECRET, make_app

ROOT = Path(__file__).resolve().parent.parent


def _server(tmp_path, database_url):
    """A `kiosk serve` server for the app (not running: these tests only use its parts)."""
    return make_server(make_app(tmp_path, database_url), "127.0.0.1", 0, 4)


def test_a_burst_of_queued_requests_logs_one_warning_not_one_per_request(tmp_path, database_url, caplog):
    """A meeting's burst queues hundreds of requests: the log gets one line, not hundreds."""
    server = _server(tmp_path, database_url)
    try:
        queue_log = server.task_dispatcher.queue_logger
        with caplog.at_level(logging.WARNING, logger="waitress.queue"):
            for depth in range(1, 301):
                queue_log.warning("Task queue depth is %d", depth % 40)
        queued = [r for r in caplog.records if r.name == "waitress.queue"]
        assert len(queued) == 1
        assert queued[0].getMessage() == "Task queue depth is 1"
    finally:
        server.task_dispatcher.shutdown()
        server.close()


def test_the_next_queue_warning_after_a_quiet_minute_says_how_many_were_left_out(tmp_path, database_url, caplog):
    """Nothing is hidden for good: the next line logged tells how often the queue was deep, and how deep."""
    server = _server(tmp_path, database_url)
    try:
        queue_log = server.task_dispatcher.queue_logger
        with caplog.at_level(logging.WARNING, logger="waitress.queue"):
            queue_log.warning("Task queue depth is %d", 2)
            for depth in (5, 17, 9):
                queue_log.warning("Task queue depth is %d", depth)
            queue_log.quiet_until = 0.0  # the minute has passed
            queue_log.warning("Task queue depth is %d", 3)
        lines = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
        assert lines == ["Task queue depth is 2",
                         f"Task queue depth is 3 (and 3 times more in the last {serving.QUEUE_LOG_SECONDS} s, up to 17)"]
    finally:
        server.task_dispatcher.shutdown()
        server.close()


def test_malloc_arenas_are_limited_unless_the_environment_says_otherwise(monkeypatch):
    """glibc takes the limit (this machine runs glibc); an operator's MALLOC_ARENA_MAX is left to glibc."""
    assert serving.limit_malloc_arenas() is True
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert serving.limit_malloc_arenas() is False


def test_the_schema_check_agrees_with_alembic_on_the_migration_heads(app):
    """`kiosk serve` reads the heads from the migration files itself; Alembic must find the same ones."""
    from alembic.script import ScriptDirectory

    from kiosk.cli import migration_heads

    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        assert migration_heads() == set(script.get_heads())


def test_a_serving_process_does_not_load_alembic(tmp_path, database_url):
    """Alembic, Mako and Pygments held ~11 MiB in every `kiosk serve` process, which never migrates; the start-up
    schema check and a request leave them unloaded (they load when `kiosk init` or `kiosk db` needs them)."""
    script = (
        "import sys\n"
        "from kiosk import create_app\n"
        f"app = create_app({{'SECRET_KEY': {SECRET!r}, 'INSTANCE_PATH': {str(tmp_path / 'instance')!r},\n"
        f"                   'SQLALCHEMY_DATABASE_URI': {database_url!r}}})\n"
        "from kiosk.cli import schema_is_current\n"
        "with app.app_context():\n"
        "    assert schema_is_current()\n"
        "assert app.test_client().get('/healthz').status_code == 200\n"
        "print(sorted(m for m in ('alembic', 'mako', 'pygments', 'flask_migrate') if m in sys.modules))\n")
    found = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                           text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert found.returncode == 0, found.stderr[-2000:]
    assert found.stdout.strip() == "[]"
