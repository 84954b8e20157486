"""The lobby screen: registered by the committee, polled cheaply, and never told about another compound."""
import contextlib
from datetime import timedelta

from sqlalchemy import event, select

from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status
from kiosk.screen.models import Screen

import factories
from conftest import login_as, post_form

SLIDE_AREAS = ("notices", "consult", "ledger", "distribution", "roster", "compound")
# As the browser posts the form untouched: every area ticked, no time slots.
SCREEN_FORM = {"name": "3 栋大堂", "place": "电梯口", "orientation": "portrait", "dwell_seconds": "12",
               "idle_seconds": "60", "night_start": "", "night_end": "",
               **{f"area_{area}-show": "y" for area in SLIDE_AREAS}}


def publish(compound, title, urgent=False):
    notice = Notice(compound_id=compound.id, title=title, body="正文", category="notice", urgent=urgent,
                    status=Status.published, published_at=utcnow())
    db.session.add(notice)
    db.session.commit()
    return notice


def register_screen(client, **overrides):
    response = post_form(client, "/admin/maple/screens/new", {**SCREEN_FORM, **overrides})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(Screen).order_by(Screen.id.desc())).first()


def test_committee_registers_screen_and_gets_its_url_and_qr(committee_client, compound):
    screen = register_screen(committee_client)
    page = committee_client.get(f"/admin/maple/screens/{screen.id}").get_data(as_text=True)
    assert f"/maple/screen/{screen.key}" in page
    assert "<svg" in page
    assert len(screen.key) >= 16


