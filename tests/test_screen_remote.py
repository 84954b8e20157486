"""The street office runs lobby screens remotely: reload, what each screen shows now, areas, buildings, time slots,
and the district's list of screens that need a visit."""
import re
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status
from kiosk.screen import registry
from kiosk.screen.models import Screen, split_buildings
from kiosk.screen.remote import areas_now, in_slot, parse_hhmm

from conftest import login_as, make_app, post_form
from test_screen import SCREEN_FORM, publish, register_screen

SHANGHAI = ZoneInfo("Asia/Shanghai")
LIST = "/admin/maple/screens/"


def pulse_url(screen, version, loaded, **extra):
    query = "&".join(f"{k}={v}" for k, v in {"v": version, "s": screen.id, "r": loaded, **extra}.items())
    return f"/maple/pulse?{query}"


def version_of(compound):
    db.session.expire_all()
    return db.session.get(type(compound), compound.id).version


def loaded_token(client, screen):
    """The reload count the screen's page carries in its pulse URL (r=)."""
    html = client.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    return int(re.search(r"[?&]amp;r=(\d+)", html).group(1))


# ---- Reload ----

def test_reload_reaches_the_open_screen_in_one_pulse_and_only_once(committee_client, compound, app):
    screen = register_screen(committee_client)
    other = register_screen(committee_client, name="5 栋大堂")
    screen_client = app.test_client()
    loaded = loaded_token(screen_client, screen)
    version = version_of(compound)
    assert "HX-Refresh" not in screen_client.get(pulse_url(screen, version, loaded)).headers

    response = post_form(committee_client, f"/admin/maple/screens/{screen.id}/reload", {}, token_from=LIST)
    assert response.status_code == 302
    assert "已通知" in committee_client.get(response.headers["Location"]).get_data(as_text=True)

    # The next pulse (the version it knows is old now, so the fast path lets it through) reloads the page ...
    answer = screen_client.get(pulse_url(screen, version, loaded))
    assert answer.headers.get("HX-Refresh") == "true"
    # ... and the reloaded page carries the new count, so its pulses do not reload it again.
    again = loaded_token(screen_client, screen)
    assert again == loaded + 1
    assert "HX-Refresh" not in screen_client.get(pulse_url(screen, version_of(compound), again)).headers
    assert "HX-Refresh" not in screen_client.get(pulse_url(screen, version, again)).headers
    # The other screen was not asked.
    assert "HX-Refresh" not in screen_client.get(pulse_url(other, version, loaded_token(screen_client, other))).headers


def test_reload_is_kept_in_the_database_so_another_process_answers_it(committee_client, compound, app, tmp_path,
                                                                      database_url):
    screen = register_screen(committee_client)
    loaded = loaded_token(app.test_client(), screen)
    version = version_of(compound)
    second = make_app(tmp_path / "second", database_url)  # another server process on the same database
    second_client = second.test_client()
    assert "HX-Refresh" not in second_client.get(pulse_url(screen, version, loaded)).headers
    post_form(committee_client, f"/admin/maple/screens/{screen.id}/reload", {}, token_from=LIST)
    import time

    time.sleep(0.3)  # the second process's version cache (versions.TTL) runs out
    assert second_client.get(pulse_url(screen, version, loaded)).headers.get("HX-Refresh") == "true"
    with second.app_context():
        db.engine.dispose()


def test_reload_all_reloads_every_screen_of_the_compound(committee_client, compound, app):
    first = register_screen(committee_client)
    second = register_screen(committee_client, name="5 栋大堂")
    screen_client = app.test_client()
    tokens = {s.id: loaded_token(screen_client, s) for s in (first, second)}
    version = version_of(compound)
    listing = committee_client.get("/admin/maple/screens/").get_data(as_text=True)
    assert "全部重新加载" in listing and listing.count("重新加载</button>") == 3
    assert post_form(committee_client, "/admin/maple/screens/reload", {}, token_from=LIST).status_code == 302
    for screen in (first, second):
        assert screen_client.get(pulse_url(screen, version, tokens[screen.id])).headers.get("HX-Refresh") == "true"


