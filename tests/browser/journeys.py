"""Shared pieces of the lobby screen's journeys (test_screen_*journeys.py), written against ScreenDriver so that
each journey runs on Debian Chromium and on the frozen Chromium 65 and 78 of lobby WebViews."""
import re

from .screen_helpers import LONG_BODY

TITLES = ["3号楼明天上午停水", "二季度公共收益收支明细公示", "端午节大礼包领取安排"]
POLL = 1  # seconds between pulses where a journey sets it; htmx's request timeout on the screen is 2 × POLL
URGENT = "紧急：今晚8点至10点全小区停电检修"
URGENT_BODY = "供电公司检修线路，**今晚 20:00–22:00** 全小区停电。\n\n电梯停运，请提前回家。"
ERROR_PAGE_TEXT = "服务器出了点问题"
# What the console may say while the server is away or failing; anything else is a fault.
OUTAGE_NOISE = re.compile(r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|CONNECTION_CLOSED)"
                          r"|htmx:(sendError|timeout|responseError|afterRequest)"
                          r"|Response Status Error Code 5\d\d|status of 50\d|Failed to load resource"
                          # the service worker's script, asked for just as the server went away
                          r"|(An unknown error occurred|A bad HTTP response code \(5\d\d\) was received)"
                          r" when fetching the script")
CURRENT = "#loop .slide.is-current"


def seed_three(compound):
    """An urgent notice, a pinned disclosure and an event, each long enough to scroll in full screen."""
    compound.add_notice(TITLES[0], body=LONG_BODY, category="safety", urgent=True, published_minutes_ago=10)
    compound.add_notice(TITLES[1], body=LONG_BODY, category="disclosure", pinned=True, published_minutes_ago=30)
    compound.add_notice(TITLES[2], body=LONG_BODY, category="event", published_minutes_ago=50)


def slide_ids(screen):
    return screen.js("""() => Array.prototype.map.call(
        document.querySelectorAll("#loop .group:not(.fallback) .slide"), function (e) { return e.dataset.slideId; })""")


def current_slide(screen):
    return screen.attr(CURRENT, "data-slide-id")


def loop_state(screen):
    return screen.js("""() => ({
        id: document.querySelector("#loop .slide.is-current").dataset.slideId,
        dot: Array.prototype.indexOf.call(document.querySelectorAll("#dots span"),
                                          document.querySelector("#dots span.on")),
        detail: document.body.classList.contains("detail-open")})""")


def wait_for_advance(screen, from_id, timeout):
    screen.until(lambda: current_slide(screen) != from_id, timeout, f"the loop to move on from {from_id}")
    return loop_state(screen)


def assert_target(screen, selector, minimum, what):
    box = screen.box(selector)
    assert box and box["width"] >= minimum and box["height"] >= minimum, \
        f"[{screen.engine}] {what} is {box}, under {minimum}×{minimum}"


def assert_fills(screen, selector, what):
    """The element covers the whole viewport (old engines ignore `inset`: boxes collapsed there)."""
    box = screen.box(selector)
    assert box == {"x": 0, "y": 0, "width": screen.width, "height": screen.height}, \
        f"[{screen.engine}] {what} does not fill the {screen.width}×{screen.height} screen: {box}"