def test_bad_screen_settings_are_explained_and_nothing_saved(committee_client, compound):
    response = post_form(committee_client, "/admin/maple/screens/new",
                         {**SCREEN_FORM, "dwell_seconds": "1", "night_start": "22:00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "3 到 120" in html and "同时填开始和结束" in html
    assert db.session.scalar(select(Screen)) is None


def test_screen_shows_current_notices_with_urgent_banner_and_qr(app, committee_client, client, compound):
    screen = register_screen(committee_client)
    publish(compound, "普通通知")
    publish(compound, "紧急停电", urgent=True)
    html = client.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    banner = html.split('id="banner"', 1)[1].split("</aside>", 1)[0]
    assert "紧急停电" in banner and "普通通知" not in banner
    assert html.count('class="slide') >= 2
    assert "扫码在手机上看" in html and "<svg" in html


def test_unknown_or_retired_screen_key_is_404(committee_client, client, compound):
    screen = register_screen(committee_client)
    assert client.get("/maple/screen/not-a-key").status_code == 404
    post_form(committee_client, f"/admin/maple/screens/{screen.id}/retire", {},
              token_from=f"/admin/maple/screens/{screen.id}")
    assert client.get(f"/maple/screen/{screen.key}").status_code == 404


def test_screen_key_of_another_compound_is_404(committee_client, client, compound, make_compound):
    screen = register_screen(committee_client)
    make_compound("other", "别的小区")
    assert client.get(f"/other/screen/{screen.key}").status_code == 404


def unchanged(response):
    """The pulse's "nothing changed": an empty answer that htmx must not swap in."""
    return response.status_code == 200 and response.get_data() == b"" and response.headers["HX-Reswap"] == "none"


def test_pulse_is_empty_until_something_changes_then_names_the_area(committee_client, client, compound):
    version = db.session.get(type(compound), compound.id).version
    response = client.get(f"/maple/pulse?v={version}")
    assert unchanged(response)
    post_form(committee_client, "/admin/maple/notices/new",
              {"title": "新通知", "body": "", "category": "notice", "action": "publish"})
    response = client.get(f"/maple/pulse?v={version}")
    assert response.status_code == 200
    assert "kiosk-area-notices" in response.headers["HX-Trigger"]
    db.session.expire_all()
    new_version = db.session.get(type(compound), compound.id).version
    assert f"v={new_version}" in response.get_data(as_text=True)
    assert unchanged(client.get(f"/maple/pulse?v={new_version}"))


def test_pulse_of_one_compound_ignores_changes_in_another(client, compound, make_compound, make_user):
    other = make_compound("other", "别的小区")
    version = compound.version
    other_chair = make_user("otherchair", other, "chair")
    login_as(client, other_chair)
    post_form(client, "/admin/other/notices/new", {"title": "别处的通知", "category": "notice", "action": "publish"})
    assert unchanged(client.get(f"/maple/pulse?v={version}"))


def test_pulse_records_last_contact_and_admin_flags_silent_screen_offline(app, committee_client, client, compound):
    screen = register_screen(committee_client)
    listing = committee_client.get("/admin/maple/screens/").get_data(as_text=True)
    assert "离线" in listing  # never seen yet
    client.get(f"/maple/pulse?v=0&s={screen.id}")
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).last_seen_at is not None
    assert "在线" in committee_client.get("/admin/maple/screens/").get_data(as_text=True)
    silent = db.session.get(Screen, screen.id)
    silent.last_seen_at = utcnow() - timedelta(seconds=app.config["POLL_SECONDS"] * 20 + 5)
    db.session.commit()
    assert "离线" in committee_client.get("/admin/maple/screens/").get_data(as_text=True)


def test_slide_detail_is_fragment_for_htmx_and_page_otherwise(committee_client, client, compound):
    screen = register_screen(committee_client)
    notice = publish(compound, "可以点开的通知")
    url = f"/maple/screen/{screen.key}/item/notices/{notice.id}"
    fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "可以点开的通知" in fragment and "<html" not in fragment and "首页" in fragment
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "detail-open" in page
    assert client.get(f"/maple/screen/{screen.key}/item/notices/999").status_code == 404


def test_qr_payload_is_absolute_and_uses_public_url(app, committee_client, client, compound):
    app.config["PUBLIC_URL"] = "https://kiosk.example.org"
    svg = client.get("/maple/qr/n/12.svg")
    assert svg.mimetype == "image/svg+xml"
    assert 'fill="#fff"' in svg.get_data(as_text=True)  # opaque background
    assert client.get("/maple/qr/..%2Fetc.svg").status_code == 404


def test_poster_has_compound_name_and_large_qr(committee_client, compound):
    html = committee_client.get("/admin/maple/poster").get_data(as_text=True)
    assert "枫叶小区" in html and "<svg" in html and "print.css" in html


def test_unchanged_pulse_answered_fast_carries_the_same_headers(client, compound):
    response = client.get(f"/maple/pulse?v={compound.version}")
    assert unchanged(response)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Kiosk-Code"] and response.headers["Cache-Control"] == "no-store"
    assert client.get("/nowhere/pulse?v=0").status_code == 404
    assert "kiosk-area-notices" in client.get("/maple/pulse?v=banana").headers["HX-Trigger"]  # lost count: all


WEBVIEW_65 = ("Mozilla/5.0 (Linux; Android 8.1.0; RK3288 Build/OPM8; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Version/4.0 Chrome/65.0.3325.109 Safari/537.36")
WEBVIEW_60 = ("Mozilla/5.0 (Linux; Android 7.1.2; rk3399 Build/NHG47K; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Version/4.0 Chrome/60.0.3112.107 Safari/537.36")


def test_engine_labels_from_user_agents():
    from kiosk.screen.engine import engine_label

    assert engine_label(WEBVIEW_65) == "Chrome 65"
    assert engine_label("Mozilla/5.0 (Linux; Android 10; V2001A; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
                        "Version/4.0 Chrome/86.0.4240.99 XWEB/4313 MMWEBSDK/20220805 Mobile Safari/537.36 "
                        "MicroMessenger/8.0.27") == "Chrome 86"
    assert engine_label("HeadlessChrome/78.0.3882.0") == "Chrome 78"
    assert engine_label("Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0") == "Firefox 115"
    assert engine_label("Mozilla/5.0 (iPad; CPU OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                        "Version/12.1.2 Mobile/15E148 Safari/604.1") == "Safari 12"
    assert engine_label("curl/8.0") is None and engine_label(None) is None


def screen_list(committee_client):
    return committee_client.get("/admin/maple/screens/").get_data(as_text=True)


def test_a_screen_reports_its_browser_and_that_live_updates_work(committee_client, client, compound):
    screen = register_screen(committee_client)
    assert client.get(f"/maple/screen/{screen.key}", headers={"User-Agent": WEBVIEW_65}).status_code == 200
    db.session.expire_all()
    seen = db.session.get(Screen, screen.id)
    assert (seen.engine, seen.live_updates) == ("Chrome 65", None)
    assert "Chrome 65 · 实时更新未确认" in screen_list(committee_client)

    # htmx's first pulse says live updates run, even inside the contact write's 15 s (it is news).
    version = db.session.get(type(compound), compound.id).version
    response = client.get(f"/maple/pulse?v={version}&s={screen.id}",
                          headers={"User-Agent": WEBVIEW_65, "HX-Request": "true"})
    assert unchanged(response)
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).live_updates is True
    listing = screen_list(committee_client)
    assert "Chrome 65 · 实时更新正常" in listing and "浏览器过旧" not in listing
    assert "Chrome 65 · 实时更新正常" in committee_client.get(f"/admin/maple/screens/{screen.id}").get_data(as_text=True)


def test_a_screen_too_old_for_live_updates_says_so_and_the_committee_sees_a_warning(committee_client, client,
                                                                                   compound):
    screen = register_screen(committee_client)
    page = client.get(f"/maple/screen/{screen.key}", headers={"User-Agent": WEBVIEW_60}).get_data(as_text=True)
    # The page carries the notice the screen's first script shows where htmx cannot run, hidden until then.
    note = page.split('id="too-old"', 1)[1].split("</section>", 1)[0]
    assert "hidden" in note.split(">", 1)[0] and "浏览器版本过旧，本屏无法实时更新" in note and "<svg" in note
    assert page.index("js/screen-check.js") < page.index("vendor/htmx-") < page.index("js/kiosk.js")
    # Its report (a plain XMLHttpRequest, no htmx) is recorded at once, even right after the page load's contact.
    version = db.session.get(type(compound), compound.id).version
    response = client.get(f"/maple/pulse?v={version}&s={screen.id}&live=0", headers={"User-Agent": WEBVIEW_60})
    assert unchanged(response) and response.headers["X-Kiosk-Code"]
    db.session.expire_all()
    seen = db.session.get(Screen, screen.id)
    assert (seen.engine, seen.live_updates) == ("Chrome 60", False)
    assert "Chrome 60 · 浏览器过旧，无法实时更新" in screen_list(committee_client)


def test_a_report_for_another_compounds_screen_is_ignored(committee_client, client, compound, make_compound):
    screen = register_screen(committee_client)
    make_compound("other", "别的小区")
    client.get(f"/other/pulse?v=0&s={screen.id}&live=0", headers={"User-Agent": WEBVIEW_60})
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).live_updates is None


