"""The roll, CSV import/export, household cards and the resident's "our household" page."""
import io
import logging
import re

from sqlalchemy import func, select

from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.households import cards
from kiosk.households import service as household_service
from kiosk.households.models import Household, HouseholdCard

from conftest import post_form

IMPORT = "/admin/maple/households/import"
HEADER = "楼栋,单元,室,面积,状态,业主标识,联系人,电话,备注\n"


def upload(client, text, encoding="utf-8-sig"):
    """Upload a roll and press "确认导入" on its preview (the answer to the upload when nothing is confirmable)."""
    data = text.encode(encoding) if isinstance(text, str) else text
    preview = post_form(client, IMPORT, {"file": (io.BytesIO(data), "roll.csv")},
                        content_type="multipart/form-data")
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))
    if preview.status_code != 200 or not token:
        return preview
    return post_form(client, IMPORT, {"token": token.group(1), "action": "confirm"})


def count(model=Household):
    return db.session.scalar(select(func.count()).select_from(model))


def add(compound, building="3", entrance="1", room="502", name="王建国", phone="13912345678"):
    household = Household(compound_id=compound.id, building=building, entrance=entrance, room=room,
                          area_centi=8635, contact_name=name, contact_phone=phone)
    db.session.add(household)
    db.session.commit()
    return household


def test_import_accepts_excel_files_in_utf8_bom_plain_utf8_and_gbk(committee_client, compound):
    upload(committee_client, HEADER + "1,1,101,86.35,自住,,王建国,13800000001,\n")
    upload(committee_client, HEADER + "1,1,102,62.48,空置,,,,\n", encoding="utf-8")
    response = upload(committee_client, HEADER + "1,2,101,118.9,开发商持有,,,,\n", encoding="gbk")
    assert response.status_code == 302
    rows = {h.address: h for h in db.session.scalars(select(Household))}
    assert set(rows) == {"1栋1单元101", "1栋1单元102", "1栋2单元101"}
    assert rows["1栋2单元101"].area_centi == 11890 and rows["1栋2单元101"].occupancy == "developer"


def test_a_bad_file_lists_every_problem_by_row_and_saves_only_what_the_committee_confirms(committee_client,
                                                                                         compound):
    text = HEADER + ("1,1,101,86.35,,,,,\n"
                     "1,1,102,abc,,,,,\n"
                     "1,1,103,,,,,,\n"
                     "1,1,101,70,,,,,\n"
                     "1,1,104,62.485,,,,,\n"
                     "1,1,105,60,住了人,,,,\n")
    preview = post_form(committee_client, IMPORT, {"file": (io.BytesIO(text.encode()), "roll.csv")},
                        content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and count() == 0  # the preview saves nothing
    for expected in ("不是数字", "缺少面积", "和第 2 行是同一户", "最多两位小数", "只能是"):
        assert expected in html, expected
    assert "<td>3</td>" in html and "abc" in html  # row 3, the value that was there
    assert "不导入 5 行" in html
    assert upload(committee_client, text.encode()).status_code == 302
    assert [h.address for h in db.session.scalars(select(Household))] == ["1栋1单元101"]


def test_a_file_without_the_area_column_is_refused(committee_client, compound):
    response = upload(committee_client, "楼栋,室\n1,101\n")
    assert response.status_code == 400 and "没有认出“面积”这一列" in response.get_data(as_text=True)
    assert count() == 0


def test_import_updates_existing_households_and_keeps_others(committee_client, compound):
    add(compound, "9", "", "901")
    upload(committee_client, HEADER + "1,1,101,86.35,,,,,\n")
    upload(committee_client, HEADER + "1,1,101,90.00,,,新名字,,\n")
    assert count() == 2
    assert db.session.scalar(select(Household.area_centi).where(Household.room == "101")) == 9000
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "import")) is not None


def test_import_of_5000_households_is_all_or_nothing_and_quick_enough_for_a_phone(committee_client, compound):
    lines = [f"{b},{e},{f}{r:02d},{60 + r}.5,,,,,\n" for b in range(1, 26) for e in (1, 2)
             for f in range(1, 21) for r in range(1, 6)]
    assert len(lines) == 5000
    response = upload(committee_client, HEADER + "".join(lines))
    assert response.status_code == 302
    assert count() == 5000


