"""Several books per compound (issue 15): public income, the maintenance fund and working funds each number,
chain, close and sign on their own; transfers between them are one action that can't be half-posted; old links
keep meaning the public income book; residents see the books side by side, the lobby one slide per book."""
from datetime import date

import pytest
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.ledger import chain, evidence, service
from kiosk.ledger.models import Category, Entry, PeriodStatus, Transfer
from kiosk.ledger.service import book_transfers as transfer_service

from conftest import login_as, post_form

START = date(2026, 1, 1)
FUND = "maintenance_fund"


@pytest.fixture
def books(app, compound, chair):
    service.open_book(compound, started_on=START)
    with service.using_book(FUND):
        service.open_book(compound, started_on=START)
    db.session.commit()
    return compound


def record(compound, actor, name, fen, day, book="public_income", **extra):
    with service.using_book(book):
        current = service.book(compound)
        cat = db.session.scalar(select(Category).where(Category.book_id == current.id, Category.name == name))
        entry = service.save_draft(compound, actor, None, {
            "kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
            "description": f"{name} {day:%m-%d}", **extra})
        service.post(compound, actor, entry)
    db.session.commit()
    return entry


def test_each_book_numbers_and_chains_its_own_entries(books, chair):
    parking = record(books, chair, "停车费", 120000, date(2026, 1, 5))
    deposit = record(books, chair, "业主续筹", 500000, date(2026, 1, 6), book=FUND)
    rent = record(books, chair, "场地租金", 30000, date(2026, 1, 7))
    assert (parking.number, deposit.number, rent.number) == (1, 1, 2)
    assert deposit.prev_hash == chain.GENESIS and rent.prev_hash == parking.hash
    # The fund's entry says which book it is in; a public income entry seals exactly what it did before.
    assert chain.fields_of(deposit)["book"] == FUND and "book" not in chain.fields_of(parking)
    assert service.balance(books) == 150000
    with service.using_book(FUND):
        assert service.balance(books) == 500000
        assert evidence.check(books).ok and evidence.check(books).head_number == 1
    assert evidence.check(books).ok and evidence.check(books).head_number == 2


def test_each_book_closes_and_is_signed_on_its_own_cadence(books, chair, make_user):
    sups = [make_user(f"sup{i}", books, role=Role.supervisor) for i in range(2)]
    record(books, chair, "业主续筹", 500000, date(2026, 2, 6), book=FUND)
    with service.using_book(FUND):
        assert service.book(books).cadence == "half_yearly"
        assert service.next_period(books) == (date(2026, 1, 1), date(2026, 6, 30))
        period = service.submit(books, chair, 500000)
        for sup in sups:
            service.decide(books, sup, period, True)
        db.session.commit()
        assert period.status == PeriodStatus.published and period.head_number == 1
    assert service.periods(books) == []  # public income has closed nothing
    assert service.next_period(books) == (date(2026, 1, 1), date(2026, 1, 31))


def test_a_transfer_posts_both_sides_with_one_number_and_seals_it(books, chair):
    record(books, chair, "停车费", 900000, date(2026, 3, 2))
    found = service.transfer(books, chair, "public_income", FUND, 600000, date(2026, 3, 31), "一季度公共收益转入")
    db.session.commit()
    sent, received = found.from_entry, found.to_entry
    label = "转账 第1号 · 公共收益 → 专项维修资金"
    assert sent.description.startswith(label) and received.description.startswith(label)
    assert (sent.kind, received.kind, sent.amount_fen, received.amount_fen) == ("expense", "income", 600000, 600000)
    assert (sent.posted, received.posted, sent.number, received.number) == (True, True, 2, 1)
    assert chain.fields_of(sent)["transfer"] == 1 and chain.fields_of(received)["transfer"] == 1
    assert service.balance(books) == 300000
    with service.using_book(FUND):
        assert service.balance(books) == 600000
        assert evidence.check(books).ok
    assert evidence.check(books).ok


