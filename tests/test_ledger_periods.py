"""Periods can't be signed with stale figures (issue 11, item 5) and the number of signatures is fixed per period
(item 2, ledger part), as the committee and the supervisors meet them on their pages."""
from datetime import date

import pytest
from bs4 import BeautifulSoup
from conftest import login_as, post_form
from factories import text_of
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.ledger import service
from kiosk.ledger.models import Category, Entry, Period, PeriodStatus, Signoff
from kiosk.timefmt import local_date

from ledger_tamper import set_entry, tamper

DECEMBER, JANUARY = date(2025, 12, 1), date(2026, 1, 1)
BASE = "/admin/maple/ledger"


@pytest.fixture
def ledger(app, compound, chair):
    service.open_book(compound, started_on=DECEMBER)
    db.session.commit()
    return compound


@pytest.fixture
def sups(ledger, make_user):
    return [make_user(f"sup{i}", ledger, role=Role.supervisor) for i in range(3)]


def record(compound, actor, name, fen, day):
    cat = db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == name))
    entry = service.save_draft(compound, actor, None, {"kind": cat.kind, "occurred_on": day, "category_id": cat.id,
                                                       "amount_fen": fen, "description": f"{name} {day:%m-%d}"})
    service.post(compound, actor, entry)
    db.session.commit()
    return entry


def close(compound, chair, period=None, start=None, end=None):
    """Submit the next period (or resubmit `period`) with the counted balance equal to the books."""
    start, end = (period.starts_on, period.ends_on) if period else (start, end)
    submitted = service.submit(compound, chair, service.figures(compound, start, end).closing, period)
    db.session.commit()
    return submitted


def client_for(app, user):
    client = app.test_client()
    login_as(client, user)
    return client


def shown(client, path, action="sign"):
    soup = BeautifulSoup(client.get(path).get_data(as_text=True), "html.parser")
    form = soup.find("form", action=f"{path}/{action}")
    assert form is not None, f"no {action} form on {path}"
    return {i["name"]: i["value"] for i in form.find_all("input", type="hidden") if i["name"].startswith("seen_")}


def test_a_back_dated_expense_sends_the_later_period_back_and_it_publishes_with_the_new_opening(
        app, ledger, chair, sups, committee_client):
    """The reproduction: December and January submitted; December returned; a ¥5,000 expense posted back into
    December and December resubmitted. January must not publish on the old opening, and February's close must
    not accept a balance the entries contradict."""
    record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    record(ledger, chair, "停车费", 910000, date(2026, 1, 3))
    record(ledger, chair, "垃圾清运", 150000, date(2026, 1, 26))
    december = close(ledger, chair, start=DECEMBER, end=date(2025, 12, 31))
    january = close(ledger, chair, start=JANUARY, end=date(2026, 1, 31))
    assert january.opening_fen == 900000
    service.decide(ledger, sups[0], december, False, "漏记了 12 月的化粪池清掏")
    db.session.commit()
    late = record(ledger, chair, "管道疏通", 500000, date(2025, 12, 20))  # back-dated into the returned December

    db.session.refresh(january)
    assert january.status == PeriodStatus.returned and january.returned_entry == late.number
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auto_return"))
    assert audit is not None and audit.object_id == january.id and audit.after["entry"] == late.number
    page = text_of(committee_client.get(f"{BASE}/periods/{january.id}"))
    assert f"自动退回：第 {late.number} 号（2025年12月20日）记入了更早的一期" in page
    assert "自动退回" in text_of(committee_client.get(f"{BASE}/"))
    public = text_of(app.test_client().get(f"/maple/ledger/{january.id}"))
    assert "已自动退回委员会重新核对" in public

    december = close(ledger, chair, december)
    assert december.closing_fen == 400000
    with pytest.raises(service.LedgerRefused) as not_yet:  # January waits for December, resubmitted or not
        service.may_sign(ledger, sups[1], close(ledger, chair, january))
    assert not_yet.value.reason == "earlier_unpublished"
    assert january.opening_fen == 400000 and january.closing_fen == 400000 + 910000 - 150000
    for sup in sups[1:]:
        service.decide(ledger, sup, december, True)
    db.session.commit()
    for sup in sups[:2]:
        service.decide(ledger, sup, january, True)
    db.session.commit()
    assert (december.status, january.status) == (PeriodStatus.published, PeriodStatus.published)
    assert january.opening_fen == december.closing_fen
    february = service.figures(ledger, date(2026, 2, 1), date(2026, 2, 28))
    assert february.opening == service.opening_from_entries(ledger, date(2026, 2, 1)) == january.closing_fen


