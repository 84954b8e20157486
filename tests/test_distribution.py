"""Gift distribution (福利发放): the committee makes a list, ticks off pickups on a phone, residents see progress."""
import csv
import http.client
import io
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote, urlencode

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.compounds.models import Compound
from kiosk.database import utcnow
from kiosk.demo import _distribution
from kiosk.extensions import db
from kiosk.distribution import service as distribution_service, slides as distribution_slides
from kiosk.distribution.models import DistributionEvent, Eligibility, Pickup
from kiosk.households.models import Household, Occupancy
from kiosk.screen.models import Screen

from conftest import ago, ahead, csrf_token, login_as, post_form

NEW = "/admin/maple/events/new"
HTMX = {"HX-Request": "true"}


def add_households(compound, buildings=("1", "2", "3"), entrances=("1", "2"), rooms=("101", "102", "201")):
    """A small roll: every building × entrance × room, with private contacts; 1栋1单元102 is vacant,
    3栋2单元201 is held by the developer."""
    made = []
    for b in buildings:
        for e in entrances:
            for r in rooms:
                occupancy = Occupancy.occupied
                if (b, e, r) == ("1", "1", "102"):
                    occupancy = Occupancy.vacant
                elif (b, e, r) == ("3", "2", "201"):
                    occupancy = Occupancy.developer
                made.append(Household(compound_id=compound.id, building=b, entrance=e, room=r, area_centi=8635,
                                      occupancy=occupancy, contact_name=f"住户{b}{e}{r}",
                                      contact_phone=f"139{b}{e}{r}000"))
    db.session.add_all(made)
    db.session.commit()
    return made


def at(households, building, entrance, room):
    return next(h for h in households if (h.building, h.entrance, h.room) == (building, entrance, room))


def event_form(**overrides):
    data = {"name": "端午节大礼包", "item": "粽子一盒、咸鸭蛋 10 个", "starts_at": "2026-06-17T09:00",
            "ends_at": "2026-06-19T18:00", "scope": "occupied"}
    data.update(overrides)
    return data


def make_event(compound, chair, households, opens=ago(hours=1), closes=ahead(days=2), name="冬至汤圆"):
    """An event straight in the database, every given household on its list."""
    event = DistributionEvent(compound_id=compound.id, name=name, item="汤圆两袋", eligibility="全部住户",
                              starts_at=opens, ends_at=closes, created_by=chair.id)
    db.session.add(event)
    db.session.flush()
    db.session.add_all(Eligibility(event_id=event.id, household_id=h.id) for h in households)
    db.session.commit()
    return event


def mark(client, event, household, htmx=True, **extra):
    """Tap 标记已领取 for a household on the event page."""
    return post_form(client, f"/admin/maple/events/{event.id}/pickups",
                     {"household_id": household.id, **extra}, token_from=f"/admin/maple/events/{event.id}",
                     headers=HTMX if htmx else {})


def text(response):
    return response.get_data(as_text=True)


def created_event():
    return db.session.scalars(select(DistributionEvent).order_by(DistributionEvent.id.desc())).first()


def eligible_ids(event):
    return set(db.session.scalars(select(Eligibility.household_id).where(Eligibility.event_id == event.id)))


# --- making an event and its list ------------------------------------------------------------------------

def test_event_for_occupied_households_leaves_out_vacant_and_developer_units(committee_client, compound):
    households = add_households(compound)
    response = post_form(committee_client, NEW, event_form())
    event = created_event()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/maple/events/{event.id}")
    page = text(committee_client.get(response.headers["Location"]))
    assert "已建好“端午节大礼包”，名单上共 16 户" in page
    assert "已领取 0 / 16 户" in page
    assert eligible_ids(event) == {h.id for h in households if h.occupancy == Occupancy.occupied}
    assert event.starts_at.isoformat() == "2026-06-17T01:00:00+00:00"  # 09:00 in Changsha


def test_event_for_all_households_includes_every_unit(committee_client, compound):
    households = add_households(compound)
    post_form(committee_client, NEW, event_form(scope="all"))
    assert eligible_ids(created_event()) == {h.id for h in households}