def test_a_transfer_failing_between_its_two_sides_leaves_neither(books, chair, monkeypatch):
    record(books, chair, "停车费", 900000, date(2026, 3, 2))

    def power_cut():
        raise RuntimeError("the server died between the two sides")

    monkeypatch.setattr(transfer_service, "_between_sides", power_cut)
    with pytest.raises(RuntimeError):
        service.transfer(books, chair, "public_income", FUND, 600000, date(2026, 3, 31), "一季度")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 1
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0
    assert service.balance(books) == 900000


def test_the_database_refuses_a_transfer_whose_sides_disagree(books, chair):
    income = record(books, chair, "停车费", 900000, date(2026, 3, 2))
    fund_side = record(books, chair, "业主续筹", 500000, date(2026, 3, 2), book=FUND)
    with pytest.raises(Exception):  # one income and another income, of different amounts
        db.session.add(Transfer(compound_id=books.id, number=1, from_entry_id=income.id, to_entry_id=fund_side.id,
                                amount_fen=500000, created_by=chair.id))
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0


def test_a_transfer_is_reversed_only_as_a_pair(books, chair):
    record(books, chair, "停车费", 900000, date(2026, 3, 2))
    found = service.transfer(books, chair, "public_income", FUND, 600000, date(2026, 3, 31), "一季度")
    db.session.commit()
    with pytest.raises(service.LedgerRefused) as refused:
        service.reverse(books, chair, found.from_entry, "只冲一边")
    assert refused.value.reason == "transfer_side"
    db.session.rollback()
    reversals = service.reverse_transfer(books, chair, found, "金额错了")
    db.session.commit()
    assert [r.amount_fen for r in reversals] == [-600000, -600000]
    assert service.balance(books) == 900000
    with service.using_book(FUND):
        assert service.balance(books) == 0


def test_a_transfer_refuses_more_than_the_source_holds_and_the_same_book(books, chair):
    record(books, chair, "停车费", 100000, date(2026, 3, 2))
    with pytest.raises(service.FieldsRefused) as refused:
        service.transfer(books, chair, "public_income", "public_income", 200000, date(2026, 3, 31), "")
    assert set(refused.value.problems) == {"to_book", "amount", "purpose"}
    db.session.rollback()
    record(books, chair, "业主续筹", 500000, date(2026, 3, 2), book=FUND)
    with pytest.raises(service.FieldsRefused) as refused:  # the owners' fund is not the committee's to move
        service.transfer(books, chair, FUND, "public_income", 100000, date(2026, 3, 31), "借用")
    assert refused.value.problems["from_book"].reason == "fund_out"


def test_the_committee_switches_books_and_transfers_from_the_phone(client, books, chair):
    record(books, chair, "停车费", 900000, date(2026, 3, 2))
    login_as(client, chair)
    page = client.get("/admin/maple/ledger/?book=maintenance_fund").get_data(as_text=True)
    assert "专项维修资金" in page and "每半年公示" in page
    response = post_form(client, "/admin/maple/ledger/transfers", {
        "from_book": "public_income", "to_book": FUND, "amount": "4,500.00", "occurred_on": "2026-03-31",
        "purpose": "一季度公共收益过半转入"})
    assert response.status_code == 302
    listing = client.get("/admin/maple/ledger/transfers").get_data(as_text=True)
    assert "转账 第1号" in listing and "¥4,500.00" in listing
    refused = post_form(client, "/admin/maple/ledger/transfers", {
        "from_book": "public_income", "to_book": FUND, "amount": "99,999.00", "occurred_on": "2026-03-31",
        "purpose": "太多"})
    assert refused.status_code == 400 and "不够转" in refused.get_data(as_text=True)


def test_recording_spending_starts_on_a_spending_category_in_every_book(client, books, chair):
    """"记一笔支出" in the maintenance fund opened on 业主续筹, an income category, so a committee member who only
    typed the amount was told the category contradicts the flow; each book's form starts on its own kind."""
    from bs4 import BeautifulSoup

    login_as(client, chair)
    for book, flow, wanted in (("maintenance_fund", "expense", "expense"), ("maintenance_fund", "income", "income"),
                               ("public_income", "expense", "expense")):
        page = BeautifulSoup(client.get(f"/admin/maple/ledger/entries/new?flow={flow}&book={book}").data,
                             "html.parser")
        chosen = page.select_one("select[name=category_id] option[selected]")
        assert chosen is not None, (book, flow)
        label = chosen.find_parent("optgroup")["label"]
        assert label == {"income": "收入", "expense": "支出"}[wanted], (book, flow, chosen.text, label)