def test_export_opens_in_excel_and_neutralises_formulas(committee_client, compound):
    add(compound, name="=HYPERLINK(1)")
    response = committee_client.get("/admin/maple/households/export.csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("楼栋,单元,室,面积")
    assert "'=HYPERLINK(1)" in text


def test_printing_cards_stores_only_hashes_and_shows_each_token_once(committee_client, compound):
    add(compound)
    response = post_form(committee_client, "/admin/maple/cards/print", {"which": "all"},
                         token_from="/admin/maple/cards/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "3栋1单元502" in html and "<svg" in html
    card = db.session.scalar(select(HouseholdCard))
    assert len(card.token_hash) == 64
    assert response.headers["Cache-Control"] == "no-store"


def issue(compound, chair):
    household = add(compound)
    (_, token), = household_service.issue(compound, chair, [household])
    db.session.commit()
    return household, token


def test_scanned_card_remembers_household_and_shows_address_without_personal_data(app, client, compound, chair):
    household, token = issue(compound, chair)
    response = client.get(f"/h/{token}")
    assert response.status_code == 302 and response.headers["Location"].endswith("/maple/my")
    assert token not in response.headers["Location"]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/maple/my")
    html = page.get_data(as_text=True)
    assert "3栋1单元502" in html
    assert "王建国" not in html and "13912345678" not in html
    assert page.headers["Cache-Control"] == "no-store"


def test_committee_member_scanning_a_card_goes_to_the_pickup_page(committee_client, compound, chair):
    household, token = issue(compound, chair)
    response = committee_client.get(f"/h/{token}")
    assert response.headers["Location"].endswith(f"/admin/maple/events/household/{household.id}")
    assert "kiosk_household" not in response.headers.get("Set-Cookie", "")


def test_forget_this_phone(client, compound, chair):
    _, token = issue(compound, chair)
    client.get(f"/h/{token}")
    post_form(client, "/maple/my/forget", {}, token_from="/maple/my")
    assert "请扫描住户卡" in client.get("/maple/my").get_data(as_text=True)


def test_reissued_card_stops_the_old_one_once_handed_out_even_on_a_remembering_phone(app, committee_client,
                                                                                     compound, chair):
    household, old = issue(compound, chair)
    client = app.test_client()  # the resident's phone
    client.get(f"/h/{old}")
    response = post_form(committee_client, f"/admin/maple/cards/{household.id}/reissue", {},
                         token_from=f"/admin/maple/households/{household.id}")
    assert response.status_code == 200 and "<svg" in response.get_data(as_text=True)
    assert "我家：3栋1单元502" in client.get("/maple/my").get_data(as_text=True)  # nothing handed out yet
    batch = household_service.pending_batches(compound)[0]
    post_form(committee_client, f"/admin/maple/cards/batches/{batch.id}/confirm", {},
              token_from="/admin/maple/cards/")
    assert "已经失效" in client.get("/maple/my").get_data(as_text=True)
    assert client.get(f"/h/{old}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(HouseholdCard)
                             .where(HouseholdCard.revoked_at.is_(None))) == 1


def test_unknown_and_revoked_cards_get_the_same_answer_and_guessing_is_throttled(app, client, compound, chair):
    household, token = issue(compound, chair)
    household_service.issue(compound, chair, [household])
    db.session.commit()
    revoked = client.get(f"/h/{token}")
    unknown = client.get("/h/not-a-real-token-at-all")
    assert revoked.status_code == unknown.status_code == 404
    main = lambda r: r.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]  # noqa: E731
    assert main(revoked) == main(unknown)
    for _ in range(cards.GUESS_LIMIT):
        client.get("/h/guess")
    assert client.get("/h/guess").status_code == 429


def test_card_token_never_reaches_the_log(app, client, compound, chair, monkeypatch, caplog):
    _, token = issue(compound, chair)

    def broken(token):
        raise RuntimeError("database trouble")
    monkeypatch.setattr(cards, "card_household", broken)
    with caplog.at_level(logging.ERROR, logger="kiosk"):
        assert client.get(f"/h/{token}").status_code == 500
    assert caplog.records and token not in caplog.text


def test_another_compounds_household_is_404_in_admin(committee_client, make_compound):
    other = make_compound("other", "别的小区")
    household = add(other)
    assert committee_client.get(f"/admin/maple/households/{household.id}").status_code == 404
    assert committee_client.get(f"/admin/maple/households/{household.id}/edit").status_code == 404


def test_committee_adds_household_with_bad_area_explained(committee_client, compound):
    form = {"building": "2", "entrance": "1", "room": "301", "area": "八十", "occupancy": "owner_occupied"}
    response = post_form(committee_client, "/admin/maple/households/new", form)
    assert response.status_code == 400 and "不是数字" in response.get_data(as_text=True)
    form["area"] = "80.5"
    assert post_form(committee_client, "/admin/maple/households/new", form).status_code == 302
    assert db.session.scalar(select(Household.area_centi)) == 8050
    again = post_form(committee_client, "/admin/maple/households/new", form)
    assert again.status_code == 400 and "已经在名册里" in again.get_data(as_text=True)


def test_addresses_follow_the_readers_language(app, client, committee_client, compound):
    household = add(compound, "3", "2", "501")
    assert "3栋2单元501" in committee_client.get("/admin/maple/households/").get_data(as_text=True)
    committee_client.get("/lang/en?next=/admin/")
    page = committee_client.get(f"/admin/maple/households/{household.id}").get_data(as_text=True)
    assert "Bldg 3, Entrance 2, Room 501" in page and "3栋2单元501" not in page
