"""Must hold (issue 5): a vote storm through a real waitress server, on SQLite and on PostgreSQL.

- 500 households with cards, 50 concurrent phones (threads, each its own cookie jar), each phone votes for
  10 households; 100 households vote a second time with a different choice. Exactly 500 current ballots,
  600 ballots in all, none lost, none duplicated, no answer >= 500, no "database is locked" in the server's
  log, and the tally equals a recount computed here from the Ballot rows without the tally module.
- The same card from 16 phones at the same instant: exactly one current ballot; when changes are not
  allowed, exactly one ballot and 15 calm refusals ("不能改票").
- A vote after close is refused and nothing is recorded, also when the deadline passes in the middle of
  a storm: the frozen result is exactly the ballots that were accepted.

Each phone is http.client plus a small cookie jar: it opens its card (GET /h/<token>), gets a CSRF token
for its session (GET /admin/login), POSTs the vote and follows the 303 to read the flash, as a browser does.
"""
import http.client
import logging
import random
import re
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from fractions import Fraction
from http.cookies import SimpleCookie

import pytest
from sqlalchemy import func, select
from waitress.server import create_server

from kiosk.changes import AuditEntry
from kiosk.consult import service
from kiosk.consult.models import Ballot, Elector, Status, Topic
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.cards import COOKIE
from kiosk.households.service import issue
from kiosk.households.models import Household, Occupancy

import factories
from conftest import CSRF_RE

SLUG = "maple"
CHOICES = ("yes", "no", "abstain")
FLASH_RE = re.compile(r'<p class="flash flash-(\w+)"[^>]*>(.*?)</p>', re.DOTALL)
SESSION_COOKIE = "kiosk_session"
LOG_PROBLEMS = ("locked", "Traceback", "Exception", "Error", "unavailable", "deadlock")


# --- a live server and phones that talk to it -------------------------------------------------------------

class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.messages = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.messages.append(f"{record.name} {record.levelname}: {text}")


SERVER_LOGGERS = ("", "kiosk", "waitress", "sqlalchemy")


@contextmanager
def live_server(app, threads=8):
    """Serve the app with waitress in a thread as `kiosk serve` does (8 threads); yield (port, log messages).

    Everything the app, waitress and SQLAlchemy log at WARNING or above while it runs is collected."""
    db.session.commit()
    db.session.close()  # the test's own session must hold no transaction (SQLite's lock) while the server works
    log = ListHandler()
    log.setLevel(logging.WARNING)
    for name in SERVER_LOGGERS:
        logging.getLogger(name).addHandler(log)
    server = create_server(app, host="127.0.0.1", port=0, threads=threads, ident="kiosk-storm")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port, log.messages
    finally:
        server.task_dispatcher.shutdown()
        server.trigger.pull_trigger(lambda: [channel.handle_close() for channel in list(server._map.values())])
        thread.join(10)
        for name in SERVER_LOGGERS:
            logging.getLogger(name).removeHandler(log)
        assert not thread.is_alive(), "waitress did not stop"


class Phone:
    """One phone: a keep-alive connection and its own cookie jar; every answer is kept in `answers`."""

    def __init__(self, port, app=None):
        self.port = port
        self.sessions = app.session_interface.get_signing_serializer(app) if app is not None else None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.jar = {}
        self.answers = []  # (method, path, status)
        self.csrf = None

    def request(self, method, path, form=None, keep_session=False):
        headers = {}
        if self.jar:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.jar.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body, headers)
                answer = self.conn.getresponse()
                text = answer.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError):
                # A keep-alive connection the server closed between requests: reconnect once (not for POSTs,
                # which must not be sent twice).
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt or method != "GET":
                    raise
        for header in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                gone = morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"])
                if keep_session and name == SESSION_COOKIE:
                    self.last_session = morsel.value
                elif gone or not morsel.value:
                    self.jar.pop(name, None)
                else:
                    self.jar[name] = morsel.value
        self.answers.append((method, path, answer.status))
        return answer.status, answer.getheader("Location"), text

    def get_csrf(self):
        status, _, text = self.request("GET", "/admin/login")
        assert status == 200, status
        self.csrf = CSRF_RE.search(text).group(1)

    def open_card(self, token):
        status, location, _ = self.request("GET", f"/h/{token}")
        assert status == 302 and COOKIE in self.jar, (status, location)

    def vote(self, topic_id, *choices, follow=True):
        """POST the ballot and follow the 303 like a browser; return (POST status, [(category, flash)]).

        With follow=False (a phone that never loads the next page), the flash is read from the session
        cookie the answer set, and the phone keeps its old session cookie so flashes don't pile up."""
        self.last_session = None
        status, location, text = self.request("POST", f"/{SLUG}/topics/{topic_id}/vote",
                                              {"csrf_token": self.csrf, "choice": list(choices)},
                                              keep_session=not follow)
        if status != 303:
            return status, [("http", text[:300])]
        if not follow:
            flashed = self.sessions.loads(self.last_session).get("_flashes", []) if self.last_session else []
            return status, [(category, str(message)) for category, message in flashed]
        path = urllib.parse.urlsplit(location).path
        page_status, _, page = self.request("GET", path)
        if page_status != 200:
            return status, [("http", f"GET {path} -> {page_status}")]
        return status, [(category, re.sub(r"<[^>]+>", "", message)) for category, message in FLASH_RE.findall(page)]

    def close(self):
        self.conn.close()