def test_residents_see_the_books_side_by_side_and_old_links_keep_working(client, books, chair, make_user):
    sups = [make_user(f"sup{i}", books, role=Role.supervisor) for i in range(2)]
    record(books, chair, "停车费", 900000, date(2026, 1, 2))
    january = service.submit(books, chair, 900000)
    for sup in sups:
        service.decide(books, sup, january, True)
    found = service.transfer(books, chair, "public_income", FUND, 500000, date(2026, 2, 2), "转入维修资金")
    db.session.commit()
    home = client.get("/maple/ledger/").get_data(as_text=True)
    assert "公共收益收支公示" in home and "专项维修资金 · 每半年公示 · 下次 2026年7月" in home
    assert client.get(f"/maple/ledger/{january.id}").status_code == 200  # a printed QR's link, no book named
    assert client.get("/maple/ledger/entries/1").status_code == 200
    fund_entry = client.get(f"/maple/ledger/entries/{found.to_entry.number}?book={FUND}").get_data(as_text=True)
    assert "转账 第1号" in fund_entry and "book=public_income" in fund_entry  # links to its other side
    fund_home = client.get(f"/maple/ledger/?book={FUND}").get_data(as_text=True)
    assert "专项维修资金收支公示" in fund_home
    # A phone remembers each book's chain head apart (a fund head is no "deleted" public income entry).
    assert 'data-compound="maple:maintenance_fund"' in fund_home and "head.json?book=maintenance_fund" in fund_home
    assert 'data-compound="maple"' in home


def test_the_lobby_shows_one_slide_per_book(app, books, chair, make_user):
    from kiosk.ledger import slides

    sups = [make_user(f"sup{i}", books, role=Role.supervisor) for i in range(2)]
    record(books, chair, "停车费", 900000, date(2026, 1, 2))
    record(books, chair, "业主续筹", 500000, date(2026, 1, 3), book=FUND)
    for book, end in (("public_income", 900000), (FUND, 500000)):
        with service.using_book(book):
            period = service.submit(books, chair, end)
            for sup in sups:
                service.decide(books, sup, period, True)
    db.session.commit()
    from flask import g, render_template

    with app.test_request_context():
        g.compound = books
        found = slides.slides(books, None)
        shown = render_template("ledger/_slide.html", slide=found[1])
    assert [s.context["book"].kind for s in found] == ["public_income", FUND]
    assert found[1].context["cadence"].next_start == date(2026, 7, 1)
    assert "专项维修资金" in shown and "专项维修资金 · 每半年公示 · 下次 2027年1月" in shown and "¥5,000.00" in shown


# --- the maintenance fund: buildings, decided resolutions, statements ---------------------------------------

def lift_topic(compound, chair, rule="ordinary", passed=True, buildings=("3",), title="3栋电梯维修"):
    from datetime import timedelta

    from kiosk.consult.models import Topic
    from kiosk.database import utcnow

    topic = Topic(compound_id=compound.id, title=title, kind="yesno", rule=rule, status="closed",
                  opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() - timedelta(days=5),
                  created_by=chair.id, result={"passed": passed}, scope_buildings=list(buildings) or None)
    db.session.add(topic)
    db.session.commit()
    return topic


@pytest.fixture
def fund(books, chair):
    from factories import households

    households(books, 6, building=lambda i: ["3", "5", "10"][i % 3])
    record(books, chair, "业主续筹", 800000, date(2026, 1, 6), book=FUND, building="3")
    record(books, chair, "业主续筹", 600000, date(2026, 1, 6), book=FUND, building="5")
    return books


