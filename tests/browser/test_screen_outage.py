"""A lobby screen through a 10-minute outage (issue 7): it keeps its content all along and is back within 5 s
of the server's return, with what the committee posted meanwhile.

The 10 minutes are compressed with Playwright's clock: the page's timers (slide loop, clock, pulse) are run
forward a minute at a time while the server is really away; real time keeps flowing in between, so the
pulse goes on failing against a closed port exactly as it would. The server comes back on the same port.
"""
import re
import time

import pytest

from .conftest import expect, screenshot
from .journeys import OUTAGE_NOISE
from .screen_helpers import PORTRAIT, assert_no_csp_or_script_errors, not_reloaded, slide_ids

pytestmark = pytest.mark.browser

POLL = 1  # seconds between pulses for this test
OUTAGE_MINUTES = 10
RECOVERY_SECONDS = 5


def test_a_screen_keeps_its_content_through_a_ten_minute_outage_and_is_back_within_5_s(live, visitor, monkeypatch):
    monkeypatch.setitem(live.app.config, "POLL_SECONDS", POLL)
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    compound.add_notice("二季度公共收益收支明细公示", category="disclosure", published_minutes_ago=60)
    path = compound.add_screen(dwell_seconds=10, idle_seconds=60)

    kiosk = visitor(**PORTRAIT)
    page = kiosk.page
    page.clock.install()  # time flows normally until the test runs it forward
    page.goto(path)
    expect(page.locator("#loop .slide.is-current")).to_have_count(1)
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__kioskMarker = 'first-load'; }")
    badge = page.locator("#offline")
    expect(badge).to_be_hidden()
    with page.expect_response(lambda r: "/pulse" in r.url and r.status == 200):
        pass  # one good pulse: "data as of" is now
    before = slide_ids(page)
    screen_url = page.url
    shown = set()

    live.stop()
    try:
        expect(badge).to_be_visible(timeout=5_000)
        for minute in range(OUTAGE_MINUTES):
            page.clock.fast_forward(60_000)
            page.wait_for_timeout(250)  # let the failed pulses of this minute come back
            # Not blank, not the browser's error page: the same document with the same slides, going round.
            assert page.url == screen_url and not_reloaded(page), f"reloaded after {minute + 1} min"
            assert slide_ids(page) == before
            current = page.locator("#loop .slide.is-current .slide-title")
            expect(current).to_be_visible()
            expect(current).not_to_have_text("")
            shown.add(page.locator("#loop .slide.is-current").get_attribute("data-slide-id"))
            expect(badge).to_be_visible()
            expect(badge).to_have_text(re.compile(r"离线 · 数据截至\s*\d\d:\d\d"))
        assert len(shown) > 1, "the slide loop stopped during the outage"
        screenshot(page, "screen-after-10-min-outage", live)
        # The committee posts while the screen cannot reach the server.
        new_id = compound.publish_notice("周日上午停水", body="管道维修，周日 8:00–11:00 停水。")
    finally:
        live.start()
    back = time.monotonic()

    expect(badge).to_be_hidden(timeout=RECOVERY_SECONDS * 1000)
    expect(page.locator(f'#loop .slide[data-slide-id="notices-{new_id}"]')).to_have_count(
        1, timeout=RECOVERY_SECONDS * 1000)
    recovered = time.monotonic() - back
    assert recovered <= RECOVERY_SECONDS, f"the screen took {recovered:.1f} s to recover"
    assert page.url == screen_url and not_reloaded(page)
    expect(page.locator("#loop .slide.is-current .slide-title")).to_be_visible()

    assert_no_csp_or_script_errors(kiosk)
    unexpected = [e for e in kiosk.console_errors if not OUTAGE_NOISE.search(e)]
    assert unexpected == [], "console errors besides the outage itself:\n" + "\n".join(unexpected)