def succeeded(flashes):
    return [m for c, m in flashes if c == "success" and "已投票" in m] != []


def server_problems(messages):
    return [m for m in messages if any(word in m for word in LOG_PROBLEMS)]


# --- a compound's roll, cards, topics ---------------------------------------------------------------------

def big_roll(compound, n):
    """n households in 10 buildings with differing areas; the first 30 units belong to 10 buyers of three
    units each and 5 units are developer-held, so heads and households differ."""
    made = []
    for i in range(n):
        made.append(Household(
            compound_id=compound.id, building=str(1 + i % 10), entrance="", room=str(101 + i // 10),
            area_centi=6000 + (i * 3719) % 12000,
            occupancy=Occupancy.developer if 30 <= i < 35 else Occupancy.occupied,
            owner_key=f"buyer-{i // 3}" if i < 30 else ""))
    db.session.add_all(made)
    db.session.commit()
    return made


def cards_for(compound, chair, households):
    issued = issue(compound, chair, households)
    db.session.commit()
    return {household.id: token for household, token in issued}


def open_topic(compound, chair, **fields):
    """A named topic: each of its ballots is audited with its change row at once, which these storms count (a
    secret topic's ballots are audited in released batches instead: test_consult_secrecy.py)."""
    return factories.open_topic(compound, chair, **{"background": "充电桩由物业出资。", "secret": False, **fields})


# --- an independent recount -------------------------------------------------------------------------------

def recount(topic_id):
    """The yes/no tally recomputed from raw Elector and Ballot rows, without kiosk.consult.tally.

    The counted ballot of a household is its *latest* ballot row (largest id) — which must also be the one
    flagged current; an owner group's head follows its latest counted ballot; 双过半 after 双三分之二."""
    electors = db.session.execute(select(Elector.household_id, Elector.area_centi, Elector.owner)
                                  .where(Elector.topic_id == topic_id)).all()
    rows = db.session.execute(select(Ballot.id, Ballot.household_id, Ballot.choices, Ballot.current)
                              .where(Ballot.topic_id == topic_id).order_by(Ballot.id)).all()
    latest = {}
    for row in rows:
        latest[row.household_id] = row
    assert {h: r.id for h, r in latest.items()} == {r.household_id: r.id for r in rows if r.current}, \
        "the current flag is not on each household's latest ballot"
    area = {e.household_id: e.area_centi for e in electors}
    owner = {e.household_id: e.owner for e in electors}
    head_ballot, owner_choices = {}, defaultdict(set)
    for hid, row in latest.items():
        if hid not in area:
            continue
        group = owner[hid]
        owner_choices[group].add(tuple(row.choices))
        if group not in head_ballot or row.id > head_ballot[group].id:
            head_ballot[group] = row
    counted = {h: r for h, r in latest.items() if h in area}
    figures = {
        "total_households": len(area), "total_area_centi": sum(area.values()),
        "total_heads": len(set(owner.values())),
        "part_households": len(counted), "part_area_centi": sum(area[h] for h in counted),
        "part_heads": len(head_ballot),
        "conflicts": sum(1 for choices in owner_choices.values() if len(choices) > 1),
        "options": {key: {"households": sum(1 for r in counted.values() if key in r.choices),
                          "area_centi": sum(area[h] for h, r in counted.items() if key in r.choices),
                          "heads": sum(1 for r in head_ballot.values() if key in r.choices)}
                    for key in CHOICES},
    }
    quorum = (Fraction(figures["part_area_centi"], figures["total_area_centi"]) >= Fraction(2, 3)
              and Fraction(figures["part_heads"], figures["total_heads"]) >= Fraction(2, 3))
    yes = figures["options"]["yes"]
    figures["passed"] = bool(quorum and figures["part_households"]
                             and Fraction(yes["area_centi"], figures["part_area_centi"]) > Fraction(1, 2)
                             and Fraction(yes["heads"], figures["part_heads"]) > Fraction(1, 2))
    return figures


def figures_of(result):
    """The same figures from a service.compute() Result or a frozen result dict."""
    if not isinstance(result, dict):
        result = result.as_record()
    names = ("total_households", "total_area_centi", "total_heads", "part_households", "part_area_centi",
             "part_heads", "conflicts", "passed")
    figures = {name: result[name] for name in names}
    figures["options"] = {o["key"]: {"households": o["households"], "area_centi": o["area_centi"],
                                     "heads": o["heads"]} for o in result["options"]}
    return figures


def assert_tally_is_a_recount(topic_id):
    db.session.expire_all()
    topic = db.session.get(Topic, topic_id)
    expected = recount(topic_id)
    assert figures_of(service.compute(topic)) == expected
    if topic.result is not None:  # frozen at close: it too must be exactly the ballots on record
        assert figures_of(topic.result) == expected
        assert topic.fingerprint == service.fingerprint(topic)
    return expected


def ballot_counts(topic_id):
    total = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic_id))
    current = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic_id,
                                                                               Ballot.current.is_(True)))
    doubled = db.session.execute(select(Ballot.household_id).where(Ballot.topic_id == topic_id,
                                                                   Ballot.current.is_(True))
                                 .group_by(Ballot.household_id).having(func.count() > 1)).scalars().all()
    return total, current, doubled


