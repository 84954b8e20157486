"""The committee's and supervisors' ledger pages, as they use them: record with a receipt photo, post,
reverse, close against the counted balance, sign or return, print the notice, export, answer questions,
budgets, and the district's view of who is late."""
import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
import factories
from conftest import ago, login_as, post_form
from openpyxl import load_workbook
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.consult.models import Status as TopicStatus
from kiosk.consult.models import Topic
from kiosk.extensions import db
from kiosk.households.models import Household, Occupancy
from kiosk.ledger import service
from kiosk.ledger.models import Category, Entry, Period, PeriodStatus, Receipt
from kiosk.timefmt import local_date

START = date(2026, 1, 1)
BASE = "/admin/maple/ledger"


@pytest.fixture
def ledger(app, compound, chair):
    service.open_book(compound, started_on=START)
    db.session.commit()
    return compound


def category(compound, name):
    return db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == name))


def record(compound, actor, name, fen, day=date(2026, 1, 10), post=True, **extra):
    cat = category(compound, name)
    fields = {"kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
              "description": extra.pop("description", f"{name} {day:%m-%d}"), **extra}
    entry = service.save_draft(compound, actor, None, fields)
    if post:
        service.post(compound, actor, entry)
    db.session.commit()
    return entry


def supervisors(make_user, compound, n=3):
    return [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(n)]


def client_for(app, user):
    client = app.test_client()
    login_as(client, user)
    return client


def jpeg(color=(200, 80, 40)):
    """A receipt photo, as a file to upload."""
    return io.BytesIO(factories.jpeg(color=color))


def entry_form(compound, **overrides):
    data = {"flow": "expense", "occurred_on": "2026-01-10", "category_id": str(category(compound, "管道疏通").id),
            "amount": "300.50", "description": "6 号楼化粪池清掏", "counterparty": "雨花区清洁服务部",
            "method": "bank", "topic_id": "0", "receipts_public": "y", "action": "draft"}
    data.update(overrides)
    return data


def field_errors(html, name):
    """The error sentences shown inside the field that holds the input called `name`."""
    soup = BeautifulSoup(html, "html.parser")
    control = soup.find(attrs={"name": name})
    assert control is not None, name
    box = control.find_parent(class_="field")
    return " ".join(p.get_text() for p in box.find_all(class_="error"))


def shown(client, path, action="sign"):
    """The hidden fields of the sign (or return) form on the period page: what the supervisor was shown."""
    soup = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
    form = soup.find("form", action=f"{path}/{action}")
    assert form is not None, f"no {action} form on {path}"
    return {i["name"]: i["value"] for i in form.find_all("input", type="hidden") if i["name"].startswith("seen_")}


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- recording --------------------------------------------------------------------------------------------

def test_a_bad_amount_shows_its_error_next_to_the_field_and_saves_nothing(ledger, committee_client):
    response = post_form(committee_client, f"{BASE}/entries/new", entry_form(ledger, amount="12.345"))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "两位小数" in field_errors(html, "amount")
    assert "还没有保存" in html
    assert count(Entry) == 0


