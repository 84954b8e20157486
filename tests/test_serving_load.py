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


class _Request:
    """The parts of waitress's parsed request that the queue's order reads."""

    error = None

    def __init__(self, command, path, cookie=""):
        self.command, self.path = command, path
        self.headers = {"COOKIE": cookie} if cookie else {}


class _Waiting:
    """A connection waiting in the queue with one request, as waitress queues it."""

    def __init__(self, name, command="GET", path="/guixiang/", cookie=""):
        self.name = name
        self.requests = [_Request(command, path, cookie)]


def _order(dispatcher):
    return [task.name for task in dispatcher.queue]


def test_cheap_requests_wait_in_order_ahead_of_rendered_ones_that_have_not_waited_long():
    """Pulses, static files and passers-by's pages join the queue after the other cheap ones and before the
    first page that must be rendered for a household or a vote; a page that has waited long keeps its place."""
    dispatcher = serving.CheapFirstDispatcher()  # no threads: the queue only fills
    card = "kiosk_session=abc; kiosk_household=xyz"
    dispatcher.add_task(_Waiting("topic-1", path="/guixiang/topics/7", cookie=card))
    dispatcher.add_task(_Waiting("vote", command="POST", path="/guixiang/topics/7/vote"))
    dispatcher.add_task(_Waiting("pulse", path="/guixiang/pulse"))
    dispatcher.add_task(_Waiting("passer-by", path="/guixiang/notices/3", cookie="lang=zh"))
    dispatcher.add_task(_Waiting("topic-2", path="/guixiang/topics/7", cookie=card))
    dispatcher.add_task(_Waiting("style", path="/static/css/app.css", cookie=card))
    unparsed = _Waiting("unparsed")
    unparsed.requests[0] = type("Unparsed", (), {"error": "bad framing"})()  # no command: waitress answers 400
    dispatcher.add_task(unparsed)
    assert _order(dispatcher) == ["pulse", "passer-by", "style", "topic-1", "vote", "topic-2", "unparsed"]

    dispatcher.queue[3].kiosk_queued -= serving.CHEAP_JUMP_SECONDS  # topic-1 has waited long enough
    dispatcher.add_task(_Waiting("late pulse", path="/guixiang/pulse"))
    assert _order(dispatcher)[-1] == "late pulse"


def test_a_queued_pulse_is_answered_before_rendered_pages_queued_earlier(tmp_path):
    """With the only thread busy, three card holders' pages and then a screen's pulse queue up: the pulse is
    answered next, while the pages still wait (before, it waited behind all three)."""
    import socket
    import threading

    served, release = [], threading.Event()

    def app(environ, start_response):
        served.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/guixiang/topics/1":
            release.wait(10)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]

    server = serving.make_server(app, "127.0.0.1", 0, threads=1)
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    port = server.effective_port
    sockets = []

    def send(path, cookie=""):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = f"GET {path} HTTP/1.1\r\nHost: x\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n"
        sock.sendall(head.encode())
        sockets.append(sock)
        return sock

    def wait_for(condition):
        for _ in range(200):
            if condition():
                return
            threading.Event().wait(0.02)
        raise AssertionError(f"timed out; served {served}, queued {_order_names(server)}")

    def _order_names(server):
        return [task.requests[0].path for task in list(server.task_dispatcher.queue) if task.requests]

    try:
        send("/guixiang/topics/1", "kiosk_household=a")  # takes the only thread and holds it
        wait_for(lambda: served == ["/guixiang/topics/1"])
        for n in (2, 3, 4):
            send(f"/guixiang/topics/{n}", "kiosk_household=a")
        wait_for(lambda: len(server.task_dispatcher.queue) == 3)
        pulse = send("/guixiang/pulse?v=1")
        wait_for(lambda: len(server.task_dispatcher.queue) == 4)
        release.set()
        assert pulse.recv(1024).startswith(b"HTTP/1.1 200")
        wait_for(lambda: len(served) == 5)
        assert served == ["/guixiang/topics/1", "/guixiang/pulse", "/guixiang/topics/2", "/guixiang/topics/3",
                          "/guixiang/topics/4"]
    finally:
        release.set()
        for sock in sockets:
            sock.close()
        server.close()
        server.task_dispatcher.shutdown()