def test_event_for_chosen_buildings(committee_client, compound):
    households = add_households(compound)
    form = committee_client.get(NEW)
    assert 'type="checkbox" name="buildings" value="3"' in text(form) and "3 栋" in text(form)
    post_form(committee_client, NEW, event_form(scope="buildings", buildings=["1", "3"], occupied_only="y"))
    assert eligible_ids(created_event()) == {h.id for h in households if h.building in ("1", "3")
                                             and h.occupancy == Occupancy.occupied}
    post_form(committee_client, NEW, event_form(name="3栋全部", scope="buildings", buildings=["3"]))
    assert eligible_ids(created_event()) == {h.id for h in households if h.building == "3"}


def test_choosing_buildings_without_ticking_one_is_explained(committee_client, compound):
    add_households(compound)
    response = post_form(committee_client, NEW, event_form(scope="buildings"))
    assert response.status_code == 400 and "请至少勾选一栋" in text(response)
    assert created_event() is None


def upload(content, filename="名单.csv"):
    return (io.BytesIO(content), filename)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_event_from_an_uploaded_list_in_any_excel_encoding(committee_client, compound, encoding):
    households = add_households(compound)
    content = "楼栋,单元,室\n1栋,1,101\n2,2单元,201室\n３,1,102\n".encode(encoding)
    response = post_form(committee_client, NEW, event_form(scope="list", address_list=upload(content)),
                         content_type="multipart/form-data")
    assert response.status_code == 302, text(response)
    assert eligible_ids(created_event()) == {at(households, "1", "1", "101").id, at(households, "2", "2", "201").id,
                                             at(households, "3", "1", "102").id}
    assert "名单.csv" in created_event().eligibility