@pytest.mark.parametrize("field", ["category_id", "topic_id"])
def test_a_number_too_large_in_a_choice_is_a_field_error_not_a_500(ledger, committee_client, field):
    response = post_form(committee_client, f"{BASE}/entries/new",
                         entry_form(ledger, **{field: "99999999999999999999999"}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "还没有保存" in html and "Traceback" not in html
    if field == "category_id":  # the resolution list is shown only when a decided topic has a budget
        assert field_errors(html, field)
    assert count(Entry) == 0


def test_save_and_post_numbers_the_entry_and_a_posted_entry_has_no_edit_form(ledger, committee_client, chair):
    response = post_form(committee_client, f"{BASE}/entries/new", entry_form(ledger, action="post"))
    assert response.status_code == 302
    entry = db.session.scalar(select(Entry))
    assert entry.posted and entry.number == 1 and entry.amount_fen == 30050 and entry.recorded_by == chair.id
    page = committee_client.get(f"{BASE}/entries/{entry.id}").get_data(as_text=True)
    assert "第 1 号" in page and entry.hash[:12] in page and "冲销这笔账" in page
    assert f"/entries/{entry.id}/edit" not in page
    edit = committee_client.get(f"{BASE}/entries/{entry.id}/edit")
    assert edit.status_code == 409 and 'name="amount"' not in edit.get_data(as_text=True)
    assert "只能冲销" in edit.get_data(as_text=True)
    forced = post_form(committee_client, f"{BASE}/entries/{entry.id}/edit", entry_form(ledger, amount="1.00"),
                       token_from=f"{BASE}/entries/new")
    assert forced.status_code == 409
    db.session.refresh(entry)
    assert entry.amount_fen == 30050
    deleted = post_form(committee_client, f"{BASE}/entries/{entry.id}/delete", {}, token_from=f"{BASE}/")
    assert deleted.status_code == 409 and count(Entry) == 1


def test_a_draft_can_be_edited_then_posted(ledger, committee_client):
    post_form(committee_client, f"{BASE}/entries/new", entry_form(ledger))
    draft = db.session.scalar(select(Entry))
    assert not draft.posted and draft.number is None
    assert 'value="300.50"' in committee_client.get(f"{BASE}/entries/{draft.id}/edit").get_data(as_text=True)
    response = post_form(committee_client, f"{BASE}/entries/{draft.id}/edit", entry_form(ledger, amount="¥1,200"))
    assert response.status_code == 302
    response = post_form(committee_client, f"{BASE}/entries/{draft.id}/post", {}, token_from=f"{BASE}/")
    assert response.status_code == 302
    db.session.refresh(draft)
    assert draft.posted and draft.number == 1 and draft.amount_fen == 120000


def test_kind_date_and_locked_period_are_checked_with_sentences(ledger, committee_client, chair):
    wrong_kind = post_form(committee_client, f"{BASE}/entries/new",
                           entry_form(ledger, category_id=str(category(ledger, "停车费").id)))
    assert wrong_kind.status_code == 400
    assert "收入类别" in field_errors(wrong_kind.get_data(as_text=True), "category_id")
    too_early = post_form(committee_client, f"{BASE}/entries/new", entry_form(ledger, occurred_on="2025-12-31"))
    assert "2026年1月1日" in field_errors(too_early.get_data(as_text=True), "occurred_on")
    record(ledger, chair, "停车费", 1000)
    service.submit(ledger, chair, 1000)
    db.session.commit()
    locked = post_form(committee_client, f"{BASE}/entries/new", entry_form(ledger, action="post"))
    assert locked.status_code == 400
    assert "2026年1月" in field_errors(locked.get_data(as_text=True), "occurred_on")
    assert count(Entry) == 1


def test_reversal_from_the_entry_page_and_a_second_one_is_refused(ledger, committee_client, chair):
    entry = record(ledger, chair, "维修", 88000)
    no_reason = post_form(committee_client, f"{BASE}/entries/{entry.id}/reverse", {"reason": " "},
                          token_from=f"{BASE}/entries/{entry.id}")
    assert no_reason.status_code == 400 and count(Entry) == 1
    response = post_form(committee_client, f"{BASE}/entries/{entry.id}/reverse", {"reason": "金额录错"},
                         token_from=f"{BASE}/entries/{entry.id}")
    assert response.status_code == 302
    reversal = db.session.scalar(select(Entry).where(Entry.reverses_id == entry.id))
    assert reversal.number == 2 and reversal.amount_fen == -88000 and reversal.occurred_on == local_date()
    again = post_form(committee_client, f"{BASE}/entries/{entry.id}/reverse", {"reason": "再冲一次"},
                      token_from=f"{BASE}/")
    assert again.status_code == 409
    assert "已经被第 2 号" in again.get_data(as_text=True) and count(Entry) == 2
    page = committee_client.get(f"{BASE}/entries/{entry.id}").get_data(as_text=True)
    assert "冲销这笔账" not in page and "第 2 号" in page


# --- receipts ---------------------------------------------------------------------------------------------

def test_receipt_photos_public_or_committee_only(app, ledger, committee_client, client):
    data = entry_form(ledger, action="post", receipts_public="")
    data["receipts"] = [(jpeg(), "a.jpg", "image/jpeg"), (jpeg((10, 10, 10)), "b.jpg", "image/jpeg")]
    response = post_form(committee_client, f"{BASE}/entries/new", data, content_type="multipart/form-data")
    assert response.status_code == 302
    receipts = db.session.scalars(select(Receipt)).all()
    assert len(receipts) == 2 and not any(r.public for r in receipts)
    url = f"/maple/media/{receipts[0].image.filename}"
    anonymous = app.test_client()
    assert anonymous.get(url).status_code == 404
    assert committee_client.get(url).status_code == 200
    toggled = post_form(committee_client, f"{BASE}/receipts/{receipts[0].id}/visibility", {},
                        token_from=f"{BASE}/")
    assert toggled.status_code == 302
    assert anonymous.get(url).status_code == 200
    assert anonymous.get(f"/maple/media/{receipts[1].image.filename}").status_code == 404
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "receipt_public")) is not None


