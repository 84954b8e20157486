"""The area protocol (kiosk/areas.py): areas declare themselves, and a slip shows at once.

A change recorded under a name no area declared would silently stop the lobby screens refreshing; a slide, an
image rule or a cacheable page registered for an area nobody declared, or naming a page that does not exist,
would do nothing. Each is refused: record_change before anything is written, the rest when the app starts.
"""
import pytest
from sqlalchemy import func, select

from kiosk import AREAS, areas, create_app
from kiosk.changes import AuditEntry, Change, record_change
from kiosk.compounds.models import Compound
from kiosk.extensions import db
from kiosk.notices.models import Category, Notice
from kiosk.pagecache import PageCache, register_cacheable
from kiosk.screen.registry import register_slide

from conftest import SECRET


def test_a_change_under_an_undeclared_area_is_refused_before_anything_is_written(app, compound, chair):
    start = compound.version
    notice = Notice(compound_id=compound.id, title="通知", category=Category.notice)
    db.session.add(notice)
    with pytest.raises(areas.UnknownArea):
        record_change(compound, chair, "notice", "create", notice)  # "notices", mistyped
    db.session.rollback()
    assert db.session.get(Compound, compound.id).version == start
    assert db.session.scalar(select(func.count()).select_from(Change)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_every_area_declares_the_names_its_changes_and_slides_use(app):
    names = areas.declared(app)
    for area in AREAS:
        if hasattr(area, "AREA"):
            assert area.AREA in names, area.__name__
    assert {"notices", "screens", "households", "cards", "roster", "distribution", "consult", "ledger", "accounts",
            "supervisors", "compounds", "compound", "meetings", "documents", "opendata", "setup",
            "practice"} == names
    slides = areas.registered("slides", app)
    assert set(slides) == {"notices", "consult", "ledger", "distribution", "roster", "compound", "documents"}
    # The lobby screen refreshes a slide group when a change is recorded under the same name.
    assert set(slides) <= names


def route_app(tmp_path, before_check=None, monkeypatch=None):
    """create_app, with something registered just before the start-up check runs."""
    if before_check is not None:
        real = areas.check

        def check(app):
            before_check(app)
            real(app)
        monkeypatch.setattr(areas, "check", check)
    return create_app({"TESTING": True, "SECRET_KEY": SECRET, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/unused.sqlite3"})


def test_a_slide_for_an_undeclared_area_stops_the_app_from_starting(tmp_path, monkeypatch):
    with pytest.raises(areas.UnknownArea, match="parking"):
        route_app(tmp_path, lambda app: register_slide(app, "parking", lambda c, now: [], lambda c, i: None,
                                                       "x.html", order=50), monkeypatch)


def test_a_cacheable_page_that_does_not_exist_stops_the_app_from_starting(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="notices.index"):
        route_app(tmp_path, lambda app: register_cacheable(app, "notices", "notices.index"), monkeypatch)


def test_two_areas_cannot_claim_one_template_helper(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="can_edit"):
        route_app(tmp_path, lambda app: areas.template_helpers(app, can_edit=lambda: True), monkeypatch)


CACHED = ["/maple/", "/maple/n/1", "/maple/committee", "/maple/events/1", "/maple/topics", "/maple/topics/1",
          "/maple/topics/1/results", "/maple/proposals", "/maple/ledger/", "/maple/ledger/1", "/maple/screen/k3y_-x",
          "/maple/screen/k3y_-x/slides/notices", "/maple/screen/k3y_-x/banner", "/maple/screen/k3y_-x/item/notices/1",
          "/maple/screen/k3y_-x/item/roster/current", "/maple/qr/n/1.svg"]
NOT_CACHED = ["/maple/my", "/maple/ledger/entries/1", "/maple/ledger/verify", "/maple/ledger/check/1",
              "/maple/ledger/1/chain.json", "/maple/ledger", "/maple/pulse",
              "/maple/kiosk/k3y/vote/1", "/admin/maple/notices/", "/h/abcdefghijkl", "/healthz", "/",
              "/static/css/base.css", "/maple/media/a.jpg", "/maple/n/99999999999999", "/maple/nowhere"]


def test_the_page_cache_keeps_exactly_the_pages_the_areas_declared(app):
    """The cache matches PATH_INFO with the app's own url_map: the public pages the areas named, nothing else
    (a path that would redirect, 404 or be someone's own page is passed to Flask)."""
    cache = PageCache(app.wsgi_app, app, 10, "kiosk_session")
    assert {path: cache._compound_of(path) for path in CACHED} == {path: "maple" for path in CACHED}
    assert {path: cache._compound_of(path) for path in NOT_CACHED} == {path: None for path in NOT_CACHED}
