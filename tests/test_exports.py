"""Every download is written by kiosk/exports.py: no cell of any export runs as a formula in a spreadsheet.

The export routes are read from the url_map (a path ending in .csv or .xlsx), so a new export is tested the
day it is added; one this file cannot fill fails until someone teaches it.
"""
import csv
import io
import re
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from werkzeug.routing import AnyConverter

from kiosk import exports
from kiosk.consult import service as consult
from kiosk.consult.models import Channel
from kiosk.extensions import db
from kiosk.distribution import service as distribution
from kiosk.households.models import Household, Occupancy
from kiosk.ledger import service as ledger
from kiosk.ledger.models import Category
from kiosk.timefmt import now_local

from conftest import ago, ahead, csrf_token

# What an attacker types into any field that reaches a file: formulas, a DDE call, a tab-led formula.
POISON = ['=HYPERLINK("http://evil.example","点我")', "@SUM(1+1)*cmd|' /C calc'!A0", "+cmd|' /C calc'!A0",
          "-2+3+cmd|' /C calc'!A0", "\t=1+1"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?[\d\s.,-]+")  # a number or a phone number: a spreadsheet never runs it
BUILDING = "=SUM(9)"  # short enough for the building column: the address carries it into every list


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("@SUM(A1)", "'@SUM(A1)"), ("+cmd|x", "'+cmd|x"), ("-2+A1", "'-2+A1"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("3栋501", "3栋501"), ("", ""), (None, ""),
    ("+86 138 0000 0000", "+86 138 0000 0000"), ("-", "-"), (12, 12), (Decimal("-5.00"), Decimal("-5.00")),
])
def test_a_cell_that_would_start_a_formula_is_kept_as_text(value, cell):
    assert exports.safe_cell(value) == cell


def test_amounts_are_exact_yuan_from_fen():
    assert [str(exports.yuan(fen).value) for fen in (123450, -500, 0, 5)] == ["1234.50", "-5.00", "0.00", "0.05"]


def test_a_download_name_is_one_every_file_system_takes():
    assert exports.file_name('a/b:c*?"<>|.csv') == "a_b_c______.csv"
    long = exports.file_name("长" * 300 + ".xlsx")
    assert len(long) == exports.NAME_LIMIT and long.endswith(".xlsx")


# Files with nothing of the compound's in them: the roll import's made-up sample (issue 17).
FIXED_FILES = {"/admin/<compound>/households/import/sample.xlsx"}


