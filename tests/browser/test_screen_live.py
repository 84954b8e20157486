"""The lobby screen stays live and never goes blank: changes arrive in seconds, outages and errors stay quiet."""
import re
import time

import pytest

from .conftest import expect, log_in, screenshot
from .screen_helpers import (LONG_BODY, assert_no_csp_or_script_errors, current_slide, not_reloaded, open_kiosk,
                             slide_ids, touch_drag, visible_text)

pytestmark = pytest.mark.browser

POLL = 1  # seconds between pulses for these tests; htmx's request timeout on the screen is 2 × POLL
URGENT = "紧急：今晚8点至10点全小区停电检修"
URGENT_BODY = "供电公司检修线路，**今晚 20:00–22:00** 全小区停电。\n\n电梯停运，请提前回家。"
ERROR_PAGE_TEXT = "服务器出了点问题"
# What the console may say while the server is away; anything else is a fault.
OUTAGE_NOISE = re.compile(r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|CONNECTION_CLOSED)"
                          r"|htmx:(sendError|timeout|responseError|afterRequest)"
                          r"|Response Status Error Code 5\d\d|status of 50\d|Failed to load resource")


@pytest.fixture
def fast_poll(live, monkeypatch):
    """Screens opened in this test poll every POLL seconds (the app reads POLL_SECONDS per request)."""
    monkeypatch.setitem(live.app.config, "POLL_SECONDS", POLL)


def document_loads(page):
    """Record every full document load of the page (a reload would show up here)."""
    loads = []
    page.on("request", lambda request: loads.append(request.url) if request.resource_type == "document" else None)
    return loads


def test_urgent_notice_posted_on_a_phone_reaches_the_screen_without_a_reload(live, visitor, devices, fast_poll):
    compound = live.new_compound(name="枫树小区")
    reading = compound.add_notice("快递柜搬到南门", body=LONG_BODY, published_minutes_ago=30)
    path = compound.add_screen(dwell_seconds=30, idle_seconds=120)

    kiosk = open_kiosk(visitor, path)
    screen = kiosk.page
    banner = screen.locator("#banner")
    expect(banner).to_be_hidden()
    reloads = document_loads(screen)

    member = visitor(**devices["Pixel 5"])
    phone = member.page
    log_in(phone, compound)
    phone.get_by_role("link", name="发通知").tap()
    phone.get_by_label("标题", exact=True).fill(URGENT)
    phone.get_by_label("正文", exact=True).fill(URGENT_BODY)
    phone.get_by_role("checkbox", name=re.compile("^紧急")).tap()
    with phone.expect_response(lambda r: r.request.method == "POST" and "/notices/" in r.url):
        phone.get_by_role("button", name="发布", exact=True).tap()
    saved = time.monotonic()
    expect(banner).to_contain_text(URGENT, timeout=3_000)
    arrived = time.monotonic() - saved
    expect(phone.get_by_role("status")).to_have_text("已发布，居民现在就能看到。")
    urgent_id = live.notice_by_title(compound.slug, URGENT)[0]

    expect(banner).to_be_visible()
    expect(banner.locator(".banner-item")).to_have_count(1)
    expect(banner.locator(".banner-tag")).to_have_text("紧急")
    expect(screen.locator("#banner")).to_have_count(1)  # swapped, not nested
    expect(screen.locator(f'#loop .slide[data-slide-id="notices-{urgent_id}"]')).to_have_count(1)
    expect(screen.locator("#group-notices")).to_have_count(1)
    assert not_reloaded(screen) and reloads == [], f"the screen reloaded to show the change: {reloads}"
    assert arrived <= 3, f"the urgent notice took {arrived:.1f} s to reach the screen"
    # The slide that was showing stays up; the urgent one waits its turn (the banner carries it meanwhile).
    assert current_slide(screen) == f"notices-{reading}"
    screenshot(screen, "screen-urgent-banner", live)

    # A resident starts reading; a change arriving meanwhile must not take the notice from under them.
    screen.locator("#loop .slide.is-current").tap()
    expect(screen.locator("body")).to_have_class(re.compile(r"\bdetail-open\b"))
    detail = screen.locator("#detail")
    expect(detail.get_by_role("heading", level=1)).to_have_text("快递柜搬到南门")
    box = detail.locator(".detail-scroll").bounding_box()
    touch_drag(screen, box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7, -600)
    screen.wait_for_function("() => document.querySelector('#detail .detail-scroll').scrollTop > 200")
    place = detail.locator(".detail-scroll").evaluate("el => el.scrollTop")

    later = compound.publish_notice("周六上午义诊活动", category="event")
    expect(screen.locator(f'#loop .slide[data-slide-id="notices-{later}"]')).to_have_count(1, timeout=4_000)
    screen.wait_for_timeout(300)  # let the banner's refresh land as well
    expect(screen.locator("body")).to_have_class(re.compile(r"\bdetail-open\b"))
    expect(detail.locator(".detail-inner")).to_have_attribute("data-detail-id", f"notices-{reading}")
    expect(detail.get_by_role("heading", level=1)).to_have_text("快递柜搬到南门")
    assert detail.locator(".detail-scroll").evaluate("el => el.scrollTop") == place, "the reader lost their place"
    assert not_reloaded(screen) and reloads == []

    # Back on the loop, the slide they were reading is still the one showing.
    detail.locator("[data-action=back]").tap()
    expect(screen.locator("body")).not_to_have_class(re.compile(r"\bdetail-open\b"))
    assert current_slide(screen) == f"notices-{reading}"
    assert len([i for i in slide_ids(screen) if i.startswith("notices-")]) == 3

    kiosk.assert_clean()
    member.assert_clean()


