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

import pytest

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
    """The waiting requests' names in the order they will be served."""
    return [task.name for task in dispatcher.queue]


class _Clock:
    """serving's clock, moved by hand: every queued request ages with it, as in a running server."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


def _dispatcher(monkeypatch):
    """A CheapFirstDispatcher without threads (the queue only fills) on a clock the test moves."""
    clock = _Clock()
    monkeypatch.setattr(serving, "time", clock)
    return serving.CheapFirstDispatcher(), clock


def test_cheap_requests_wait_in_order_ahead_of_rendered_ones_that_have_not_waited_long(monkeypatch):
    """Pulses, static files and passers-by's pages are served after the other cheap ones and before the
    pages that must be rendered for a household or a vote, unless such a page had already waited
    CHEAP_JUMP_SECONDS when the cheap one arrived."""
    dispatcher, clock = _dispatcher(monkeypatch)
    card = "kiosk_session=abc; kiosk_household=xyz"
    dispatcher.add_task(_Waiting("topic-1", path="/guixiang/topics/7", cookie=card))
    clock.now += 0.3
    dispatcher.add_task(_Waiting("vote", command="POST", path="/guixiang/topics/7/vote"))
    dispatcher.add_task(_Waiting("pulse", path="/guixiang/pulse"))
    dispatcher.add_task(_Waiting("passer-by", path="/guixiang/notices/3", cookie="lang=zh"))
    dispatcher.add_task(_Waiting("topic-2", path="/guixiang/topics/7", cookie=card))
    dispatcher.add_task(_Waiting("style", path="/static/css/app.css", cookie=card))
    unparsed = _Waiting("unparsed")
    unparsed.requests[0] = type("Unparsed", (), {"error": "bad framing"})()  # no command: waitress answers 400
    dispatcher.add_task(unparsed)
    assert _order(dispatcher) == ["pulse", "passer-by", "style", "topic-1", "vote", "topic-2", "unparsed"]

    clock.now += serving.CHEAP_JUMP_SECONDS - 0.2  # topic-1 has now waited long enough; the others have not
    dispatcher.add_task(_Waiting("late pulse", path="/guixiang/pulse"))
    assert _order(dispatcher) == ["pulse", "passer-by", "style", "topic-1", "late pulse", "vote", "topic-2",
                                  "unparsed"]

    clock.now += serving.CHEAP_JUMP_SECONDS  # now every rendered page has waited long: the next pulse waits its turn
    dispatcher.add_task(_Waiting("last pulse", path="/guixiang/pulse"))
    assert _order(dispatcher)[-1] == "last pulse"
    served = [dispatcher.queue.popleft().name for _ in range(len(dispatcher.queue))]
    assert served == ["pulse", "passer-by", "style", "topic-1", "late pulse", "vote", "topic-2", "unparsed",
                      "last pulse"]
    assert not dispatcher.queue


def test_in_an_arrival_a_passers_by_page_waits_only_for_the_pages_that_waited_long_not_for_those_after_them(
        monkeypatch):
    """Issue 16's meeting on PostgreSQL: 200 phones arrive at once and a hundred topic pages queue in each
    process. Once the first of them had waited CHEAP_JUMP_SECONDS, a passer-by's page went behind all of them
    (2-3 s); it must go only behind those that had waited that long, ahead of the ones queued since, even
    when those too have waited long by the time a thread is free."""
    dispatcher, clock = _dispatcher(monkeypatch)
    card = "kiosk_household=xyz"
    for n in range(3):
        dispatcher.add_task(_Waiting(f"old-{n}", path=f"/guixiang/topics/{n}", cookie=card))
    clock.now += serving.CHEAP_JUMP_SECONDS
    for n in range(100):
        dispatcher.add_task(_Waiting(f"new-{n}", path="/guixiang/topics/7", cookie=card))
    dispatcher.add_task(_Waiting("passer-by", path="/guixiang/ledger/"))
    dispatcher.add_task(_Waiting("pulse", path="/guixiang/pulse"))
    assert _order(dispatcher)[:6] == ["old-0", "old-1", "old-2", "passer-by", "pulse", "new-0"]
    clock.now += 2 * serving.CHEAP_JUMP_SECONDS
    served = [dispatcher.queue.popleft().name for _ in range(6)]
    assert served == ["old-0", "old-1", "old-2", "passer-by", "pulse", "new-0"]


def test_adding_a_request_costs_the_same_however_many_wait(monkeypatch):
    """Queueing ran on waitress's one event-loop thread and walked every waiting request; at 64 busy
    connections that walk cost a bare hello world a tenth of its throughput. Now a request is queued without
    looking at the others: count the waiting requests whose age is read while one more is queued."""
    dispatcher, clock = _dispatcher(monkeypatch)
    looked_at = []

    class Counted(_Waiting):
        def __getattribute__(self, name):
            if name in ("kiosk_cheap", "kiosk_queued"):
                looked_at.append(object.__getattribute__(self, "name"))
            return object.__getattribute__(self, name)

    for n in range(100):
        dispatcher.add_task(Counted(f"pulse-{n}", path="/guixiang/pulse"))
    for n in range(100):
        dispatcher.add_task(Counted(f"page-{n}", path="/guixiang/topics/7", cookie="kiosk_household=x"))
    looked_at.clear()
    dispatcher.add_task(Counted("one more", path="/guixiang/pulse"))
    assert set(looked_at) <= {"one more"}
    looked_at.clear()
    assert dispatcher.queue.popleft().name == "pulse-0"
    assert set(looked_at) <= {"pulse-0", "page-0"}  # the two heads, to choose between them


class _OneThreadServer:
    """A `kiosk serve`-like waitress server with one thread, which the page /guixiang/topics/1 holds until
    `release` is set; `served` lists the paths in the order the app was called."""

    def __init__(self):
        import threading

        self.served, self.release, self.sockets = [], threading.Event(), []

        def app(environ, start_response):
            self.served.append(environ["PATH_INFO"])
            if environ["PATH_INFO"] == "/guixiang/topics/1":
                self.release.wait(10)
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]

        self.server = serving.make_server(app, "127.0.0.1", 0, threads=1)
        threading.Thread(target=self.server.run, daemon=True).start()

    def send(self, path, cookie=""):
        """Open a connection and send a GET for path (with a cookie); returns the socket."""
        import socket

        sock = socket.create_connection(("127.0.0.1", self.server.effective_port), timeout=10)
        head = f"GET {path} HTTP/1.1\r\nHost: x\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n"
        sock.sendall(head.encode())
        self.sockets.append(sock)
        return sock

    def queued(self):
        return len(self.server.task_dispatcher.queue)

    def wait_for(self, condition):
        import time

        for _ in range(200):
            if condition():
                return
            time.sleep(0.02)
        queued = [t.requests[0].path for t in list(self.server.task_dispatcher.queue) if t.requests]
        raise AssertionError(f"timed out; served {self.served}, queued {queued}")

    def close(self):
        self.release.set()
        for sock in self.sockets:
            sock.close()
        self.server.close()
        self.server.task_dispatcher.shutdown()


def test_a_queued_pulse_is_answered_before_rendered_pages_queued_earlier():
    """With the only thread busy, three card holders' pages and then a screen's pulse queue up: the pulse is
    answered next, while the pages still wait (before, it waited behind all three)."""
    one = _OneThreadServer()
    try:
        one.send("/guixiang/topics/1", "kiosk_household=a")  # takes the only thread and holds it
        one.wait_for(lambda: one.served == ["/guixiang/topics/1"])
        for n in (2, 3, 4):
            one.send(f"/guixiang/topics/{n}", "kiosk_household=a")
        one.wait_for(lambda: one.queued() == 3)
        pulse = one.send("/guixiang/pulse?v=1")
        one.wait_for(lambda: one.queued() == 4)
        one.release.set()
        assert pulse.recv(1024).startswith(b"HTTP/1.1 200")
        one.wait_for(lambda: len(one.served) == 5)
        assert one.served == ["/guixiang/topics/1", "/guixiang/pulse", "/guixiang/topics/2", "/guixiang/topics/3",
                              "/guixiang/topics/4"]
    finally:
        one.close()


def test_a_passers_by_page_waits_behind_pages_that_waited_long_but_not_behind_those_queued_after_them():
    """The phones' arrival at a meeting: a card holder's page has waited longer than CHEAP_JUMP_SECONDS when
    more arrive, then a passer-by opens the ledger. The passer-by is answered after the page that waited long
    and before the ones that came later (it used to wait behind all of them: 2-3 s in bench/meeting.py)."""
    import time

    one = _OneThreadServer()
    try:
        one.send("/guixiang/topics/1", "kiosk_household=a")  # takes the only thread and holds it
        one.wait_for(lambda: one.served == ["/guixiang/topics/1"])
        one.send("/guixiang/topics/2", "kiosk_household=b")
        one.wait_for(lambda: one.queued() == 1)
        time.sleep(serving.CHEAP_JUMP_SECONDS + 0.1)
        for n in (3, 4, 5):
            one.send(f"/guixiang/topics/{n}", "kiosk_household=c")
        one.wait_for(lambda: one.queued() == 4)
        ledger = one.send("/guixiang/ledger/")
        one.wait_for(lambda: one.queued() == 5)
        one.release.set()
        assert ledger.recv(1024).startswith(b"HTTP/1.1 200")
        one.wait_for(lambda: len(one.served) == 6)
        assert one.served == ["/guixiang/topics/1", "/guixiang/topics/2", "/guixiang/ledger/", "/guixiang/topics/3",
                              "/guixiang/topics/4", "/guixiang/topics/5"]
    finally:
        one.close()


def test_templates_are_looked_up_without_a_lock(app):
    """Jinja's default cache is an LRU that every render_template locks; under load a thread preempted inside it
    held up every other thread's page (two thirds of the uncached period page's samples waited there). The set
    of templates is fixed, so the cache is a plain dict; and a template is still compiled only once."""
    assert type(app.jinja_env.cache) is dict
    with app.test_request_context("/"):
        first = app.jinja_env.get_template("base.html")
        assert app.jinja_env.get_template("base.html") is first


def _sized_app(environ, start_response):
    """Answers /N with N bytes (a page larger than a socket's buffer has to wait for the loop to send it)."""
    size = int(environ["PATH_INFO"].strip("/") or 2)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(size))])
    return [b"x" * size]