def export_routes(app):
    """(rule, {any() argument: value}) for every route that answers with a file (.csv or .xlsx) made from the
    compound's data."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.rule in FIXED_FILES:
            continue
        choices = [{}]
        for arg, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                choices = [dict(c, **{arg: item}) for c in choices for item in sorted(converter.items)]
        for fixed in choices:
            if rule.rule.endswith((".csv", ".xlsx")) or set(fixed.values()) & {"csv", "xlsx"}:
                found.append((rule, fixed))
    return found


@pytest.fixture
def poisoned(app, compound, chair):
    """A compound where every field that reaches an export holds a formula: the roll, a distribution with a
    pickup, a named single-choice vote with a ballot, a ledger period with a posted entry, and a library document."""
    household = Household(compound_id=compound.id, building=BUILDING, entrance="", room="101", area_centi=10000,
                          occupancy=Occupancy.occupied, owner_key=POISON[1], contact_name=POISON[0],
                          contact_phone=POISON[2], note=POISON[4])
    # A neighbour who has not voted: the reminders' phone list (non-voters only) gets poisoned fields too.
    neighbour = Household(compound_id=compound.id, building=BUILDING, entrance="", room="102", area_centi=10000,
                          occupancy=Occupancy.occupied, contact_name=POISON[0], contact_phone=POISON[2])
    db.session.add_all([household, neighbour])
    db.session.flush()
    event = distribution.create_event(compound, chair, {"name": POISON[0], "item": POISON[4],
                                                        "starts_at": ago(hours=1), "ends_at": ahead(days=1)},
                                      [household.id], POISON[3])
    db.session.commit()
    distribution.collect(compound, chair, event, household)

    topic = consult.save_topic(compound, chair, None, {
        "title": POISON[0], "background": "", "kind": "single", "rule": "informal", "seats": 1, "secret": False,
        "visibility": "live", "allow_change": True, "opens_at": ago(hours=1), "closes_at": ahead(days=1)},
        [POISON[1], POISON[2]])
    consult.publish(compound, chair, topic, now=ago(hours=2))
    db.session.commit()
    consult.cast(compound, topic, household, ["1"], channel=Channel.paper, entered_by=chair)
    consult.close_due(compound, now=ahead(days=2))  # closed, so the platform file (closed votes only) has it too
    db.session.commit()
    # And one still open, for what only an open vote exports (the non-voters' phones for reminders).
    still_open = consult.save_topic(compound, chair, None, {
        "title": POISON[0], "background": "", "kind": "single", "rule": "informal", "seats": 1, "secret": False,
        "visibility": "live", "allow_change": True, "opens_at": ago(hours=1), "closes_at": ahead(days=1)},
        [POISON[1], POISON[2]])
    consult.publish(compound, chair, still_open, now=ago(hours=2))
    db.session.commit()

    month = (now_local().date().replace(day=1) - timedelta(days=40)).replace(day=1)
    ledger.open_book(compound, started_on=month)
    category = db.session.scalar(db.select(Category).where(Category.compound_id == compound.id,
                                                           Category.kind == "expense"))
    entry = ledger.save_draft(compound, chair, None, {
        "kind": "expense", "occurred_on": month + timedelta(days=4), "category_id": category.id, "amount_fen": 1250,
        "description": POISON[0], "counterparty": POISON[2], "counterparty_is_person": False, "method": "cash"})
    ledger.post(compound, chair, entry)
    period = ledger.submit(compound, chair, ledger.balance(compound))
    with ledger.using_book("maintenance_fund"):  # a building's maintenance-fund statement
        ledger.open_book(compound, started_on=month)
        deposit = db.session.scalar(db.select(Category).where(Category.book_id == ledger.book(compound).id,
                                                              Category.kind == "income"))
        ledger.post(compound, chair, ledger.save_draft(compound, chair, None, {
            "kind": "income", "occurred_on": month + timedelta(days=4), "category_id": deposit.id,
            "amount_fen": 50000, "description": POISON[0], "counterparty": POISON[2], "method": "bank",
            "building": BUILDING}))
    db.session.commit()
    # The document library's index: a contract titled with a formula.
    from kiosk.documents import service as documents, textpdf

    contract = documents.create_document(compound, chair, "contract", POISON[0])
    today = documents.today()
    documents.add_version(compound, chair, contract, [("a.pdf", textpdf.build([["合同"]]))], today,
                          today + timedelta(days=20), note=POISON[4])
    db.session.commit()
    return {"compound": compound.slug, "event_id": event.id, "topic_id": topic.id, "period_id": period.id,
            "open_topic_id": still_open.id, "building": BUILDING}


# Exports of an open vote only: they take the poisoned compound's open topic.
OPEN_VOTE_EXPORTS = {"consult_admin.export_phones"}


def fill(app, rule, values, fixed):
    """The path of an export route, its arguments taken from the poisoned compound."""
    args = {}
    for arg in rule.arguments:
        if arg not in fixed and arg not in values:
            pytest.fail(f"{rule.rule}: test_exports.py does not know <{arg}>: teach the poisoned fixture")
        args[arg] = fixed.get(arg, values.get(arg))
    if rule.endpoint in OPEN_VOTE_EXPORTS and "topic_id" not in fixed:
        args["topic_id"] = values["open_topic_id"]
    return app.url_map.bind("localhost").build(rule.endpoint, args)


def fetch(client, rule, path, **kwargs):
    """An export as a person takes it: a GET, or (for an audited export such as non-voters' phones) the form's
    POST with its CSRF token."""
    if "GET" in rule.methods:
        return client.get(path, **kwargs)
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/password")}, **kwargs)


def cells_of(response):
    """Every cell of a CSV or XLSX answer, as text; and whether an XLSX one holds a live formula."""
    if response.mimetype == "text/csv":
        assert response.data.startswith(b"\xef\xbb\xbf")
        return [cell for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig"))) for cell in row], False
    assert response.mimetype == exports.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value is not None]
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        live = "<f>" in archive.read("xl/worksheets/sheet1.xml").decode() or any(c.data_type == "f" for c in cells)
    return [str(cell.value) for cell in cells], live


def test_every_export_route_keeps_formulas_as_text(app, committee_client, poisoned):
    routes = [(rule, fixed) for rule, fixed in export_routes(app)]
    assert len(routes) >= 8, [r.rule for r, _f in routes]  # roll, 2 distribution lists, 3 vote files, 2 ledger
    wrong = []
    for rule, fixed in routes:
        path = fill(app, rule, poisoned, fixed)
        response = fetch(committee_client, rule, path)
        if response.status_code != 200:
            wrong.append(f"{path}: {response.status_code}")
            continue
        cells, live = cells_of(response)
        if response.mimetype == "text/csv":
            unsafe = [c for c in cells if c[:1] in FORMULA_START and not NUMBER.fullmatch(c)]
            quoted = [c for c in cells if c[:1] == "'" and c[1:].startswith(tuple(POISON) + (BUILDING,))]
        else:  # a workbook keeps text as typed, as text cells (never formula cells)
            unsafe = ["a live formula"] if live else []
            quoted = [c for c in cells if c.startswith(tuple(POISON) + (BUILDING,))]
        if unsafe:
            wrong.append(f"{path}: cells that would run: {unsafe}")
        if not quoted:
            wrong.append(f"{path}: none of the poisoned fields reached the file (is the fixture still right?)")
    assert not wrong, "\n".join(wrong)


WECHAT = ("Mozilla/5.0 (Linux; Android 12; V2055A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230202 MMWEBID/6263 "
          "MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")
WECHAT_WORK = ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Mobile/15E148 wxwork/4.1.6 MicroMessenger/7.0.1 Language/zh ColorScheme/Light")


@pytest.mark.parametrize("agent", [WECHAT, WECHAT_WORK])
def test_every_export_inside_wechat_answers_a_calm_page_instead_of_a_file(app, committee_client, poisoned, agent):
    routes = export_routes(app)
    assert len(routes) >= 8
    wrong = []
    for rule, fixed in routes:
        path = fill(app, rule, poisoned, fixed)
        response = fetch(committee_client, rule, path, headers={"User-Agent": agent,
                                                       "Referer": "http://localhost/admin/maple/ledger/"})
        html = response.get_data(as_text=True)
        if (response.status_code != 200 or response.mimetype != "text/html" or "Content-Disposition" in
                response.headers or "微信内无法直接下载文件。请点右上角 ··· 选择「在浏览器中打开」，再下载。" not in html
                or 'href="/admin/maple/ledger/"' not in html or "User-Agent" not in response.headers.get("Vary", "")):
            wrong.append(f"{path}: {response.status_code} {response.mimetype}")
    assert not wrong, "\n".join(wrong)


def test_a_download_page_in_wechat_never_links_back_to_another_site(committee_client, poisoned):
    response = committee_client.get("/admin/maple/households/export.csv",
                                    headers={"User-Agent": WECHAT, "Referer": "https://evil.example/x"})
    assert 'href="/admin/"' in response.get_data(as_text=True) and "evil" not in response.get_data(as_text=True)


def test_the_same_export_in_a_browser_is_still_a_file(committee_client, poisoned):
    response = committee_client.get("/admin/maple/households/export.csv", headers={"User-Agent": "Mozilla/5.0"})
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "User-Agent" in response.headers.get("Vary", "")
