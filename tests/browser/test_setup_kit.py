"""The starter kit's QR codes, as Chromium draws them, decode with zbar to the compound's phone home; and the
committee lands on its notices with the setup checklist on top."""
import pytest

from .conftest import ARTIFACTS, expect, log_in, screenshot
from .test_cards import decode_qr, seed_roll

pytestmark = pytest.mark.browser


def test_the_kits_poster_and_residents_page_qr_codes_decode_to_the_phone_home(live, visitor, devices):
    account = live.new_compound("桂花小区")
    seed_roll(live, account)
    member = visitor(**devices["Pixel 5"])
    log_in(member.page, account)
    expect(member.page.get_by_role("heading", name="开通清单：已完成 1/7 项")).to_be_visible()
    member.page.get_by_role("link", name="看全部开通步骤").click()
    expect(member.page.locator('[data-step="roll"]')).to_have_attribute("data-done", "1")
    member.page.get_by_role("link", name="打印开通材料包").first.click()
    expect(member.page.get_by_role("heading", name="委员会快速上手（摘自使用手册）")).to_be_visible()
    screenshot(member.page, "setup-kit", live)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, selector in (("poster", ".poster-qr"), ("residents", ".kit-residents-qr")):
        shot = ARTIFACTS / f"setup-kit-{name}-{live.backend}.png"
        member.page.locator(selector).screenshot(path=str(shot))
        assert decode_qr(shot) == [f"{live.base_url}/{account.slug}/"], name
