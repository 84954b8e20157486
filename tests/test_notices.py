"""A committee member posts notices from a phone; residents read what is current, urgent first."""
from sqlalchemy import select

from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status

from conftest import ago, ahead, login_as, post_form

NEW = "/admin/maple/notices/new"


def notice_form(**overrides):
    data = {"title": "明天停水", "body": "8点到12点停水，请储水。", "category": "notice", "action": "publish"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_member_posts_urgent_notice_and_resident_sees_it_first(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(title="普通通知"))
    response = post_form(committee_client, NEW, notice_form(title="紧急：燃气泄漏检修", urgent="y"))
    assert response.status_code == 302
    page = client.get("/maple/").get_data(as_text=True)
    assert page.index("紧急：燃气泄漏检修") < page.index("普通通知")
    assert "紧急" in page


def test_pinned_notice_comes_before_newer_ones(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(title="置顶的公示", pinned="y"))
    post_form(committee_client, NEW, notice_form(title="后发的活动"))
    page = client.get("/maple/").get_data(as_text=True)
    assert page.index("置顶的公示") < page.index("后发的活动")


def test_draft_is_not_public_until_published(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(title="草稿通知", action="draft"))
    notice = db.session.scalar(select(Notice))
    assert notice.status == Status.draft
    assert "草稿通知" not in client.get("/maple/").get_data(as_text=True)
    assert client.get(f"/maple/n/{notice.id}").status_code == 404
    post_form(committee_client, f"/admin/maple/notices/{notice.id}/publish", {}, token_from="/admin/maple/notices/")
    assert client.get(f"/maple/n/{notice.id}").status_code == 200


def test_unpublish_and_archive_take_notice_off_public_pages(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(title="要撤回的通知"))
    notice_id = db.session.scalar(select(Notice.id))
    post_form(committee_client, f"/admin/maple/notices/{notice_id}/unpublish", {}, token_from="/admin/maple/notices/")
    assert client.get(f"/maple/n/{notice_id}").status_code == 404
    post_form(committee_client, f"/admin/maple/notices/{notice_id}/publish", {}, token_from="/admin/maple/notices/")
    post_form(committee_client, f"/admin/maple/notices/{notice_id}/archive", {}, token_from="/admin/maple/notices/")
    assert client.get(f"/maple/n/{notice_id}").status_code == 404
    assert "要撤回的通知" not in client.get("/maple/").get_data(as_text=True)


def test_expired_notice_disappears_by_itself(app, client, compound, chair):
    db.session.add_all([
        Notice(compound_id=compound.id, title="已过期", category="notice", status=Status.published,
               published_at=ago(days=3), ends_at=ago(minutes=1)),
        Notice(compound_id=compound.id, title="还没开始", category="notice", status=Status.published,
               published_at=ago(days=1), starts_at=ahead(hours=2)),
        Notice(compound_id=compound.id, title="正在显示", category="notice", status=Status.published,
               published_at=ago(days=1), starts_at=ago(hours=1), ends_at=ahead(hours=1)),
    ])
    db.session.commit()
    page = client.get("/maple/").get_data(as_text=True)
    assert "正在显示" in page
    assert "已过期" not in page and "还没开始" not in page


def test_window_that_ends_before_it_starts_is_refused_next_to_field(committee_client, compound):
    response = post_form(committee_client, NEW, notice_form(starts_at="2026-12-05T10:00", ends_at="2026-12-01T10:00"))
    assert response.status_code == 400
    assert "结束时间要晚于开始时间" in response.get_data(as_text=True)
    assert db.session.scalar(select(Notice)) is None


def test_missing_title_is_explained_and_nothing_saved(committee_client, compound):
    response = post_form(committee_client, NEW, notice_form(title=""))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "请填写标题" in html
    assert "8点到12点停水" in html  # what was typed is kept
    assert db.session.scalar(select(Notice)) is None


def test_edit_changes_notice_and_audit_keeps_before_and_after(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(title="旧标题"))
    notice_id = db.session.scalar(select(Notice.id))
    edit = f"/admin/maple/notices/{notice_id}/edit"
    response = post_form(committee_client, edit, notice_form(title="新标题"))
    assert response.status_code == 302
    assert "新标题" in client.get(f"/maple/n/{notice_id}").get_data(as_text=True)
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["create", "edit"]
    assert entries[1].before["title"] == "旧标题" and entries[1].after["title"] == "新标题"


def test_markdown_renders_and_script_is_removed(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(body="**加粗**\n\n<script>alert(1)</script>\n\n[链接](javascript:alert(1))"))
    notice_id = db.session.scalar(select(Notice.id))
    html = client.get(f"/maple/n/{notice_id}").get_data(as_text=True)
    assert "<strong>加粗</strong>" in html
    assert "<script>alert" not in html
    assert "href=\"javascript:" not in html


def test_supervisor_reads_but_cannot_post(client, compound, make_user):
    supervisor = make_user("sup", compound, "supervisor")
    login_as(client, supervisor)
    assert client.get("/admin/maple/notices/").status_code == 200
    assert client.get(NEW).status_code == 403


def test_category_filter_works_as_fragment_and_page(committee_client, client, compound):
    post_form(committee_client, NEW, notice_form(title="防火提示", category="safety"))
    post_form(committee_client, NEW, notice_form(title="清扫活动", category="event"))
    page = client.get("/maple/?c=safety")
    assert "防火提示" in page.get_data(as_text=True) and "清扫活动" not in page.get_data(as_text=True)
    assert "<html" in page.get_data(as_text=True)
    fragment = client.get("/maple/?c=safety", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "防火提示" in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_audit_page_shows_who_changed_what(committee_client, compound, make_user, client):
    post_form(committee_client, NEW, notice_form(title="旧标题"))
    notice_id = db.session.scalar(select(Notice.id))
    post_form(committee_client, f"/admin/maple/notices/{notice_id}/edit", notice_form(title="新标题"))
    supervisor = make_user("sup", compound, "supervisor")
    login_as(client, supervisor)
    html = client.get("/admin/maple/audit").get_data(as_text=True)
    assert "Chair" in html  # the chair's display name
    assert "旧标题" in html and "新标题" in html
    assert html.index("新标题") < html.index("新建")  # newest first
