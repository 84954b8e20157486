"""Faults the kiosk must survive (issue 7), on SQLite and on PostgreSQL where the fault exists there.

- kill -9 of a real `kiosk serve` process in the middle of a vote storm: after a restart on the same
  database, every vote that got a success answer is there, none is half there (each ballot has its audit
  entry and change row), no household has two current ballots, the tally equals a recount, and votes go on.
- A database locked for longer than the busy timeout (SQLite: BEGIN EXCLUSIVE on another connection;
  PostgreSQL: LOCK TABLE ... ACCESS EXCLUSIVE against the app's lock_timeout), and PostgreSQL going away
  altogether (through a TCP relay the test cuts): people get the calm 503 page with Retry-After, reading
  pages and the screen's pulse/slides never answer 500 (nor an empty 200 for an error), nothing crashes,
  and the same server serves again by itself once the database is back.
- The instance disk full or read-only (simulated inside SQLite: max_page_count at the file's size,
  query_only): a committee member saving a notice gets a clear error page, not a traceback; nothing is
  half saved; reading pages and the screen keep working; the file passes PRAGMA integrity_check.
"""
import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, make_url, select, text

from kiosk.changes import AuditEntry, Change
from kiosk.consult.models import Ballot
from kiosk.extensions import db
from kiosk.database import utcnow
from kiosk.notices.models import Category, Notice, Status

from conftest import SECRET, login_as, make_app, post_form
from test_vote_storm import (CHOICES, SLUG, Phone, assert_tally_is_a_recount, ballot_counts, big_roll, cards_for,
                             live_server, open_topic, succeeded)