def test_a_later_period_is_not_signed_before_the_earlier_one_is_published(app, ledger, chair, sups):
    record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    december = close(ledger, chair, start=DECEMBER, end=date(2025, 12, 31))
    january = close(ledger, chair, start=JANUARY, end=date(2026, 1, 31))
    path = f"{BASE}/periods/{january.id}"
    supervisor = client_for(app, sups[0])
    page = text_of(supervisor.get(path))
    assert "2025年12月 的账还没有公示。各期要按顺序签字" in page and "签字同意" not in page
    seen = {f"seen_{k}": str(v) for k, v in january.seen().items()}
    refused = post_form(supervisor, f"{path}/sign", seen, token_from=path)
    assert refused.status_code == 409 and "各期要按顺序签字" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Signoff.id).where(Signoff.period_id == january.id)) is None
    service.decide(ledger, sups[0], december, True)
    service.decide(ledger, sups[1], december, True)
    db.session.commit()
    assert post_form(supervisor, f"{path}/sign", shown(supervisor, path), token_from=path).status_code == 302


def test_a_signature_on_figures_that_changed_since_the_page_was_opened_is_refused(app, ledger, chair, sups,
                                                                                  committee_client):
    record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    december = close(ledger, chair, start=DECEMBER, end=date(2025, 12, 31))
    path = f"{BASE}/periods/{december.id}"
    first, second = client_for(app, sups[0]), client_for(app, sups[1])
    seen = shown(first, path)  # the first supervisor opens the page...
    assert post_form(second, f"{path}/refuse", dict(shown(second, path, "refuse"), reason="缺收据"),
                     token_from=path).status_code == 302  # ...meanwhile the second returns it,
    record(ledger, chair, "垃圾清运", 120000, date(2025, 12, 28))  # the committee corrects it
    assert post_form(committee_client, f"{path}/resubmit", {"actual": "7,800.00"}, token_from=path).status_code == 302
    stale = post_form(first, f"{path}/sign", seen, token_from=path)  # ...and the first signs what they saw
    assert stale.status_code == 409 and "您看到的是这一期早先的数字" in stale.get_data(as_text=True)
    missing = post_form(first, f"{path}/sign", {}, token_from=path)
    assert missing.status_code == 409 and "您看到的是这一期早先的数字" in missing.get_data(as_text=True)
    db.session.refresh(december)
    assert [s.signed for s in service.current_signoffs(december)] == []
    fresh = shown(first, path)
    assert fresh["seen_round"] == "2" and fresh["seen_closing_fen"] == "780000"
    assert post_form(first, f"{path}/sign", fresh, token_from=path).status_code == 302
    signoff = db.session.scalar(select(Signoff).where(Signoff.period_id == december.id, Signoff.signed.is_(True)))
    assert (signoff.opening_fen, signoff.income_fen, signoff.expense_fen, signoff.closing_fen) == \
        (0, 900000, 120000, 780000)
    assert (signoff.head_number, signoff.head_hash) == (december.head_number, december.head_hash)


def test_figures_changed_behind_the_applications_back_can_not_be_signed(app, ledger, chair, sups):
    entry = record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    december = close(ledger, chair, start=DECEMBER, end=date(2025, 12, 31))
    path = f"{BASE}/periods/{december.id}"
    supervisor = client_for(app, sups[0])
    seen = shown(supervisor, path)
    tamper(set_entry(entry.number, amount_fen=100))
    page = text_of(supervisor.get(path))
    assert "这一期的账目与提交（或签字公示）时不一致" in page and "不能签字" in page
    refused = post_form(supervisor, f"{path}/sign", seen, token_from=path)
    assert refused.status_code == 409 and "入账记录和提交时的数字对不上" in refused.get_data(as_text=True)
    assert db.session.scalar(select(Signoff.id)) is None
    returned = post_form(supervisor, f"{path}/refuse", dict(seen, reason="金额被改过"), token_from=path)
    assert returned.status_code == 302  # returning it stays possible


