"""The committee roster: the committee keeps it; residents see who serves now, and who served before."""
import io
import re
from datetime import date, timedelta

from PIL import Image as PILImage
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.roster.models import RosterMember
from kiosk.timefmt import local_date
from kiosk.screen.models import Screen

import factories
from conftest import login_as, post_form

ADMIN = "/admin/maple/roster/"
NEW = ADMIN + "new"
PHOTO_URL = re.compile(r'src="(/maple/media/[0-9a-f]{32}\.jpg)"')
THIS_TERM = (date.today() - timedelta(days=400), date.today() + timedelta(days=700))
LAST_TERM = (date(2018, 6, 1), date(2021, 5, 31))


def jpeg(size=(80, 100), color=(40, 120, 200)):
    """A portrait photo's bytes."""
    return factories.jpeg(size, color)


def member_form(term=THIS_TERM, **overrides):
    data = {"name": "周建华", "role": "chair", "term_start": term[0].isoformat(), "term_end": term[1].isoformat(),
            "intro": "退休教师，在小区住了二十年。"}
    data.update(overrides)
    return data


def add(client, **overrides):
    response = post_form(client, NEW, member_form(**overrides), content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalars(select(RosterMember).order_by(RosterMember.id.desc())).first()


def roster_count():
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(RosterMember))


def cn(day):
    return f"{day.year}年{day.month}月{day.day}日"


def test_committee_adds_member_with_photo_and_residents_see_it(app, committee_client, compound):
    add(committee_client, photo=(io.BytesIO(jpeg()), "zhou.jpg", "image/jpeg"))
    resident = app.test_client()
    page = resident.get("/maple/committee").get_data(as_text=True)
    current = page.split("本届委员会", 1)[1]
    assert "周建华" in current and "主任" in current
    assert f"任期 {cn(THIS_TERM[0])} 至 {cn(THIS_TERM[1])}" in current
    assert "退休教师，在小区住了二十年。" in current
    photo = PHOTO_URL.search(current).group(1)
    served = resident.get(photo)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert PILImage.open(io.BytesIO(served.data)).size == (80, 100)
    assert "/maple/committee" in resident.get("/maple/").get_data(as_text=True)


def test_member_without_photo_gets_surname_placeholder(app, committee_client, compound):
    add(committee_client, name="李秀英", role="vice_chair")
    page = app.test_client().get("/maple/committee").get_data(as_text=True)
    assert 'class="roster-photo roster-initial" aria-hidden="true">李</span>' in page
    assert "副主任" in page


def test_past_term_member_is_listed_under_history_not_current(app, committee_client, compound):
    add(committee_client, name="陈卫东", role="member")
    add(committee_client, name="孙玉林", role="chair", term=LAST_TERM)
    page = app.test_client().get("/maple/committee").get_data(as_text=True)
    current, history = page.split("往届", 1)
    assert "陈卫东" in current and "孙玉林" not in current
    assert "孙玉林" in history and f"{cn(LAST_TERM[0])} 至 {cn(LAST_TERM[1])}" in history
    admin = committee_client.get(ADMIN).get_data(as_text=True)
    admin_current, admin_history = admin.split("往届（历史记录）", 1)
    assert "陈卫东" in admin_current and "孙玉林" in admin_history


def test_current_term_is_listed_in_role_order(app, committee_client, compound):
    add(committee_client, name="监督甲", role="supervisor")
    add(committee_client, name="委员乙", role="member")
    add(committee_client, name="主任丙", role="chair")
    add(committee_client, name="副主任丁", role="vice_chair")
    page = app.test_client().get("/maple/committee").get_data(as_text=True)
    positions = [page.index(name) for name in ("主任丙", "副主任丁", "委员乙", "监督甲")]
    assert positions == sorted(positions)


def test_term_that_ends_before_it_starts_is_explained_next_to_field_and_nothing_saved(committee_client, compound):
    response = post_form(committee_client, NEW, member_form(term=(date(2024, 6, 1), date(2024, 5, 31))))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="term_end-error"[^>]*>任期结束的日期要晚于开始的日期。<', html)
    assert 'value="周建华"' in html  # what was typed is kept
    assert roster_count() == 0


def test_missing_name_unreadable_date_and_long_intro_are_each_explained(committee_client, compound):
    response = post_form(committee_client, NEW, member_form(name="  ", term_start="2024-13-45", intro="话" * 501))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert re.search(r'id="name-error"[^>]*>请填写姓名。<', html)
    assert re.search(r'id="term_start-error"[^>]*>请按“年-月-日”填写日期', html)
    assert re.search(r'id="intro-error"[^>]*>介绍最多 500 个字。<', html)
    assert roster_count() == 0


def test_supervisor_reads_roster_but_cannot_add(client, compound, make_user):
    login_as(client, make_user("sup", compound, Role.supervisor))
    page = client.get(ADMIN)
    assert page.status_code == 200 and NEW not in page.get_data(as_text=True)
    assert client.get(NEW).status_code == 403
    assert post_form(client, NEW, member_form(), token_from=ADMIN).status_code == 403
    assert roster_count() == 0