# --- the storm --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_vote_storm_500_households_50_phones_100_changed_votes(app, compound, chair):
    households_n, phones_n, per_phone, changers_per_phone = 500, 50, 10, 2
    homes = big_roll(compound, households_n)
    tokens = cards_for(compound, chair, homes)
    topic = open_topic(compound, chair)
    topic_id = topic.id
    rng = random.Random(2785)
    order = [h.id for h in homes]
    rng.shuffle(order)
    plans = []  # per phone: [(household id, choice)]; 2 of its 10 households change their vote two ballots later
    for p in range(phones_n):
        mine = order[p * per_phone:(p + 1) * per_phone]
        first = {hid: rng.choice(CHOICES) for hid in mine}
        plan = []
        for k, hid in enumerate(mine):
            plan.append((hid, first[hid]))
            if k % (per_phone // changers_per_phone) == per_phone // changers_per_phone - 1:
                earlier = mine[k - 2]  # a household of this phone that voted two ballots ago changes its mind
                plan.append((earlier, rng.choice([c for c in CHOICES if c != first[earlier]])))
        plans.append(plan)
    assert sum(len(p) for p in plans) == households_n + phones_n * changers_per_phone

    outcomes, problems = [], []
    lock = threading.Lock()
    start = threading.Barrier(phones_n)

    def run_phone(port, plan):
        phone = Phone(port, app)
        try:
            phone.get_csrf()
            start.wait(60)
            for n, (hid, choice) in enumerate(plan):
                phone.open_card(tokens[hid])
                # One vote in four follows the redirect to the topic page (reads amid the writes); the
                # others read the flash from the session cookie, to keep the test's run time down.
                status, flashes = phone.vote(topic_id, choice, follow=n % 4 == 0)
                with lock:
                    outcomes.append((hid, choice, status, flashes))
        except Exception as problem:  # noqa: BLE001 - reported below
            with lock:
                problems.append(repr(problem))
        finally:
            phone.close()
        return phone.answers

    began = time.monotonic()
    with live_server(app) as (port, log):
        with ThreadPoolExecutor(phones_n) as pool:
            answers = [a for phone_answers in pool.map(lambda plan: run_phone(port, plan), plans)
                       for a in phone_answers]
        viewer = Phone(port)
        page_status, _, page = viewer.request("GET", f"/{SLUG}/topics/{topic_id}")
        viewer.close()
    elapsed = time.monotonic() - began

    assert problems == []
    assert [a for a in answers if a[2] >= 500] == []
    assert server_problems(log) == []
    assert Counter(status for _, _, status, _ in outcomes) == {303: households_n + 100}
    refused = [(hid, flashes) for hid, _, _, flashes in outcomes if not succeeded(flashes)]
    assert refused == []
    expected = {}
    for hid, choice, _, flashes in outcomes:  # a household belongs to one phone: its outcomes are in order
        if succeeded(flashes):
            expected[hid] = choice
    # The planned last choices, not just the ones the phones saw succeed: none lost.
    planned = {}
    for plan in plans:
        for hid, choice in plan:
            planned[hid] = choice
    assert expected == planned

    db.session.expire_all()
    total, current, doubled = ballot_counts(topic_id)
    assert (total, current, doubled) == (600, 500, [])
    recorded = dict(db.session.execute(select(Ballot.household_id, Ballot.choices)
                                       .where(Ballot.topic_id == topic_id, Ballot.current.is_(True))).all())
    lost = {hid: (choice, recorded.get(hid)) for hid, choice in planned.items() if recorded.get(hid) != [choice]}
    assert lost == {}
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "ballot")) == 600
    figures = assert_tally_is_a_recount(topic_id)
    assert figures["part_households"] == 500
    assert sum(o["households"] for o in figures["options"].values()) == 500
    assert page_status == 200 and "已投 500 / 500 户" in re.sub(r"<[^>]+>", "", page)
    print(f"\nstorm: {len(answers)} requests in {elapsed:.1f} s")


