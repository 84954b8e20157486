"""A phone's vote holds SQLite's write lock for the ballot alone.

The vote POST is a reads_first view: its lookups (compound, topic, card, household, options) run in a
DEFERRED transaction that other requests' writes don't wait for, and service.cast writes the ballot in its
own IMMEDIATE transaction, a handful of statements long. A write anywhere else in such a view fails loudly.
"""
import pytest
from flask import has_request_context, request
from sqlalchemy import event, select, text

from kiosk.database import WriteOutsideImmediate, reads_first, writing
from kiosk.extensions import db

import factories
from conftest import csrf_token
from test_consult import card_client, current_ballots, vote


@pytest.fixture
def statements(app):
    """Every statement POST requests send while the test runs, in order (database.py sends SQLite's BEGINs)."""
    seen = []
    with app.app_context():
        engine = db.engine

    def log(conn, cursor, statement, parameters, context, executemany):
        if has_request_context() and request.method == "POST":
            seen.append(" ".join(statement.split())[:80])

    event.listen(engine, "before_cursor_execute", log)
    yield seen
    event.remove(engine, "before_cursor_execute", log)


@pytest.mark.sqlite_only("SQLite's write lock; PostgreSQL locks rows")
@pytest.mark.parametrize("change", [False, True], ids=["first", "changed"])
def test_a_vote_reads_without_the_write_lock_and_writes_in_a_short_immediate_transaction(
        app, compound, chair, database_url, statements, change):
    home = factories.households(compound, 1)[0]
    topic = factories.open_topic(compound, chair)
    phone = card_client(app, compound, chair, home)
    if change:
        assert vote(phone, topic, "no").status_code == 303
    url, token = f"/maple/topics/{topic.id}/vote", csrf_token(phone)
    db.session.commit()  # the test's own transaction ends: the request begins its own, as in production
    statements.clear()
    assert phone.post(url, data={"csrf_token": token, "choice": "yes"}).status_code == 303
    sent = [s for s in statements if not s.startswith("PRAGMA")]
    begins = [i for i, s in enumerate(sent) if s.startswith("BEGIN")]
    assert sent[begins[0]] == "BEGIN DEFERRED", sent  # the request's lookups
    locked = [i for i in begins if sent[i] == "BEGIN IMMEDIATE"]
    assert len(locked) == 1, sent
    before, during = sent[:locked[0]], sent[locked[0] + 1:]
    assert all(s.startswith(("SELECT", "BEGIN")) for s in before), before
    assert any(s.startswith("INSERT INTO ballot") for s in during), during
    # Inside the lock: topic window, elector, card, current ballot, (on a change: proxy or paper, the old
    # ballot's flag,) the new ballot.
    assert len(during) <= (7 if change else 5), during
    db.session.expire_all()
    assert [b.choices for b in current_ballots(topic)] == [["yes"]]


@pytest.mark.sqlite_only("SQLite's transaction modes; PostgreSQL has none to choose")
def test_a_reads_first_view_may_write_only_inside_writing(app, compound, database_url):
    app.add_url_rule("/_reads_first_probe", "reads_first_probe", reads_first(lambda: "ok"), methods=["POST"])
    with app.test_request_context("/_reads_first_probe", method="POST"):
        db.session.execute(select(1))  # reading is fine
        with pytest.raises(WriteOutsideImmediate):
            db.session.execute(text("INSERT INTO compound (slug, name) VALUES ('probe', 'probe')"))
        db.session.rollback()
        with writing():
            db.session.execute(select(1))
    with app.test_request_context("/admin/login", method="POST"):  # an ordinary POST begins IMMEDIATE
        db.session.execute(select(1))
        assert db.session.connection().info["kiosk_begin"] == "IMMEDIATE"
        db.session.rollback()