def test_a_bad_row_in_the_list_is_named_and_nothing_is_saved(committee_client, compound):
    add_households(compound)
    content = "楼栋,单元,室\n1,1,101\n9,1,101\n2,,\n1,1,101\n".encode("gbk")
    audit_before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = post_form(committee_client, NEW, event_form(scope="list", address_list=upload(content)),
                         content_type="multipart/form-data")
    page = text(response)
    assert response.status_code == 400
    assert "第 3 行：本小区没有 9栋1单元101" in page
    assert "第 4 行：缺楼栋或房号" in page
    assert "第 5 行：和第 2 行是同一户" in page
    assert "还没有保存" in page
    assert created_event() is None and db.session.scalar(select(func.count()).select_from(Eligibility)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_before


def test_an_excel_file_instead_of_csv_is_explained(committee_client, compound):
    add_households(compound)
    workbook = upload(b"PK\x03\x04xx", "a.xlsx")
    response = post_form(committee_client, NEW, event_form(scope="list", address_list=workbook),
                         content_type="multipart/form-data")
    assert response.status_code == 400 and "另存为 → CSV" in text(response)


def test_pickup_window_must_end_after_it_starts(committee_client, compound):
    add_households(compound)
    response = post_form(committee_client, NEW, event_form(ends_at="2026-06-16T09:00"))
    assert response.status_code == 400 and "截止时间要晚于开始时间" in text(response)
    assert created_event() is None


def test_an_event_with_nobody_on_the_list_is_refused(committee_client, compound):
    response = post_form(committee_client, NEW, event_form(scope="all"))
    assert response.status_code == 400 and "一户也没有" in text(response)


# --- pickups --------------------------------------------------------------------------------------------

def test_marking_collected_shows_on_event_page_public_page_and_lobby_screen(app, committee_client, client, compound,
                                                                            chair):
    households = add_households(compound)
    event = make_event(compound, chair, households[:3])
    screen = Screen(compound_id=compound.id, name="大堂")
    db.session.add(screen)
    db.session.commit()
    version = db.session.get(Compound, compound.id).version
    assert "已领取 0 / 3 户" in text(client.get(f"/maple/screen/{screen.key}"))

    response = mark(committee_client, event, households[0])
    assert response.status_code == 200
    assert "✓ 已领取" in text(response) and "1栋1单元101" in text(response)
    assert "pickup-recorded" in response.headers["HX-Trigger"]

    assert "已领取 1 / 3 户" in text(committee_client.get(f"/admin/maple/events/{event.id}"))
    public = text(client.get(f"/maple/events/{event.id}"))
    assert "冬至汤圆" in public and "汤圆两袋" in public and "已领取 1 / 3 户" in public
    assert "1栋1单元101" not in public and "住户11101" not in public and "13911101000" not in public
    lobby = text(client.get(f"/maple/screen/{screen.key}"))
    assert "冬至汤圆" in lobby and "已领取 1 / 3 户" in lobby
    pulse = client.get(f"/maple/pulse?v={version}")
    assert "kiosk-area-distribution" in pulse.headers["HX-Trigger"]


def test_the_progress_bar_is_drawn_without_inline_styles(committee_client, client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households[:4])
    mark(committee_client, event, households[0])
    page = text(client.get(f"/maple/events/{event.id}"))
    assert '<rect class="dist-fill" width="25.0"' in page
    assert "style=" not in page


def test_a_second_pickup_is_refused_saying_when_and_by_whom(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households)
    assert mark(committee_client, event, households[0]).status_code == 200
    again = mark(committee_client, event, households[0])
    assert again.status_code == 409
    body = text(again)
    assert "已经领过了" in body and "1栋1单元101 已于" in body and "由 Chair 登记" in body
    assert db.session.scalar(select(func.count()).select_from(Pickup)) == 1


def test_without_javascript_a_pickup_goes_back_to_the_list_with_the_result(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households)
    back = f"/admin/maple/events/{event.id}?building=1&room=101"
    response = mark(committee_client, event, households[0], htmx=False, next=back)
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    page = text(committee_client.get(back))
    assert "已登记领取：1栋1单元101" in page
    again = mark(committee_client, event, households[0], htmx=False, next=back)
    assert again.status_code == 302
    assert "不能重复领取" in text(committee_client.get(back))


def test_next_never_leaves_the_site(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households)
    response = mark(committee_client, event, households[0], htmx=False, next="//evil.example/")
    assert "evil.example" not in response.headers["Location"]


def test_a_household_not_on_the_list_is_refused(committee_client, compound, chair, make_compound):
    households = add_households(compound)
    event = make_event(compound, chair, households[:2])
    response = mark(committee_client, event, households[5])
    assert response.status_code == 400 and "不在“冬至汤圆”的名单上" in text(response)
    other = make_compound("oak", "橡树小区")
    stranger = add_households(other, buildings=("1",), entrances=("1",), rooms=("101",))[0]
    assert mark(committee_client, event, stranger).status_code == 400
    assert post_form(committee_client, f"/admin/maple/events/{event.id}/pickups", {"household_id": "x"},
                     token_from=f"/admin/maple/events/{event.id}", headers=HTMX).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Pickup)) == 0


@pytest.mark.parametrize(("opens", "closes", "says"), [
    (ahead(days=1), ahead(days=2), "还没开始领取"), (ago(days=2), ago(hours=1), "截止，不能再登记领取")])
def test_a_pickup_outside_the_window_is_refused(committee_client, compound, chair, opens, closes, says):
    households = add_households(compound)
    event = make_event(compound, chair, households, opens=opens, closes=closes)
    response = mark(committee_client, event, households[0])
    assert response.status_code == 400 and says in text(response)
    assert db.session.scalar(select(func.count()).select_from(Pickup)) == 0