def test_a_committee_cannot_reload_another_compounds_screens(committee_client, compound, make_compound, make_user,
                                                            app):
    screen = register_screen(committee_client)
    other = make_compound("other", "别的小区")
    other_client = app.test_client()
    login_as(other_client, make_user("other-chair", other, Role.chair))
    response = post_form(other_client, f"/admin/other/screens/{screen.id}/reload", {},
                         token_from="/admin/other/screens/")
    assert response.status_code == 404
    post_form(other_client, "/admin/other/screens/reload", {}, token_from="/admin/other/screens/")
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).reload_seq == 0
    # And a pulse sent to the other compound's address never reloads maple's screen.
    post_form(committee_client, f"/admin/maple/screens/{screen.id}/reload", {}, token_from=LIST)
    assert "HX-Refresh" not in app.test_client().get(f"/other/pulse?v=0&s={screen.id}&r=0").headers


def test_a_supervisor_cannot_reload(client, compound, make_user, committee_client):
    screen = register_screen(committee_client)
    member = client.application.test_client()
    login_as(member, make_user("watcher", compound, Role.supervisor))
    response = post_form(member, f"/admin/maple/screens/{screen.id}/reload", {}, token_from="/admin/maple/screens/")
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).reload_seq == 0


# ---- What each screen shows now ----

def test_admin_sees_the_slide_data_version_and_last_contact_the_screen_reported(committee_client, compound, app):
    screen = register_screen(committee_client)
    notice = publish(compound, "停水通知")
    version = version_of(compound)
    app.test_client().get(pulse_url(screen, version, 0, slide=f"notices-{notice.id}"),
                          headers={"HX-Request": "true", "User-Agent": "Mozilla/5.0 Chrome/65.0.3312.0 Safari/537.36"})
    listing = committee_client.get("/admin/maple/screens/").get_data(as_text=True)
    assert "正在显示：通知：停水通知" in listing
    assert f"数据版本 {version}" in listing and "（最新）" in listing
    assert "最后联系：刚刚" in listing and "Chrome 65" in listing

    publish_via_admin = post_form(committee_client, "/admin/maple/notices/new",
                                  {"title": "又一条", "category": "notice", "action": "publish"})
    assert publish_via_admin.status_code == 302
    assert f"（最新是 {version_of(compound)}）" in committee_client.get("/admin/maple/screens/").get_data(as_text=True)


def test_a_reported_slide_that_is_garbage_is_not_stored(committee_client, compound, app):
    screen = register_screen(committee_client)
    app.test_client().get(pulse_url(screen, 0, 0, slide="<script>"))
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).slide_now is None
    assert "还不知道" in committee_client.get(f"/admin/maple/screens/{screen.id}").get_data(as_text=True)


def test_night_and_someone_reading_are_told_in_words(committee_client, compound, app):
    screen = register_screen(committee_client)
    notice = publish(compound, "电梯检修")
    stored = db.session.get(Screen, screen.id)
    stored.slide_now = f"open-notices-{notice.id}"
    db.session.commit()
    assert "有人在看：通知：电梯检修" in committee_client.get("/admin/maple/screens/").get_data(as_text=True)
    stored.slide_now = "night"
    db.session.commit()
    assert "夜间息屏" in committee_client.get("/admin/maple/screens/").get_data(as_text=True)


# ---- Areas, buildings, time slots ----

def settings(**overrides):
    return {**SCREEN_FORM, **overrides}


def test_a_screen_shows_only_the_areas_ticked_with_their_time_slots(committee_client, compound, client):
    screen = register_screen(committee_client)
    form = settings(**{"area_ledger-show": "", "area_consult-start": "07:00", "area_consult-end": "22:00"})
    del form["area_ledger-show"]
    assert post_form(committee_client, f"/admin/maple/screens/{screen.id}/edit", form).status_code == 302
    db.session.expire_all()
    stored = db.session.get(Screen, screen.id)
    assert "ledger" not in stored.shown_areas and stored.slots == {"consult": ["07:00", "22:00"]}
    html = client.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    assert 'id="group-ledger"' not in html and 'id="group-notices"' in html
    assert re.search(r'id="group-consult" data-area="consult" data-from="07:00" data-to="22:00"', html)
    assert client.get(f"/maple/screen/{screen.key}/slides/ledger").status_code == 404
    page = committee_client.get(f"/admin/maple/screens/{screen.id}").get_data(as_text=True)
    assert "每天 07:00–22:00" in page and "收支公示" not in page.split("显示的栏目", 1)[1].split("</dl>")[0]
    assert "此刻在轮播</dt><dd>" in page
    edit = committee_client.get(f"/admin/maple/screens/{screen.id}/edit").get_data(as_text=True)
    assert 'value="07:00"' in edit and 'id="area_ledger-show"' in edit
    # A slot that does not hold the present moment leaves the area out of what the loop has now.
    local = datetime.now(SHANGHAI)
    stored.slots = {"consult": [(local + timedelta(hours=h)).strftime("%H:%M") for h in (2, 3)]}
    db.session.commit()
    later = committee_client.get(f"/admin/maple/screens/{screen.id}").get_data(as_text=True)
    assert "此刻在轮播</dt><dd>通知、发放活动、住户名册、小区介绍</dd>" in later


