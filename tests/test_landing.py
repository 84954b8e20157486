"""Where people land: the household card page lists the votes open for that household; a topic page tells the
household's own phone what it chose; a supervisor with a month to sign lands on it after logging in."""
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.consult import service as consult
from kiosk.consult.models import Channel
from kiosk.extensions import db
from kiosk.households.models import Household, Occupancy
from kiosk.households.service import issue
from kiosk.ledger import service as ledger
from kiosk.ledger.models import Category
from kiosk.screen.models import Screen
from kiosk.timefmt import now_local

from conftest import PASSWORD, ago, ahead, csrf_token, post_form


def text(response):
    return " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split())


def roll(compound, n=4):
    made = [Household(compound_id=compound.id, building="2", entrance="", room=f"{101 + i}", area_centi=9000,
                      occupancy=Occupancy.occupied) for i in range(n)]
    db.session.add_all(made)
    db.session.commit()
    return made


def topic(compound, chair, title, secret=True, allow_change=True, opens=None, closes=None):
    made = consult.save_topic(compound, chair, None, {
        "title": title, "background": "", "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": secret,
        "visibility": "live", "allow_change": allow_change, "opens_at": opens or ago(hours=1),
        "closes_at": closes or ahead(days=2)}, [])
    db.session.flush()
    consult.publish(compound, chair, made, now=ago(hours=2))
    db.session.commit()
    return made


def phone_of(app, compound, chair, household):
    token = issue(compound, chair, [household])[0][1]
    db.session.commit()
    phone = app.test_client()
    assert phone.get(f"/h/{token}").status_code == 302
    return phone


def vote(phone, made, choice):
    response = phone.post(f"/maple/topics/{made.id}/vote", data={"csrf_token": csrf_token(phone, "/maple/my"),
                                                                 "choice": choice})
    assert response.status_code == 303


# --- the household card page --------------------------------------------------------------------------------

def test_the_card_page_lists_each_open_vote_of_the_household_with_whether_it_voted(app, compound, chair):
    homes = roll(compound)
    voted = topic(compound, chair, "是否更换单元门禁")
    waiting = topic(compound, chair, "是否在东侧空地增设充电桩", closes=ahead(days=1))
    final = topic(compound, chair, "是否续聘物业公司", allow_change=False)
    topic(compound, chair, "下周才开始投票的议题", opens=ahead(days=1), closes=ahead(days=9))
    phone = phone_of(app, compound, chair, homes[0])
    vote(phone, voted, "yes")
    vote(phone, final, "no")
    html = phone.get("/maple/my").get_data(as_text=True)
    page = text(phone.get("/maple/my"))
    assert "正在投票" in page
    assert page.index("是否在东侧空地增设充电桩") < page.index("是否更换单元门禁")  # closing soonest first
    section = BeautifulSoup(html, "html.parser").select_one("section.mine-votes")
    cards = {a.select_one(".title").get_text(): (a["href"], a.select_one(".tag").get_text())
             for a in section.select("a")}
    assert cards == {"是否在东侧空地增设充电桩": (f"/maple/topics/{waiting.id}#vote", "尚未投票"),
                     "是否更换单元门禁": (f"/maple/topics/{voted.id}#vote", "已投票 · 可改票"),
                     "是否续聘物业公司": (f"/maple/topics/{final.id}#vote", "已投票")}
    assert "下周才开始投票的议题" not in page


def test_the_card_page_says_so_calmly_when_nothing_is_open(app, compound, chair):
    homes = roll(compound)
    closed = topic(compound, chair, "已经截止的议题", opens=ago(days=3), closes=ago(hours=1))
    assert closed.id
    page = text(phone_of(app, compound, chair, homes[0]).get("/maple/my"))
    assert "现在没有需要您家投票的议题。" in page and "已经截止的议题" not in page


def test_a_household_off_a_topics_roll_does_not_see_it_on_its_card_page(app, compound, chair):
    homes = roll(compound)
    topic(compound, chair, "名单之前的议题")
    late = Household(compound_id=compound.id, building="9", entrance="", room="901", area_centi=9000)
    db.session.add(late)
    db.session.commit()
    assert "名单之前的议题" not in text(phone_of(app, compound, chair, late).get("/maple/my"))
    assert homes


def test_pages_without_a_card_never_show_a_households_vote_status(app, client, compound, chair):
    homes = roll(compound)
    made = topic(compound, chair, "是否更换单元门禁")
    vote(phone_of(app, compound, chair, homes[0]), made, "yes")
    for path in ("/maple/", "/maple/my", f"/maple/topics/{made.id}", "/maple/topics"):
        page = text(client.get(path))
        assert "尚未投票" not in page and "已投票 · 可改票" not in page and "您家当前的选择" not in page


# --- the topic page: this household's current choice ----------------------------------------------------------

@pytest.mark.parametrize("secret", [True, False])
def test_after_voting_the_topic_page_shows_the_households_current_choice_next_to_change(app, compound, chair,
                                                                                        secret):
    homes = roll(compound)
    made = topic(compound, chair, "是否更换单元门禁", secret=secret)
    phone = phone_of(app, compound, chair, homes[0])
    vote(phone, made, "no")
    response = phone.get(f"/maple/topics/{made.id}")
    section = " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("#vote")
                       .get_text(" ").split()).replace("： ", "：")
    assert "您家当前的选择：不同意" in section
    assert section.index("您家当前的选择") < section.index("改票")  # said before the button that changes it
    assert response.headers["Cache-Control"] == "no-store"
    vote(phone, made, "yes")
    assert "您家当前的选择：同意" in text(phone.get(f"/maple/topics/{made.id}")).replace("： ", "：")
    other = phone_of(app, compound, chair, homes[1])
    assert "您家当前的选择" not in text(other.get(f"/maple/topics/{made.id}"))


