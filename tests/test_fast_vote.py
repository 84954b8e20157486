"""A phone's ballot below Flask (kiosk/consult/fastvote.py, issue 16) answers exactly as the Flask view does.

Two apps on two identical databases, one with the fast path and one without (FAST_VOTE = 0), are sent the same
requests; each answer (status, Location, headers, the session cookie and the flash message the next page shows)
and every row a ballot touches (ballots, audit entries, changes, the compound's version, the topic) must be the
same, whether the fast path answered or let the view answer. The fast path must also actually answer the common
case (its `taken` counter), so this cannot pass by always falling through.
"""
import re
import shutil
import threading
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, event, select, text, update

from kiosk import rawsql
from kiosk.auth.models import Role, User
from kiosk.changes import AuditEntry, Change
from kiosk.compounds.models import Compound
from kiosk.consult import service
from kiosk.consult.models import Ballot, Channel, Topic
from kiosk.consult.release_rules import boundary
from kiosk.consult.service import proxies
from kiosk.consult.service.voting import _sqlite_writer
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.models import Household, HouseholdCard
from kiosk.households.service import issue, revoke

import factories
from conftest import CSRF_RE, _migrate, make_app, pg_schema_url, require_postgres

SCHEMAS = ("fastvote_fast", "fastvote_slow")
WINDOWS = {"not_open": (1, 48), "open": (-1, 48), "closed": (-48, -1)}  # hours from now
WHEN = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d")


@contextmanager
def statements_sent(app, monkeypatch, also=None):
    """Collect every statement sent to this app's database meanwhile, one line each: the Flask view's (SQLAlchemy's
    before_cursor_execute) and the fast path's (kiosk.rawsql.send, which every statement it sends passes
    through). `also(statement)` is called on each as it goes and may raise, as a failing statement would."""
    sent = []

    def seen(statement):
        sent.append(" ".join(statement.split()))
        if also is not None:
            also(statement)

    def log(conn, cursor, statement, parameters, context, executemany):
        seen(statement)

    def send(cursor, sql, parameters=()):
        seen(sql)
        return original(cursor, sql, parameters)

    with app.app_context():
        engine = db.engine
    original = rawsql.send
    monkeypatch.setattr(rawsql, "send", send)
    event.listen(engine, "before_cursor_execute", log)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", log)
        monkeypatch.setattr(rawsql, "send", original)


@pytest.fixture(scope="session")
def pg_twins(tmp_path_factory):
    """Two PostgreSQL schemas migrated to head once per session."""
    url = require_postgres()
    urls = [pg_schema_url(url, schema) for schema in SCHEMAS]
    for schema_url in urls:
        _migrate(make_app(tmp_path_factory.mktemp("fastvote"), schema_url))
    return urls


