"""The phone home's main menu (我家, 收支公示, 文件公开, 协商议事, ...) is on the first screen of a 390×844 phone, in the
standard type and in 长辈模式, however many notices there are: nobody scrolls past every notice to find it."""
import pytest

from .conftest import expect, screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def assert_menu_on_first_screen(page):
    links = page.locator(".home-links a")
    expect(links).to_have_count(6)
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 844, \
            f"menu link {links.nth(i).inner_text()!r} is below the first screen (top {box and box['y']:.0f} px)"


def test_the_main_menu_is_on_the_first_screen_in_both_type_sizes(live, visitor):
    compound = live.new_compound(name="枫叶小区")
    for n in range(12):
        compound.add_notice(f"第{n + 1}条通知：本周{n + 1}号楼二次供水水箱清洗，请提前储水", urgent=n == 0, pinned=n == 1)
    page = visitor(**PHONE).page
    page.goto(compound.home)
    expect(page.locator("#notice-list .notice-card")).to_have_count(12)
    assert_menu_on_first_screen(page)
    screenshot(page, "phone-home-menu-390", live)

    page.get_by_role("link", name="长辈模式").click()
    page.wait_for_load_state()
    expect(page.locator("body.large")).to_have_count(1)
    assert_menu_on_first_screen(page)
    screenshot(page, "phone-home-menu-390-large", live)
