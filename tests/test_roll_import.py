"""Importing the roll from the spreadsheets compounds really get (merged headers, title rows, one-column
addresses, areas with units, GBK), through a preview the committee checks and corrects before anything is saved."""
import io
import re

import openpyxl
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from factories import text_of
from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.households import rollfile, rollimport, rollmap
from kiosk.households.models import Household

from conftest import login_as, post_form

IMPORT = "/admin/maple/households/import"
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


def xlsx(build):
    """The bytes of a workbook that build(sheet) filled in."""
    book = openpyxl.Workbook()
    build(book.active)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, data, name="roll.xlsx", path=IMPORT):
    """Upload a file: the answer is the preview (nothing saved yet)."""
    return post_form(client, path, {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def token_of(response):
    match = TOKEN_RE.search(response.get_data(as_text=True))
    assert match, "the preview carries no token"
    return match.group(1)


def confirm(client, preview, meanings=None, path=IMPORT, action="confirm"):
    """Press a button of the preview: confirm (or preview again) with the columns as chosen."""
    form = {"token": token_of(preview), "action": action}
    for index, meaning in (meanings or {}).items():
        form[f"col-{index}"] = meaning
    return post_form(client, path, form)


def households():
    return {h.address: h for h in db.session.scalars(select(Household))}


def column_meanings(response):
    """The preview's "理解为" column: each file header with the meaning selected for it."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    table = soup.select_one("table.columns")
    return {row.select_one("label").get_text(strip=True): row.select_one("option[selected]").get_text(strip=True)
            for row in table.select("tbody tr")}


def property_company_roll(sheet):
    """A roll as a property company hands it over: a merged title row, 房屋信息 merged over 楼栋/单元/房号, the
    other headers merged down two rows, a building merged down its rooms, areas with units, a blank row, a
    duplicate, an unreadable area and a 合计 row."""
    sheet.append(["枫树小区业主花名册（2026年物业移交）"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "房屋信息", None, None, "建筑面积（㎡）", "业主姓名", "联系电话"])
    sheet.append([None, "楼栋", "单元", "房号", None, None, None])
    sheet.merge_cells("B2:D2")
    for column in "AEFG":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.append([1, "3栋", "1单元", 502, "89.5㎡", "王建国", 13912345678])
    sheet.append([2, None, "1单元", "601", "89.5平方米", "李秀兰", "13800000002"])
    sheet.append([3, None, 2, "101室", 102.36, "赵志强", ""])
    sheet.merge_cells("B4:B6")
    sheet.append([])
    sheet.append([4, "5", "1", "101", "约90平", "陈国华", ""])
    sheet.append([5, "5", "1", "101", "91", "重复的人", ""])
    sheet.append([6, "5", "1", "102", "待核实", "刘淑珍", ""])
    sheet.append([7, "5", "1", None, "77", "没有房号", ""])
    sheet.append(["合计", None, None, None, "=SUM(E4:E11)", None, None])


def test_a_property_companys_merged_workbook_is_understood_and_previewed_before_anything_is_saved(
        committee_client, compound):
    preview = upload(committee_client, xlsx(property_company_roll))
    assert preview.status_code == 200
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0  # a preview saves nothing
    assert column_meanings(preview) == {"序号": "不导入", "楼栋": "楼栋", "单元": "单元", "房号": "房号",
                                        "建筑面积（㎡）": "面积", "业主姓名": "业主（联系人）", "联系电话": "电话"}
    page = text_of(preview)
    assert "预览：还没有保存" in page and "表头在第 3 行" in page
    assert "新增 4 户，更新 0 户，不变 0 户，不导入 3 行。" in page
    assert "另有 2 行空行或合计行已跳过。" in page
    for shown in ("3栋1单元502 89.50 自住 王建国 13912345678 新增", "3栋1单元601 89.50", "3栋2单元101 102.36",
                  "5栋1单元101 90.00 原文写的是约数"):
        assert shown in page, shown
    assert "第 8 行是同一户" in page and "待核实" in page and "不是数字" in page and "缺少房号" in page
    assert preview.headers["Cache-Control"] == "no-store"

    done = confirm(committee_client, preview)
    assert done.status_code == 302
    saved = households()
    assert set(saved) == {"3栋1单元502", "3栋1单元601", "3栋2单元101", "5栋1单元101"}
    assert saved["3栋1单元502"].area_centi == 8950 and saved["3栋1单元502"].contact_phone == "13912345678"
    assert saved["3栋2单元101"].area_centi == 10236 and saved["5栋1单元101"].contact_name == "陈国华"
    assert "新增 4 户" in text_of(committee_client.get(done.headers["Location"]))


def test_a_gbk_csv_with_the_address_in_one_column_and_areas_with_units(committee_client, compound):
    text = ("东屯渡社区 枫树小区 住户名单,,,\n"
            "房号,面积,户主,手机\n"
            "3-1-502,89.50 ㎡,王建国,13912345678\n"
            "3栋1单元601,89.5平方米,李秀兰,\n"
            "4幢502室,102.36平方米,赵志强,\n"
            "6号楼2单元301,约90平,陈国华,\n"
            "7号,80,不是地址,\n"
            ",,,\n"
            "合计,4 户,,\n")
    preview = upload(committee_client, text.encode("gbk"), "名单.csv")
    assert preview.status_code == 200
    assert column_meanings(preview) == {"房号": "地址（楼栋单元房号在一格）", "面积": "面积", "户主": "业主（联系人）",
                                        "手机": "电话"}
    page = text_of(preview)
    assert "新增 4 户" in page and "不导入 1 行" in page and "看不懂地址“7号”" in page
    assert confirm(committee_client, preview).status_code == 302
    saved = households()
    assert set(saved) == {"3栋1单元502", "3栋1单元601", "4栋502", "6栋2单元301"}
    assert [saved[a].area_centi for a in ("3栋1单元502", "4栋502", "6栋2单元301")] == [8950, 10236, 9000]


def test_utf8_with_bom_and_an_address_column_named_as_such(committee_client, compound):
    text = "序号,房屋坐落,建筑面积,备注\n1,3号楼1单元502,89.5,\n2,3#2-101,70,二楼\n"
    preview = upload(committee_client, text.encode("utf-8-sig"), "roll.csv")
    assert "新增 2 户" in text_of(preview)
    confirm(committee_client, preview)
    assert set(households()) == {"3栋1单元502", "3栋2单元101"}


def test_the_committee_corrects_a_column_and_previews_again_before_confirming(committee_client, compound):
    text = "楼号,房间,平方数,业主\n3,502,89.5,王建国\n3,601,70,李秀兰\n"
    preview = upload(committee_client, text.encode("utf-8"), "roll.csv")
    assert preview.status_code == 400
    page = text_of(preview)
    assert "没有认出“房号”这一列" in page and "没有认出“面积”这一列" in page
    assert 'value="confirm"' not in preview.get_data(as_text=True)
    again = confirm(committee_client, preview, {0: "building", 1: "room", 2: "area", 3: "contact_name"},
                    action="preview")
    assert again.status_code == 200
    assert column_meanings(again)["平方数"] == "面积"
    assert "新增 2 户" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0
    doubled = confirm(committee_client, again, {0: "building", 1: "room", 2: "room", 3: "ignore"})
    assert doubled.status_code == 400 and "有两列都选了“房号”" in text_of(doubled)
    assert confirm(committee_client, again, {0: "building", 1: "room", 2: "area", 3: "ignore"}).status_code == 302
    saved = households()
    assert saved["3栋502"].area_centi == 8950 and saved["3栋502"].contact_name == ""  # the 业主 column left out


def test_reimporting_updates_what_changed_and_keeps_columns_the_file_lacks(committee_client, compound):
    db.session.add_all([Household(compound_id=compound.id, building="3", entrance="1", room="502", area_centi=8950,
                                  contact_name="王建国", contact_phone="13912345678", occupancy="rented"),
                        Household(compound_id=compound.id, building="三", entrance="1", room="601", area_centi=7000)])
    db.session.commit()
    text = "楼栋,单元,房号,面积\n3栋,1单元,502室,89.50\n3,1,601,71\n3,1,602,60\n"
    preview = upload(committee_client, text.encode("utf-8"), "roll.csv")
    page = text_of(preview)
    assert "新增 1 户，更新 1 户，不变 1 户，不导入 0 行。" in page
    assert "3栋1单元502 89.50 出租 王建国 13912345678 不变" in page
    assert "三栋1单元601 71.00 原来是 70.00 自住" in page  # 三栋 on the roll is building 3 in the file and "3栋1单元602 60.00 自住 新增" in page
    confirm(committee_client, preview)
    saved = households()
    assert len(saved) == 3 and saved["三栋1单元601"].area_centi == 7100
    assert saved["3栋1单元502"].contact_phone == "13912345678" and saved["3栋1单元502"].occupancy == "rented"


@pytest.mark.parametrize("name, data, message", [
    ("roll.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "这个文件是图片或 PDF，不是表格"),
    ("roll.xlsx", b"PK\x03\x04 not really a workbook", "这个文件打不开"),
    ("roll.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "旧版 Excel（.xls）"),
    ("roll.csv", b"", "文件是空的"),
])
def test_a_wrong_file_gets_a_calm_message_next_to_the_field(committee_client, compound, name, data, message):
    response = upload(committee_client, data, name)
    assert response.status_code == 400
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    assert message in soup.select_one(".field.has-error .error").get_text()
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0


def test_an_empty_sheet_and_a_sheet_without_rooms_are_explained(committee_client, compound):
    empty = upload(committee_client, xlsx(lambda sheet: None))
    assert empty.status_code == 400 and "表格里什么也没有" in text_of(empty)

    def no_rooms(sheet):
        sheet.append(["姓名", "联系电话", "建筑面积"])
        sheet.append(["王建国", "13912345678", "89.5"])
    response = upload(committee_client, xlsx(no_rooms))
    assert response.status_code == 400
    page = text_of(response)
    assert "没有认出“房号”这一列" in page and "没有认出“楼栋”这一列" in page
    assert 'value="confirm"' not in response.get_data(as_text=True) and "新增 0 户" not in page


def test_a_preview_of_compound_a_cannot_be_confirmed_into_compound_b(app, committee_client, compound, chair,
                                                                    make_compound, make_user):
    preview = upload(committee_client, "楼栋,房号,面积\n3,502,89.5\n".encode(), "roll.csv")
    other = make_compound("other", "别的小区")
    other_chair = make_user("otherchair", other, Role.chair)
    elsewhere = app.test_client()
    login_as(elsewhere, other_chair)
    answer = confirm(elsewhere, preview, path="/admin/other/households/import")
    assert answer.status_code == 400 and "不是在这个小区、由你上传的" in text_of(answer)
    tampered = post_form(committee_client, IMPORT, {"token": token_of(preview) + "x", "action": "confirm"})
    assert tampered.status_code == 400 and "已经过期" in text_of(tampered)
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0
    with app.test_request_context():  # the same person in another compound is refused too
        token = token_of(preview)
        with pytest.raises(rollimport.ImportRefused) as refused:
            rollimport.load(token, other, chair)
        assert refused.value.reason == "elsewhere"
    assert confirm(committee_client, preview).status_code == 302
    assert confirm(committee_client, preview).status_code == 400  # confirmed once: the kept file is gone


def test_the_sample_roll_downloads_and_previews(committee_client, compound):
    sample = committee_client.get("/admin/maple/households/import/sample.xlsx")
    assert sample.status_code == 200 and sample.data.startswith(b"PK")
    assert "attachment" in sample.headers["Content-Disposition"]
    page = text_of(upload(committee_client, sample.data, "示例花名册.xlsx"))
    assert "新增 24 户" in page and "不导入 3 行" in page and "原文写的是约数" in page


@pytest.mark.parametrize("text, centi, about", [("89.5㎡", 8950, False), ("89.5平方米", 8950, False),
                                                ("89.50 m²", 8950, False), ("约90平", 9000, True),
                                                ("１０２.３６", 10236, False), ("90平米左右", 9000, True)])
def test_areas_with_units_become_hundredths_of_a_square_metre(text, centi, about):
    assert rollmap.parse_area(text) == (centi, about)


@pytest.mark.parametrize("text, parts", [("3栋1单元502", ("3", "1", "502")), ("3-1-502", ("3", "1", "502")),
                                         ("3幢502室", ("3", "", "502")), ("3号楼1单元502", ("3", "1", "502")),
                                         ("3#1-502", ("3", "1", "502")), ("A座2单元1101", ("A", "2", "1101")),
                                         ("３－１－５０２", ("3", "1", "502")), ("三栋二单元502", ("3", "2", "502")),
                                         ("十二幢301室", ("12", "", "301")), ("502", None), ("三楼东", None)])
def test_one_column_addresses_are_split_as_people_write_them(text, parts):
    assert rollmap.split_address(text) == parts


def test_spreadsheet_numbers_read_as_people_typed_them():
    assert [rollfile.cell_text(v) for v in (502, 89.5, 13912345678.0, 89.49999999999999, 102.36)] == [
        "502", "89.5", "13912345678", "89.5", "102.36"]


def test_the_demo_tells_a_newcomer_where_to_try_the_preview(committee_client, compound):
    from kiosk import demo

    (line,) = demo._roll_import(compound)
    sample = re.search(r"\{url\}(/admin/maple/households/import/sample\.xlsx)", line).group(1)
    assert "{url}/admin/maple/households/import " in line
    assert committee_client.get(sample).data.startswith(b"PK")


def test_a_preview_left_too_long_expires_and_its_file_is_swept(app, committee_client, compound, monkeypatch):
    import os
    import time

    preview = upload(committee_client, "楼栋,房号,面积\n3,502,89.5\n".encode(), "roll.csv")
    with monkeypatch.context() as later:  # a token older than it may live (the login itself still fresh)
        later.setattr(rollimport, "KEEP_SECONDS", -1)
        late = confirm(committee_client, preview)
    assert late.status_code == 400 and "已经过期" in text_of(late)
    folder = app.config.get("UPLOAD_DIR") or os.path.join(app.instance_path, "uploads")
    kept = list((__import__("pathlib").Path(folder) / rollimport.FOLDER).glob("*.bin"))
    assert len(kept) == 1 and kept[0].stat().st_mode & 0o077 == 0  # private to the server's account
    os.utime(kept[0], (time.time() - rollimport.KEEP_SECONDS - 60,) * 2)
    upload(committee_client, "楼栋,房号,面积\n3,601,70\n".encode(), "roll.csv")
    assert not kept[0].exists()  # the next upload swept the stale one
    assert db.session.scalar(select(func.count()).select_from(Household)) == 0


def test_a_confirm_racing_a_hand_edit_saves_nothing_and_says_so(committee_client, compound, monkeypatch):
    preview = upload(committee_client, "楼栋,房号,面积\n3,502,89.5\n3,601,70\n".encode(), "roll.csv")
    db.session.add(Household(compound_id=compound.id, building="3", entrance="", room="601", area_centi=7000))
    db.session.commit()
    monkeypatch.setattr(rollimport, "_existing", lambda compound: {})  # as if read just before the hand edit
    answer = confirm(committee_client, preview)
    assert answer.status_code == 409 and "名册刚刚被别人改过" in text_of(answer)
    assert set(households()) == {"3栋601"}
