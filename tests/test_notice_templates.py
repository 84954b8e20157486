"""Notice templates (通知模板): every compound has 停水停电通知, 议事会通知 and 公示期提醒; a committee member starts a
new notice from one (without JavaScript: a GET form); the committee adds, edits and deletes its own, each audited;
the migration gives compounds that already exist the three defaults. Admin only: residents never see a template."""
import pytest
from sqlalchemy import create_engine, func, select, text

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.notices.models import Category, Notice, NoticeTemplate
from kiosk.notices.template_service import add_defaults

from conftest import login_as, make_app, pg_schema_url, post_form, require_postgres
from factories import text_of
from security_support import soup_of

DEFAULT_TITLES = {"停水停电通知", "议事会通知", "公示期提醒"}


def template(compound, title):
    return db.session.scalar(select(NoticeTemplate).where(NoticeTemplate.compound_id == compound.id,
                                                          NoticeTemplate.title == title))


def test_the_defaults_are_realistic_notices_with_blanks_to_fill(app, compound):
    assert add_defaults(compound) == 3
    db.session.commit()
    assert add_defaults(compound) == 0  # once
    water = template(compound, "停水停电通知")
    assert water.category == Category.notice and "【日期】" in water.body and "电梯" in water.body
    meeting = template(compound, "议事会通知")
    assert "协商议事会" in meeting.body and "【议题一】" in meeting.body
    assert template(compound, "公示期提醒").category == Category.disclosure


def test_a_new_notice_starts_from_a_template_without_javascript(committee_client, compound):
    """The template picker is a plain GET form: choosing 停水停电通知 opens the new-notice form already filled in;
    publishing it posts a notice that is the member's own (the template stays as it was)."""
    add_defaults(compound)
    db.session.commit()
    water = template(compound, "停水停电通知")
    page = soup_of(committee_client.get("/admin/maple/notices/new"))
    picker = page.find("select", attrs={"name": "template"}).find_parent("form")
    assert picker["method"] == "get" and picker["action"] == "/admin/maple/notices/new"
    assert {o.get_text() for o in picker.find_all("option")} >= DEFAULT_TITLES | {"不用模板"}

    filled = committee_client.get(f"/admin/maple/notices/new?template={water.id}")
    form = soup_of(filled)
    assert form.find("input", attrs={"name": "title"})["value"] == "停水停电通知"
    assert "【开始时间】" in form.find("textarea", attrs={"name": "body"}).get_text()
    assert form.find("input", attrs={"name": "category", "value": "notice"}).has_attr("checked")
    assert "已套用模板“停水停电通知”" in text_of(filled)

    body = water.body.replace("【日期】", "12月9日")
    response = post_form(committee_client, "/admin/maple/notices/new",
                         {"title": "3 栋明天停水", "body": body, "category": "notice", "action": "publish"})
    assert response.status_code == 302
    notice = db.session.scalar(select(Notice).where(Notice.compound_id == compound.id))
    assert notice.title == "3 栋明天停水" and "12月9日" in notice.body
    assert "【日期】" in template(compound, "停水停电通知").body


@pytest.mark.parametrize("wanted", ["999999", "abc", "other"])
def test_a_missing_or_foreign_template_leaves_the_form_empty_and_says_so(committee_client, compound, make_compound,
                                                                          wanted):
    """Another compound's template is as absent as a deleted one: the form stays empty, the picker says why."""
    oak = make_compound("oak", "橡树小区")
    add_defaults(oak)
    db.session.commit()
    if wanted == "other":
        wanted = str(template(oak, "议事会通知").id)
    response = committee_client.get(f"/admin/maple/notices/new?template={wanted}")
    assert response.status_code == 200
    page = soup_of(response)
    assert page.find("input", attrs={"name": "title"}).get("value", "") == ""
    assert "找不到这个模板" in page.find(id="template-error").get_text()
    assert "协商议事会" not in response.get_data(as_text=True)


def test_the_committee_adds_edits_and_deletes_its_templates_audited(committee_client, compound):
    response = post_form(committee_client, "/admin/maple/notices/templates/",
                         {"title": "垃圾分类提醒", "body": "【日期】起……", "category": "safety"})
    assert response.status_code == 302
    mine = template(compound, "垃圾分类提醒")
    assert mine.category == Category.safety
    assert "垃圾分类提醒" in text_of(committee_client.get("/admin/maple/notices/templates/"))

    response = post_form(committee_client, f"/admin/maple/notices/templates/{mine.id}",
                         {"title": "垃圾分类提醒（周末）", "body": "周六【时间】", "category": "event"})
    assert response.status_code == 302
    db.session.refresh(mine)
    assert (mine.title, mine.category) == ("垃圾分类提醒（周末）", Category.event)

    response = post_form(committee_client, f"/admin/maple/notices/templates/{mine.id}/delete", {},
                         token_from="/admin/maple/notices/templates/")
    assert response.status_code == 302
    assert template(compound, "垃圾分类提醒（周末）") is None
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.compound_id == compound.id)
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["template_create", "template_edit", "template_delete"]
    assert "删除通知模板" in text_of(committee_client.get("/admin/maple/audit"))


