"""After one January entry is changed in the database, every place that shows ledger figures says so, and
only about January: the residents' ledger home, period and entry pages, the verify page (period by period,
February still fine), the lobby slide and its detail, the committee's overview and period page, the CSV and
XLSX exports and the printed notice. Before the change, none of them warns."""
import csv
import io
from datetime import date

import pytest
from openpyxl import load_workbook

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.ledger import service
from kiosk.screen.models import Screen

from conftest import login_as
from factories import text_of
from ledger_tamper import set_entry, tamper
from test_ledger import record

RESIDENT_WARNING = "这一期的账目与监督委员签字公示时不一致"
SCREEN_WARNING = "这一期的账目与监督委员签字时不一致"
COMMITTEE_WARNING = "这一期的账目与提交（或签字公示）时不一致"
EXPORT_WARNING = "本期账目与提交（或签字公示）时不一致"


@pytest.fixture
def signed(app, compound, chair, make_user):
    """January (#1-#3) and February (#4) signed by two of three supervisors."""
    service.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    sups = [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(3)]
    record(compound, chair, "停车费", 850000, day=date(2026, 1, 5))
    record(compound, chair, "维修", 32000, day=date(2026, 1, 12), description="更换 3 栋楼道灯")
    record(compound, chair, "垃圾清运", 150000, day=date(2026, 1, 20))
    periods = []
    for start, end in [(date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28))]:
        if start.month == 2:
            record(compound, chair, "停车费", 860000, day=date(2026, 2, 5))
        period = service.submit(compound, chair, service.figures(compound, start, end).closing)
        service.decide(compound, sups[0], period, True)
        service.decide(compound, sups[1], period, True)
        db.session.commit()
        periods.append(period)
    screen = Screen(compound_id=compound.id, name="大厅", key="lobby-key-123")
    db.session.add(screen)
    db.session.commit()
    return periods


def places(app, chair, january, february):
    """{place: text} of everything that shows the ledger's figures (February's slide is the lobby's latest)."""
    resident, committee = app.test_client(), app.test_client()
    login_as(committee, chair)
    csv_text = committee.get(f"/admin/maple/ledger/periods/{january.id}.csv").data.decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(committee.get(f"/admin/maple/ledger/periods/{january.id}.xlsx").data)).active
    return {
        "home": text_of(resident.get("/maple/ledger/")),
        "period": text_of(resident.get(f"/maple/ledger/{january.id}")),
        "february": text_of(resident.get(f"/maple/ledger/{february.id}")),
        "entry": text_of(resident.get("/maple/ledger/entries/2")),
        "verify": text_of(resident.get("/maple/ledger/verify")),
        "slide detail": text_of(resident.get(f"/maple/screen/lobby-key-123/item/ledger/{january.id}")),
        "overview": text_of(committee.get("/admin/maple/ledger/")),
        "committee period": text_of(committee.get(f"/admin/maple/ledger/periods/{january.id}")),
        "csv": " ".join(" ".join(row) for row in csv.reader(io.StringIO(csv_text))),
        "xlsx": " ".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None),
        "print": text_of(committee.get(f"/admin/maple/ledger/periods/{january.id}/print")),
    }


def test_every_place_showing_figures_says_when_they_no_longer_match(app, chair, signed):
    january, february = signed
    before = places(app, chair, january, february)
    warnings = (RESIDENT_WARNING, SCREEN_WARNING, COMMITTEE_WARNING, EXPORT_WARNING, "账本核对不上", "✗")
    assert not [(place, w) for place, text in before.items() for w in warnings if w in text]
    assert "全部 4 笔记录都与入账时一致" in before["verify"]

    tamper(set_entry(2, amount_fen=12000))  # January's repair: ¥320.00 becomes ¥120.00
    after = places(app, chair, january, february)
    assert "有 1 期公示的账目与监督委员签字时不一致" in after["home"]  # the latest, February, still matches
    assert "2026年1月1日 — 2026年1月31日 · 结余 ¥6,680.00 · 核对码 " + january.code + " ✗ 与签字时不一致" \
        in after["home"]
    assert RESIDENT_WARNING in after["period"] and "不一致的记录：第 2 号" in after["period"]
    assert "下面的分类和明细是按数据库里现在的记录列出的" in after["period"]  # not mixed with the signed totals
    assert "不一致" not in after["february"]
    assert "这一笔与入账时的记录不一致" in after["entry"]
    assert "第 2 号记录与入账时不一致" in after["verify"]
    verdicts = after["verify"].split("各期核对结果")[1]
    assert "✗ 2026年1月1日 — 2026年1月31日" in verdicts and "✓ 2026年2月1日 — 2026年2月28日" in verdicts
    assert SCREEN_WARNING in after["slide detail"]
    assert "账本核对不上" in after["overview"] and "✗ 与提交时不一致" in after["overview"]
    assert COMMITTEE_WARNING in after["committee period"]
    assert EXPORT_WARNING in after["csv"] and EXPORT_WARNING in after["xlsx"] and EXPORT_WARNING in after["print"]
    code = text_of(app.test_client().get(f"/maple/ledger/verify?code={february.code}"))
    assert "与现在的记录一致" in code  # February's own verdict, not the whole chain's


def test_the_lobby_slide_warns_when_the_latest_period_no_longer_matches(app, client, signed):
    january, february = signed
    loop = text_of(client.get("/maple/screen/lobby-key-123"))
    assert "监督委员已签字 · 核对码" in loop and SCREEN_WARNING not in loop
    tamper(set_entry(4, description="改过的摘要"))  # February's only line
    loop = text_of(client.get("/maple/screen/lobby-key-123"))
    assert SCREEN_WARNING in loop and "监督委员已签字 · 核对码" not in loop