def _get(sock, path, close=False):
    """Send a GET for path on sock (None: it was sent already) and read its whole answer; returns the body."""
    if path is not None:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{'Connection: close' + chr(13) + chr(10) if close else ''}"
                     "\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, first = data.split(b"\r\n\r\n", 1)
    length = int([line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")][0]
                 .split(b":")[1])
    body = bytearray(first)
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection before the whole answer"
        body += chunk
    return bytes(body)


def test_the_event_loop_serves_connections_that_come_and_go_and_rests_when_idle():
    """`kiosk serve` runs waitress on an epoll loop that keeps each socket registered (serving.EpollLoop). Socket
    numbers are reused as connections close and open, a connection waits to read or to write in turn: every
    request is answered whole, closed connections are let go, and with nothing to do the loop sleeps."""
    import socket
    import threading
    import time

    server = serving.make_server(_sized_app, "127.0.0.1", 0, threads=2)
    if serving.EpollLoop.available():
        assert isinstance(server.asyncore, serving.EpollLoop)
    threading.Thread(target=server.run, daemon=True).start()
    address = ("127.0.0.1", server.effective_port)
    try:
        for n in range(200):  # one after another: the same few socket numbers again and again
            with socket.create_connection(address, timeout=10) as sock:
                assert _get(sock, f"/{n + 1}", close=n % 2 == 0) == b"x" * (n + 1)
        together = [socket.create_connection(address, timeout=10) for _ in range(20)]
        for round_no in range(3):  # keep-alive: each connection waits to read again after each answer
            for n, sock in enumerate(together):
                assert _get(sock, f"/{100 + n + round_no}") == b"x" * (100 + n + round_no)
        big = together[0]
        big.sendall(b"GET /20000000 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)  # the socket buffers fill: the rest waits in the loop until the client reads
        assert _get(together[1], "/7") == b"x" * 7  # meanwhile others are served
        assert _get(big, None) == b"x" * 20_000_000
        for sock in together:
            sock.close()
        deadline = time.monotonic() + 10
        while server.active_channels and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.active_channels, "closed connections are let go"

        before = time.process_time()
        time.sleep(1.0)
        assert time.process_time() - before < 0.3, "an idle server does not spin"
        with socket.create_connection(address, timeout=10) as sock:  # and still answers after resting
            assert _get(sock, "/5") == b"xxxxx"
    finally:
        server.close()


def test_without_epoll_waitress_runs_its_own_loop(monkeypatch):
    """Elsewhere than Linux (no select.epoll) the server keeps waitress's poll loop."""
    from waitress import wasyncore

    monkeypatch.setattr(serving.EpollLoop, "available", staticmethod(lambda: False))
    server = serving.make_server(_sized_app, "127.0.0.1", 0, threads=1)
    try:
        assert server.asyncore is wasyncore
    finally:
        server.close()


def test_a_connection_whose_socket_closed_behind_the_loops_back_is_closed_not_kept():
    """waitress's poll loop reports a closed socket still in its map as POLLNVAL, and the connection is closed;
    epoll forgets a closed socket silently, so EpollLoop notices when it cannot register the socket again."""
    import select
    import socket

    if not serving.EpollLoop.available():
        pytest.skip("only Linux has epoll; elsewhere waitress's own loop runs (test above)")

    class Connection:
        accepting = False

        def __init__(self, sock):
            self.sock, self.wants_to_write, self.closed = sock, False, False

        def readable(self):
            return not self.closed

        def writable(self):
            return self.wants_to_write

        def handle_close(self):
            self.closed = True
            del loop_map[self.sock.fileno() if self.sock.fileno() >= 0 else fd]

    ours, theirs = socket.socketpair()
    fd = ours.fileno()
    connection = Connection(ours)
    loop_map = {fd: connection}
    with select.epoll() as epoll:
        watched = {}
        serving.EpollLoop().turn(epoll, watched, loop_map, 0)
        assert fd in watched
        ours.close()  # behind the loop's back; epoll drops it
        connection.wants_to_write = True
        serving.EpollLoop().turn(epoll, watched, loop_map, 0)
    theirs.close()
    assert connection.closed and not loop_map and not watched
