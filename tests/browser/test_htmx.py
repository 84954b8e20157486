"""htmx under the strict CSP: partial swaps happen in place, with no full page load, and nothing is blocked."""
import pytest

from .conftest import expect, log_in

pytestmark = pytest.mark.browser


def htmx_requests(page):
    """Record the URLs of requests htmx sends (they carry HX-Request: true)."""
    seen = []
    page.on("request", lambda request: seen.append(request.url) if request.headers.get("hx-request") else None)
    return seen


def mark_page(page):
    """Leave a mark on this document; a full page load would wipe it."""
    page.evaluate("() => { window.__marker = 1; }")


def still_marked(page):
    return page.evaluate("() => window.__marker") == 1


def test_resident_category_filter_swaps_list_in_place(live, visitor, devices):
    compound = live.new_compound()
    compound.add_notice("二季度维修资金使用公示", category="disclosure", published_minutes_ago=90)
    compound.add_notice("电梯年检通知", category="notice", published_minutes_ago=30)

    resident = visitor(**devices["Pixel 5"])
    page = resident.page
    page.goto(compound.home)
    page.wait_for_function("() => window.htmx !== undefined")
    cards = page.locator("#notice-list .notice-card")
    expect(cards).to_have_count(2)
    sent = htmx_requests(page)
    mark_page(page)

    filters = page.get_by_role("navigation", name="按类别看")
    filters.get_by_role("link", name="公示").tap()
    expect(page).to_have_url(live.base_url + compound.home + "?c=disclosure")
    expect(filters.get_by_role("link", name="公示")).to_have_attribute("aria-current", "page")
    expect(filters.get_by_role("link", name="全部")).not_to_have_attribute("aria-current", "page")
    expect(cards).to_have_count(1)
    expect(cards.first.locator(".title")).to_have_text("二季度维修资金使用公示")
    assert still_marked(page), "the filter reloaded the whole page instead of swapping the list"
    assert sent.count(live.base_url + compound.home + "?c=disclosure") == 1
    # The fragment replaced #notices once: no nesting, and the page around it is intact.
    expect(page.locator("#notices")).to_have_count(1)
    expect(page.locator("nav.filters")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("小区通知")

    # Back goes to the unfiltered list, again without a reload (htmx restores the history entry).
    page.go_back()
    expect(page).to_have_url(live.base_url + compound.home)
    expect(cards).to_have_count(2)
    expect(filters.get_by_role("link", name="全部")).to_have_attribute("aria-current", "page")
    expect(page.locator("#notices")).to_have_count(1)
    expect(page.locator("header.top")).to_have_count(1)
    assert still_marked(page)

    resident.assert_clean()


def test_unpublish_button_updates_its_row_in_place(live, visitor, devices):
    compound = live.new_compound()
    keep = compound.add_notice("快递柜搬到南门", published_minutes_ago=90)
    withdraw = compound.add_notice("周日停电检修", published_minutes_ago=30)

    member = visitor(**devices["Pixel 5"])
    page = member.page
    log_in(page, compound)
    page.wait_for_function("() => window.htmx !== undefined")
    admin_url = page.url
    sent = htmx_requests(page)
    mark_page(page)

    row = page.locator(f"#notice-{withdraw}")
    other = page.locator(f"#notice-{keep}")
    expect(row.locator(".status")).to_have_text("已发布")
    row.get_by_role("button", name="撤回").tap()
    expect(row.locator(".status")).to_have_text("草稿")
    expect(row.get_by_role("status")).to_have_text("已撤回为草稿，居民不再看到。")
    expect(row.get_by_role("button", name="发布")).to_be_visible()
    expect(row.get_by_role("button", name="撤回")).to_have_count(0)
    expect(other.locator(".status")).to_have_text("已发布")
    expect(page.locator(f"#notice-{withdraw}")).to_have_count(1)
    assert still_marked(page), "撤回 reloaded the whole page instead of updating the row"
    assert page.url == admin_url
    assert sent.count(f"{live.base_url}/admin/{compound.slug}/notices/{withdraw}/unpublish") == 1

    resident = visitor(**devices["Pixel 5"])
    resident.page.goto(compound.home)
    expect(resident.page.locator("#notice-list .notice-card .title")).to_have_text(["快递柜搬到南门"])
    assert live.notice_by_title(compound.slug, "周日停电检修")[1] == "draft"

    # The swapped-in row works too: publish it again from the same row.
    row.get_by_role("button", name="发布").tap()
    expect(row.locator(".status")).to_have_text("已发布")
    expect(row.get_by_role("status")).to_have_text("已发布。")
    assert still_marked(page)
    resident.page.reload()
    expect(resident.page.locator("#notice-list .notice-card .title")).to_have_text(
        ["周日停电检修", "快递柜搬到南门"])
    assert sent.count(f"{live.base_url}/admin/{compound.slug}/notices/{withdraw}/publish") == 1

    member.assert_clean()
    resident.assert_clean()