def test_a_receipt_of_a_draft_is_not_public(app, ledger, committee_client):
    data = entry_form(ledger)
    data["receipts"] = [(jpeg(), "a.jpg", "image/jpeg")]
    post_form(committee_client, f"{BASE}/entries/new", data, content_type="multipart/form-data")
    receipt = db.session.scalar(select(Receipt))
    assert receipt.public
    assert app.test_client().get(f"/maple/media/{receipt.image.filename}").status_code == 404


def test_a_file_that_is_not_an_image_saves_nothing(ledger, committee_client):
    data = entry_form(ledger, action="post")
    data["receipts"] = [(jpeg(), "a.jpg", "image/jpeg"), (io.BytesIO(b"not an image"), "b.jpg", "image/jpeg")]
    response = post_form(committee_client, f"{BASE}/entries/new", data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "b.jpg" in field_errors(response.get_data(as_text=True), "receipts")
    assert count(Entry) == 0 and count(Receipt) == 0


# --- budgets ----------------------------------------------------------------------------------------------

def decided_topic(compound, chair, budget_fen=None):
    topic = Topic(compound_id=compound.id, title="端午节大礼包", status=TopicStatus.closed, opens_at=ago(days=10),
                  closes_at=ago(days=3), created_by=chair.id, result={"passed": True}, budget_fen=budget_fen)
    db.session.add(topic)
    db.session.commit()
    return topic


def test_an_overspend_is_warned_and_needs_the_confirm_checkbox(ledger, committee_client, chair):
    topic = decided_topic(ledger, chair, 900000)
    record(ledger, chair, "福利发放", 850000, topic_id=topic.id)
    data = entry_form(ledger, category_id=str(category(ledger, "福利发放").id), amount="800", topic_id=str(topic.id))
    response = post_form(committee_client, f"{BASE}/entries/new", data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "超出 ¥300.00" in html and "我知道已超出预算" in html
    assert count(Entry) == 1
    response = post_form(committee_client, f"{BASE}/entries/new", dict(data, over_budget_ok="y"))
    assert response.status_code == 302 and count(Entry) == 2


def test_the_chair_sets_a_resolutions_budget_and_sees_spent_and_left(ledger, committee_client, chair):
    topic = decided_topic(ledger, chair)
    record(ledger, chair, "福利发放", 250000, topic_id=None)
    response = post_form(committee_client, f"{BASE}/budgets/{topic.id}", {f"t{topic.id}-budget": "9,000"},
                         token_from=f"{BASE}/budgets")
    assert response.status_code == 302
    db.session.refresh(topic)
    assert topic.budget_fen == 900000
    record(ledger, chair, "福利发放", 250000, topic_id=topic.id)
    page = committee_client.get(f"{BASE}/budgets").get_data(as_text=True)
    assert "¥9,000.00" in page and "¥2,500.00" in page and "¥6,500.00" in page
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "budget")) is not None


# --- closing and signing ----------------------------------------------------------------------------------

def january(ledger, chair):
    record(ledger, chair, "停车费", 120000)
    record(ledger, chair, "场地租金", 50000, day=date(2026, 1, 31))
    record(ledger, chair, "管道疏通", 30050, day=date(2026, 1, 15))
    return 139950