def test_a_duplicate_or_empty_title_is_shown_next_to_the_field_and_nothing_is_saved(committee_client, compound):
    add_defaults(compound)
    db.session.commit()
    response = post_form(committee_client, "/admin/maple/notices/templates/",
                         {"title": "议事会通知", "body": "重复", "category": "notice"})
    assert response.status_code == 400
    error = soup_of(response).find(id="title-error")
    assert error is not None and "同名的模板" in error.get_text()
    response = post_form(committee_client, "/admin/maple/notices/templates/", {"title": " ", "category": "notice"})
    assert response.status_code == 400 and "请填写模板标题" in soup_of(response).find(id="title-error").get_text()
    assert db.session.scalar(select(func.count()).select_from(NoticeTemplate)) == 3
    assert db.session.scalar(select(AuditEntry.id)) is None


def test_supervisors_may_not_use_templates_and_residents_never_see_them(client, compound, make_user):
    add_defaults(compound)
    db.session.commit()
    supervisor = make_user("sup", compound, Role.supervisor)
    login_as(client, supervisor)
    assert client.get("/admin/maple/notices/templates/").status_code == 403
    assert "通知模板" not in text_of(client.get("/admin/maple/notices/"))
    anonymous = client.application.test_client()
    assert "【开始时间】" not in anonymous.get("/maple/").get_data(as_text=True)
    assert anonymous.get("/admin/maple/notices/templates/").status_code == 302  # to the login page


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_migration_gives_every_existing_compound_the_three_defaults(tmp_path, engine):
    """A database from before notice templates: after the upgrade, each compound has the three, once."""
    from flask_migrate import upgrade

    from kiosk.cli import migrate_to_head

    if engine == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        url = pg_schema_url(require_postgres(), "migrate_templates")
    app = make_app(tmp_path, url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="0020")
        db.session.remove()
        with db.engine.begin() as conn:
            for slug in ("guixiang", "songbai"):
                conn.execute(text("INSERT INTO compound (slug, name, community, district, version, "
                                  "procedure_profile, created_at) VALUES (:s, :s, '', '', 0, 'national', "
                                  "CURRENT_TIMESTAMP)"), {"s": slug})
        migrate_to_head()
        db.session.remove()
        rows = db.session.execute(select(NoticeTemplate.compound_id, NoticeTemplate.title)).all()
        assert len(rows) == 6 and {title for _c, title in rows} == DEFAULT_TITLES
        assert all(t.created_at.tzinfo is not None for t in db.session.scalars(select(NoticeTemplate)))
        db.session.remove()
        db.engine.dispose()
    if engine == "postgresql":
        cleanup = create_engine(require_postgres())
        with cleanup.begin() as conn:
            conn.execute(text('DROP SCHEMA IF EXISTS "migrate_templates" CASCADE'))
        cleanup.dispose()


def test_the_template_pages_and_the_copy_form_speak_english(committee_client, compound, make_user):
    """Every word of the new pages has its English; the templates themselves are the compound's Chinese content."""
    from test_i18n import _leftover_chinese, _user_content

    add_defaults(compound)
    db.session.commit()
    templates = db.session.scalars(select(NoticeTemplate)).all()
    content = _user_content(compound, *[t.title for t in templates], *[t.body for t in templates])
    committee_client.get("/lang/en?next=/admin/")
    water = template(compound, "停水停电通知")
    for path in ("/admin/maple/notices/templates/", f"/admin/maple/notices/templates/{water.id}",
                 f"/admin/maple/notices/new?template={water.id}", "/admin/maple/notices/new?template=0"):
        soup = soup_of(committee_client.get(path))
        assert _leftover_chinese(soup, content) == [], path
    staff = make_user("street-staff", platform_admin=True)
    login_as(committee_client, staff)
    soup = soup_of(committee_client.get("/admin/platform/"))
    assert "Copy setup from" in soup.get_text() and _leftover_chinese(soup, content + ["/maple/"]) == []
