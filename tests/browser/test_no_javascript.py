"""Everything essential works with JavaScript off: logging in, posting, reading and filtering by category."""
import re

import pytest

from .conftest import expect, log_in

pytestmark = pytest.mark.browser

TITLE = "周六上午在小区广场义诊"


def test_post_read_and_filter_without_javascript(live, visitor, devices):
    compound = live.new_compound()
    compound.add_notice("电梯年检通知", category="notice", published_minutes_ago=30)

    member = visitor(**devices["Pixel 5"], java_script_enabled=False)
    page = member.page
    log_in(page, compound)
    page.get_by_role("link", name="发通知").tap()
    page.get_by_label("标题", exact=True).fill(TITLE)
    page.get_by_label("正文", exact=True).fill("时间：周六 9:00–11:30\n\n- 量血压\n- 测血糖")
    page.get_by_role("radio", name="活动").check()
    page.get_by_role("button", name="发布", exact=True).tap()
    expect(page.get_by_role("status")).to_have_text("已发布，居民现在就能看到。")
    expect(page.locator(".row", has_text=TITLE).locator(".status")).to_have_text("已发布")
    # htmx never ran: the buttons are plain forms and still do their job (with a full page load).
    assert page.evaluate("() => typeof window.htmx") == "undefined"

    resident = visitor(**devices["Pixel 5"], java_script_enabled=False)
    page = resident.page
    page.goto(compound.home)
    cards = page.locator("#notice-list .notice-card")
    expect(cards).to_have_count(2)
    expect(cards.first.locator(".title")).to_have_text(TITLE)
    cards.first.tap()
    expect(page).to_have_url(re.compile(rf"/{compound.slug}/n/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".prose li")).to_have_text(["量血压", "测血糖"])
    page.get_by_role("link", name="← 返回全部通知").tap()

    filters = page.get_by_role("navigation", name="按类别看")
    filters.get_by_role("link", name="活动").tap()
    expect(page).to_have_url(live.base_url + compound.home + "?c=event")
    expect(filters.get_by_role("link", name="活动")).to_have_attribute("aria-current", "page")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".title")).to_have_text(TITLE)

    filters.get_by_role("link", name="通知").tap()
    expect(page).to_have_url(live.base_url + compound.home + "?c=notice")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".title")).to_have_text("电梯年检通知")

    filters.get_by_role("link", name="安全提示").tap()
    expect(page.locator("#notice-list .empty")).to_have_text("现在没有通知。")

    filters.get_by_role("link", name="全部").tap()
    expect(page).to_have_url(live.base_url + compound.home)
    expect(cards).to_have_count(2)

    member.assert_clean()
    resident.assert_clean()