def test_screen_keeps_its_slides_through_an_outage_and_recovers_by_itself(live, visitor, fast_poll):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    compound.add_notice("二季度公共收益收支明细公示", category="disclosure", published_minutes_ago=60)
    path = compound.add_screen(dwell_seconds=3, idle_seconds=60)

    kiosk = open_kiosk(visitor, path)
    page = kiosk.page
    badge = page.locator("#offline")
    expect(badge).to_be_hidden()
    screen_url = page.url
    reloads = document_loads(page)
    with page.expect_response(lambda r: "/pulse" in r.url):
        pass  # one good pulse, so "data as of" is now
    before = slide_ids(page)

    live.stop()
    try:
        expect(badge).to_be_visible(timeout=4_000)
        expect(badge).to_have_text(re.compile(r"离线 · 数据截至\s*\d\d:\d\d"))
        # Not blank, not the browser's error page: the same document, still going round its slides.
        shown = current_slide(page)
        page.wait_for_function(
            "id => document.querySelector('#loop .slide.is-current').dataset.slideId !== id", arg=shown,
            timeout=5_000)
        assert page.url == screen_url and not_reloaded(page)
        assert slide_ids(page) == before
        expect(page.locator("#loop .slide.is-current .slide-title")).not_to_have_text("")
        expect(page.locator("#loop .slide.is-current .slide-title")).to_be_visible()
        expect(page.locator("body.screen")).to_have_count(1)
        screenshot(page, "screen-offline", live)

        # The committee posts while the screen cannot reach the server.
        new_id = compound.publish_notice("周日上午停水", body="管道维修，周日 8:00–11:00 停水。")
    finally:
        live.start()
    back = time.monotonic()

    # Recovers by itself within a poll interval plus a request timeout, with a margin.
    limit = (POLL + 2 * POLL + 3) * 1000
    expect(badge).to_be_hidden(timeout=limit)
    expect(page.locator(f'#loop .slide[data-slide-id="notices-{new_id}"]')).to_have_count(1, timeout=limit)
    assert time.monotonic() - back <= limit / 1000 + 1
    assert page.url == screen_url and not_reloaded(page) and reloads == []
    expect(page.locator("#loop .slide.is-current .slide-title")).to_be_visible()

    assert_no_csp_or_script_errors(kiosk)
    unexpected = [e for e in kiosk.console_errors if not OUTAGE_NOISE.search(e)]
    assert unexpected == [], "console errors besides the outage itself:\n" + "\n".join(unexpected)


def test_server_errors_never_reach_the_screen(live, visitor, fast_poll, monkeypatch):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    compound.add_notice("二季度公共收益收支明细公示", category="disclosure", published_minutes_ago=60)
    path = compound.add_screen(dwell_seconds=30, idle_seconds=60)

    kiosk = open_kiosk(visitor, path)
    page = kiosk.page
    badge, banner = page.locator("#offline"), page.locator("#banner")
    before = slide_ids(page)
    failures = []
    page.on("response", lambda r: failures.append(r.url) if r.status >= 500 else None)

    views = live.app.view_functions
    working = {name: views[name] for name in ("screen.pulse", "screen.slides", "screen.banner")}

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure: the database went away")

    def assert_screen_untouched():
        text = visible_text(page)
        assert ERROR_PAGE_TEXT not in text and "RuntimeError" not in text and "500" not in text, text
        assert slide_ids(page) == before
        expect(page.locator("#loop .slide.is-current .slide-title")).to_be_visible()
        expect(page.locator("#group-notices")).to_have_count(1)
        expect(page.locator("#banner")).to_have_count(1)
        expect(banner).to_be_hidden()
        assert not_reloaded(page)

    # 1. The pulse itself answers 500 (a change is waiting, so it gets past the fast 204 path).
    for name in working:
        monkeypatch.setitem(views, name, broken)
    urgent_id = compound.publish_notice(URGENT, body=URGENT_BODY, urgent=True)
    expect(badge).to_be_visible(timeout=4_000)
    assert any("/pulse" in url for url in failures), failures
    assert_screen_untouched()

    # 2. The pulse is healthy again and names the changed areas, but fetching them answers 500.
    with page.expect_response(lambda r: "/banner" in r.url and r.status == 500, timeout=4_000), \
            page.expect_response(lambda r: "/slides/" in r.url and r.status == 500, timeout=4_000):
        monkeypatch.setitem(views, "screen.pulse", working["screen.pulse"])
    expect(badge).to_be_hidden(timeout=4_000)
    page.wait_for_timeout(200)
    assert_screen_untouched()
    screenshot(page, "screen-after-500s", live)

    # 3. Everything answers again: the screen catches up by itself, without a reload or a new change.
    monkeypatch.setitem(views, "screen.slides", working["screen.slides"])
    monkeypatch.setitem(views, "screen.banner", working["screen.banner"])
    expect(page.locator(f'#loop .slide[data-slide-id="notices-{urgent_id}"]')).to_have_count(1, timeout=5_000)
    expect(banner).to_contain_text(URGENT, timeout=5_000)
    assert not_reloaded(page)

    assert_no_csp_or_script_errors(kiosk)
    unexpected = [e for e in kiosk.console_errors if not OUTAGE_NOISE.search(e)]
    assert unexpected == [], "console errors besides the failing requests:\n" + "\n".join(unexpected)