def spend(compound, chair, fen, **extra):
    with service.using_book(FUND):
        cat = db.session.scalar(select(Category).where(Category.book_id == service.book(compound).id,
                                                       Category.name == "电梯维修"))
        return service.save_draft(compound, chair, None, {"kind": "expense", "occurred_on": date(2026, 2, 3),
                                                          "category_id": cat.id, "amount_fen": fen,
                                                          "description": "3栋电梯主板更换", **extra})


def test_spending_the_fund_needs_a_decided_statutory_resolution(fund, chair):
    with pytest.raises(service.FieldsRefused) as refused:
        spend(fund, chair, 300000, building="3")
    assert refused.value.problems["topic_id"].reason == "fund_topic"
    db.session.rollback()
    survey = lift_topic(fund, chair, rule="informal", title="问卷")  # an opinion survey decides nothing
    failed = lift_topic(fund, chair, passed=False, title="没通过的")
    for topic in (survey, failed):
        with pytest.raises(service.FieldsRefused):
            spend(fund, chair, 300000, building="3", topic_id=topic.id)
        db.session.rollback()
    decided = lift_topic(fund, chair)
    entry = spend(fund, chair, 300000, building="3", topic_id=decided.id)
    with service.using_book(FUND):
        service.post(fund, chair, entry)
    db.session.commit()
    assert chain.fields_of(entry)["building"] == "3"
    with pytest.raises(service.FieldsRefused) as refused:  # money in may name a resolution, but a real one
        record(fund, chair, "业主续筹", 1000, date(2026, 2, 4), book=FUND, building="3", topic_id=survey.id)
    assert refused.value.problems["topic_id"].reason == "no_topic"


def test_a_one_building_resolution_pays_for_that_building_only(fund, chair):
    decided = lift_topic(fund, chair)
    for building in ("5", None):
        with pytest.raises(service.FieldsRefused) as refused:
            spend(fund, chair, 300000, building=building, topic_id=decided.id)
        assert refused.value.problems["building"].reason == "fund_building"
        db.session.rollback()
    with pytest.raises(service.FieldsRefused) as refused:
        spend(fund, chair, 300000, building="99", topic_id=decided.id)  # not on the roll
    assert refused.value.problems["building"].reason == "no_building"


def test_the_committee_sees_the_sentence_next_to_the_topic_field(client, fund, chair):
    login_as(client, chair)
    with service.using_book(FUND):
        cat = db.session.scalar(select(Category).where(Category.book_id == service.book(fund).id,
                                                       Category.name == "电梯维修"))
    response = post_form(client, f"/admin/maple/ledger/entries/new?book={FUND}", {
        "occurred_on": "2026-02-03", "flow": "expense", "category_id": str(cat.id), "amount": "3000",
        "description": "电梯", "method": "bank", "topic_id": "0", "building": "3"})
    assert response.status_code == 400
    assert "动用专项维修资金须经业主共同决定，请选择已表决通过的议题。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Entry).where(Entry.posted.is_(False))) == 0


def test_each_buildings_balance_and_statement(client, fund, chair, make_user):
    sups = [make_user(f"sup{i}", fund, role=Role.supervisor) for i in range(2)]
    decided = lift_topic(fund, chair)
    entry = spend(fund, chair, 300000, building="3", topic_id=decided.id)
    with service.using_book(FUND):
        service.post(fund, chair, entry)
        lines = {line.building: line.balance for line in service.building_lines(fund)}
        assert lines == {"3": 500000, "5": 600000, "10": 0, None: 0}
        period = service.submit(fund, chair, 1100000)
        for sup in sups:
            service.decide(fund, sup, period, True)
    db.session.commit()
    page = client.get(f"/maple/ledger/?book={FUND}").get_data(as_text=True)
    assert "各楼栋维修资金" in page and "全小区共用部分" in page and "没有按面积分摊" in page
    statement = client.get("/maple/ledger/buildings/3").get_data(as_text=True)
    assert "3栋电梯维修" in statement and "¥5,000.00" in statement and "¥8,000.00" in statement
    assert client.get("/maple/ledger/buildings/99").status_code == 404
    login_as(client, chair)
    csv = client.get(f"/admin/maple/ledger/buildings/3.csv?book={FUND}").get_data(as_text=True)
    assert "支出,电梯维修,3000.00,3栋电梯主板更换,,3栋电梯维修" in csv  # the spending and the vote behind it
    assert "3000.00" in csv and "8000.00" in csv and "5000.00" in csv  # spent, deposited, left
    assert client.get(f"/admin/maple/ledger/buildings/3/print?book={FUND}").status_code == 200
    assert client.get("/admin/maple/ledger/buildings/3.csv").status_code == 200  # the fund's, whatever the book
    assert client.get("/admin/maple/ledger/buildings/99.csv").status_code == 404