CALM_503 = "系统正忙，请过一会儿再试。"
NOT_A_TRACEBACK = ("Traceback", "OperationalError", "sqlite3", "psycopg", "File \"")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(port, path, method="GET", headers=None, body=None):
    """One request on its own connection: (status, headers, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body, headers or {})
        answer = conn.getresponse()
        return answer.status, dict(answer.getheaders()), answer.read().decode("utf-8", "replace")
    finally:
        conn.close()


# --- a real `kiosk serve` process -------------------------------------------------------------------------

class ServerProcess:
    """`kiosk serve` in its own process on a given database; kill() is kill -9."""

    def __init__(self, database_url, instance, log_path):
        self.database_url, self.instance, self.log_path = database_url, instance, log_path
        self.process = None
        self.port = None

    def start(self):
        self.port = free_port()
        env = {**os.environ, "KIOSK_DATABASE_URL": self.database_url, "KIOSK_INSTANCE_PATH": str(self.instance),
               "KIOSK_SECRET_KEY": SECRET, "KIOSK_PAGE_CACHE_SECONDS": "0", "KIOSK_ENV": "production"}
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from kiosk.cli import main; main()", "serve", "--port", str(self.port),
                 "--threads", "8"], env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, Path(self.log_path).read_text()
            try:
                if fetch(self.port, "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("kiosk serve did not answer /healthz within 60 s")

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def sqlite_path(database_url):
    return database_url.removeprefix("sqlite:///") if database_url.startswith("sqlite") else None


def assert_sound_sqlite_file(database_url):
    path = sqlite_path(database_url)
    if path:
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_vote_storm_loses_no_answered_vote_and_leaves_nothing_half_there(
        app, compound, chair, database_url, tmp_path):
    households_n, phones_n = 200, 20
    homes = big_roll(compound, households_n)
    tokens = cards_for(compound, chair, homes)
    topic_id = open_topic(compound, chair).id
    address = {h.id: h.address for h in homes}
    changes_before = db.session.scalar(select(func.count()).select_from(Change))
    per_phone = households_n // phones_n
    # The last 20 households are kept for after the restart.
    voting = [h.id for h in homes[:households_n - 20]]
    later = [h.id for h in homes[households_n - 20:]]
    plans = [[(hid, CHOICES[(p + k) % 3]) for k, hid in enumerate(voting[p::phones_n])] for p in range(phones_n)]
    assert sum(len(p) for p in plans) == len(voting) and per_phone

    answered, unanswered, refused = {}, {}, []
    lock = threading.Lock()
    start = threading.Barrier(phones_n + 1)
    db.session.commit()
    db.session.close()
    server = ServerProcess(database_url, tmp_path / "instance", tmp_path / "server.log")
    server.start()
    killed = threading.Event()

    def run_phone(plan):
        phone = Phone(server.port, app)
        sending = None
        try:
            phone.get_csrf()
            start.wait(60)
            for hid, choice in plan:
                phone.open_card(tokens[hid])
                sending = (hid, choice)
                status, flashes = phone.vote(topic_id, choice, follow=False)
                with lock:
                    if status == 303 and succeeded(flashes):
                        answered[hid] = choice
                    else:
                        refused.append((hid, status, flashes))
                sending = None
        except (OSError, http.client.HTTPException, AssertionError):
            if not killed.is_set():
                raise
            if sending is not None:  # sent, but no answer came back before the process died
                with lock:
                    unanswered[sending[0]] = sending[1]
        finally:
            phone.close()

    try:
        with ThreadPoolExecutor(phones_n) as pool:
            futures = [pool.submit(run_phone, plan) for plan in plans]
            start.wait(60)
            deadline = time.monotonic() + 120
            while len(answered) < len(voting) // 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            killed.set()
            server.kill()  # kill -9, mid-storm
            for future in futures:
                future.result()
        at_kill = len(answered)
        assert 0 < at_kill < len(voting), "the server was not killed in the middle of the storm"
        assert refused == []

        # Restart on the same database: it comes up, and the remaining households can vote.
        server.start()
        after = Phone(server.port, app)
        after.get_csrf()
        for hid in later:
            after.open_card(tokens[hid])
            status, flashes = after.vote(topic_id, "yes", follow=False)
            assert status == 303 and succeeded(flashes), (status, flashes)
            answered[hid] = "yes"
        after.close()
        assert fetch(server.port, f"/{SLUG}/topics/{topic_id}")[0] == 200
    finally:
        server.stop()

    db.session.expire_all()
    recorded = dict(db.session.execute(select(Ballot.household_id, Ballot.choices)
                                       .where(Ballot.topic_id == topic_id, Ballot.current.is_(True))).all())
    # Every vote that got a success answer is there, as cast.
    assert {hid: recorded.get(hid) for hid in answered} == {hid: [choice] for hid, choice in answered.items()}
    # A vote without an answer is either wholly there or not at all; nothing else is there.
    for hid, choice in unanswered.items():
        assert recorded.get(hid) in (None, [choice])
    assert set(recorded) <= set(answered) | set(unanswered)
    total, current, doubled = ballot_counts(topic_id)
    assert doubled == [] and total == current == len(recorded)
    # Each ballot committed with its audit entry and its change row, or not at all.
    audited = [a.after["household"] for a in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "ballot", AuditEntry.object_id == topic_id))]
    assert sorted(audited) == sorted(address[hid] for hid in recorded)
    assert db.session.scalar(select(func.count()).select_from(Change)) == changes_before + total
    assert_tally_is_a_recount(topic_id)
    assert_sound_sqlite_file(database_url)
    log = Path(tmp_path / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]
    print(f"\nkill -9 after {at_kill} answered votes; {len(unanswered)} sent without an answer, "
          f"{sum(1 for h in unanswered if h in recorded)} of them recorded")


# --- a database that is locked, or gone --------------------------------------------------------------------

@contextmanager
def database_locked(database_url):
    """Another connection holds the database (SQLite) or the tables a vote and a card need (PostgreSQL)."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(sqlite_path(database_url), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
    else:
        import psycopg

        url = make_url(database_url)
        holder = psycopg.connect(host=url.host, port=url.port, user=url.username, password=url.password,
                                 dbname=url.database)
        try:
            holder.execute("LOCK TABLE ballot, card_failure IN ACCESS EXCLUSIVE MODE")
            yield
        finally:
            holder.rollback()
            holder.close()


def screen_paths(slug, screen_key, version, screen_id):
    """What a lobby screen asks for while it runs: its slides, its banner, the pulse (unchanged and changed)."""
    return [f"/{slug}/screen/{screen_key}/slides/notices", f"/{slug}/screen/{screen_key}/banner",
            f"/{slug}/pulse?v={version}&s={screen_id}", f"/{slug}/pulse?v=0&s={screen_id}"]


def assert_calm_503(status, headers, body, what):
    assert status == 503, (what, status, body[:300])
    assert headers.get("Retry-After") == "5", (what, headers)
    assert CALM_503 in body and not any(word in body for word in NOT_A_TRACEBACK), (what, body[:500])