# --- one card, sixteen phones, the same instant -------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("allow_change", [True, False], ids=["changes-allowed", "no-changes"])
def test_the_same_card_from_16_phones_at_once_leaves_one_current_ballot(app, compound, chair, allow_change):
    homes = big_roll(compound, 40)
    token = cards_for(compound, chair, homes[35:36])[homes[35].id]
    topic = open_topic(compound, chair, allow_change=allow_change)
    topic_id, household_id = topic.id, homes[35].id
    start = threading.Barrier(16)

    def tap(port, n):
        phone = Phone(port)
        try:
            phone.get_csrf()
            phone.open_card(token)
            start.wait(60)
            return phone.vote(topic_id, CHOICES[n % 3]), phone.answers
        finally:
            phone.close()

    with live_server(app, threads=16) as (port, log):
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(lambda n: tap(port, n), range(16)))

    assert [a for _, answers in results for a in answers if a[2] >= 500] == []
    assert server_problems(log) == []
    assert [status for (status, _), _ in results] == [303] * 16
    wins = [flashes for (_, flashes), _ in results if succeeded(flashes)]
    refusals = [flashes for (_, flashes), _ in results if not succeeded(flashes)]
    db.session.expire_all()
    total, current, doubled = ballot_counts(topic_id)
    assert (current, doubled) == (1, [])
    if allow_change:
        # Every phone's ballot was taken in turn; the history holds them all, the last one counts.
        assert len(wins) == 16 and total == 16
    else:
        assert len(wins) == 1 and total == 1
        assert len(refusals) == 15
        assert all(len(f) == 1 and f[0][0] == "error" and "不能改票" in f[0][1] for f in refusals), refusals
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.action == "ballot")) == total
    figures = assert_tally_is_a_recount(topic_id)
    assert figures["part_households"] == 1
    assert db.session.scalar(select(Ballot.household_id).where(Ballot.topic_id == topic_id)) == household_id


# --- after close ------------------------------------------------------------------------------------------

