"""Printing household cards never voids the old ones before the committee confirms the sheet was printed and
handed out (inside WeChat nothing prints, and a building's cards would die with nothing in hand)."""
from datetime import timedelta

from sqlalchemy import select

from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.households import service as household_service
from kiosk.households.models import CardBatch, Household

from conftest import post_form

WECHAT = ("Mozilla/5.0 (Linux; Android 12; V2055A Build/SP1A.210812.003; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230202 MMWEBID/6263 "
          "MicroMessenger/8.0.33.2320(0x28002151) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64")


def building(compound, chair, name="3", rooms=("101", "102")):
    """A building whose households hold cards that work; return {address: token}."""
    homes = [Household(compound_id=compound.id, building=name, entrance="", room=room, area_centi=8000)
             for room in rooms]
    db.session.add_all(homes)
    db.session.commit()
    issued = household_service.issue(compound, chair, homes)
    db.session.commit()
    return {h.address: token for h, token in issued}


def phone_with(app, token):
    """A resident's phone that scanned the card."""
    phone = app.test_client()
    phone.get(f"/h/{token}")
    return phone


def print_building(client, name="3", **headers):
    response = post_form(client, "/admin/maple/cards/print", {"which": "building", "building": name},
                         token_from="/admin/maple/cards/", headers=headers)
    assert response.status_code == 200
    return response


def test_printing_a_building_leaves_the_old_cards_working_until_confirmed(app, committee_client, compound, chair):
    old = building(compound, chair)
    phone = phone_with(app, old["3栋101"])
    sheet = print_building(committee_client)
    html = sheet.get_data(as_text=True)
    assert "已打印并分发" in html and "取消这批" in html and "新卡现在还不能用，旧卡照常能用" in html
    assert "我家：3栋101" in phone.get("/maple/my").get_data(as_text=True)
    assert app.test_client().get(f"/h/{old['3栋102']}").status_code == 302
    page = committee_client.get("/admin/maple/cards/").get_data(as_text=True)
    assert "等待确认分发的住户卡" in page and "3 栋，2 张" in page


def test_confirming_the_run_voids_the_old_cards_and_starts_the_new_ones(app, committee_client, compound, chair):
    old = building(compound, chair)
    phone = phone_with(app, old["3栋101"])
    batch_before = set(db.session.scalars(select(CardBatch.id)))
    print_building(committee_client)
    batch = db.session.scalar(select(CardBatch).where(CardBatch.id.not_in(batch_before)))
    new = captured_tokens(app, compound, batch)
    assert app.test_client().get(f"/h/{new[0]}").status_code == 404  # pending: not yet
    response = post_form(committee_client, f"/admin/maple/cards/batches/{batch.id}/confirm", {},
                         token_from="/admin/maple/cards/")
    assert response.status_code == 302
    assert "2 张新住户卡生效" in committee_client.get("/admin/maple/cards/").get_data(as_text=True)
    refused = app.test_client().get(f"/h/{old['3栋101']}")
    assert refused.status_code == 404 and "这张住户卡现在无法使用" in refused.get_data(as_text=True)
    assert "已经失效" in phone.get("/maple/my").get_data(as_text=True)
    assert app.test_client().get(f"/h/{new[0]}").status_code == 302
    actions = [e.action for e in db.session.scalars(select(AuditEntry).where(AuditEntry.area == "cards")
                                                    .order_by(AuditEntry.id))]
    assert actions[-2:] == ["print", "confirm"]


def test_cancelling_the_run_keeps_the_old_cards_and_the_new_ones_never_work(app, committee_client, compound,
                                                                            chair):
    old = building(compound, chair)
    batch_before = set(db.session.scalars(select(CardBatch.id)))
    print_building(committee_client)
    batch = db.session.scalar(select(CardBatch).where(CardBatch.id.not_in(batch_before)))
    new = captured_tokens(app, compound, batch)
    post_form(committee_client, f"/admin/maple/cards/batches/{batch.id}/cancel", {},
              token_from="/admin/maple/cards/")
    assert app.test_client().get(f"/h/{old['3栋101']}").status_code == 302
    assert app.test_client().get(f"/h/{new[0]}").status_code == 404
    again = post_form(committee_client, f"/admin/maple/cards/batches/{batch.id}/confirm", {},
                      token_from="/admin/maple/cards/")
    assert again.status_code == 302  # a cancelled run cannot be confirmed afterwards
    assert app.test_client().get(f"/h/{new[0]}").status_code == 404
    assert "等待确认分发的住户卡" not in committee_client.get("/admin/maple/cards/").get_data(as_text=True)


def test_a_run_waiting_for_days_is_flagged_on_the_cards_page(committee_client, compound, chair):
    building(compound, chair)
    print_building(committee_client)
    assert "已经等了" not in committee_client.get("/admin/maple/cards/").get_data(as_text=True)
    for batch in household_service.pending_batches(compound):
        batch.created_at -= timedelta(days=4)
    db.session.commit()
    page = committee_client.get("/admin/maple/cards/").get_data(as_text=True)
    assert "已经等了 3 天以上" in page


def test_printing_inside_wechat_says_to_open_the_browser_and_voids_nothing(app, committee_client, compound, chair):
    old = building(compound, chair)
    html = print_building(committee_client, **{"User-Agent": WECHAT}).get_data(as_text=True)
    assert "在浏览器中打开" in html and "data-print" not in html
    assert app.test_client().get(f"/h/{old['3栋101']}").status_code == 302


def captured_tokens(app, compound, batch):
    """The run's tokens, as the sheet showed them (only their hashes are stored: mint known ones instead)."""
    from kiosk.households.models import HouseholdCard, hash_token, new_token
    tokens = []
    for card in db.session.scalars(select(HouseholdCard).where(HouseholdCard.batch_id == batch.id)):
        token = new_token()
        card.token_hash = hash_token(token)
        tokens.append(token)
    db.session.commit()
    return tokens