def assert_screen_answer(status, headers, body, what):
    """What a lobby screen may get: content, "nothing changed" (an empty 200), or a calm error it ignores."""
    assert status != 500 and status in (200, 503), (what, status)
    if status == 503:
        assert body.strip() and headers.get("Retry-After"), what  # an error is never an empty 200


def setup_compound(compound, chair):
    from kiosk.screen.models import Screen

    homes = big_roll(compound, 10)
    tokens = cards_for(compound, chair, homes)
    topic_id = open_topic(compound, chair).id
    screen = Screen(compound_id=compound.id, name="1号楼大堂")
    db.session.add(screen)
    db.session.commit()
    return tokens[homes[0].id], topic_id, screen.key, screen.id, compound.slug, compound.version


def test_a_database_locked_longer_than_the_busy_timeout_answers_503_and_service_resumes_by_itself(
        app, compound, chair, database_url):
    token, topic_id, key, screen_id, slug, version = setup_compound(compound, chair)
    app.config["BUSY_TIMEOUT_MS"] = 300
    db.session.remove()
    db.engine.dispose()  # connections made from now on wait 300 ms for a lock
    with live_server(app) as (port, log):
        phone = Phone(port, app)
        phone.get_csrf()
        phone.open_card(token)
        assert fetch(port, f"/{slug}/screen/{key}")[0] == 200  # the screen is up (and its contact recorded)
        cookie = "; ".join(f"{k}={v}" for k, v in phone.jar.items())
        vote = f"csrf_token={phone.csrf}&choice=yes"
        form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        with database_locked(database_url):
            began = time.monotonic()
            assert_calm_503(*fetch(port, f"/{slug}/topics/{topic_id}/vote", "POST", form, vote), "a vote")
            assert_calm_503(*fetch(port, "/h/not-a-real-card-token-at-all"), "a GET that writes")
            assert fetch(port, f"/{slug}/")[0] == 200  # reading goes on
            for path in screen_paths(slug, key, version, screen_id):
                assert_screen_answer(*fetch(port, path), path)
            assert time.monotonic() - began < 30, "requests hung instead of giving up after the busy timeout"
        # The lock is gone: the same server, no restart, serves writes again.
        status, flashes = phone.vote(topic_id, "yes", follow=False)
        assert status == 303 and succeeded(flashes), flashes
        assert fetch(port, "/h/not-a-real-card-token-at-all")[0] == 404  # the calm "card not valid" answer
        phone.close()
    assert [m for m in log if "Traceback" in m or "ERROR" in m] == []
    db.session.expire_all()
    assert ballot_counts(topic_id) == (1, 1, [])
    assert_sound_sqlite_file(database_url)


