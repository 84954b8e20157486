"""One misbehaving client on the compound's LAN cannot starve the lobby screens of a real `kiosk serve`.

waitress used to stop accepting at 100 open connections and keep a half-sent request for 120 s: 105 slow
connections silenced every screen's pulse for minutes. Now the pulse answers at once while 120 half-sent
requests (and then hundreds more from the same address) hang on, and requests whose headers are overdue
are closed.
"""
import http.client
import os
import shutil
import socket
import subprocess
import time

import pytest

from kiosk import serving
from kiosk.compounds.models import Compound
from kiosk.extensions import db

from conftest import make_app, serving as serving_in_thread
from test_cli import BIN, command_env, free_port

pytestmark = pytest.mark.slow
MISBEHAVING = "127.0.0.2"  # the whole of 127/8 is loopback on Linux: a second client address


def pulse_seconds(port, slug="maple"):
    """Time one pulse from a screen (127.0.0.1), as its poll does; fails if no answer within 5 s."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", f"/{slug}/pulse?v=0")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
    finally:
        connection.close()
    return time.monotonic() - started


def half_sent(port, count, source=MISBEHAVING):
    """Open `count` connections from `source` that each send the start of a request and stop there."""
    opened = []
    for _ in range(count):
        sock = socket.socket()
        sock.settimeout(5)
        sock.bind((source, 0))
        try:
            sock.connect(("127.0.0.1", port))
            sock.sendall(b"GET /maple/ HTTP/1.1\r\nHost: kiosk\r\nX-Slow: ")
        except OSError:  # refused or reset: the server is defending itself, which is fine
            sock.close()
            continue
        opened.append(sock)
    return opened


def trickle(sockets):
    """Send one more byte on each (keeps them from looking idle); return how many the server has closed."""
    closed = 0
    for sock in sockets:
        try:
            sock.sendall(b"a")
            sock.setblocking(False)
            try:
                closed += sock.recv(1) == b""
            except BlockingIOError:
                pass
            finally:
                sock.setblocking(True)
        except OSError:
            closed += 1
    return closed


@pytest.fixture
def kiosk_serve(tmp_path, sqlite_template):
    """A real `kiosk serve` process on a free port, its database holding the compound maple."""
    database = tmp_path / "served.sqlite3"
    shutil.copyfile(sqlite_template, database)
    os.chmod(database, 0o600)
    app = make_app(tmp_path, f"sqlite:///{database}")
    with app.app_context():
        db.session.add(Compound(slug="maple", name="枫叶小区"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    process = subprocess.Popen([str(BIN / "kiosk"), "serve", "--port", str(port), "--threads", "4"],
                               cwd=tmp_path, env=command_env(tmp_path, KIOSK_DATABASE_URL=f"sqlite:///{database}"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                pulse_seconds(port)
                break
            except (OSError, AssertionError):
                assert process.poll() is None and time.monotonic() < deadline, "kiosk serve did not start"
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_a_screens_pulse_answers_at_once_while_one_client_holds_many_half_sent_requests(kiosk_serve):
    port = kiosk_serve
    slow = half_sent(port, 120)
    try:
        assert len(slow) == 120
        assert trickle(slow) == 0  # all 120 are held open by the server, waiting for the rest
        timings = []
        for _ in range(6):
            timings.append(pulse_seconds(port))
            trickle(slow)
            time.sleep(0.5)
        assert max(timings) < 1.5, timings

        # The same address tries to take every connection there is: past its share it is turned away.
        more = half_sent(port, 500)
        slow += more
        time.sleep(0.5)
        held = len(slow) - trickle(slow)
        assert held <= serving.CONNECTION_LIMIT // serving.PER_ADDRESS_SHARE + 5, held
        assert max(pulse_seconds(port) for _ in range(3)) < 1.5
    finally:
        for sock in slow:
            sock.close()


def test_requests_whose_headers_are_overdue_are_closed_even_if_a_byte_trickles_in(tmp_path, database_url,
                                                                                  monkeypatch):
    """A header deadline, not just an idle timeout: a client sending a byte a second still gets closed."""
    monkeypatch.setattr(serving, "HEADER_SECONDS", 2, raising=False)
    app = make_app(tmp_path, database_url)
    with serving_in_thread(app) as port:
        slow = half_sent(port, 5, source="127.0.0.1")
        try:
            deadline = time.monotonic() + 10
            closed = 0
            while closed < len(slow) and time.monotonic() < deadline:
                time.sleep(1)
                closed = trickle(slow)
            assert closed == len(slow), "the overdue requests were still open after 10 s"
        finally:
            for sock in slow:
                sock.close()