def test_a_mismatch_at_close_shows_the_difference_and_creates_no_period(ledger, committee_client, chair):
    closing = january(ledger, chair)
    page = committee_client.get(f"{BASE}/periods/close").get_data(as_text=True)
    assert "2026年1月" in page and "¥1,399.50" in page and "管道疏通" in page
    response = post_form(committee_client, f"{BASE}/periods/close", {"actual": "1390.00"})
    assert response.status_code == 400
    assert "差额 ¥9.50" in field_errors(response.get_data(as_text=True), "actual")
    assert count(Period) == 0
    response = post_form(committee_client, f"{BASE}/periods/close", {"actual": "1,399.50"})
    assert response.status_code == 302
    period = db.session.scalar(select(Period))
    assert period.closing_fen == closing and period.status == PeriodStatus.submitted


def test_drafts_left_in_the_period_block_closing_with_a_sentence(ledger, committee_client, chair):
    record(ledger, chair, "停车费", 1000, post=False)
    page = committee_client.get(f"{BASE}/periods/close").get_data(as_text=True)
    assert "1 笔草稿" in page
    response = post_form(committee_client, f"{BASE}/periods/close", {"actual": "0"},
                         token_from=f"{BASE}/categories")
    assert response.status_code == 409 and "草稿" in response.get_data(as_text=True)
    assert count(Period) == 0


def test_two_of_three_supervisors_sign_on_the_page_and_the_chair_cannot(app, ledger, chair, make_user,
                                                                        committee_client):
    sups = supervisors(make_user, ledger)
    closing = january(ledger, chair)
    period = service.submit(ledger, chair, closing)
    db.session.commit()
    path = f"{BASE}/periods/{period.id}"
    chair_page = committee_client.get(path).get_data(as_text=True)
    assert "签字同意" not in chair_page
    refused = post_form(committee_client, f"{path}/sign", {}, token_from=path)
    assert refused.status_code == 403 and "只有本小区的监督委员" in refused.get_data(as_text=True)
    first = client_for(app, sups[0])
    assert "签字同意" in first.get(path).get_data(as_text=True)
    seen = shown(first, path)
    assert seen["seen_closing_fen"] == str(closing) and seen["seen_head_hash"] == period.head_hash
    assert post_form(first, f"{path}/sign", seen, token_from=path).status_code == 302
    twice = post_form(first, f"{path}/sign", seen, token_from=f"{BASE}/")
    assert twice.status_code == 409 and "已经表过态" in twice.get_data(as_text=True)
    db.session.refresh(period)
    assert period.status == PeriodStatus.submitted
    second = client_for(app, sups[1])
    assert post_form(second, f"{path}/sign", shown(second, path), token_from=path).status_code == 302
    db.session.refresh(period)
    assert period.status == PeriodStatus.published and period.published_at is not None
    page = committee_client.get(path).get_data(as_text=True)
    assert "已公示" in page and "Sup0" in page and "Sup1" in page and period.code in page


def test_the_supervisor_who_recorded_an_entry_is_refused_with_a_sentence(app, ledger, chair, make_user):
    sups = supervisors(make_user, ledger)
    record(ledger, sups[2], "停车费", 1000)
    period = service.submit(ledger, chair, 1000)
    db.session.commit()
    path = f"{BASE}/periods/{period.id}"
    recorder = client_for(app, sups[2])
    page = recorder.get(path).get_data(as_text=True)
    assert "不能审核自己经手的账" in page and f"{path}/sign" not in page
    response = post_form(recorder, f"{path}/sign", {}, token_from=f"{BASE}/")
    assert response.status_code == 403 and "不能审核自己经手的账" in response.get_data(as_text=True)
    assert not period.signoffs


