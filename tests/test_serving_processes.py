"""`kiosk serve --processes N` (issue 16): waitress processes forked from one parent, sharing one socket, on
the embedded SQLite file.

- A vote storm through two processes: every household's ballot is answered and kept once, no household has
  two current ballots, the tally equals a recount; 12 phones of one household at once leave one current
  ballot (SQLite's write lock, not the in-process queue, is what keeps the two processes apart).
- A serving process that dies (kill -9) is replaced, and the site answers meanwhile; the replacement serves.
- SIGTERM to the parent stops every process; kill -9 of the parent takes its processes along (no orphan keeps
  the port); a port in use is a one-line error, with no process left behind.

SQLite only: several processes on one PostgreSQL are test_scale_out's (two processes behind nginx); what is new
here is two processes writing one SQLite file, and the forking itself, which does not depend on the engine.
"""
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select

from kiosk.cli import serving_processes
from kiosk.consult.models import Ballot
from kiosk.extensions import db
from kiosk import serving

from conftest import SECRET
from test_vote_storm import (SLUG, Phone, assert_tally_is_a_recount, big_roll, cards_for, open_topic,
                             succeeded)

PROCESSES = 2
pytestmark = pytest.mark.sqlite_only  # see the module docstring


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status
    finally:
        conn.close()


