"""The ledger as residents see it: disclosed periods with every entry, no person's name, signatures and
the code, a waiting period that shows only that it waits, questions with the household card, the verify
page after an insider's edit, and the lobby slide."""
from datetime import date

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, text

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.households.service import issue
from kiosk.households.models import Household
from kiosk.ledger import evidence, service
from kiosk.ledger.models import Question
from kiosk.screen.models import Screen

from conftest import csrf_token
from test_ledger import record


def page_text(response):
    """The page's words, one space apart (a <wbr> inside an amount is not a space)."""
    html = response.get_data(as_text=True).replace("<wbr>", "")
    return " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())


@pytest.fixture
def january(app, compound, chair, make_user):
    """January 2026 recorded by the chair and signed by two of three supervisors."""
    service.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    sups = [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(3)]
    record(compound, chair, "停车费", 850000, day=date(2026, 1, 5), counterparty="小区停车管理处")
    record(compound, chair, "维修", 32000, day=date(2026, 1, 12), counterparty="王师傅", counterparty_is_person=True,
           description="更换 3 栋楼道灯")
    record(compound, chair, "垃圾清运", 150000, day=date(2026, 1, 20), counterparty="城东环卫公司")
    period = service.submit(compound, chair, 850000 - 32000 - 150000)
    db.session.commit()
    service.decide(compound, sups[0], period, True)
    service.decide(compound, sups[1], period, True)
    db.session.commit()
    return period


def test_the_period_page_shows_every_entry_the_figures_and_who_signed(client, january):
    text_ = page_text(client.get(f"/maple/ledger/{january.id}"))
    assert "¥8,500.00" in text_ and "¥1,820.00" in text_ and "¥6,680.00" in text_
    assert "更换 3 栋楼道灯" in text_ and "城东环卫公司" in text_
    assert "王师傅" not in text_  # a person paid by the compound is never named publicly
    assert "对方：个人" in text_.replace(" ", "")
    assert text_.count("签字同意") == 2 and january.code in text_
    assert "不一致" not in text_


def test_the_ledger_home_summarises_the_latest_period_and_the_next_due(client, january):
    text_ = page_text(client.get("/maple/ledger/"))
    assert "本期收入 ¥8,500.00" in text_ and "本期支出 ¥1,820.00" in text_
    assert "垃圾清运 ¥1,500.00" in text_  # spending by category
    assert "2026年2月1日 至 2026年2月28日" in text_  # the next period


def test_a_period_waiting_for_signatures_does_not_show_its_entries(app, client, compound, chair, make_user):
    service.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    record(compound, chair, "停车费", 1000, day=date(2026, 1, 5), description="一月停车")
    period = service.submit(compound, chair, 1000)
    db.session.commit()
    text_ = page_text(client.get(f"/maple/ledger/{period.id}"))
    assert "还没有公示" in text_ and "待监督委员签字" in text_ and "一月停车" not in text_


def test_a_household_asks_about_an_entry_and_sees_the_public_answer(app, client, compound, chair, january):
    home = Household(compound_id=compound.id, building="3", entrance="", room="502", area_centi=8800)
    db.session.add(home)
    token = issue(compound, chair, [home])[0][1]
    db.session.commit()
    phone = app.test_client()
    phone.get(f"/h/{token}")
    refused = client.post("/maple/ledger/entries/2/ask", data={"csrf_token": csrf_token(client), "body": "为什么"})
    assert refused.status_code == 403
    phone.post("/maple/ledger/entries/2/ask", data={"csrf_token": csrf_token(phone), "body": "换一个灯要 320 元吗？"})
    question = db.session.scalar(select(Question))
    assert question.household_id == home.id
    service.answer(compound, chair, question, "含两盏灯和人工。")
    db.session.commit()
    text_ = page_text(client.get("/maple/ledger/entries/2"))
    assert "换一个灯要 320 元吗？" in text_ and "含两盏灯和人工。" in text_ and "3栋502" not in text_
    assert "叁佰贰拾元整" in text_


def test_an_insiders_edit_shows_on_the_verify_page_and_the_period_page(app, client, january):
    assert "全部 3 笔记录都与入账时一致" in page_text(client.get("/maple/ledger/verify"))
    db.session.rollback()
    with db.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER ledger_entry_posted_no_update"))
        else:
            connection.execute(text("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_posted_fixed"))
        connection.execute(text("UPDATE ledger_entry SET amount_fen = 12000 WHERE number = 2"))
        if connection.dialect.name == "postgresql":  # the schema outlives this test: protect it again
            connection.execute(text("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_posted_fixed"))
    verify = page_text(client.get("/maple/ledger/verify"))
    assert "第 2 号记录与入账时不一致" in verify
    period = page_text(client.get(f"/maple/ledger/{january.id}"))
    assert "这一期的账目与监督委员签字公示时不一致" in period and "这一笔与签字时的记录不一致" in period
    assert "不一致的记录：第 2 号" in period
    code = page_text(client.get(f"/maple/ledger/verify?code={january.code}"))
    assert "现在的记录与之不一致" in code


def test_a_printed_code_checks_out_on_the_verify_page(client, january):
    text_ = page_text(client.get(f"/maple/ledger/verify?code={january.code.lower()}"))
    assert "与现在的记录一致" in text_
    assert "没有找到" in page_text(client.get("/maple/ledger/verify?code=ABCDEF"))


@pytest.mark.parametrize("code", ["%", "%%", "_", "____________", "%25", "' OR 1=1 --", "ABC%"])
def test_sql_wildcards_are_not_a_code(client, january, code):
    """`LIKE` would take % and _ as wildcards: a code is hex digits, anything else matches nothing."""
    text_ = page_text(client.get("/maple/ledger/verify", query_string={"code": code}))
    assert "没有找到核对码" in text_ and "与现在的记录一致" not in text_


def test_the_lobby_screen_shows_the_latest_disclosure(client, compound, january):
    screen = Screen(compound_id=compound.id, name="大厅", key="lobby-key-123")
    db.session.add(screen)
    db.session.commit()
    loop = page_text(client.get(f"/maple/screen/{screen.key}"))
    assert "本期收入 ¥8,500.00" in loop and "结余 ¥6,680.00" in loop and january.code in loop


def test_the_verify_page_reuses_its_check_until_the_ledger_changes(app, client, compound, chair, january):
    """Recomputing 100,000 hashes per visit would let a few scans block the server: the check is cached
    per compound, and a new entry (a new version) starts a fresh one."""
    app.config["VERIFY_CACHE_SECONDS"] = 300
    calls = []
    real = evidence.check
    evidence.check = lambda c: calls.append(c.id) or real(c)
    try:
        for _ in range(3):
            assert "全部 3 笔记录" in page_text(client.get("/maple/ledger/verify"))
        assert len(calls) == 1
        record(compound, chair, "停车费", 500, day=date(2026, 2, 3))  # posting checks afresh, never cached
        calls.clear()
        assert "全部 4 笔记录" in page_text(client.get("/maple/ledger/verify"))
        assert len(calls) == 1
    finally:
        evidence.check = real
