"""The setup checklist (开通清单) ticks each step from the data alone, the street office sees every compound's
progress, and the starter kit (开通材料包) prints without issuing a single card."""
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kiosk.auth.models import Membership, Role, User
from kiosk.changes import AuditEntry
from kiosk.database import utcnow
from kiosk.households.models import CardBatch, HouseholdCard
from kiosk.notices.models import Notice
from kiosk.ledger import service as ledger
from kiosk.extensions import db
from kiosk.screen.models import Screen
from kiosk.setup import guide
from kiosk.setup.checklist import STEP_KEYS, checklist
from kiosk.timefmt import local_date

import factories
from conftest import login_as, post_form

SCREEN_FORM = {"name": "3 栋大堂", "place": "电梯口", "orientation": "portrait", "dwell_seconds": "12",
               "idle_seconds": "60", "night_start": "", "night_end": ""}


def steps_of(client, slug="maple"):
    """{step key: done} as the checklist page shows them (data-step / data-done)."""
    response = client.get(f"/admin/{slug}/setup/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return {li["data-step"]: li["data-done"] == "1" for li in soup.select("[data-step]")}


def done_keys(client):
    return {key for key, done in steps_of(client).items() if done}


def last_month():
    """The first and last day of the month before this one (local dates)."""
    end = local_date().replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def test_a_fresh_compound_is_0_of_7_and_each_step_ticks_when_its_data_appears_and_not_before(
        app, committee_client, client, compound, chair, make_user):
    steps = steps_of(committee_client)
    assert list(steps) == list(STEP_KEYS) and not any(steps.values())
    assert "已完成 0/7 项" in committee_client.get("/admin/maple/setup/").get_data(as_text=True)

    # Committee accounts through the members page, supervisors appointed by the street office on the same page.
    for i in range(3):
        post_form(committee_client, "/admin/maple/members",
                  {"display_name": f"委员{i}", "username": f"member{i}", "role": "member"})
    assert done_keys(committee_client) == set()  # 4 of 5 committee accounts, no supervisor
    post_form(committee_client, "/admin/maple/members", {"display_name": "委员3", "username": "member3",
                                                          "role": "vice_chair"})
    staff = make_user("staff", platform_admin=True)
    office = app.test_client()
    login_as(office, staff)
    for i in range(2):
        post_form(office, "/admin/maple/members", {"display_name": f"监督{i}", "username": f"sup{i}",
                                                   "role": "supervisor"})
    assert done_keys(committee_client) == set()  # 5 of 5, but 2 of 3 supervisors
    post_form(office, "/admin/maple/members", {"display_name": "监督2", "username": "sup2", "role": "supervisor"})
    assert done_keys(committee_client) == {"committee"}

    # The roll: one household added.
    for room in ("101", "102"):
        assert post_form(committee_client, "/admin/maple/households/new",
                         {"building": "1", "entrance": "", "room": room, "area": "80.5",
                          "occupancy": "owner_occupied"}).status_code == 302
    assert done_keys(committee_client) == {"committee", "roll"}

    # Cards: printed is not enough, the run must be confirmed handed out.
    sheet = post_form(committee_client, "/admin/maple/cards/print", {"which": "all"}, token_from="/admin/maple/cards/")
    assert sheet.status_code == 200
    assert "cards" not in done_keys(committee_client)
    batch = db.session.scalar(select(CardBatch).order_by(CardBatch.id.desc()))
    post_form(committee_client, f"/admin/maple/cards/batches/{batch.id}/confirm", {}, token_from="/admin/maple/cards/")
    assert "cards" in done_keys(committee_client)
    page = committee_client.get("/admin/maple/setup/").get_data(as_text=True)
    assert "有卡 2/2 户，已记录发放 0 户，其中当面核验 0 户" in page

    # A screen: registered is not enough, it must have been in contact.
    assert post_form(committee_client, "/admin/maple/screens/new", SCREEN_FORM).status_code == 302
    assert "screen" not in done_keys(committee_client)
    screen = db.session.scalar(select(Screen).order_by(Screen.id.desc()))
    client.get(f"/maple/pulse?v=0&s={screen.id}")
    assert "screen" in done_keys(committee_client)

    # The book: opened and an entry posted is not enough; its first period must be signed and published.
    start, end = last_month()
    ledger.open_book(compound, started_on=start)
    db.session.commit()
    factories.posted_entry(compound, chair, "停车费", 120000, start)
    assert "books" not in done_keys(committee_client)
    sups = db.session.scalars(select(User).join(Membership).where(Membership.role == Role.supervisor)).all()
    factories.close_and_sign(compound, chair, sups, start, end)
    assert "books" in done_keys(committee_client)

    # A notice: a draft does not count, a published one does.
    post_form(committee_client, "/admin/maple/notices/new", {"title": "欢迎", "category": "notice", "action": "draft"})
    assert "notice" not in done_keys(committee_client)
    post_form(committee_client, "/admin/maple/notices/new", {"title": "通知", "category": "notice",
                                                             "action": "publish"})
    assert "notice" in done_keys(committee_client)

    # Posters: a member says so after putting them up.
    assert "posters" not in done_keys(committee_client)
    response = post_form(committee_client, "/admin/maple/setup/posters", {}, token_from="/admin/maple/setup/")
    assert response.status_code == 302
    assert done_keys(committee_client) == set(STEP_KEYS)
    assert "已完成 7/7 项" in committee_client.get("/admin/maple/setup/").get_data(as_text=True)


def test_a_screen_silent_for_more_than_a_day_unticks_its_step(app, compound, chair):
    screen = Screen(compound_id=compound.id, name="大堂", last_seen_at=utcnow() - timedelta(hours=2))
    db.session.add(screen)
    db.session.commit()
    assert checklist(compound).steps[3].done
    screen.last_seen_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert not checklist(compound).steps[3].done


def test_a_district_broadcast_is_not_the_compounds_first_notice(app, compound, chair, make_user):
    staff = make_user("staff", platform_admin=True)
    office = app.test_client()
    login_as(office, staff)
    post_form(office, "/admin/platform/broadcasts/", {"title": "寒潮预警", "body": "", "ends_at": "2099-01-01T08:00"})
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1
    assert not checklist(compound).steps[5].done


def test_the_landing_shows_the_checklist_while_incomplete_and_one_line_when_done(committee_client, compound,
                                                                                  monkeypatch):
    page = committee_client.get("/admin/maple/notices/").get_data(as_text=True)
    assert "开通清单：已完成 0/7 项" in page and "下一步：" in page and "/admin/maple/members" in page
    from kiosk.setup import checklist as module
    monkeypatch.setattr(module.Checklist, "complete", property(lambda self: True))
    page = committee_client.get("/admin/maple/notices/").get_data(as_text=True)
    assert "开通清单：已完成" not in page and "已开通" in page


def test_the_district_page_shows_each_compounds_fraction_and_missing_steps(app, compound, chair, make_compound,
                                                                           make_user):
    other = make_compound("oak", "橡树小区")
    factories.households(other, 3)
    for i in range(5):
        make_user(f"oak{i}", other, Role.member)
    staff = make_user("staff", platform_admin=True)
    office = app.test_client()
    login_as(office, staff)
    response = office.get("/admin/platform/setup/")
    assert response.status_code == 200
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    rows = {tr["data-compound"]: tr for tr in soup.select("tr[data-compound]")}
    assert rows["maple"].select_one(".setup-fraction").get_text(strip=True) == "0/7"
    assert rows["oak"].select_one(".setup-fraction").get_text(strip=True) == "1/7"
    assert {s["data-missing"] for s in rows["oak"].select("[data-missing]")} == set(STEP_KEYS) - {"roll"}
    assert "委员会账号和监督委员" in rows["oak"].get_text()
    assert "/admin/platform/setup/" in office.get("/admin/platform/").get_data(as_text=True)


def test_another_compounds_committee_cannot_see_or_tick_this_checklist(app, compound, chair, make_compound,
                                                                       make_user):
    oak = make_compound("oak", "橡树小区")
    intruder = make_user("oakchair", oak, Role.chair)
    client = app.test_client()
    login_as(client, intruder)
    assert client.get("/admin/maple/setup/").status_code == 404
    assert client.get("/admin/maple/setup/kit").status_code == 404
    token_page = "/admin/oak/setup/"
    assert post_form(client, "/admin/maple/setup/posters", {}, token_from=token_page).status_code == 404
    assert client.get("/admin/platform/setup/").status_code == 403
    assert not checklist(compound).steps[6].done


def test_a_supervisor_reads_the_checklist_but_cannot_tick_the_posters(app, compound, make_user):
    supervisor = make_user("sup", compound, Role.supervisor)
    client = app.test_client()
    login_as(client, supervisor)
    page = client.get("/admin/maple/setup/").get_data(as_text=True)
    assert "开通清单" in page and 'action="/admin/maple/setup/posters"' not in page
    assert post_form(client, "/admin/maple/setup/posters", {}, token_from="/admin/maple/setup/").status_code == 403
    assert not checklist(compound).steps[6].done


def test_the_kit_has_the_poster_the_residents_page_and_the_manuals_sections_and_issues_no_card(
        committee_client, compound, chair):
    factories.households(compound, 3)
    response = committee_client.get("/admin/maple/setup/kit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    soup = BeautifulSoup(html, "html.parser")
    assert db.session.scalar(select(func.count()).select_from(HouseholdCard)) == 0
    assert len(soup.select(".kit-page")) == 3
    assert soup.select_one(".poster h1").get_text(strip=True) == "枫叶小区"
    residents = soup.select_one(".kit-residents").get_text()
    for use in ("扫码看公示", "投票", "问账", "领福利"):
        assert use in residents
    for title in guide.QUICK_GUIDE:
        assert title in soup.select_one(".kit-guide").get_text()
    assert "<img" not in html and "img/" not in html  # the manual's screenshots stay out of the paper guide
    assert "还有 3 户没有能用的住户卡" in html
    form = soup.select_one("form[action='/admin/maple/cards/print']")
    assert form is not None and form.select_one("input[name=which]")["value"] == "missing"
    assert all(svg.select_one("rect") for svg in soup.select(".kit-page svg"))  # opaque: zbar reads them


def test_the_kit_sends_a_waiting_print_run_to_the_cards_page_instead_of_printing_again(committee_client, compound):
    factories.households(compound, 2)
    post_form(committee_client, "/admin/maple/cards/print", {"which": "all"}, token_from="/admin/maple/cards/")
    html = committee_client.get("/admin/maple/setup/kit").get_data(as_text=True)
    assert "等待确认分发" in html and "/admin/maple/cards/print" not in html


def test_every_quick_guide_section_is_in_the_manual():
    text = guide.manual_text()
    for title in guide.QUICK_GUIDE:
        body = guide.section(text, title)
        assert body.count("\n") > 1, title
        assert not re.search(r"!\[", body)
    with pytest.raises(guide.ManualMissing):
        guide.section(text, "没有这一节")


def test_the_demo_shows_one_compound_nearly_set_up_and_one_just_begun(app):
    from kiosk.compounds.models import Compound
    from kiosk.demo import load_demo

    app.config.update(PASSWORD_ITERATIONS=1000)  # the accounts' hashing is not what this is about
    summary = load_demo()
    done = {}
    for slug in ("guixiang", "songbai"):
        compound = db.session.scalar(select(Compound).where(Compound.slug == slug))
        done[slug] = {step.key for step in checklist(compound).steps if step.done}
    assert done["guixiang"] == set(STEP_KEYS) - {"cards", "screen"}  # opening the printed screen link ticks one
    assert done["songbai"] == {"notice"}
    assert any("/admin/guixiang/setup/" in tip for tip in summary["tips"])
    load_demo()  # loading it again records the posters once
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.area == "setup")) == 1