def test_sixteen_members_marking_one_household_at_once_record_exactly_one_pickup(app, compound, chair, make_user):
    """16 phones tap 标记已领取 for the same household at the same moment, through a real threaded server."""
    from waitress import wasyncore
    from waitress.server import create_server

    households = add_households(compound)
    event = make_event(compound, chair, households)
    target = households[0]
    path = f"/admin/maple/events/{event.id}/pickups"
    phones = []
    for n in range(16):
        member = make_user(f"member{n}", compound, Role.member)
        phone = app.test_client()
        login_as(phone, member)
        token = csrf_token(phone, f"/admin/maple/events/{event.id}")
        phones.append((phone.get_cookie("kiosk_session").value, token))
    target_id = target.id
    db.session.commit()  # the test's own transaction must not hold SQLite's write lock during the race

    server = create_server(app, host="127.0.0.1", port=0, threads=16)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    start = threading.Barrier(16)

    def tap(cookie, token):
        connection = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=60)
        body = urlencode({"household_id": target_id, "csrf_token": token})
        start.wait()
        connection.request("POST", path, body, {"Cookie": f"kiosk_session={cookie}", "HX-Request": "true",
                                                "Content-Type": "application/x-www-form-urlencoded"})
        answer = connection.getresponse()
        result = answer.status, answer.read().decode()
        connection.close()
        return result

    try:
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda phone: tap(*phone), phones))
    finally:
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map, ignore_all=True))
        loop.join(timeout=5)
        server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)

    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] + [409] * 15, statuses
    assert all("1栋1单元101 已于" in body and "不能重复领取" in body for status, body in answers if status == 409)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Pickup)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "pickup")) == 1


# --- finding a household without a card ------------------------------------------------------------------

def test_find_a_household_by_building_and_room(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, [h for h in households if h.occupancy == Occupancy.occupied])
    page = text(committee_client.get(f"/admin/maple/events/{event.id}?building=1栋&room=10"))
    assert "1栋1单元101" in page and "1栋2单元101" in page and "1栋2单元102" in page
    assert "2栋1单元101" not in page.split('id="results"')[1].split("</div>")[0]
    assert "标记已领取" in page
    assert "不在本次发放名单上" in page  # 1栋1单元102 is vacant: found, but not on the list
    fragment = committee_client.get(f"/admin/maple/events/{event.id}?building=2&room=201", headers=HTMX)
    assert "<html" not in text(fragment) and "2栋1单元201" in text(fragment) and "2栋2单元201" in text(fragment)
    assert "HX-Request" in fragment.headers["Vary"]
    nothing = text(committee_client.get(f"/admin/maple/events/{event.id}?building=9&room=999", headers=HTMX))
    assert "请核对楼栋和房号" in nothing


def test_after_a_pickup_the_find_form_is_ready_for_the_next_household(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households)
    response = mark(committee_client, event, households[0], find_building="1")
    soup = BeautifulSoup(text(response), "html.parser")
    form = soup.find("form", id="find")
    assert form["hx-swap-oob"] == "true"
    assert form.find("input", attrs={"name": "building"})["value"] == "1"
    assert form.find("input", attrs={"name": "room"})["value"] == ""
    assert soup.find("label", attrs={"for": "find-room"}).get_text(strip=True) == "查下一户"


def test_event_page_lists_who_has_and_has_not_collected(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households[:3])
    mark(committee_client, event, households[1])
    page = text(committee_client.get(f"/admin/maple/events/{event.id}"))
    collected = page.split("已领取（1 户）")[1].split("</details>")[0]
    waiting = page.split("还没领取（2 户）")[1].split("</details>")[0]
    assert "1栋1单元102" in collected and "Chair" in collected
    assert "1栋1单元101" in waiting and "1栋1单元201" in waiting and "1栋1单元102" not in waiting


# --- a scanned card: the household's page -------------------------------------------------------------------

def test_household_page_offers_each_open_event_and_shows_what_was_collected(committee_client, compound, chair):
    households = add_households(compound)
    home = households[0]
    winter = make_event(compound, chair, households, name="冬至汤圆")
    spring = make_event(compound, chair, households, name="元宵礼包")
    make_event(compound, chair, households[1:], name="别的楼的发放")
    make_event(compound, chair, households, opens=ago(days=9), closes=ago(days=8), name="已经结束的")
    page = text(committee_client.get(f"/admin/maple/events/household/{home.id}"))
    assert "1栋1单元101" in page and "住户11101" in page and "13911101000" in page  # committee sees the contact
    assert page.count("标记已领取") == 2
    assert "不在本次发放名单上" in page and "已经结束的" not in page
    assert mark(committee_client, winter, home).status_code == 200
    page = text(committee_client.get(f"/admin/maple/events/household/{home.id}"))
    assert page.count("标记已领取") == 1
    assert "已于" in page and "由 Chair 登记" in page
    assert f"pick-{spring.id}-{home.id}" in page