def test_a_return_needs_a_reason_and_the_committee_resubmits(app, ledger, chair, make_user, committee_client):
    sups = supervisors(make_user, ledger)
    record(ledger, chair, "停车费", 1000)
    period = service.submit(ledger, chair, 1000)
    db.session.commit()
    path = f"{BASE}/periods/{period.id}"
    supervisor = client_for(app, sups[0])
    seen = shown(supervisor, path, "refuse")
    blank = post_form(supervisor, f"{path}/refuse", dict(seen, reason=""), token_from=path)
    assert blank.status_code == 400 and "退回要写明原因" in blank.get_data(as_text=True)
    assert post_form(supervisor, f"{path}/refuse", dict(seen, reason="停车费缺收据"),
                     token_from=path).status_code == 302
    db.session.refresh(period)
    assert period.status == PeriodStatus.returned
    page = committee_client.get(path).get_data(as_text=True)
    assert "停车费缺收据" in page and "重新提交" in page
    wrong = post_form(committee_client, f"{path}/resubmit", {"actual": "9.00"}, token_from=path)
    assert wrong.status_code == 400 and "差额 ¥1.00" in wrong.get_data(as_text=True)
    assert post_form(committee_client, f"{path}/resubmit", {"actual": "10"}, token_from=path).status_code == 302
    db.session.refresh(period)
    assert period.status == PeriodStatus.submitted and period.round == 2
    assert "停车费缺收据" in committee_client.get(path).get_data(as_text=True)  # earlier rounds stay visible


# --- print and exports ------------------------------------------------------------------------------------

def published_january(app, ledger, chair, make_user):
    sups = supervisors(make_user, ledger)
    closing = january(ledger, chair)
    reversed_one = record(ledger, chair, "维修", 10000, day=date(2026, 1, 20))
    service.reverse(ledger, chair, reversed_one, "重复录入", on=date(2026, 1, 21))
    db.session.commit()
    period = service.submit(ledger, chair, closing)
    service.decide(ledger, sups[0], period, True)
    service.decide(ledger, sups[1], period, True)
    db.session.commit()
    return period


def test_the_printed_notice_has_uppercase_amounts_the_code_and_signers(app, ledger, chair, make_user,
                                                                       committee_client):
    record(ledger, chair, "停车费", 1000, day=date(2026, 2, 3))
    period = published_january(app, ledger, chair, make_user)
    html = committee_client.get(f"{BASE}/periods/{period.id}/print").get_data(as_text=True)
    assert "壹仟叁佰玖拾玖元伍角" in html  # closing 1,399.50
    assert "壹仟柒佰元整" in html  # income 1,700.00
    assert "叁佰元零伍角" not in html and "叁佰元伍角" in html  # expense 300.50
    assert period.code in html and "经审核，账目清楚，同意公示" in html and "Sup0" in html
    assert "小区公共收益" in html and "<svg" in html and "未签字" not in html
    assert f"/maple/ledger/{period.id}" in html


def test_a_disclosed_period_links_the_audit_report_that_covers_it(app, ledger, chair, make_user, client):
    """Issue 15: residents reading a disclosed month see the posted audit report of that year, with its auditor;
    a month outside what the audit covers shows none."""
    from kiosk.documents import service as documents, textpdf
    from kiosk.timefmt import local_date

    period = published_january(app, ledger, chair, make_user)
    page = f"/maple/ledger/{period.id}"
    assert "审计报告" not in client.get(page).get_data(as_text=True)
    audit = documents.create_document(ledger, chair, "audit", "2026年度财务审计报告", auditor="明镜会计师事务所",
                                      covers_from=date(2026, 1, 1), covers_until=date(2026, 12, 31))
    documents.publish(ledger, chair, documents.add_version(
        ledger, chair, audit, [("audit.pdf", textpdf.build([["审计意见"]]))], local_date(),
        local_date() + timedelta(days=30)))
    db.session.commit()
    html = client.get(page).get_data(as_text=True)
    assert "2026年度财务审计报告" in html and "审计机构：明镜会计师事务所" in html
    assert f'href="/maple/docs/{audit.id}"' in html
    audit.covers_from, audit.covers_until = date(2025, 1, 1), date(2025, 12, 31)
    db.session.commit()
    assert "2026年度财务审计报告" not in client.get(page).get_data(as_text=True)


def test_an_unsigned_notice_says_so(ledger, chair, committee_client):
    record(ledger, chair, "停车费", 1000)
    period = service.submit(ledger, chair, 1000)
    db.session.commit()
    html = committee_client.get(f"{BASE}/periods/{period.id}/print").get_data(as_text=True)
    assert "未签字，仅供核对" in html and "经审核" not in html


