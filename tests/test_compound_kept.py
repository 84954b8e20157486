"""A page that only reads gets its compound from the row this process kept (kiosk/compounds/context.py), not from
the database: what residents see after any change of the compound is what a fresh read would show, and no
compound ever gets another's row."""
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, text

from kiosk import versions
from kiosk.changes import record_change
from kiosk.compounds import context
from kiosk.extensions import db


def title(client, slug):
    """The title of the compound's home page, asked as a served request asks: from a new session."""
    db.session.expunge_all()
    response = client.get(f"/{slug}/")
    assert response.status_code == 200
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").title.get_text()


@pytest.fixture
def slugs(compound, make_compound):
    make_compound("oak", "橡树小区")
    return "maple", "oak"


def test_a_second_page_does_not_read_the_compound_again(app, client, compound, monkeypatch):
    monkeypatch.setattr(versions, "TTL", 60)  # the version read for the first page is current for the second
    assert "枫叶小区" in title(client, "maple")
    sent = []
    listener = lambda *args: sent.append(args[2])  # noqa: E731
    db.session.expunge_all()
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get("/maple/").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert not [s for s in sent if "FROM compound" in s]


def test_a_compound_renamed_through_a_change_shows_on_the_next_page(client, compound, chair):
    assert "枫叶小区" in title(client, "maple") and "枫叶小区" in title(client, "maple")
    renamed = db.session.merge(compound)
    renamed.name = "新枫叶小区"
    record_change(renamed, db.session.merge(chair), "notices", "rename", renamed)
    db.session.commit()
    assert "新枫叶小区" in title(client, "maple")


def test_a_compound_row_changed_without_a_new_version_shows_on_the_next_page(client, compound):
    assert "枫叶小区" in title(client, "maple") and "枫叶小区" in title(client, "maple")
    renamed = db.session.merge(compound)
    renamed.name = "枫叶新村"  # no record_change: the version stays
    db.session.commit()
    assert "枫叶新村" in title(client, "maple")


def test_another_processs_change_shows_within_the_version_ttl(client, compound, monkeypatch):
    monkeypatch.setattr(context, "KEEP_SECONDS", 3600)  # only the version can tell
    monkeypatch.setattr(versions, "TTL", 0)  # every page reads the version (as one does once the TTL is over)
    assert "枫叶小区" in title(client, "maple") and "枫叶小区" in title(client, "maple")
    with db.engine.begin() as conn:  # as another process would: nothing in this one forgets anything
        conn.execute(text("UPDATE compound SET name = '橡枫小区', version = version + 1 WHERE slug = 'maple'"))
    assert "橡枫小区" in title(client, "maple")


def test_another_processs_change_without_a_new_version_shows_within_keep_seconds(client, compound, monkeypatch):
    assert "枫叶小区" in title(client, "maple") and "枫叶小区" in title(client, "maple")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE compound SET name = '橡枫小区' WHERE slug = 'maple'"))
    monkeypatch.setattr(context, "KEEP_SECONDS", 0)  # the kept row is now older than KEEP_SECONDS
    assert "橡枫小区" in title(client, "maple")


def test_no_compound_gets_anothers_row(client, slugs):
    for _ in range(2):
        assert "枫叶小区" in title(client, "maple") and "橡树小区" not in title(client, "maple")
        assert "橡树小区" in title(client, "oak") and "枫叶小区" not in title(client, "oak")
    assert client.get("/birch/").status_code == 404