def test_the_lobby_screen_never_shows_a_households_current_choice(app, compound, chair):
    homes = roll(compound)
    made = topic(compound, chair, "是否更换单元门禁", secret=False)
    vote(phone_of(app, compound, chair, homes[0]), made, "no")
    lobby = Screen(compound_id=compound.id, name="1号楼大堂", key="lobby-key-1")
    db.session.add(lobby)
    db.session.commit()
    from kiosk.consult import kiosk_votes
    code = kiosk_votes.issue_code(compound, homes[0])
    db.session.commit()
    screen = app.test_client()
    base = f"/maple/kiosk/{lobby.key}/vote/{made.id}"
    response = screen.post(base, data={"csrf_token": csrf_token(screen, base), "code": code})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="step"' in html  # the ballot, for the household that voted
    assert "您家当前的选择" not in html and "checked" not in html


# --- a supervisor's month waiting for their signature ---------------------------------------------------------

def submitted_month(compound, chair, months_back=2):
    """A month of the ledger closed and submitted to the supervisors."""
    month = (now_local().date().replace(day=1) - timedelta(days=31 * (months_back - 1) + 1)).replace(day=1)
    ledger.open_book(compound, started_on=month)
    category = db.session.scalar(select(Category).where(Category.compound_id == compound.id,
                                                        Category.kind == "expense"))
    entry = ledger.save_draft(compound, chair, None, {
        "kind": "expense", "occurred_on": month + timedelta(days=4), "category_id": category.id, "amount_fen": 1250,
        "description": "灭蚊药", "counterparty": "药店", "counterparty_is_person": False, "method": "cash"})
    ledger.post(compound, chair, entry)
    period = ledger.submit(compound, chair, ledger.balance(compound))
    db.session.commit()
    return period


def log_in(client, username, next_path=None):
    path = "/admin/login" + (f"?next={next_path}" if next_path else "")
    return post_form(client, path, {"username": username, "password": PASSWORD}, token_from="/admin/login")


def test_a_supervisor_with_a_month_to_sign_lands_on_it_after_login(app, client, compound, chair, make_user):
    make_user("sup", compound, Role.supervisor)
    make_user("sup2", compound, Role.supervisor)
    period = submitted_month(compound, chair)
    response = log_in(client, "sup")
    assert response.headers["Location"] == f"/admin/maple/ledger/periods/{period.id}"
    assert "签字" in text(client.get(response.headers["Location"]))


def test_an_explicit_next_page_still_wins_and_nothing_waiting_means_the_usual_page(app, compound, chair,
                                                                                    make_user):
    make_user("sup", compound, Role.supervisor)
    make_user("sup2", compound, Role.supervisor)
    assert log_in(app.test_client(), "sup").headers["Location"] == "/admin/"  # nothing submitted yet
    submitted_month(compound, chair)
    asked = log_in(app.test_client(), "sup", "/admin/maple/notices/")
    assert asked.headers["Location"] == "/admin/maple/notices/"
    assert log_in(app.test_client(), "chair").headers["Location"] == "/admin/"  # the chair does not sign


def test_a_supervisor_who_signed_already_lands_as_usual(app, compound, chair, make_user):
    sup = make_user("sup", compound, Role.supervisor)
    make_user("sup2", compound, Role.supervisor)
    make_user("sup3", compound, Role.supervisor)
    period = submitted_month(compound, chair)
    ledger.decide(compound, sup, period, True)
    db.session.commit()
    assert log_in(app.test_client(), "sup").headers["Location"] == "/admin/"
    assert log_in(app.test_client(), "sup2").headers["Location"] == f"/admin/maple/ledger/periods/{period.id}"


# --- the phone home -----------------------------------------------------------------------------------------

def test_the_home_pages_main_menu_comes_before_the_notice_list(client, compound):
    html = client.get("/maple/").get_data(as_text=True)
    assert '<nav class="home-links"' in html
    assert html.index('class="home-links"') < html.index('id="notice-list"')


def test_the_demo_supervisor_lands_on_the_demo_month_waiting_for_a_signature(app):
    from kiosk.demo import load_demo
    from kiosk.ledger.models import Period, PeriodStatus

    app.config.update(PASSWORD_ITERATIONS=1000)  # the accounts' hashing is not what this is about
    printed = load_demo()
    waiting = db.session.scalar(select(Period).where(Period.status == PeriodStatus.submitted))
    client = app.test_client()
    response = post_form(client, "/admin/login", {"username": printed["supervisor"],
                                                  "password": printed["supervisor_password"]})
    assert response.headers["Location"] == f"/admin/{printed['slug']}/ledger/periods/{waiting.id}"
    # Its password is a one-time one: the month sends them to choose their own, and then back to the month.
    assert client.get(response.headers["Location"]).headers["Location"] == "/admin/password"
    chosen = post_form(client, "/admin/password", {"current": printed["supervisor_password"],
                                                   "new": "Maple-tree-2026!", "confirm": "Maple-tree-2026!"})
    assert chosen.status_code == 302, chosen.get_data(as_text=True)[-1500:]
    assert chosen.headers["Location"] == f"/admin/{printed['slug']}/ledger/periods/{waiting.id}"