def test_csv_and_xlsx_sum_to_the_pages_totals(app, ledger, chair, make_user, committee_client):
    cat = category(ledger, "管道疏通")
    entry = service.save_draft(ledger, chair, None, {
        "kind": "expense", "occurred_on": date(2026, 1, 5), "category_id": cat.id, "amount_fen": 5000,
        "description": "=HYPERLINK(1)", "counterparty": "张三", "counterparty_is_person": True})
    service.post(ledger, chair, entry)
    db.session.commit()
    sups = supervisors(make_user, ledger)
    closing = january(ledger, chair) - 5000
    period = service.submit(ledger, chair, closing)
    service.decide(ledger, sups[0], period, True)
    db.session.commit()
    page = committee_client.get(f"{BASE}/periods/{period.id}").get_data(as_text=True)
    assert "¥1,700.00" in page and "¥350.50" in page and "¥1,349.50" in page

    raw = committee_client.get(f"{BASE}/periods/{period.id}.csv")
    assert raw.status_code == 200 and raw.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "日期", "收支", "类别", "金额"]
    body = rows[1:rows.index([])]
    totals = {r[0]: r[4] for r in rows[rows.index([]) + 1:]}

    def fen(text):
        whole, _, cents = text.partition(".")
        sign = -1 if whole.startswith("-") else 1
        return sign * (abs(int(whole)) * 100 + int(cents or 0))

    income = sum(fen(r[4]) for r in body if r[2] == "收入")
    expense = sum(fen(r[4]) for r in body if r[2] == "支出")
    assert (income, expense) == (period.income_fen, period.expense_fen) == (170000, 35050)
    assert fen(totals["期末余额"]) == fen(totals["期初余额"]) + income - expense == period.closing_fen
    assert "张三" not in raw.data.decode("utf-8-sig") and "个人" in raw.data.decode("utf-8-sig")
    assert any(r[5] == "'=HYPERLINK(1)" for r in body)

    book = load_workbook(io.BytesIO(committee_client.get(f"{BASE}/periods/{period.id}.xlsx").data))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    entries = [r for r in values[1:] if r and isinstance(r[0], int)]
    income_x = sum(round(r[4] * 100) for r in entries if r[2] == "收入")
    expense_x = sum(round(r[4] * 100) for r in entries if r[2] == "支出")
    assert (income_x, expense_x) == (period.income_fen, period.expense_fen)
    labels = {r[0]: r[4] for r in values if r and r[0] in ("期初余额", "本期收入", "本期支出", "期末余额")}
    assert round(labels["期末余额"] * 100) == period.closing_fen
    assert sheet.cell(row=2, column=5).number_format == "#,##0.00"
    typed = next(cell for row in sheet.iter_rows() for cell in row if cell.value == "=HYPERLINK(1)")
    assert typed.data_type == "s"  # text as typed, not a live formula (the CSV escapes it with a quote)
    with zipfile.ZipFile(io.BytesIO(committee_client.get(f"{BASE}/periods/{period.id}.xlsx").data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


# --- the dashboard, questions, categories, settings -------------------------------------------------------

def ask(ledger, entry, days_ago):
    household = db.session.scalar(select(Household)) or Household(
        compound_id=ledger.id, building="3", entrance="1", room="501", area_centi=8600,
        occupancy=Occupancy.occupied)
    db.session.add(household)
    db.session.flush()
    question = service.ask(ledger, household, entry, "这笔清运费为什么比上月多？")
    question.created_at = ago(days=days_ago)
    db.session.commit()
    return question


def test_a_question_unanswered_for_ten_days_is_flagged_and_answered_on_the_page(ledger, chair, committee_client):
    entry = record(ledger, chair, "垃圾清运", 45000)
    late = ask(ledger, entry, 11)
    ask(ledger, entry, 2)
    home = committee_client.get(f"{BASE}/").get_data(as_text=True)
    assert "超过 10 天未答复" in home and "有 1 个问题超过 10 天未答复" in home and "2 个问题等待答复" in home
    page = committee_client.get(f"{BASE}/questions").get_data(as_text=True)
    assert page.count("超过 10 天未答复") == 1 and page.count("公开答复") >= 2
    response = post_form(committee_client, f"{BASE}/questions/{late.id}/answer",
                         {f"q{late.id}-answer": "本月多清运了两次，见收据。"}, token_from=f"{BASE}/questions")
    assert response.status_code == 302
    db.session.refresh(late)
    assert late.answer == "本月多清运了两次，见收据。" and late.answered_by == chair.id
    assert "有 1 个问题超过" not in committee_client.get(f"{BASE}/").get_data(as_text=True)


def test_the_dashboard_shows_balance_cadence_and_overdue(ledger, chair, committee_client):
    record(ledger, chair, "停车费", 120000)
    home = committee_client.get(f"{BASE}/").get_data(as_text=True)
    assert "¥1,200.00" in home and "逾期" in home  # January was due on 10 February and nothing is disclosed


def test_categories_add_rename_and_archive(ledger, chair, committee_client):
    assert post_form(committee_client, f"{BASE}/categories", {"flow": "income", "name": "快递柜场地费"}).status_code == 302
    added = category(ledger, "快递柜场地费")
    assert added.kind == "income"
    twice = post_form(committee_client, f"{BASE}/categories", {"flow": "income", "name": "快递柜场地费"})
    assert twice.status_code == 400 and "已经有" in twice.get_data(as_text=True)
    assert post_form(committee_client, f"{BASE}/categories/{added.id}/rename", {"name": "快递柜租金"},
                     token_from=f"{BASE}/categories").status_code == 302
    used = category(ledger, "停车费")
    record(ledger, chair, "停车费", 1000)
    refused = post_form(committee_client, f"{BASE}/categories/{used.id}/rename", {"name": "车位费"},
                        token_from=f"{BASE}/categories")
    assert refused.status_code == 409 and used.name == "停车费"
    assert post_form(committee_client, f"{BASE}/categories/{added.id}/archive", {},
                     token_from=f"{BASE}/categories").status_code == 302
    form = committee_client.get(f"{BASE}/entries/new").get_data(as_text=True)
    assert ">快递柜租金</option>" not in form and ">停车费</option>" in form


def test_settings_are_for_the_chair_and_check_the_supervisor_count(app, ledger, chair, make_user, committee_client):
    supervisors(make_user, ledger, 2)
    member = client_for(app, make_user("member1", ledger, Role.member))
    assert member.get(f"{BASE}/settings").status_code == 403
    page = committee_client.get(f"{BASE}/settings").get_data(as_text=True)
    assert "现有 2 位监督委员" in page
    data = {"opening": "5,000", "started_on": "2026-01-01", "cadence": "quarterly", "signoffs_required": "3",
            "disclosure_days": "15", "source": "小区公共收益（停车、租金）"}
    too_many = post_form(committee_client, f"{BASE}/settings", data)
    assert too_many.status_code == 400 and "不能多于 2" in too_many.get_data(as_text=True)
    assert post_form(committee_client, f"{BASE}/settings", dict(data, signoffs_required="2")).status_code == 302
    book = service.book(ledger)
    assert (book.opening_fen, book.cadence, book.signoffs_required) == (500000, "quarterly", 2)
    assert service.next_period(ledger) == (date(2026, 1, 1), date(2026, 3, 31))


def test_a_supervisor_reads_but_does_not_record(app, ledger, chair, make_user):
    supervisor = client_for(app, make_user("sup", ledger, Role.supervisor))
    home = supervisor.get(f"{BASE}/")
    assert home.status_code == 200 and "/entries/new" not in home.get_data(as_text=True)
    assert supervisor.get(f"{BASE}/entries/new").status_code == 403


# --- the district's view ----------------------------------------------------------------------------------

def test_the_district_view_lists_an_overdue_compound_first(app, ledger, chair, make_compound, make_user):
    on_time = make_compound("oak", "橡树小区")
    service.open_book(on_time, started_on=local_date().replace(day=1))
    make_compound("pine", "松树小区")  # never opened its ledger
    db.session.commit()
    staff = client_for(app, make_user("staff", platform_admin=True))
    response = staff.get("/admin/platform/ledger/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.index("枫叶小区") < html.index("橡树小区") < html.index("松树小区")
    assert "逾期" in html and "还没有开始记账" in html
    assert client_for(app, chair).get("/admin/platform/ledger/").status_code == 403