def _empty_postgres(url, schema):
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename <> "
                                   "'alembic_version'"), {"s": schema}).scalars().all()
        conn.execute(text("TRUNCATE " + ", ".join(f'"{schema}"."{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def twins(request, tmp_path, sqlite_template):
    """(fast, slow): two apps on identical fresh databases, the second with FAST_VOTE = 0."""
    if request.param == "postgresql":
        urls = request.getfixturevalue("pg_twins")
        for url, schema in zip(urls, SCHEMAS):
            _empty_postgres(url, schema)
    else:
        urls = []
        for name in ("fast", "slow"):
            path = tmp_path / f"{name}.sqlite3"
            shutil.copyfile(sqlite_template, path)
            path.chmod(0o600)
            urls.append(f"sqlite:///{path}")
    apps = (make_app(tmp_path / "fast", urls[0]), make_app(tmp_path / "slow", urls[1], FAST_VOTE=0))
    yield apps
    for app in apps:
        with app.app_context():
            db.engine.dispose()


class Side:
    """One app, its database and its phones; the same steps run on both sides."""

    def __init__(self, app):
        self.app = app
        self.phones = {}

    def do(self, step, *args, **kwargs):
        """Run step(*args, **kwargs) with this app's session, commit, and leave no transaction open."""
        with self.app.app_context():
            try:
                result = step(*args, **kwargs)
                db.session.commit()
                return result
            finally:
                db.session.remove()

    def phone(self, name, token):
        """A phone that scanned the card with this token (and holds a CSRF token in its session)."""
        phone = self.app.test_client()
        assert phone.get(f"/h/{token}").status_code == 302
        self.phones[name] = (phone, CSRF_RE.search(phone.get("/admin/login").get_data(as_text=True)).group(1))

    @property
    def taken(self):
        return self.app.extensions["kiosk_fast_vote"].taken

    def post(self, name, topic_id, choices, csrf=True, **kwargs):
        """POST the phone's ballot; return what a person and the database would notice."""
        phone, token = self.phones[name]
        data = {"choice": list(choices)}
        if csrf:
            data["csrf_token"] = token if csrf is True else csrf
        before = self.session_of(phone)
        response = phone.post(f"/maple/topics/{topic_id}/vote", data=data, **kwargs)
        headers = sorted((k, v) for k, v in response.headers.items() if k != "Set-Cookie")
        cookies = [c.split(";", 1) for c in response.headers.getlist("Set-Cookie")]
        after = self.session_of(phone)
        if after is not None and before is not None:
            assert after.get("csrf_token") == before.get("csrf_token")  # the phone's forms keep working
        answer = {"status": response.status, "headers": headers, "body": response.get_data(),
                  "cookie names and attributes": [(c[0].split("=", 1)[0], c[1:]) for c in cookies],
                  "session": {k: v for k, v in (after or {}).items() if k != "csrf_token"}}
        page = phone.get(response.headers["Location"]) if response.status_code == 303 else None
        answer["shown"] = (WHEN.sub("<when>", " ".join(p.get_text(" ", strip=True) for p in BeautifulSoup(
            page.get_data(as_text=True), "html.parser").select(".flash"))) if page is not None else None)
        answer["session"] = {k: [(c, WHEN.sub("<when>", m)) for c, m in v] if k == "_flashes" else v
                             for k, v in answer["session"].items()}
        return answer, self.do(rows)

    def session_of(self, phone):
        cookie = phone.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return None
        return self.app.session_interface.get_signing_serializer(self.app).loads(cookie.value)


def rows():
    """Every row a ballot may touch, ids included, times left out (each side has its own clock)."""
    def all_of(*columns):
        return [tuple(row) for row in db.session.execute(select(*columns).order_by(columns[0])).all()]

    return {
        "ballots": all_of(Ballot.id, Ballot.topic_id, Ballot.household_id, Ballot.choices, Ballot.channel,
                          Ballot.entered_by, Ballot.current),
        # Whole for what ballots write; the world's own rows (a topic's times inside) by their action only.
        "audit": [row if row[4] in ("ballot", "snapshot") else row[:7] for row in all_of(
            AuditEntry.id, AuditEntry.compound_id, AuditEntry.actor_id, AuditEntry.area, AuditEntry.action,
            AuditEntry.object_type, AuditEntry.object_id, AuditEntry.before, AuditEntry.after)],
        "changes": all_of(Change.id, Change.compound_id, Change.version, Change.area),
        "compounds": all_of(Compound.id, Compound.version),
        "topics": all_of(Topic.id, Topic.status, Topic.released_figures, Topic.result),
    }


def both(fast, slow, step, *args):
    """Run a step on both sides; the results must be the same."""
    got = fast.do(step, *args)
    assert slow.do(step, *args) == got
    return got


def same_ballot(fast, slow, name, topic_id, choices, csrf=True, **kwargs):
    """Send the same ballot to both sides; assert the same answer and rows; return (answer, taken fast?)."""
    taken = fast.taken
    fast_answer, fast_rows = fast.post(name, topic_id, choices, csrf, **kwargs)
    slow_answer, slow_rows = slow.post(name, topic_id, choices, csrf, **kwargs)
    assert fast_answer == slow_answer
    for table in fast_rows:
        assert fast_rows[table] == slow_rows[table], (table, [r for r in fast_rows[table] if r not in slow_rows[table]], [r for r in slow_rows[table] if r not in fast_rows[table]])
    assert slow.taken == 0
    return slow_answer, fast.taken - taken


def recorded(answer):
    return answer["shown"] is not None and answer["shown"].startswith("✓ 已投票")


# --- the worlds both sides build -------------------------------------------------------------------------------

def _chair():
    compound = factories.new_compound()
    return compound, factories.new_user("unused", "chair", compound, Role.chair)


def admission_world(rule):
    """test_vote_admission's world (factories.admission_world), with every household's card."""
    compound, chair = _chair()
    (whole, scoped), (three, five, late) = factories.admission_world(compound, chair, rule)
    tokens = {h.address: token for h, token in issue(compound, chair, [three, five, late])}
    return [whole.id, scoped.id], tokens


def set_card(address, holder, delivery):
    for card in db.session.scalars(select(HouseholdCard).join(Household, Household.id == HouseholdCard.household_id)
                                   .where(HouseholdCard.revoked_at.is_(None))):
        if db.session.get(Household, card.household_id).address == address:
            card.holder, card.delivery = holder, delivery


def set_window(topic_id, name):
    opens, closes = WINDOWS[name]
    now = utcnow()
    db.session.execute(update(Topic).where(Topic.id == topic_id).values(
        opens_at=now + timedelta(hours=opens), closes_at=now + timedelta(hours=closes)))


@pytest.mark.parametrize("rule", ["informal", "ordinary", "consensus"])
def test_every_admission_case_answers_the_same_through_the_fast_path(twins, rule):
    fast, slow = Side(twins[0]), Side(twins[1])
    topic_ids, tokens = fast.do(admission_world, rule)
    slow_world = slow.do(admission_world, rule)
    assert slow_world[0] == topic_ids and set(slow_world[1]) == set(tokens)
    for side, world in ((fast, tokens), (slow, slow_world[1])):
        for address, token in world.items():
            side.phone(address, token)
    seen, taken = set(), 0
    for topic_id in topic_ids:
        # A ballot after the close closes the topic for good (the view does): that window comes last.
        for window in WINDOWS:
            both(fast, slow, set_window, topic_id, window)
            for address in tokens:
                for holder in ("owner", "tenant"):
                    for delivery in (None, "mailbox", "in_person"):
                        both(fast, slow, set_card, address, holder, delivery)
                        answer, fast_taken = same_ballot(fast, slow, address, topic_id, ["yes"])
                        assert answer["status"] == "303 SEE OTHER"
                        assert fast_taken == (1 if recorded(answer) else 0), (address, holder, delivery, window)
                        seen.add(answer["shown"])
                        taken += fast_taken
    assert taken > 0
    expected = {"投票已经截止", "投票还没有开始", "不在这个议题的表决名单上", "您家不在表决范围内"}
    expected |= {"租户持有"} if rule != "informal" else set()
    expected |= {"只收当面核验过的住户卡投票"} if rule == "ordinary" else set()
    for words in expected:
        assert any(words in shown for shown in seen), words


def topic_world(**fields):
    """Three households with cards and one open topic (factories.TOPIC overridden by `fields`)."""
    compound, chair = _chair()
    homes = factories.households(compound, 3)
    options = fields.pop("options", ())
    topic = factories.open_topic(compound, chair, options, **fields)
    return topic.id, {h.address: token for h, token in issue(compound, chair, homes)}


def _sides(twins, **fields):
    fast, slow = Side(twins[0]), Side(twins[1])
    topic_id, tokens = fast.do(topic_world, **fields)
    slow_id, slow_tokens = slow.do(topic_world, **fields)
    assert slow_id == topic_id
    for side, world in ((fast, tokens), (slow, slow_tokens)):
        for address, token in world.items():
            side.phone(address, token)
    return fast, slow, topic_id, sorted(tokens)


@pytest.mark.parametrize("allow_change", [True, False])
def test_a_first_ballot_a_changed_one_and_a_refused_change_answer_the_same(twins, allow_change):
    fast, slow, topic_id, homes = _sides(twins, secret=False, allow_change=allow_change)
    first, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"])
    assert recorded(first) and taken == 1
    again, taken = same_ballot(fast, slow, homes[0], topic_id, ["no"])
    assert recorded(again) == allow_change and taken == (1 if allow_change else 0)
    if not allow_change:
        assert "不能改票" in again["shown"]
    other, taken = same_ballot(fast, slow, homes[1], topic_id, ["abstain"])
    assert recorded(other) and taken == 1
    # With other households' ballots current, a household's own current ballot is the one its admission reads.
    third, taken = same_ballot(fast, slow, homes[2], topic_id, ["yes"])
    assert recorded(third) and taken == 1
    if allow_change:
        changed, taken = same_ballot(fast, slow, homes[2], topic_id, ["no"])
        assert recorded(changed) and taken == 1


def release_held(topic_id):
    """The secret topic's snapshot is out already for every boundary of the next hour (nothing to release): a
    boundary passing during the test (one every 3 minutes) must not make a release due halfway."""
    db.session.execute(update(Topic).where(Topic.id == topic_id).values(
        released_at=boundary(utcnow() + timedelta(hours=1), 3)))


def test_a_secret_topic_answers_the_same_whether_a_release_is_due_or_not(twins):
    fast, slow, topic_id, homes = _sides(twins, secret=True, allow_change=True)
    # The first ballot: the view looks at the release (none has been decided in this boundary yet).
    first, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"])
    assert recorded(first)
    # Decided for this boundary now (held in this process, or released): the fast path takes the next ones.
    both(fast, slow, release_held, topic_id)
    second, taken = same_ballot(fast, slow, homes[1], topic_id, ["no"])
    assert recorded(second) and taken == 1
    changed, taken = same_ballot(fast, slow, homes[1], topic_id, ["yes"])
    assert recorded(changed) and taken == 1
    # A secret ballot writes no audit row and moves no version (the release does, in its batch).
    assert not any(row[4] == "ballot" for row in fast.do(rows)["audit"])


def test_multiple_choice_ballots_answer_the_same_chosen_right_or_wrong(twins):
    fast, slow, topic_id, homes = _sides(twins, secret=False, kind="multi", seats=2, options=["甲", "乙", "丙"])
    for choices, good in ((["1", "3"], True), (["1", "2", "3"], False), (["x"], False), ([], False),
                          (["2", "2"], True), (["3", "1"], True), (["2"], True)):
        answer, taken = same_ballot(fast, slow, homes[0], topic_id, choices)
        assert recorded(answer) == good and taken == (1 if good else 0), choices


def paper_first(topic_id, address):
    """The committee typed in the household's paper ballot."""
    topic = db.session.get(Topic, topic_id)
    household = next(h for h in db.session.scalars(select(Household)) if h.address == address)
    chair = db.session.scalar(select(factories.User))
    service.cast(db.session.get(Compound, topic.compound_id), topic, household, ["no"], Channel.paper,
                 entered_by=chair)


def voted_by_proxy(topic_id, address):
    """The household's owner gave a written proxy, and the committee entered the proxy's ballot."""
    topic = db.session.get(Topic, topic_id)
    compound = db.session.get(Compound, topic.compound_id)
    household = next(h for h in db.session.scalars(select(Household)) if h.address == address)
    chair = db.session.scalar(select(factories.User))
    proxy = proxies.record(compound, chair, topic, household, "王秀英")
    db.session.commit()
    proxies.cast_by_proxy(compound, chair, topic, proxy, ["no"])


def test_a_proxys_ballot_stands_for_its_own_household_only(twins):
    """A ballot cast by proxy stands: the owner's phone may not replace it (the view says why). The neighbours'
    ballots are not held to it, however many are current."""
    fast, slow, topic_id, homes = _sides(twins, secret=False, allow_change=True)
    both(fast, slow, voted_by_proxy, topic_id, homes[0])
    for home in homes[1:]:
        answer, taken = same_ballot(fast, slow, home, topic_id, ["yes"])
        assert recorded(answer) and taken == 1, home
    answer, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"])
    assert not recorded(answer) and answer["shown"] and taken == 0


def test_what_the_fast_path_leaves_to_the_view_answers_the_same(twins):
    fast, slow, topic_id, homes = _sides(twins, secret=False)
    # No CSRF token, a wrong one; no card; the English pages; a query string: all the view's.
    for kwargs in ({"csrf": False}, {"csrf": "forged"}):
        answer, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"], **kwargs)
        assert answer["status"] == "400 BAD REQUEST" and taken == 0
    for side in (fast, slow):
        side.phones["english"] = (side.phones[homes[0]][0], side.phones[homes[0]][1])
        side.phones["english"][0].set_cookie("kiosk_lang", "en")
    answer, taken = same_ballot(fast, slow, "english", topic_id, ["yes"])
    assert recorded(answer) is False and answer["shown"] and taken == 0  # recorded, said in English
    for side in (fast, slow):
        side.phones["english"][0].delete_cookie("kiosk_lang")
        side.phones["no card"] = (side.phones[homes[1]][0], side.phones[homes[1]][1])
        side.phones["no card"][0].delete_cookie("kiosk_household")
    answer, taken = same_ballot(fast, slow, "no card", topic_id, ["yes"])
    assert answer["status"] == "403 FORBIDDEN" and taken == 0
    # A typed-in paper ballot may be changed from the phone: the fast path takes that too.
    both(fast, slow, paper_first, topic_id, homes[2])
    answer, taken = same_ballot(fast, slow, homes[2], topic_id, ["yes"])
    assert recorded(answer) and taken == 1


def test_the_fast_path_answers_only_when_switched_on(twins):
    fast, slow, topic_id, homes = _sides(twins, secret=False)
    fast.app.config["FAST_VOTE"] = 0
    answer, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"])
    assert recorded(answer) and taken == 0
    fast.app.config["FAST_VOTE"] = 1
    answer, taken = same_ballot(fast, slow, homes[1], topic_id, ["yes"])
    assert recorded(answer) and taken == 1


@pytest.mark.parametrize("change", [False, True], ids=["first", "changed"])
def test_the_fast_path_holds_the_write_lock_for_the_ballot_alone(twins, change, monkeypatch):
    """As test_vote_path.py asks of the view: the lookups read without the write lock (SQLite: one statement in
    autocommit, its own snapshot, no BEGIN at all), the ballot is written in one short IMMEDIATE transaction; on
    PostgreSQL, without BEGINs of their own, the look-up takes the admission's row locks in the same statement."""
    fast, slow, topic_id, homes = _sides(twins, secret=True, allow_change=True)
    both(fast, slow, release_held, topic_id)
    if change:
        assert recorded(same_ballot(fast, slow, homes[0], topic_id, ["no"])[0])
    with statements_sent(fast.app, monkeypatch) as sent:
        answer, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"])
    assert recorded(answer) and taken == 1
    with fast.app.app_context():
        engine = db.engine
    sent = [s for s in sent if not s.startswith("PRAGMA")]
    sent = sent[:next(i for i, s in enumerate(sent) if s.startswith("INSERT INTO ballot")) + 1]  # not the next page
    if engine.dialect.name == "sqlite":
        begins = [i for i, s in enumerate(sent) if s.startswith("BEGIN")]
        assert [sent[i] for i in begins] == ["BEGIN IMMEDIATE"], sent
        before, during = sent[:begins[0]], sent[begins[0] + 1:]
        assert before and all(s.startswith("SELECT") for s in before), before
    else:
        during = sent[next(i for i, s in enumerate(sent) if "FOR UPDATE OF elector" in s):]
    # Inside the lock: topic window, elector and card; the current ballot (and whether it must stand); on a
    # change, the old ballot's flag; the new ballot.
    assert len(during) <= (7 if change else 5), during


def other_compound_world(topic_id):
    """Another compound (oak) with a household, its card and an open topic of its own; the first maple household's
    card revoked. Returns (oak's topic id, oak's card token)."""
    oak = factories.new_compound(slug="oak", name="橡树小区")
    chair = factories.new_user("unused", "oak-chair", oak, Role.chair)
    home = Household(compound_id=oak.id, building="1", entrance="1", room="101", area_centi=8000)
    db.session.add(home)
    db.session.commit()
    topic = factories.open_topic(oak, chair, title="橡树小区议题", secret=False)
    token = issue(oak, chair, [home])[0][1]
    maple = db.session.get(Compound, db.session.get(Topic, topic_id).compound_id)
    first = min(db.session.scalars(select(Household).where(Household.compound_id == maple.id)),
                key=lambda h: h.address)
    revoke(maple, db.session.scalar(select(User).where(User.username == "chair")), first)
    return topic.id, token


def test_the_fast_path_keeps_its_connection_between_ballots_and_drops_it_with_the_engine(twins):
    """Its statements go straight to a DBAPI connection it keeps (kiosk/rawsql.py): the next ballot uses the same
    one; when the engine is disposed (a restored file, a fork) the kept one is closed, and a new one serves. The
    time it writes is the view's type (aware, UTC) and now."""
    fast, slow, topic_id, homes = _sides(twins, secret=False, allow_change=True)
    kept = lambda: fast.app.extensions["kiosk_fast_vote"]._kept  # noqa: E731
    assert same_ballot(fast, slow, homes[0], topic_id, ["yes"])[1] == 1
    (connection,) = kept()._idle
    before = utcnow()
    assert same_ballot(fast, slow, homes[1], topic_id, ["no"])[1] == 1
    assert list(kept()._idle) == [connection]
    cast_at = fast.do(lambda: db.session.scalars(select(Ballot.cast_at).order_by(Ballot.id.desc())).first())
    assert cast_at.tzinfo is not None and before <= cast_at <= utcnow()
    with fast.app.app_context():
        db.engine.dispose()
    assert not kept()._idle
    with pytest.raises(Exception):  # closed: sqlite3.ProgrammingError, psycopg.OperationalError
        connection.cursor().execute("SELECT 1")
    assert same_ballot(fast, slow, homes[2], topic_id, ["abstain"])[1] == 1
    assert len(kept()._idle) == 1 and kept()._idle[0] is not connection


@pytest.mark.parametrize("twins", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_kept_connection_the_server_dropped_sends_its_ballot_to_the_view_and_is_replaced(twins):
    """The kept connection skips the pool's ping: when the server has dropped it (a restart), the next ballot
    finds out, goes to the view (which pings, and records it as usual), and the dead connection is let go."""
    fast, slow, topic_id, homes = _sides(twins, secret=False, allow_change=True)
    assert same_ballot(fast, slow, homes[0], topic_id, ["yes"])[1] == 1
    (connection,) = fast.app.extensions["kiosk_fast_vote"]._kept._idle
    fast.do(lambda: db.session.execute(text("SELECT pg_terminate_backend(:pid)"),
                                       {"pid": connection.info.backend_pid}))
    answer, taken = same_ballot(fast, slow, homes[1], topic_id, ["no"])
    assert recorded(answer) and taken == 0
    assert connection.closed and connection not in fast.app.extensions["kiosk_fast_vote"]._kept._idle
    answer, taken = same_ballot(fast, slow, homes[2], topic_id, ["no"])
    assert recorded(answer) and taken == 1


def test_another_compounds_card_or_topic_and_a_revoked_card_answer_the_same(twins):
    """The insider's tries: a card of another compound on this compound's vote, this compound's card on another
    compound's topic (by its id under this compound's address), and a card revoked since the phone scanned it."""
    fast, slow, topic_id, homes = _sides(twins, secret=False)
    for side in (fast, slow):  # each side's card has a token of its own
        oak_topic, oak_token = side.do(other_compound_world, topic_id)
        side.phone("oak card", oak_token)
    answer, taken = same_ballot(fast, slow, "oak card", topic_id, ["yes"])
    assert answer["status"] == "403 FORBIDDEN" and taken == 0
    answer, taken = same_ballot(fast, slow, homes[1], oak_topic, ["yes"])
    assert answer["status"] == "404 NOT FOUND" and taken == 0
    answer, taken = same_ballot(fast, slow, homes[0], topic_id, ["yes"])  # its card was revoked
    assert answer["status"] == "403 FORBIDDEN" and taken == 0
    answer, taken = same_ballot(fast, slow, homes[1], topic_id, ["yes"])
    assert recorded(answer) and taken == 1


# --- ballots that queue behind SQLite's writer (kiosk/turns.py) --------------------------------------------------

def _queue_behind_the_writer(fast, topic_id, homes, choices, monkeypatch, also=None):
    """Post each home's ballot from its own thread while this process's SQLite writer is held, each once the one
    before is queued; then let the writer go. Returns {home: (answer, rows)} and the statements sent meanwhile
    (`also` as statements_sent's)."""
    turns = fast.app.extensions["kiosk_fast_vote"]._turns
    answers = {}

    def post(home):
        answers[home] = fast.post(home, topic_id, choices)

    threads = [threading.Thread(target=post, args=(home,)) for home in homes]
    with statements_sent(fast.app, monkeypatch, also) as sent:
        _hold_the_writer(turns, threads)
    return answers, sent


def _hold_the_writer(turns, threads):
    """Start each thread once the one before has queued its ballot, with the writer held; then let it go."""
    _sqlite_writer.acquire()
    try:
        for count, thread in enumerate(threads, 1):
            thread.start()
            deadline = time.monotonic() + 10
            while len(turns.queue) < count and thread.is_alive() and time.monotonic() < deadline:
                time.sleep(0.005)
            assert len(turns.queue) == count, "each ballot waits its turn"
    finally:
        _sqlite_writer.release()
        for thread in threads:
            thread.join(20)


@pytest.mark.parametrize("twins", ["sqlite"], indirect=True)  # PostgreSQL's ballots do not queue: row locks
def test_ballots_queued_behind_the_writer_go_in_together_and_answer_as_the_view(twins, monkeypatch):
    """Three phones vote while another ballot holds the writer: the two that may vote go in in one transaction,
    the third (a household that voted already, on a topic that allows no change) is answered by the view; every
    answer and row is what the view gives the same ballots one after another."""
    fast, slow, topic_id, homes = _sides(twins, secret=False, allow_change=False)
    assert recorded(same_ballot(fast, slow, homes[2], topic_id, ["yes"])[0])
    taken = fast.taken
    answers, sent = _queue_behind_the_writer(fast, topic_id, homes, ["no"], monkeypatch)
    assert fast.taken - taken == 2
    inserts = [i for i, s in enumerate(sent) if s.startswith("INSERT INTO ballot")]
    assert len(inserts) == 2
    assert not any(s.startswith("BEGIN") for s in sent[inserts[0]:inserts[1]]), "one transaction for both"
    assert [s for s in sent[:inserts[0]] if s.startswith("BEGIN")][-1] == "BEGIN IMMEDIATE"
    for home in homes:  # the queue's order: the order the view is sent them in
        slow_answer, slow_rows = slow.post(home, topic_id, ["no"])
        assert answers[home][0] == slow_answer
    assert recorded(answers[homes[0]][0]) and recorded(answers[homes[1]][0])
    assert "不能改票" in answers[homes[2]][0]["shown"]
    assert fast.do(rows) == slow_rows


@pytest.mark.parametrize("twins", ["sqlite"], indirect=True)
def test_trouble_with_one_queued_ballot_leaves_all_of_them_to_the_view(twins, monkeypatch):
    """A statement that fails halfway through the queued ballots rolls them all back; the view then records each
    (nothing is half-kept, nothing twice) and answers as it answers the same ballots alone."""
    fast, slow, topic_id, homes = _sides(twins, secret=False, allow_change=True)
    inserts = []

    def fail_the_second_insert(statement):
        if statement.startswith("INSERT INTO ballot"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise RuntimeError("the disk is full")

    taken = fast.taken
    answers, _ = _queue_behind_the_writer(fast, topic_id, homes, ["yes"], monkeypatch, fail_the_second_insert)
    assert fast.taken == taken and len(inserts) == 2 + len(homes)  # two tried together, then each by the view
    for home in homes:
        slow_answer, slow_rows = slow.post(home, topic_id, ["yes"])
        assert answers[home][0] == slow_answer and recorded(slow_answer)
    # The view took them side by side, in no set order: the same rows but for ids and order.
    assert unordered(fast.do(rows)) == unordered(slow_rows)


def unordered(found):
    """rows() without ids, each table sorted."""
    return {"ballots": sorted(repr(row[2:]) for row in found["ballots"]),
            "audit": sorted(repr(row[1:]) for row in found["audit"]),
            "changes": sorted(repr(row[1:]) for row in found["changes"]), "compounds": found["compounds"]}
