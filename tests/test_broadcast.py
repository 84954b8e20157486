"""Street-office staff send one urgent notice to every compound's screens and phones, and take it down."""
from sqlalchemy import select

from kiosk.extensions import db
from kiosk.notices.models import Notice, Status

from conftest import login_as, post_form


def test_broadcast_reaches_every_compound_as_urgent_and_bumps_each_pulse(client, make_compound, make_user):
    maple, pine = make_compound("maple", "枫叶小区"), make_compound("pine", "松树小区")
    versions = {c.slug: c.version for c in (maple, pine)}
    login_as(client, make_user("staff", platform_admin=True))
    response = post_form(client, "/admin/platform/broadcasts/",
                         {"title": "台风预警：今晚请关好门窗", "body": "不要外出。", "ends_at": "2099-01-01T08:00"})
    assert response.status_code == 302
    assert "2 个小区" in client.get("/admin/platform/broadcasts/").get_data(as_text=True)
    for slug in ("maple", "pine"):
        home = client.get(f"/{slug}/").get_data(as_text=True)
        assert "台风预警" in home and "紧急" in home
        pulse = client.get(f"/{slug}/pulse?v={versions[slug]}")
        assert pulse.status_code == 200 and "kiosk-area-notices" in pulse.headers["HX-Trigger"]


def test_withdrawing_a_broadcast_archives_it_everywhere(client, make_compound, make_user):
    make_compound("maple", "枫叶小区")
    make_compound("pine", "松树小区")
    login_as(client, make_user("staff", platform_admin=True))
    post_form(client, "/admin/platform/broadcasts/", {"title": "停水通知", "ends_at": "2099-01-01T08:00"})
    broadcast_id = db.session.scalar(select(Notice.broadcast_id))
    post_form(client, f"/admin/platform/broadcasts/{broadcast_id}/withdraw", {},
              token_from="/admin/platform/broadcasts/")
    assert all(n.status == Status.archived for n in db.session.scalars(select(Notice)))
    assert "停水通知" not in client.get("/pine/").get_data(as_text=True)


def test_broadcast_in_the_past_is_refused_and_nothing_sent(client, make_compound, make_user):
    make_compound("maple", "枫叶小区")
    login_as(client, make_user("staff", platform_admin=True))
    response = post_form(client, "/admin/platform/broadcasts/", {"title": "迟到的通知", "ends_at": "2001-01-01T08:00"})
    assert response.status_code == 400
    assert "结束时间要晚于现在" in response.get_data(as_text=True)
    assert db.session.scalar(select(Notice)) is None


def test_committee_member_cannot_broadcast(committee_client, compound):
    assert committee_client.get("/admin/platform/broadcasts/").status_code == 403