def children(pid):
    """The pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return sorted(found)


def alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"after {seconds} s: {what}")


class Forked:
    """`kiosk serve --processes N` on a database, as its own process group's leader."""

    def __init__(self, database_url, instance, log_path, processes=PROCESSES):
        self.database_url, self.instance, self.log_path, self.processes = (database_url, instance, log_path,
                                                                          processes)
        self.process = None
        self.port = None

    def start(self, port=None):
        self.port = port or free_port()
        env = {**os.environ, "KIOSK_DATABASE_URL": self.database_url, "KIOSK_INSTANCE_PATH": str(self.instance),
               "KIOSK_SECRET_KEY": SECRET, "KIOSK_PAGE_CACHE_SECONDS": "0", "KIOSK_ENV": "production"}
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from kiosk.cli import main; main()", "serve", "--port", str(self.port),
                 "--threads", "4", "--processes", str(self.processes)], env=env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self):
        def ready():
            assert self.process.poll() is None, self.log()
            try:
                return healthz(self.port) == 200 and len(children(self.process.pid)) == self.processes
            except OSError:
                return False
        wait_until(ready, 60, f"kiosk serve --processes {self.processes} did not answer /healthz")
        return self

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def stop(self):
        """Stop everything we started, whatever state the test left it in."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(15)


@pytest.fixture
def forked(database_url, tmp_path):
    server = Forked(database_url, tmp_path / "instance", tmp_path / "serve.log")
    yield server
    server.stop()


@pytest.mark.slow
def test_a_vote_storm_through_two_processes_keeps_every_ballot_once(app, compound, chair, forked):
    households_n, phones_n, same_n = 120, 12, 12
    homes = big_roll(compound, households_n)
    tokens = cards_for(compound, chair, homes)
    topic_id = open_topic(compound, chair, allow_change=True).id
    storm = [h.id for h in homes[:-1]]
    shared = homes[-1].id  # one household whose card 12 phones use at once
    db.session.commit()
    db.session.close()
    forked.start().wait_ready()

    plans = [[(hid, ("yes", "no", "abstain")[(p + k) % 3]) for k, hid in enumerate(storm[p::phones_n])]
             for p in range(phones_n)]
    answered, trouble = {}, []
    lock = threading.Lock()
    start = threading.Barrier(phones_n + same_n)

    def run_phone(plan):
        phone = Phone(forked.port, app)
        try:
            phone.get_csrf()
            start.wait(60)
            for hid, choice in plan:
                phone.open_card(tokens[hid])
                status, flashes = phone.vote(topic_id, choice, follow=False)
                with lock:
                    if status == 303 and succeeded(flashes):
                        answered[hid] = choice
                    else:
                        trouble.append((hid, status, flashes))
        finally:
            phone.close()

    def run_same(choice):
        phone = Phone(forked.port, app)
        try:
            phone.get_csrf()
            phone.open_card(tokens[shared])
            start.wait(60)
            status, flashes = phone.vote(topic_id, choice, follow=False)
            with lock:
                if not (status == 303 and succeeded(flashes)):
                    trouble.append((shared, status, flashes))
        finally:
            phone.close()

    with ThreadPoolExecutor(phones_n + same_n) as pool:
        futures = [pool.submit(run_phone, plan) for plan in plans]
        futures += [pool.submit(run_same, ("yes", "no")[i % 2]) for i in range(same_n)]
        for future in futures:
            future.result()

    assert trouble == [], trouble[:5]
    assert forked.process.poll() is None and "Traceback" not in forked.log()
    db.session.expire_all()
    current = db.session.execute(select(Ballot.household_id, Ballot.choices)
                                 .where(Ballot.topic_id == topic_id, Ballot.current.is_(True))).all()
    by_household = {}
    for hid, choices in current:
        assert hid not in by_household, f"household {hid} has two current ballots"
        by_household[hid] = choices
    assert {hid: by_household.get(hid) for hid in answered} == {hid: [c] for hid, c in answered.items()}
    assert len(answered) == len(storm)
    assert by_household[shared] in (["yes"], ["no"])
    assert len(by_household) == len(storm) + 1
    every = db.session.scalars(select(Ballot.household_id).where(Ballot.topic_id == topic_id)).all()
    assert every.count(shared) == same_n  # each answered change kept as history, none lost or doubled
    assert_tally_is_a_recount(topic_id)


@pytest.mark.slow
def test_a_dead_serving_process_is_replaced_and_sigterm_stops_them_all(app, forked):
    db.session.close()
    forked.start().wait_ready()
    parent = forked.process.pid
    first, second = children(parent)

    os.kill(first, signal.SIGKILL)
    assert [healthz(forked.port) for _ in range(10)] == [200] * 10  # the other one answers meanwhile
    wait_until(lambda: len(children(parent)) == PROCESSES and first not in children(parent), 10,
               "no process replaced the one killed")
    replacement = next(pid for pid in children(parent) if pid != second)
    os.kill(second, signal.SIGKILL)  # now the replacement must serve on its own
    assert [healthz(forked.port) for _ in range(10)] == [200] * 10
    wait_until(lambda: len(children(parent)) == PROCESSES, 10, "the second process was not replaced either")
    assert "serving process" in forked.log() and "starting another" in forked.log()

    serving_now = children(parent)
    forked.process.send_signal(signal.SIGTERM)
    assert forked.process.wait(15) == 0
    wait_until(lambda: not any(alive(pid) for pid in serving_now + [replacement]), 10,
               "a serving process outlived its parent's SIGTERM")
    with pytest.raises(OSError):
        healthz(forked.port)


@pytest.mark.slow
def test_kill_9_of_the_parent_takes_its_processes_along(app, forked):
    db.session.close()
    forked.start().wait_ready()
    serving_now = children(forked.process.pid)
    os.kill(forked.process.pid, signal.SIGKILL)
    forked.process.wait(15)
    wait_until(lambda: not any(alive(pid) for pid in serving_now), 10,
               "serving processes kept running after their parent was killed")
    with pytest.raises(OSError):
        healthz(forked.port)


def test_a_port_in_use_is_a_clear_error_and_leaves_no_process(app, forked):
    db.session.close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        forked.start(port=taken.getsockname()[1])
        assert forked.process.wait(60) == 1
        assert f"Cannot listen on 127.0.0.1:{forked.port}: Address already in use." in forked.log()
        assert "Traceback" not in forked.log()


def test_processes_are_counted_per_core_and_share_the_connection_limits(monkeypatch):
    assert serving_processes(3) == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert serving_processes(0) == 2
    monkeypatch.setattr(os, "cpu_count", lambda: 64)
    assert serving_processes(0) == 4
    one, one_share = serving.server_options(False, 1)
    two, two_share = serving.server_options(False, 2)
    # Two processes on one socket hold no more connections in all than one did, nor does one address.
    assert 2 * two["connection_limit"] == one["connection_limit"]
    assert 2 * two_share == one_share