def test_a_vote_after_close_is_refused_and_nothing_is_recorded(app, compound, chair):
    homes = big_roll(compound, 20)
    tokens = cards_for(compound, chair, homes[:3])
    topic = open_topic(compound, chair)
    topic_id, ids = topic.id, [h.id for h in homes[:3]]
    with live_server(app) as (port, log):
        early = Phone(port)
        early.get_csrf()
        early.open_card(tokens[ids[0]])
        status, flashes = early.vote(topic_id, "yes")
        assert status == 303 and succeeded(flashes)
        # The clock passes the deadline; nobody has looked since, so the topic is still "published".
        db.session.execute(Topic.__table__.update().where(Topic.id == topic_id)
                           .values(closes_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        db.session.close()
        late = Phone(port)
        late.get_csrf()
        late.open_card(tokens[ids[1]])
        status, flashes = late.vote(topic_id, "no")
        assert status == 303 and flashes == [("error", "投票已经截止，不能再投了。")]
        # The household that voted cannot change its ballot after close either.
        status, flashes = early.vote(topic_id, "no")
        assert status == 303 and flashes == [("error", "投票已经截止，不能再投了。")]
        answers = early.answers + late.answers
        early.close()
        late.close()
    assert [a for a in answers if a[2] >= 500] == [] and server_problems(log) == []
    db.session.expire_all()
    assert ballot_counts(topic_id) == (1, 1, [])
    assert db.session.get(Topic, topic_id).status == Status.closed
    with pytest.raises(service.VoteRefused) as refused:
        service.cast(compound, db.session.get(Topic, topic_id), db.session.get(Household, ids[2]), ["yes"])
    assert refused.value.reason == "closed"
    assert ballot_counts(topic_id) == (1, 1, [])
    figures = assert_tally_is_a_recount(topic_id)
    assert figures["part_households"] == 1 and figures["options"]["yes"]["households"] == 1


@pytest.mark.slow
def test_the_deadline_passing_in_a_storm_freezes_exactly_the_accepted_ballots(app, compound, chair):
    """30 phones keep voting (and changing votes) until a second after the deadline, while a screen polls the
    topic page, whose view closes the topic once the deadline has passed. Every accepted ballot is in the
    frozen result, every attempt after the deadline is refused, none is half-recorded."""
    homes = big_roll(compound, 150)
    tokens = cards_for(compound, chair, homes)
    topic = open_topic(compound, chair, closes_at=utcnow() + timedelta(seconds=3))
    topic_id, deadline = topic.id, topic.closes_at.timestamp()
    phones_n = 30
    slices = [[h.id for h in homes[p::phones_n]] for p in range(phones_n)]
    outcomes, problems = [], []
    lock = threading.Lock()
    start = threading.Barrier(phones_n + 1)

    def run_phone(port, mine):
        phone = Phone(port, app)
        try:
            phone.get_csrf()
            start.wait(60)
            n = 0
            while time.time() < deadline + 1:
                hid = mine[n % len(mine)]
                phone.open_card(tokens[hid])
                sent = time.time()
                status, flashes = phone.vote(topic_id, CHOICES[n % 3], follow=n % 4 == 0)
                with lock:
                    outcomes.append((hid, CHOICES[n % 3], status, flashes, sent, time.time()))
                n += 1
        except Exception as problem:  # noqa: BLE001 - reported below
            with lock:
                problems.append(repr(problem))
        finally:
            phone.close()
        return phone.answers

    def watch(port):
        """A screen polling the topic page: once the deadline has passed, its view closes the topic."""
        viewer = Phone(port)
        start.wait(60)
        while time.time() < deadline + 1:
            viewer.request("GET", f"/{SLUG}/topics/{topic_id}")
            time.sleep(0.2)
        viewer.close()
        return viewer.answers

    with live_server(app) as (port, log):
        with ThreadPoolExecutor(phones_n + 1) as pool:
            watching = pool.submit(watch, port)
            answers = [a for got in pool.map(lambda mine: run_phone(port, mine), slices) for a in got]
            answers += watching.result()

    assert problems == []
    assert [a for a in answers if a[2] >= 500] == [] and server_problems(log) == []
    assert {status for _, _, status, _, _, _ in outcomes} == {303}
    accepted = [(hid, choice, sent) for hid, choice, _, flashes, sent, _ in outcomes if succeeded(flashes)]
    refused = [(flashes, answered) for _, _, _, flashes, _, answered in outcomes if not succeeded(flashes)]
    assert accepted and refused
    assert all(f == [("error", "投票已经截止，不能再投了。")] for f, _ in refused), refused[:3]
    # Same clock on both sides: nothing accepted that was sent after the deadline, nothing refused before it.
    assert all(sent < deadline for *_, sent in accepted)
    assert all(answered >= deadline for _, answered in refused)
    last = {}
    for hid, choice, _ in accepted:  # each household belongs to one phone: its successes are in order
        last[hid] = choice
    db.session.expire_all()
    frozen = db.session.get(Topic, topic_id)
    assert frozen.status == Status.closed and frozen.result is not None
    total, current, doubled = ballot_counts(topic_id)
    assert (total, current, doubled) == (len(accepted), len(last), [])
    recorded = db.session.execute(select(Ballot.household_id, Ballot.choices, Ballot.cast_at)
                                  .where(Ballot.topic_id == topic_id, Ballot.current.is_(True))).all()
    assert {hid: choices for hid, choices, _ in recorded} == {hid: [c] for hid, c in last.items()}
    assert all(cast_at.timestamp() < deadline for *_, cast_at in recorded)
    figures = assert_tally_is_a_recount(topic_id)  # the frozen result and fingerprint too
    assert figures["part_households"] == len(last)
