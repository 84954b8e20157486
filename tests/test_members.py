"""The chair manages committee accounts; a vice-chair cannot remove the chair."""
from sqlalchemy import select

from kiosk.auth.models import Membership
from kiosk.extensions import db

from conftest import login_as, post_form


def test_chair_adds_member_with_one_time_password_shown_once(committee_client, compound):
    response = post_form(committee_client, "/admin/maple/members",
                         {"display_name": "新委员", "username": "xinweiyuan", "role": "member"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "一次性密码" in html and "xinweiyuan" in html
    assert "一次性密码" not in committee_client.get("/admin/maple/members").get_data(as_text=True)


def test_vice_chair_cannot_remove_the_chair(client, compound, chair, make_user):
    vice = make_user("vice", compound, "vice_chair")
    login_as(client, vice)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == chair.id))
    response = post_form(client, f"/admin/maple/members/{membership.id}/remove", {}, token_from="/admin/maple/members")
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