def test_household_of_another_compound_is_not_found(committee_client, compound, make_compound):
    other = make_compound("oak", "橡树小区")
    stranger = add_households(other, buildings=("1",), entrances=("1",), rooms=("101",))[0]
    assert committee_client.get(f"/admin/maple/events/household/{stranger.id}").status_code == 404


def test_for_household_lists_open_events_first_then_recent_past(committee_client, compound, chair):
    households = add_households(compound)
    home = households[0]
    past = make_event(compound, chair, households, opens=ago(days=30), closes=ago(days=28), name="端午节大礼包")
    now_open = make_event(compound, chair, households, name="冬至汤圆")
    make_event(compound, chair, households, opens=ahead(days=3), closes=ahead(days=5), name="还没开始")
    make_event(compound, chair, households[1:], name="不在名单")
    db.session.add(Pickup(compound_id=compound.id, event_id=past.id, household_id=home.id, recorded_by=chair.id,
                          collected_at=ago(days=29)))
    db.session.commit()
    entries = distribution_service.for_household(home)
    assert [(e["event"].name, e["open"], e["pickup"] is not None) for e in entries] == [
        ("冬至汤圆", True, False), ("端午节大礼包", False, True)]
    assert entries[0]["event"].id == now_open.id


# --- exports ----------------------------------------------------------------------------------------------

def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_exports_for_posting_and_for_the_committee(committee_client, compound, chair):
    households = add_households(compound)
    event = make_event(compound, chair, households[:3], name="端午节大礼包")
    mark(committee_client, event, households[0])
    posting = committee_client.get(f"/admin/maple/events/{event.id}/posting.csv")
    assert posting.get_data().startswith(b"\xef\xbb\xbf")
    assert posting.mimetype == "text/csv"
    disposition = posting.headers["Content-Disposition"]
    assert f'filename="distribution-{event.id}-posting.csv"' in disposition
    assert "端午节大礼包-公示名单.csv" in unquote(disposition.split("filename*=UTF-8''")[1])
    rows = rows_of(posting)
    assert rows[0] == ["地址", "是否已领取", "领取时间"]
    assert rows[1][:2] == ["1栋1单元101", "已领取"] and rows[1][2].startswith("20")
    assert rows[2] == ["1栋1单元102", "未领取", ""]
    raw = posting.get_data().decode("utf-8-sig")
    assert all(h.contact_name not in raw and h.contact_phone not in raw for h in households)

    committee = committee_client.get(f"/admin/maple/events/{event.id}/committee.csv")
    assert committee.get_data().startswith(b"\xef\xbb\xbf")
    rows = rows_of(committee)
    assert rows[0] == ["地址", "联系人", "联系电话", "是否已领取", "领取时间", "登记人"]
    assert rows[1][:4] == ["1栋1单元101", "住户11101", "13911101000", "已领取"] and rows[1][5] == "Chair"
    assert "勿张贴" in unquote(committee.headers["Content-Disposition"])


def test_an_export_cell_cannot_run_as_a_formula(committee_client, compound, chair):
    households = add_households(compound, buildings=("1",), entrances=("1",), rooms=("101",))
    households[0].contact_name = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    event = make_event(compound, chair, households)
    rows = rows_of(committee_client.get(f"/admin/maple/events/{event.id}/committee.csv"))
    assert rows[1][1].startswith("'=")


# --- boundaries -------------------------------------------------------------------------------------------

def test_another_compounds_event_is_not_found(committee_client, client, compound, make_compound, make_user):
    other = make_compound("oak", "橡树小区")
    their_chair = make_user("oakchair", other, Role.chair)
    theirs = make_event(other, their_chair, add_households(other), name="橡树的发放")
    for path in (f"/admin/maple/events/{theirs.id}", f"/admin/maple/events/{theirs.id}/edit",
                 f"/admin/maple/events/{theirs.id}/posting.csv", f"/admin/maple/events/{theirs.id}/committee.csv",
                 f"/admin/maple/events/{theirs.id}/progress"):
        assert committee_client.get(path).status_code == 404, path
    assert client.get(f"/maple/events/{theirs.id}").status_code == 404
    token = csrf_token(committee_client, "/admin/maple/events/")
    response = committee_client.post(f"/admin/maple/events/{theirs.id}/pickups",
                                     data={"household_id": theirs.id, "csrf_token": token})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Pickup)) == 0