@contextlib.contextmanager
def statements(app):
    """Every statement sent to the database inside the block, in order, whitespace folded."""
    sent = []

    def log(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", log)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", log)


def test_a_screen_refetching_one_area_reads_that_areas_data_alone(app, committee_client, client, compound, chair):
    """During a meeting the screens re-fetch the consultation slides after every ballot (issue 16). The fragment
    made every area's slides, twice (for the loop and for the banner), and counted the topic three times: on
    PostgreSQL 125 statements where 24 do. One area's fragment reads that area's tables, once."""
    screen = register_screen(committee_client)
    publish(compound, "停水通知")
    factories.households(compound, 3)
    topic = factories.open_topic(compound, chair)
    with statements(app) as sent:
        notices = client.get(f"/maple/screen/{screen.key}/slides/notices", headers={"HX-Request": "true"})
        notice_statements = list(sent)
        sent.clear()
        consult = client.get(f"/maple/screen/{screen.key}/slides/consult", headers={"HX-Request": "true"})
    assert "停水通知" in notices.get_data(as_text=True) and topic.title in consult.get_data(as_text=True)
    others = (" topic", " ballot", " ledger_")
    assert not [s for s in notice_statements if any(table in s for table in others)], notice_statements
    assert not [s for s in sent if " notice" in s or " ledger_" in s], sent
    # The consultation's topics are looked up once (service.keep_time, then the list), not once per use of them.
    assert sum(1 for s in sent if s.startswith("SELECT topic.id FROM topic WHERE")) == 1, sent


def test_the_banner_makes_every_areas_slides_once(app, committee_client, client, compound, chair):
    """The banner is fetched again on every area's change, after every ballot during a meeting: it shows the
    urgent slides of every area, each area's made once (it made the whole loop, every area twice)."""
    screen = register_screen(committee_client)
    publish(compound, "紧急停电", urgent=True)
    factories.households(compound, 3)
    factories.open_topic(compound, chair)
    with statements(app) as sent:
        banner = client.get(f"/maple/screen/{screen.key}/banner", headers={"HX-Request": "true"})
    assert "紧急停电" in banner.get_data(as_text=True)
    assert sum(1 for s in sent if s.startswith("SELECT topic.id FROM topic WHERE")) == 1, sent
    assert sum(1 for s in sent if s.startswith("SELECT notice.id")) == 1, sent
