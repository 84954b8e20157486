"""Reminders for an open vote: per building the households that have not voted, as a door-knocking sheet, as
reminder slips with the topic's QR and deadline, and as an audited CSV of phones that only the chair and
vice-chairs may take."""
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.consult import service as consult
from kiosk.extensions import db
from kiosk.timefmt import format_datetime

from conftest import ago, login_as, post_form
from factories import households, open_topic, text_of


def world(compound, chair, **fields):
    """Six households in buildings 1 and 2 with phones; 1栋101 and 2栋201 have voted on an open topic."""
    made = households(compound, 6, building=lambda i: "1" if i < 3 else "2",
                      room=lambda i: f"{101 + i}" if i < 3 else f"{198 + i}")
    for n, h in enumerate(made):
        h.contact_name, h.contact_phone = f"住户{n}", f"1380000000{n}" if n != 2 else ""
    db.session.commit()
    topic = open_topic(compound, chair, **dict({"secret": False}, **fields))
    for h in (made[0], made[3]):
        consult.cast(compound, topic, h, ["yes"])
    db.session.commit()
    return topic, made


def test_door_sheet_lists_who_has_not_voted_per_building(client, compound, chair):
    topic, made = world(compound, chair)
    login_as(client, chair)
    overview = text_of(client.get(f"/admin/maple/topics/{topic.id}/reminders"))
    assert "还有 4 户没有投票" in overview
    sheet = text_of(client.get(f"/admin/maple/topics/{topic.id}/reminders/sheet"))
    assert "1 栋 · 上门提醒投票登记表" in sheet and "2 栋 · 上门提醒投票登记表" in sheet
    for h in made[1:3] + made[4:]:
        assert h.address in sheet
    assert made[0].address not in sheet and made[3].address not in sheet
    assert format_datetime(topic.closes_at) in sheet and "同意" not in sheet  # the deadline, never a choice
    one = text_of(client.get(f"/admin/maple/topics/{topic.id}/reminders/sheet?building=2"))
    assert made[4].address in one and made[1].address not in one


def test_slips_one_per_household_with_qr_and_no_address(client, compound, chair):
    topic, made = world(compound, chair)
    login_as(client, chair)
    response = client.get(f"/admin/maple/topics/{topic.id}/reminders/slips?building=1")
    html = response.get_data(as_text=True)
    assert html.count('class="slip"') == 2 and html.count("<svg") == 2
    text = text_of(response)
    assert topic.title in text and format_datetime(topic.closes_at) in text
    assert not any(h.address in text for h in made)


def test_phone_export_is_the_chairs_and_audited(app, client, compound, chair, make_user):
    """The chair gets address, contact and phone of non-voters who gave a phone, and the audit log says who and
    how many rows; a member is refused and nothing is recorded; a GET does not export."""
    topic, made = world(compound, chair)
    path = f"/admin/maple/topics/{topic.id}/reminders/phones.csv"
    member = app.test_client()
    login_as(member, make_user("wang", compound, Role.member))
    page = f"/admin/maple/topics/{topic.id}/reminders"
    assert "导出电话" not in text_of(member.get(page))
    assert post_form(member, path, {}, token_from=page).status_code == 403
    assert client.get(path).status_code in (302, 405)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export_phones")) is None
    login_as(client, chair)
    response = post_form(client, path, {}, token_from=page)
    body = response.get_data().decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0] == "地址,联系人,电话" and len(lines) == 1 + 3  # 1栋103 has no phone
    assert "13800000001" in body and "13800000000" not in body  # 1栋101 voted
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export_phones"))
    assert entry.actor_id == chair.id and entry.after["rows"] == 3
    audit = text_of(client.get("/admin/maple/audit"))
    assert "导出未投票住户电话" in audit and "条数" in audit


def test_reminders_only_while_the_vote_is_open(client, compound, chair):
    topic, _made = world(compound, chair)
    topic.closes_at = ago(minutes=1)
    db.session.commit()
    login_as(client, chair)
    response = client.get(f"/admin/maple/topics/{topic.id}/reminders/sheet", follow_redirects=True)
    assert "投票进行中才能催票" in text_of(response)


def test_a_secret_votes_sheet_moves_only_with_its_released_list(client, compound, chair):
    """On a secret topic the sheet shows what the committee's who-voted list shows (as of the last release): before
    the first release nobody counts as voted yet, so the two households that voted are still on it and the sheet
    cannot time anyone's ballot."""
    from kiosk.consult.service.counting import roll_call

    topic, made = world(compound, chair, secret=True)
    login_as(client, chair)
    sheet = text_of(client.get(f"/admin/maple/topics/{topic.id}/reminders/sheet"))
    assert all(h.address in sheet for h in made)
    assert {h.address for h in made} == {r.household.address for r in roll_call(topic) if not r.voted}
    assert "最近投的户可能还在上面" in sheet
    page = text_of(client.get(f"/admin/maple/topics/{topic.id}/reminders"))
    assert "还没有公布第一批" in page and "还有 6 户没有投票" in page


def test_inside_wechat_the_phone_export_answers_a_page_and_records_nothing(client, compound, chair):
    topic, _made = world(compound, chair)
    login_as(client, chair)
    page = f"/admin/maple/topics/{topic.id}/reminders"
    response = post_form(client, f"{page}/phones.csv", {}, token_from=page,
                         headers={"User-Agent": "Mozilla/5.0 MicroMessenger/8.0.33"})
    assert "微信内无法直接下载文件" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "export_phones")) is None
