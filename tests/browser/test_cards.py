"""A printed household card works end to end: print the sheet, decode a card's QR, confirm the cards handed out,
land on that household."""
import pytest
from PIL import Image

from kiosk.extensions import db
from kiosk.households.models import Household

from .conftest import ARTIFACTS, expect, log_in, screenshot

pytestmark = pytest.mark.browser

ADDRESSES = [("1", "1", "101"), ("1", "1", "102"), ("2", "", "301")]


def decode_qr(path):
    """Decode the QR codes in an image with zbar (a decoder we did not write)."""
    from pyzbar.pyzbar import decode

    return [symbol.data.decode() for symbol in decode(Image.open(path))]


def seed_roll(live, account):
    from kiosk.compounds.models import Compound
    from sqlalchemy import select

    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == account.slug))
        for building, entrance, room in ADDRESSES:
            db.session.add(Household(compound_id=compound.id, building=building, entrance=entrance, room=room,
                                     area_centi=8635, contact_name="王建国", contact_phone="13900001111"))
        db.session.commit()


def test_printed_card_opens_that_households_page_on_a_phone(live, visitor, devices):
    account = live.new_compound("桂花小区")
    seed_roll(live, account)
    member = visitor(**devices["Pixel 5"])
    log_in(member.page, account)
    member.page.goto(f"/admin/{account.slug}/cards/")
    member.page.get_by_label("全部住户（全部补发）").check()
    member.page.get_by_role("button", name="生成并打印").click()
    expect(member.page.get_by_text("已生成 3 张住户卡")).to_be_visible()
    screenshot(member.page, "card-sheet", live)

    first = member.page.locator(".card").first
    address = first.locator(".card-address").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"card-first-{live.backend}.png"
    first.screenshot(path=str(shot))
    payloads = decode_qr(shot)
    assert len(payloads) == 1 and payloads[0].startswith(live.base_url + "/h/")

    early = visitor(**devices["Pixel 5"])  # printed, not yet handed out: the new card does not work yet
    early.page.goto(payloads[0])
    expect(early.page.get_by_role("heading", name="这张住户卡现在无法使用。")).to_be_visible()
    member.page.get_by_role("button", name="已打印并分发").click()
    expect(member.page.get_by_text("3 张新住户卡生效")).to_be_visible()
    resident = visitor(**devices["Pixel 5"])
    resident.page.goto(payloads[0])
    expect(resident.page).to_have_url(f"{live.base_url}/{account.slug}/my")
    expect(resident.page.get_by_role("heading", name=f"我家：{address}")).to_be_visible()
    assert "王建国" not in resident.page.content() and "13900001111" not in resident.page.content()
    resident.page.goto(f"/{account.slug}/my")  # the phone remembers the household
    expect(resident.page.get_by_role("heading", name=f"我家：{address}")).to_be_visible()

    # The committee member scanning the same card lands on the pickup page for that household instead.
    member.page.goto(payloads[0])
    expect(member.page.get_by_text(address).first).to_be_visible()
    assert "/admin/" in member.page.url
    member.assert_clean()
    resident.assert_clean()
