"""On phones, end to end: a committee member posts an urgent notice, a resident sees it first and reads it."""
import re

import pytest

from .conftest import expect, log_in, screenshot

pytestmark = pytest.mark.browser

TITLE = "紧急：3号楼明天上午停水"
BODY = "因水管抢修，明天（周三）**8:00–12:00** 停水。\n\n请提前储水，给您带来不便敬请谅解。"


def test_member_posts_urgent_notice_and_resident_reads_it_first(live, visitor, devices):
    compound = live.new_compound()
    compound.add_notice("业主大会议程公示", category="disclosure", pinned=True, published_minutes_ago=120)

    member = visitor(**devices["Pixel 5"])
    page = member.page
    log_in(page, compound)
    page.get_by_role("link", name="发通知").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("发通知")
    page.get_by_label("标题", exact=True).fill(TITLE)
    page.get_by_label("正文", exact=True).fill(BODY)
    urgent = page.get_by_role("checkbox", name=re.compile("^紧急"))
    urgent.tap()
    expect(urgent).to_be_checked()
    screenshot(page, "admin-form-pixel5", live)
    page.get_by_role("button", name="发布", exact=True).tap()

    expect(page).to_have_url(re.compile(re.escape(live.base_url + compound.admin) + r"\?tab=current$"))
    expect(page.get_by_role("status")).to_have_text("已发布，居民现在就能看到。")
    posted = page.locator(".row", has_text=TITLE)
    expect(posted.locator(".tag-urgent")).to_have_text("紧急")
    expect(posted.locator(".status")).to_have_text("已发布")
    screenshot(page, "admin-list-pixel5", live)

    # Posted after the urgent one: newest, yet it must come after urgent and pinned notices.
    compound.add_notice("快递柜搬到南门", published_minutes_ago=0)

    resident = visitor(**devices["Pixel 5"])
    page = resident.page
    page.goto(compound.home)
    expect(page.get_by_role("heading", level=1)).to_have_text("小区通知")
    cards = page.locator("#notice-list .notice-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(0).locator(".title")).to_have_text(TITLE)
    expect(cards.nth(0).locator(".tag-urgent")).to_have_text("紧急")
    expect(cards.nth(0).locator(".tag-urgent")).to_have_css("background-color", "rgb(168, 0, 28)")
    expect(cards.nth(1).locator(".title")).to_have_text("业主大会议程公示")
    expect(cards.nth(2).locator(".title")).to_have_text("快递柜搬到南门")
    expect(page.locator(".tag-urgent")).to_have_count(1)
    screenshot(page, "phone-home-pixel5", live)

    cards.nth(0).tap()
    expect(page).to_have_url(re.compile(re.escape(live.base_url) + rf"/{compound.slug}/n/\d+$"))
    expect(page).to_have_title(re.compile("^" + re.escape(TITLE)))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    article = page.locator("article.notice")
    expect(article.locator(".tag-urgent")).to_have_text("紧急")
    expect(article.locator(".prose strong")).to_have_text("8:00–12:00")
    expect(article.locator(".prose p").nth(1)).to_have_text("请提前储水，给您带来不便敬请谅解。")
    expect(article.locator(".prose")).not_to_contain_text("**")
    screenshot(page, "phone-notice-pixel5", live)

    page.get_by_role("link", name="← 返回全部通知").tap()
    expect(page).to_have_url(live.base_url + compound.home)
    expect(page.locator("#notice-list .notice-card")).to_have_count(3)

    member.assert_clean()
    resident.assert_clean()
