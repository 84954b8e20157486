"""The residents' pages on a small (360 px) phone: nothing scrolls sideways, text is big, targets are thumb-sized."""
import re

import pytest

from .conftest import expect, screenshot

pytestmark = pytest.mark.browser

SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 3, "is_mobile": True,
               "has_touch": True}
LONG_TITLE = "关于2025年第三季度物业服务费及公共收益收支情况的公示（含专项维修资金使用明细）"
# What committees really paste: a long link, a long number, and a table.
LONG_BODY = (
    "详细账目请看：https://docs.qq.com/sheet/DQ2FUbWxKZ3BIRkVvAbCdEfGhIjKlMnOp?tab=BB08J2\n\n"
    "对公账号 6222020200112233445566778899，户名：枫叶小区业主委员会。\n\n"
    "| 项目 | 收入（元） | 支出（元） | 结余（元） |\n| --- | --- | --- | --- |\n"
    "| 物业服务费 | 1,234,567.89 | 1,100,000.00 | 134,567.89 |\n"
    "| 停车场公共收益 | 234,567.00 | 12,000.00 | 222,567.00 |\n"
)


def page_width(page):
    return page.evaluate("() => document.scrollingElement.scrollWidth")


def font_px(locator):
    return float(locator.evaluate("el => getComputedStyle(el).fontSize").removesuffix("px"))


def test_home_fits_360px_with_big_titles_and_thumb_sized_filters(live, visitor):
    compound = live.new_compound(name="枫叶小区二期（南区）")
    compound.add_notice("今晚8点消防演练", category="safety", urgent=True)
    compound.add_notice(LONG_TITLE, body=LONG_BODY, category="disclosure", pinned=True)
    compound.add_notice("周六上午义诊活动", category="event")
    compound.add_notice("电梯年检", category="notice")

    person = visitor(**SMALL_PHONE)
    page = person.page
    page.goto(compound.home)
    titles = page.locator("#notice-list .notice-card .title")
    expect(titles).to_have_count(4)
    screenshot(page, "phone-home-360", live)

    assert page.evaluate("() => window.innerWidth") == 360
    assert page_width(page) <= 360, "the home page scrolls sideways on a 360 px phone"
    for i in range(titles.count()):
        assert font_px(titles.nth(i)) >= 18, f"notice title {titles.nth(i).inner_text()!r} is under 18 px"
        box = titles.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, "a notice title runs off the screen"

    filters = page.locator("nav.filters a")
    expect(filters).to_have_count(6)
    for i in range(filters.count()):
        box = filters.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, \
            f"filter {filters.nth(i).inner_text()!r} is {box['width']:.0f}x{box['height']:.0f} px, under 44 px"

    # The filter row is wider than the screen: it scrolls by itself, the page does not.
    last = filters.last
    last.scroll_into_view_if_needed()
    expect(last).to_be_in_viewport()
    assert page_width(page) <= 360

    page.locator(".notice-card", has_text=LONG_TITLE).tap()
    expect(page).to_have_url(re.compile(r"/n/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(LONG_TITLE)
    expect(page.locator(".prose table")).to_be_visible()
    screenshot(page, "phone-notice-360", live)
    assert font_px(page.get_by_role("heading", level=1)) >= 18
    assert font_px(page.locator(".prose p").first) >= 16
    assert page_width(page) <= 360, "a notice with a long link, number or table scrolls sideways on a 360 px phone"
    back = page.get_by_role("link", name="← 返回全部通知")
    assert back.bounding_box()["height"] >= 44

    person.assert_clean()
