"""Committee accounts and the supervisory body: the chair manages committee accounts; supervisors are
appointed and removed only by platform staff (or an election they apply), in the open; names are unique."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kiosk.auth import supervision
from kiosk.auth.accounts import AccountRefused
from kiosk.auth.models import Membership, Role, SupervisorChange, User
from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.roster.models import RosterMember
from kiosk.ledger import service as ledger
from kiosk.ledger.models import Category, Signoff
from kiosk.timefmt import now_local

from conftest import PASSWORD, login_as, post_form

MEMBERS = "/admin/maple/members"
ROSTER = "/maple/committee"


@pytest.fixture
def staff(make_user):
    return make_user("staff", platform_admin=True)


@pytest.fixture
def liu(compound, staff, app):
    """刘桂兰, a supervisor the street office appointed."""
    user = supervision.appoint_new(compound, staff, "liu", "刘桂兰", PASSWORD)
    user.must_change_password = False
    db.session.commit()
    return user


def client_for(app, user):
    client = app.test_client()
    login_as(client, user)
    return client


def supervisor_ids(compound):
    db.session.rollback()
    return {m.user_id for m in supervision.sitting(compound)}


def membership_of(user):
    return db.session.scalar(select(Membership).where(Membership.user_id == user.id))


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def today_cn():
    today = now_local().date()
    return f"{today.year}年{today.month}月{today.day}日"


def submitted_january(compound, chair):
    """A ledger with January recorded by the chair and submitted to the supervisors."""
    ledger.open_book(compound, started_on=date(2026, 1, 1))
    parking = db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == "停车费"))
    entry = ledger.save_draft(compound, chair, None, {"kind": parking.kind, "occurred_on": date(2026, 1, 10),
                                                      "category_id": parking.id, "amount_fen": 50000,
                                                      "description": "1 月停车费"})
    ledger.post(compound, chair, entry)
    period = ledger.submit(compound, chair, 50000)
    db.session.commit()
    return period


# --- the committee's own accounts ----------------------------------------------------------------------------

def test_chair_adds_member_with_one_time_password_shown_once(committee_client, compound):
    response = post_form(committee_client, MEMBERS, {"display_name": "新委员", "username": "xinweiyuan", "role": "member"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "一次性密码" in html and "xinweiyuan" in html
    assert "一次性密码" not in committee_client.get(MEMBERS).get_data(as_text=True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.area == "accounts"))
    assert entry.after == {"username": "xinweiyuan", "display_name": "新委员", "role": "member"}


def test_vice_chair_cannot_remove_the_chair(client, compound, chair, make_user):
    vice = make_user("vice", compound, "vice_chair")
    login_as(client, vice)
    membership = membership_of(chair)
    response = post_form(client, f"{MEMBERS}/{membership.id}/remove", {}, token_from=MEMBERS)
    assert response.status_code == 403
    assert db.session.get(Membership, membership.id) is not None


def test_changing_password_gives_the_session_a_new_key(app, client, compound, make_user):
    member = make_user("m1", compound, "member")
    login_as(client, member)
    with client.session_transaction() as session:
        old_cookie_session = dict(session)
    response = post_form(client, "/admin/password", {"current": "correct-horse-battery-9", "new": "another-long-pass-1",
                                                     "confirm": "another-long-pass-1"})
    assert response.status_code == 302
    replay = app.test_client()
    with replay.session_transaction() as session:
        session.update(old_cookie_session)
    assert replay.get("/admin/maple/notices/").status_code == 302  # back to the login page
    assert client.get("/admin/maple/notices/").status_code == 200


# --- supervisors are not the chair's to appoint or remove ------------------------------------------------------

@pytest.mark.parametrize("leader", [Role.chair, Role.vice_chair])
@pytest.mark.parametrize("name", ["刘桂兰", "自己人"])
def test_the_committee_cannot_appoint_a_supervisor(app, compound, chair, liu, make_user, leader, name):
    """Reproduced: a chair or vice-chair posting role=supervisor (with a real supervisor's name, or any) got a
    supervisor account of their own and signed with it. Now: 403, the reason beside the field, nothing made."""
    user = chair if leader == Role.chair else make_user("vice", compound, leader)
    client = client_for(app, user)
    before = supervisor_ids(compound)
    response = post_form(client, MEMBERS, {"display_name": name, "username": "own-sup", "role": "supervisor"})
    assert response.status_code == 403
    assert "监督委员由街道任命，或按居民选举的结果产生，委员会不能自己添加或移除。" in text_of(response)
    assert supervisor_ids(compound) == before == {liu.id}
    assert db.session.scalar(select(User).where(User.username == "own-sup")) is None
    assert db.session.scalar(select(func.count()).select_from(SupervisorChange)) == 1  # liu's appointment only


def test_the_chairs_form_offers_no_supervisor_role_and_says_who_appoints(app, committee_client, staff):
    page = committee_client.get(MEMBERS).get_data(as_text=True)
    assert 'value="supervisor"' not in page and 'value="member"' in page
    assert "由街道任命" in page
    assert 'value="supervisor"' in client_for(app, staff).get(MEMBERS).get_data(as_text=True)


@pytest.mark.parametrize("leader", [Role.chair, Role.vice_chair])
def test_the_committee_cannot_remove_a_supervisor(app, compound, chair, liu, make_user, leader):
    """Reproduced: a vice-chair removed a supervisor. Now 403 for the chair and the vice-chair alike, and the
    members page offers them no button for it."""
    user = chair if leader == Role.chair else make_user("vice", compound, leader)
    client = client_for(app, user)
    membership = membership_of(liu)
    page = client.get(MEMBERS).get_data(as_text=True)
    assert f"{MEMBERS}/{membership.id}/remove" not in page
    response = post_form(client, f"{MEMBERS}/{membership.id}/remove", {}, token_from=MEMBERS)
    assert response.status_code == 403 and "您没有权限做这件事" in response.get_data(as_text=True)
    assert supervisor_ids(compound) == {liu.id}


def test_platform_staff_appoint_a_supervisor_and_residents_see_when_and_by_whom(app, compound, staff):
    client = client_for(app, staff)
    response = post_form(client, MEMBERS, {"display_name": "张德明", "username": "zhang-jd", "role": "supervisor"})
    assert response.status_code == 200
    password = re.search(r'class="password">([a-z0-9-]+)<', response.get_data(as_text=True)).group(1)
    zhang = db.session.scalar(select(User).where(User.username == "zhang-jd"))
    assert zhang.role_in(compound) == Role.supervisor and zhang.must_change_password and zhang.check_password(password)
    change = db.session.scalar(select(SupervisorChange))
    assert (change.name, change.action, change.source, change.actor_id) == ("张德明", "appoint", "platform", staff.id)
    roster = text_of(app.test_client().get(ROSTER))
    assert f"张德明 街道任命 · {today_cn()}" in roster  # the supervisory body now
    assert f"{today_cn()} 任命 张德明 · 街道任命" in roster  # and the record of its changes
    assert staff.display_name not in roster  # the public roster says 街道, not which staff member
    audit = text_of(client.get("/admin/maple/audit"))
    assert "任命监督委员" in audit and "街道任命" in audit and staff.display_name in audit
    members = text_of(client_for(app, staff).get(MEMBERS))
    assert f"街道任命（{staff.display_name}） · {today_cn()}" in members


def test_platform_staff_remove_a_supervisor_in_the_open(app, compound, chair, liu, staff):
    period = submitted_january(compound, chair)
    membership = membership_of(liu)
    client = client_for(app, staff)
    response = post_form(client, f"{MEMBERS}/{membership.id}/remove", {}, token_from=MEMBERS)
    assert response.status_code == 302
    assert supervisor_ids(compound) == set()
    roster = text_of(app.test_client().get(ROSTER))
    assert "免去 刘桂兰" in roster and "任命 刘桂兰" in roster
    # She is no longer a supervisor anywhere in the compound: no admin pages, no signature.
    former = client_for(app, db.session.get(User, liu.id))
    assert former.get("/admin/maple/ledger/").status_code == 404
    page = f"/admin/maple/ledger/periods/{period.id}"
    assert post_form(former, f"{page}/sign", {}, token_from="/admin/password").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Signoff)) == 0


def test_platform_staff_cannot_sign_without_a_membership(app, compound, chair, staff, liu):
    period = submitted_january(compound, chair)
    client = client_for(app, staff)
    page = f"/admin/maple/ledger/periods/{period.id}"
    response = post_form(client, f"{page}/sign", {}, token_from=page)
    assert response.status_code == 403 and "只有本小区的监督委员可以签字或退回" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Signoff)) == 0


def test_a_supervisor_added_before_appointments_were_recorded_is_flagged(app, compound, chair, make_user):
    legacy = make_user("old-sup", compound, Role.supervisor)
    db.session.add(RosterMember(compound_id=compound.id, name="假监督", role=Role.supervisor,
                                term_start=date(2024, 6, 1), term_end=date(2099, 5, 31)))
    db.session.commit()
    members = text_of(client_for(app, chair).get(MEMBERS))
    assert f"{legacy.display_name} 监督委员 old-sup ⚠ 没有街道任命或选举的记录" in members
    roster = text_of(app.test_client().get(ROSTER))
    assert "假监督 监督委员 ⚠ 不是街道任命或选举产生的监督委员，不能审核签字" in roster
    assert f"{legacy.display_name} ⚠ 没有街道任命或选举的记录" in roster


# --- one person, one name, one role ---------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["刘桂兰", " 刘 桂 兰 ", "劉桂蘭", "刘\u200b桂兰", "刘桂兰。", "刘\u3000桂兰"])
def test_display_names_are_unique_in_a_compound_however_they_are_written(committee_client, compound, liu, written):
    """An account named like a supervisor would make "刘桂兰 签字同意" and the audit log ambiguous: refused,
    whether typed with spaces, full-width spaces, traditional characters, a zero-width space or punctuation."""
    response = post_form(committee_client, MEMBERS, {"display_name": written, "username": "liu-two", "role": "member"})
    assert response.status_code == 400
    assert re.search(r'id="display_name-error"[^>]*>本小区已有一位“刘桂兰”', response.get_data(as_text=True))
    assert db.session.scalar(select(User).where(User.username == "liu-two")) is None


@pytest.mark.parametrize("written", ["CHAIR", "Ｃｈａｉｒ", "Chaіr", "chair "])
def test_latin_names_compare_without_case_width_or_cyrillic_look_alikes(app, compound, chair, staff, written):
    client = client_for(app, staff)
    response = post_form(client, MEMBERS, {"display_name": written, "username": "chair-sup", "role": "supervisor"})
    assert response.status_code == 400 and "本小区已有一位“Chair”" in response.get_data(as_text=True)
    assert supervisor_ids(compound) == set()


def test_the_same_name_may_serve_another_compound(app, compound, liu, make_compound, make_user):
    oak = make_compound("oak", "橡树小区")
    client = client_for(app, make_user("oak-chair", oak, Role.chair))
    response = post_form(client, "/admin/oak/members", {"display_name": "刘桂兰", "username": "liu-oak",
                                                        "role": "member"})
    assert response.status_code == 200


def test_renaming_an_account_into_a_supervisors_name_is_refused_by_the_database(compound, liu, make_user):
    """No page renames accounts; any future path (or a hand edit through the models) still meets the constraint."""
    member = make_user("m1", compound, Role.member)
    member.display_name = "劉桂蘭"
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_one_account_never_holds_a_committee_role_and_a_supervisor_seat(compound, chair, liu, staff):
    """Separation of duties: the chair cannot be seated as a supervisor, a supervisor cannot be given a second
    role in the compound (one membership per account per compound, a database constraint)."""
    with pytest.raises(AccountRefused) as refused:
        supervision.appoint(compound, staff, chair)
    assert refused.value.reason == "committee_member"
    db.session.rollback()
    db.session.add(Membership(user_id=liu.id, compound_id=compound.id, role=Role.chair))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AccountRefused) as refused:
        supervision.appoint(compound, staff, staff)
    assert refused.value.reason == "platform_account"


def test_the_record_of_appointments_is_append_only(compound, liu):
    change = db.session.scalar(select(SupervisorChange))
    change.name = "别人"
    with pytest.raises(Exception):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(SupervisorChange)))
    with pytest.raises(Exception):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(SupervisorChange.name)) == "刘桂兰"