def test_the_district_sees_each_books_disclosures_and_the_late_one_in_red(app, client, make_compound, make_user):
    from kiosk.timefmt import local_date

    late = make_compound("oak", "橡树小区")
    service.open_book(late, started_on=local_date().replace(day=1))  # public income: nothing due yet
    with service.using_book(FUND):
        service.open_book(late, started_on=date(2025, 7, 1))  # its first half-year was due by 2026-01-10
    db.session.commit()
    login_as(client, make_user("staff", platform_admin=True))
    html = client.get("/admin/platform/ledger/").get_data(as_text=True)
    row = html[html.index("橡树小区"):]
    row = row[:row.index("</tr>")]
    assert "公共收益" in row and "专项维修资金</strong>（每半年）：2025年下半年" in row
    assert '<strong class="ledger-late">逾期（应在 2026年1月10日 前）' in row
    assert 'class="ledger-overdue"' in html[:html.index("橡树小区")].rsplit("<tr", 1)[1]
    assert "文件公示" in html and "缺：管理规约、议事规则" in row  # issue 15's documents, in the same row


def test_kiosk_verify_names_a_transfer_whose_sides_were_changed_behind_the_apps_back(app, books, chair):
    from ledger_tamper import tamper
    from sqlalchemy import text

    record(books, chair, "停车费", 900000, date(2026, 3, 2))
    found = service.transfer(books, chair, "public_income", FUND, 600000, date(2026, 3, 31), "一季度")
    db.session.commit()
    assert service.broken_transfers(books) == []
    received = found.to_entry_id
    tamper(lambda connection: connection.execute(text("UPDATE ledger_entry SET amount_fen = 60000 WHERE id = :id"),
                                                 {"id": received}))
    assert [t.number for t in service.broken_transfers(books)] == [1]
    result = app.test_cli_runner().invoke(args=["verify", "maple"])
    assert result.exit_code == 1
    assert "maple: MISMATCH: transfer #1's two sides no longer agree" in result.output
    assert "maple/maintenance_fund: MISMATCH" in result.output  # and the fund's chain shows the edit itself


def test_a_printed_code_of_the_fund_is_checked_against_the_funds_own_chain(client, books, chair, make_user):
    from ledger_tamper import set_entry, tamper

    sups = [make_user(f"sup{i}", books, role=Role.supervisor) for i in range(2)]
    record(books, chair, "业主续筹", 500000, date(2026, 1, 6), book=FUND)
    with service.using_book(FUND):
        half = service.submit(books, chair, 500000)
        for sup in sups:
            service.decide(books, sup, half, True)
    db.session.commit()
    code = half.code
    ok = client.get(f"/maple/ledger/verify?code={code}").get_data(as_text=True)
    tamper(set_entry(1, description="改过"))  # only the fund has an entry numbered 1
    changed = client.get(f"/maple/ledger/verify?code={code}").get_data(as_text=True)
    assert "现在的记录与之不一致" not in ok and "现在的记录与之不一致" in changed


def test_the_chair_names_a_book_and_residents_see_the_name(client, books, chair):
    login_as(client, chair)
    response = post_form(client, f"/admin/maple/ledger/settings?book={FUND}", {
        "opening": "0", "started_on": "2026-01-01", "cadence": "half_yearly", "signoffs_required": "2",
        "disclosure_days": "15", "source": "专项维修资金", "book_name": "住宅专项维修资金"})
    assert response.status_code == 302
    assert "住宅专项维修资金 · 每半年公示" in client.get("/maple/ledger/").get_data(as_text=True)
    assert service.book(books).name == "公共收益"  # the other books keep theirs