def test_another_compounds_roster_member_is_not_found(committee_client, compound, make_compound):
    oak = make_compound("oak", "橡树小区")
    theirs = RosterMember(compound_id=oak.id, name="橡树主任", role=Role.chair,
                          term_start=THIS_TERM[0], term_end=THIS_TERM[1])
    db.session.add(theirs)
    db.session.commit()
    assert committee_client.get(f"{ADMIN}{theirs.id}/edit").status_code == 404
    for action in ("end-term", "delete"):
        assert post_form(committee_client, f"{ADMIN}{theirs.id}/{action}", {}, token_from=ADMIN).status_code == 404
    assert post_form(committee_client, f"{ADMIN}{theirs.id}/edit", member_form(), token_from=ADMIN).status_code == 404
    db.session.rollback()
    assert db.session.get(RosterMember, theirs.id).name == "橡树主任"
    assert "橡树主任" not in committee_client.get("/maple/committee").get_data(as_text=True)


def test_lobby_screen_shows_current_committee_and_detail(app, committee_client, compound):
    screen = Screen(compound_id=compound.id, name="3 栋大堂")
    db.session.add(screen)
    db.session.commit()
    kiosk = app.test_client()
    assert "本届自治委员会" not in kiosk.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    add(committee_client, name="周建华", role="chair", photo=(io.BytesIO(jpeg()), "zhou.jpg", "image/jpeg"))
    add(committee_client, name="刘桂兰", role="supervisor", intro="负责审核每月的账目。")
    add(committee_client, name="孙玉林", role="chair", term=LAST_TERM)
    html = kiosk.get(f"/maple/screen/{screen.key}").get_data(as_text=True)
    group = html.split('id="group-roster"', 1)[1].split("</section>", 1)[0]
    assert "本届自治委员会" in group and "周建华" in group and "刘桂兰" in group and "监督委员" in group
    assert "孙玉林" not in group
    assert kiosk.get(PHOTO_URL.search(group).group(1)).status_code == 200
    detail = kiosk.get(f"/maple/screen/{screen.key}/item/roster/current", headers={"HX-Request": "true"})
    assert detail.status_code == 200
    assert "负责审核每月的账目。" in detail.get_data(as_text=True)
    assert kiosk.get(f"/maple/screen/{screen.key}/item/roster/other").status_code == 404


def test_end_term_keeps_member_as_history(app, committee_client, compound):
    member = add(committee_client, name="陈卫东", role="member")
    response = post_form(committee_client, f"{ADMIN}{member.id}/end-term", {}, token_from=ADMIN)
    assert response.status_code == 302
    db.session.rollback()
    assert db.session.get(RosterMember, member.id).term_end == local_date() - timedelta(days=1)
    page = app.test_client().get("/maple/committee").get_data(as_text=True)
    assert "陈卫东" in page.split("往届", 1)[1]
    assert "陈卫东已卸任" in committee_client.get(ADMIN).get_data(as_text=True)


def test_end_term_over_htmx_returns_updated_list(committee_client, compound):
    member = add(committee_client, name="陈卫东", role="member")
    response = post_form(committee_client, f"{ADMIN}{member.id}/end-term", {}, token_from=ADMIN,
                         headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "陈卫东已卸任" in html
    assert html.index("往届（历史记录）") < html.rindex("陈卫东")


def test_removing_photo_makes_it_private_again(app, committee_client, compound):
    member = add(committee_client, photo=(io.BytesIO(jpeg()), "zhou.jpg", "image/jpeg"))
    resident = app.test_client()
    photo = PHOTO_URL.search(resident.get("/maple/committee").get_data(as_text=True)).group(1)
    post_form(committee_client, f"{ADMIN}{member.id}/edit", member_form(remove_photo="y"),
              content_type="multipart/form-data")
    assert "/maple/media/" not in resident.get("/maple/committee").get_data(as_text=True)
    assert resident.get(photo).status_code == 404


def test_not_an_image_is_refused_next_to_photo_field(committee_client, compound):
    response = post_form(committee_client, NEW, member_form(photo=(io.BytesIO(b"not an image"), "x.jpg", "image/jpeg")),
                         content_type="multipart/form-data")
    assert response.status_code == 400
    assert re.search(r'id="photo-error"[^>]*>这个文件不是能打开的图片', response.get_data(as_text=True))
    assert roster_count() == 0


def test_every_change_writes_an_audit_entry(committee_client, compound):
    member = add(committee_client, name="陈卫东", role="member")
    post_form(committee_client, f"{ADMIN}{member.id}/edit", member_form(name="陈卫东", role="vice_chair"))
    post_form(committee_client, f"{ADMIN}{member.id}/end-term", {}, token_from=ADMIN)
    post_form(committee_client, f"{ADMIN}{member.id}/delete", {}, token_from=ADMIN)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.area == "roster").order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "edit", "end_term", "remove"]
    assert entries[1].before["role"] == "member" and entries[1].after["role"] == "vice_chair"
    assert entries[3].before["name"] == "陈卫东" and entries[3].after is None
    assert all(e.object_id == member.id and e.compound_id == compound.id for e in entries)
    assert roster_count() == 0


def test_name_and_intro_are_escaped_everywhere(app, committee_client, compound):
    add(committee_client, name="<script>alert(1)</script>", intro="<img src=x onerror=alert(2)>")
    screen = Screen(compound_id=compound.id, name="大堂")
    db.session.add(screen)
    db.session.commit()
    kiosk = app.test_client()
    pages = [kiosk.get("/maple/committee"), kiosk.get(f"/maple/screen/{screen.key}"),
             kiosk.get(f"/maple/screen/{screen.key}/item/roster/current"), committee_client.get(ADMIN)]
    for page in pages:
        html = page.get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0].get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(2)&gt;" in pages[0].get_data(as_text=True)