def test_a_supervisor_sees_progress_but_cannot_mark(client, compound, chair, make_user):
    households = add_households(compound)
    event = make_event(compound, chair, households)
    login_as(client, make_user("watcher", compound, Role.supervisor))
    page = text(client.get(f"/admin/maple/events/{event.id}?building=1&room=101"))
    assert "已领取 0 / 18 户" in page and "标记已领取" not in page
    assert mark(client, event, households[0]).status_code == 403
    assert client.get(NEW).status_code == 403


def test_every_change_is_in_the_audit_log(committee_client, compound, chair):
    households = add_households(compound)
    post_form(committee_client, NEW, event_form(starts_at="2020-01-01T09:00", ends_at="2099-01-01T18:00"))
    event = created_event()
    edit = f"/admin/maple/events/{event.id}/edit"
    response = post_form(committee_client, edit, event_form(name="端午节礼包（改）", starts_at="2020-01-01T09:00",
                                                          ends_at="2099-01-01T18:00"))
    assert response.status_code == 302
    mark(committee_client, event, households[0])
    mark(committee_client, event, households[0])  # refused: no change, no audit line
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.area == "distribution")
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "edit", "pickup"]
    assert all(e.actor_id == chair.id for e in entries)
    assert entries[0].after["households"] == 16
    assert entries[1].before["name"] == "端午节大礼包" and entries[1].after["name"] == "端午节礼包（改）"
    assert entries[2].after["address"] == "1栋1单元101" and entries[2].object_type == "pickup"


def test_event_list_groups_open_upcoming_and_past_with_progress(committee_client, compound, chair):
    households = add_households(compound)
    make_event(compound, chair, households[:2], name="正在发的")
    make_event(compound, chair, households[:5], opens=ahead(days=1), closes=ahead(days=2), name="下周发的")
    past = make_event(compound, chair, households[:4], opens=ago(days=3), closes=ago(days=2), name="发完的")
    db.session.add(Pickup(compound_id=compound.id, event_id=past.id, household_id=households[0].id,
                          recorded_by=chair.id, collected_at=ago(days=2, hours=5)))
    db.session.commit()
    page = text(committee_client.get("/admin/maple/events/"))
    assert page.index("正在领取") < page.index("正在发的") < page.index("还没开始") < page.index("下周发的") \
        < page.index("已结束") < page.index("发完的")
    assert "已领取 0 / 2 户" in page and "已领取 0 / 5 户" in page and "已领取 1 / 4 户" in page


def test_no_slide_without_an_open_event(app, compound, chair):
    households = add_households(compound)
    make_event(compound, chair, households, opens=ago(days=3), closes=ago(days=2))
    assert distribution_slides.slides(compound, utcnow()) == []
    event = make_event(compound, chair, households)
    slides = distribution_slides.slides(compound, utcnow())
    assert [s.item_id for s in slides] == [str(event.id)] and slides[0].phone_path == f"events/{event.id}"


def test_demo_distribution_needs_households_and_is_made_once(app, compound, chair):
    _distribution(compound, chair, utcnow())
    assert created_event() is None
    add_households(compound)
    _distribution(compound, chair, utcnow())
    _distribution(compound, chair, utcnow())
    db.session.commit()
    events = db.session.scalars(select(DistributionEvent).order_by(DistributionEvent.starts_at)).all()
    assert [e.name for e in events] == ["端午节大礼包", "冬至汤圆"]
    june, winter = (distribution_service.progress(e) for e in events)
    assert june.total == 16 and june.done >= 14
    assert winter.total == 16 and 4 <= winter.done <= 8
    assert events[1].is_open() and not events[0].is_open()