class Relay:
    """A TCP relay in front of PostgreSQL: cut() drops every connection and refuses new ones, mend() lets
    them through again, as when the database server goes away and comes back."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.open = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.up = False
        with self.lock:
            for s in self.open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.open = []

    def mend(self):
        self.up = True

    def close(self):
        self.cut()
        self.listener.close()


@pytest.mark.postgres
def test_postgresql_going_away_answers_503_and_service_resumes_when_it_is_back(
        app, compound, chair, database_url, tmp_path, request):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to lose: the locked-database test covers it")
    token, topic_id, key, screen_id, slug, version = setup_compound(compound, chair)
    url = make_url(database_url)
    relay = Relay(url.host, url.port)
    through_relay = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
    served = make_app(tmp_path / "served", through_relay)
    db.session.commit()
    db.session.close()
    try:
        with served.app_context(), live_server(served) as (port, log):
            phone = Phone(port, served)
            phone.get_csrf()
            phone.open_card(token)
            assert fetch(port, f"/{slug}/screen/{key}")[0] == 200
            cookie = "; ".join(f"{k}={v}" for k, v in phone.jar.items())
            vote = f"csrf_token={phone.csrf}&choice=no"
            form = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

            relay.cut()
            assert_calm_503(*fetch(port, f"/{slug}/"), "the home page")
            assert_calm_503(*fetch(port, f"/{slug}/topics/{topic_id}/vote", "POST", form, vote), "a vote")
            for path in screen_paths(slug, key, version, screen_id):
                assert_screen_answer(*fetch(port, path), path)
            assert fetch(port, "/healthz")[0] in (200, 503)

            relay.mend()
            deadline = time.monotonic() + 15
            while fetch(port, f"/{slug}/")[0] != 200:  # the pool pings, finds the database back, reconnects
                assert time.monotonic() < deadline, "the server did not recover by itself"
                time.sleep(0.2)
            status, flashes = phone.vote(topic_id, "no", follow=False)
            assert status == 303 and succeeded(flashes), flashes
            phone.close()
            db.session.remove()
            db.engine.dispose()
        assert [m for m in log if "Traceback" in m] == []
    finally:
        relay.close()
    db.session.expire_all()
    assert ballot_counts(topic_id) == (1, 1, [])


# --- the instance disk full or read-only ---------------------------------------------------------------------

@contextmanager
def disk_fault(fault):
    """Every new connection of the app's engine finds the disk full (no page can be added to the file) or
    read-only (no write at all), as SQLite reports them: SQLITE_FULL and SQLITE_READONLY."""

    def on_connect(dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        if fault == "full":
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        else:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    db.session.remove()
    db.engine.dispose()
    event.listen(db.engine, "connect", on_connect)
    try:
        yield
    finally:
        db.session.remove()
        event.remove(db.engine, "connect", on_connect)
        db.engine.dispose()


def state(compound_id):
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(Notice)),
            db.session.scalar(select(func.count()).select_from(AuditEntry)),
            db.session.scalar(select(func.count()).select_from(Change)),
            db.session.execute(text("SELECT version FROM compound WHERE id = :id"), {"id": compound_id}).scalar())


@pytest.mark.sqlite_only("a full or read-only instance disk is simulated inside SQLite (max_page_count, query_only)")
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_full_or_read_only_disk_gives_the_committee_a_clear_error_and_keeps_pages_and_screens(
        app, client, compound, chair, database_url, fault):
    from kiosk.screen.models import Screen

    existing = Notice(compound_id=compound.id, title="电梯年检通知", body="请留意。", status=Status.published,
                      category=Category.notice, published_at=utcnow())
    screen = Screen(compound_id=compound.id, name="1号楼大堂")
    db.session.add_all([existing, screen])
    db.session.commit()
    slug, key, screen_id, compound_id, notice_id = compound.slug, screen.key, screen.id, compound.id, existing.id
    login_as(client, chair)
    assert client.get(f"/{slug}/screen/{key}").status_code == 200  # the screen is up (its contact recorded)
    token_page = f"/admin/{slug}/notices/new"
    assert client.get(token_page).status_code == 200
    db.session.remove()
    # No free pages inside the file: a new row with a long body needs pages the "disk" cannot give.
    conn = sqlite3.connect(sqlite_path(database_url))
    conn.execute("VACUUM")
    conn.close()
    before = state(compound_id)
    version = before[3]
    body = "\n\n".join(f"第{i}条：请各位居民按时参加，如有疑问请到物业办公室咨询，谢谢大家的理解与支持。"
                         for i in range(60))

    with disk_fault(fault):
        response = post_form(client, token_page, {"title": "周日上午停水", "body": body, "category": "notice",
                                                  "action": "publish"})
        page = response.get_data(as_text=True)
        # (Before errors.py kept its error page off the database, this was a bare 500: rendering the calm
        # page looked up the logged-in account, in a write transaction the full or read-only disk refused.)
        assert response.status_code == 507, (response.status_code, page[:500])
        assert response.headers.get("Retry-After")
        assert not any(word in page for word in NOT_A_TRACEBACK), page[:1000]
        assert "存储空间已满或只能读取，刚才的内容没有保存" in page, page[:1000]
        # Reading pages and the screen keep working.
        home = client.get(f"/{slug}/")
        assert home.status_code == 200 and "电梯年检通知" in home.get_data(as_text=True)
        assert client.get(f"/{slug}/n/{notice_id}").status_code == 200
        assert client.get(f"/{slug}/screen/{key}").status_code == 200
        for path in screen_paths(slug, key, version, screen_id):
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)

    assert state(compound_id) == before  # nothing half saved: no notice, no audit entry, no change, same version
    assert_sound_sqlite_file(database_url)
    # The disk has room again: the same form saves.
    response = post_form(client, token_page, {"title": "周日上午停水", "body": body, "category": "notice",
                                              "action": "publish"})
    assert response.status_code in (302, 303)
    assert state(compound_id)[0] == before[0] + 1