def test_new_settings_reload_the_open_screen_so_it_shows_them(committee_client, compound, app):
    screen = register_screen(committee_client)
    screen_client = app.test_client()
    loaded = loaded_token(screen_client, screen)
    version = version_of(compound)
    form = settings()
    del form["area_ledger-show"]
    assert post_form(committee_client, f"/admin/maple/screens/{screen.id}/edit", form).status_code == 302
    assert screen_client.get(pulse_url(screen, version, loaded)).headers.get("HX-Refresh") == "true"
    assert 'id="group-ledger"' not in screen_client.get(f"/maple/screen/{screen.key}").get_data(as_text=True)


def test_a_half_filled_time_slot_is_explained_next_to_it_and_nothing_saved(committee_client, compound):
    screen = register_screen(committee_client)
    response = post_form(committee_client, f"/admin/maple/screens/{screen.id}/edit",
                         settings(name="改了名", **{"area_consult-start": "07:00"}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="area_consult-end-error"[^>]*>时段要同时填开始和结束', html)
    response = post_form(committee_client, f"/admin/maple/screens/{screen.id}/edit",
                         settings(**{"area_consult-start": "7点", "area_consult-end": "22:00"}))
    assert response.status_code == 400 and 'id="area_consult-start-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Screen, screen.id).name == "3 栋大堂" and db.session.get(Screen, screen.id).slots is None


def test_a_lobby_screen_shows_its_buildings_notices_first_and_not_other_buildings(committee_client, compound,
                                                                                  client):
    screen = register_screen(committee_client, buildings="3栋")
    gate = register_screen(committee_client, name="大门")
    for title, buildings in (("全小区通知", ""), ("5 栋停水", "5"), ("3 栋停电", "3")):
        assert post_form(committee_client, "/admin/maple/notices/new",
                         {"title": title, "category": "notice", "buildings": buildings,
                          "action": "publish"}).status_code == 302
    html = client.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    assert "5 栋停水" not in html
    assert html.index("3 栋停电") < html.index("全小区通知")
    everything = client.get(f"/maple/screen/{gate.key}").get_data(as_text=True)
    assert "5 栋停水" in everything and "3 栋停电" in everything
    assert db.session.scalar(select(Notice.buildings).where(Notice.title == "5 栋停水")) == "5"


def test_open_votes_and_urgent_slides_are_marked_for_the_loop(committee_client, compound, client):
    screen = register_screen(committee_client)
    publish(compound, "普通", urgent=False)
    publish(compound, "紧急", urgent=True)
    html = client.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    urgent = html.split("紧急</h2>")[0] if "紧急</h2>" in html else html
    assert html.count("data-priority") == 1 and "screen-loop.js" in html
    assert html.index("js/screen-loop.js") < html.index("js/kiosk.js")
    del urgent


def test_split_buildings_reads_what_people_type():
    assert split_buildings("3, 5栋，6号楼,,") == ["3", "5", "6"]
    assert split_buildings("") == [] and split_buildings(None) == []


# ---- Time slots (the clock frozen) ----

def test_time_slots_follow_the_shanghai_clock_and_may_run_over_midnight():
    at = lambda hh, mm: datetime(2026, 12, 6, hh, mm, tzinfo=SHANGHAI)  # noqa: E731
    assert in_slot(("07:00", "22:00"), at(7, 0)) and in_slot(("07:00", "22:00"), at(21, 59))
    assert not in_slot(("07:00", "22:00"), at(22, 0)) and not in_slot(("07:00", "22:00"), at(6, 59))
    assert in_slot(("22:00", "06:00"), at(23, 30)) and in_slot(("22:00", "06:00"), at(5, 0))
    assert not in_slot(("22:00", "06:00"), at(12, 0))
    assert in_slot(None, at(3, 0)) and in_slot(("08:00", "08:00"), at(3, 0))
    assert parse_hhmm("7:05").hour == 7 and parse_hhmm("24:00") is None and parse_hhmm("7点") is None


def test_areas_now_leaves_an_area_out_of_the_loop_outside_its_slot(app):
    screen = Screen(name="x", shown_areas=["notices", "consult"], slots={"consult": ["07:00", "22:00"]})
    providers = registry.providers()
    # 23:30 in Shanghai is 15:30 UTC.
    with time_machine.travel(datetime(2026, 12, 6, 15, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert areas_now(screen, providers, utcnow()) == ["notices"]
    with time_machine.travel(datetime(2026, 12, 6, 1, 0, tzinfo=ZoneInfo("UTC")), tick=False):  # 09:00 there
        assert areas_now(screen, providers, utcnow()) == ["notices", "consult"]
    everything = Screen(name="y")
    with time_machine.travel(datetime(2026, 12, 6, 15, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        assert areas_now(everything, providers, utcnow()) == [p.area for p in providers]


# ---- The district's list ----

def test_street_office_sees_every_screen_with_what_needs_a_visit(app, compound, make_compound, make_user,
                                                                committee_client):
    lobby = register_screen(committee_client)
    fresh = register_screen(committee_client, name="新屏")
    other = make_compound("other", "别的小区")
    old = Screen(compound_id=other.id, name="老屏", last_seen_at=utcnow() - timedelta(minutes=1), engine="Chrome 60",
                 live_updates=False)
    db.session.add(old)
    stored = db.session.get(Screen, lobby.id)
    stored.last_seen_at, stored.live_updates, stored.engine = utcnow() - timedelta(minutes=8), True, "Chrome 78"
    db.session.get(Screen, fresh.id).last_seen_at = utcnow()
    db.session.get(Screen, fresh.id).live_updates = True
    db.session.commit()
    staff = app.test_client()
    login_as(staff, make_user("office", platform_admin=True))
    assert "全街道的屏幕" in staff.get("/admin/platform/").get_data(as_text=True)
    html = staff.get("/admin/platform/screens/").get_data(as_text=True)
    assert "共 3 块，2 块需要看一下。" in html
    assert "离线超过 5 分钟" in html and "浏览器过旧，无法实时更新" in html
    assert html.index("老屏") < html.index("新屏") and html.index("3 栋大堂") < html.index("新屏")
    # Staff reach the compound's own screen page (and its reload button) from there.
    assert f"/admin/other/screens/{old.id}" in html
    assert "重新加载" in staff.get(f"/admin/maple/screens/{lobby.id}").get_data(as_text=True)
    assert committee_client.get("/admin/platform/screens/").status_code == 403


def test_the_demo_has_screens_set_up_differently_and_prints_them(app, runner):
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "also 小区大门: http://" in result.output and "/admin/platform/screens/" in result.output
    from kiosk.compounds.models import Compound

    guixiang = db.session.scalar(select(Compound.id).where(Compound.slug == "guixiang"))
    mine = select(Screen).where(Screen.compound_id == guixiang)  # its practice compound has screens of its own
    screens = {s.name: s for s in db.session.scalars(mine)}
    assert screens["3 栋大堂"].buildings == "3" and screens["5 栋大堂"].buildings == "5"
    assert screens["小区大门"].slots == {"consult": ["07:00", "22:00"]}
    assert "ledger" not in screens["5 栋大堂"].shown_areas
    client = app.test_client()
    five = client.get(f"/guixiang/screen/{screens['5 栋大堂'].key}").get_data(as_text=True)
    three = client.get(f"/guixiang/screen/{screens['3 栋大堂'].key}").get_data(as_text=True)
    assert "5 栋楼顶水箱清洗" in five and "3 栋电梯年检" not in five and 'id="group-ledger"' not in five
    assert "3 栋电梯年检" in three and "5 栋楼顶水箱清洗" not in three
    runner.invoke(args=["demo", "--no-serve"])  # again: no more screens
    assert len(db.session.scalars(mine).all()) == 3