def test_nothing_is_posted_onto_a_broken_chain(ledger, chair, committee_client):
    entry = record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    tamper(set_entry(entry.number, amount_fen=100))
    cat = db.session.scalar(select(Category).where(Category.compound_id == ledger.id, Category.name == "消杀"))
    response = post_form(committee_client, f"{BASE}/entries/new", {
        "flow": "expense", "occurred_on": "2025-12-10", "category_id": str(cat.id), "amount": "80",
        "description": "灭蚊", "counterparty": "", "method": "bank", "topic_id": "0", "action": "post"})
    assert response.status_code == 400
    assert "账本核对不上" in text_of(response) and "现在不能入账" in text_of(response)
    assert db.session.scalar(select(Entry.id).where(Entry.number == 2)) is None
    assert db.session.scalar(select(Entry.id).where(Entry.posted.is_(False))) is None  # nothing half-saved
    home = text_of(committee_client.get(f"{BASE}/"))
    assert "账本核对不上" in home and "现在不能入账、结账或签字" in home


def test_the_number_of_signatures_is_fixed_when_a_period_is_submitted(app, ledger, chair, sups, committee_client):
    record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    december = close(ledger, chair, start=DECEMBER, end=date(2025, 12, 31))
    assert december.signoffs_required == 2
    data = {"cadence": "monthly", "signoffs_required": "3", "disclosure_days": "15", "source": "小区公共收益"}
    assert post_form(committee_client, f"{BASE}/settings", data).status_code == 302  # raising: the chair may
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "signoffs_required"))
    assert audit.before["signoffs_required"] == 2 and audit.after["signoffs_required"] == 3
    home = text_of(app.test_client().get("/maple/ledger/"))
    today = local_date()
    assert f"需 3 位监督委员签字（自 {today.year}年{today.month}月{today.day}日 起）" in home
    service.decide(ledger, sups[0], december, True)
    service.decide(ledger, sups[1], december, True)
    db.session.commit()
    assert december.status == PeriodStatus.published  # two signatures, as when it was submitted
    january = close(ledger, chair, start=JANUARY, end=date(2026, 1, 31))
    assert january.signoffs_required == 3
    assert "需要 3 位" in text_of(committee_client.get(f"{BASE}/periods/{january.id}"))
    service.decide(ledger, sups[0], january, True)
    service.decide(ledger, sups[1], january, True)
    db.session.commit()
    assert january.status == PeriodStatus.submitted
    lowered = post_form(committee_client, f"{BASE}/settings", dict(data, signoffs_required="2"))
    assert lowered.status_code == 400 and "减少签字人数要由街道" in text_of(lowered)
    assert service.book(ledger).signoffs_required == 3
    assert db.session.get(Period, january.id).signoffs_required == 3


def test_a_close_on_an_opening_the_entries_contradict_is_refused(app, ledger, chair, sups, committee_client):
    """A January published on a stale opening (as the old code let happen; made here by hand in the
    database): February's close no longer takes January's closing on trust."""
    from ledger_tamper import PERIOD

    record(ledger, chair, "停车费", 900000, date(2025, 12, 3))
    record(ledger, chair, "停车费", 910000, date(2026, 1, 3))
    for start, end in [(DECEMBER, date(2025, 12, 31)), (JANUARY, date(2026, 1, 31))]:
        period = close(ledger, chair, start=start, end=end)
        service.decide(ledger, sups[0], period, True)
        service.decide(ledger, sups[1], period, True)
        db.session.commit()
    stale = period.id
    tamper(lambda connection: connection.execute(PERIOD.update().where(PERIOD.c.id == stale).values(
        opening_fen=1400000, closing_fen=2310000)))  # December's ¥5,000 expense never reached January
    record(ledger, chair, "停车费", 920000, date(2026, 2, 3))
    response = post_form(committee_client, f"{BASE}/periods/close", {"actual": "32,300.00"})
    assert response.status_code == 409
    assert "上一期提交的期末余额 ¥23,100.00 和入账记录算出的 ¥18,100.00 不一致" in text_of(response)
    assert db.session.scalar(select(Period.id).where(Period.starts_on == date(2026, 2, 1))) is None
