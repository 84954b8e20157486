"""The lobby screen as residents meet it, on every engine it must work on (issue 13): the loop, a tapped slide in
full screen until the idle return, landscape, night. Each journey is written once against
screen_driver.ScreenDriver and runs on today's Debian Chromium and on the frozen Chromium 65 and 78 of lobby
WebViews (old engines on SQLite only, see conftest.py). Live updates: test_screen_live_journeys.py; voting at the
screen: test_screen_vote_journey.py.
"""
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .journeys import (CURRENT, TITLES, assert_fills, assert_target, loop_state, seed_three, slide_ids,
                       wait_for_advance)

pytestmark = pytest.mark.browser


def test_portrait_loop_advances_and_a_tapped_slide_reads_full_screen_until_idle(live, open_screen):
    compound = live.new_compound(name="枫树小区")
    seed_three(compound)
    path = compound.add_screen(orientation="portrait", dwell_seconds=3, idle_seconds=5)

    screen = open_screen(path, "portrait")
    ids = slide_ids(screen)
    assert [i for i in ids if i.startswith("notices-")] == ids[:3] and len(ids) >= 3
    screen.wait_count("#dots span", len(ids))
    assert screen.text(f"{CURRENT} .slide-title") == TITLES[0]
    assert screen.font_px(f"{CURRENT} .slide-title") >= 30
    assert screen.visible(f"{CURRENT} figure.qr svg")
    assert screen.text(f"{CURRENT} figcaption") == "扫码在手机上看"
    # The slide fills the stage between the bar and the dots, across the whole width.
    stage, slide = screen.box("#loop"), screen.box(CURRENT)
    assert slide == stage and slide["width"] == screen.width and stage["height"] > screen.height * 0.6, \
        f"[{screen.engine}] the slide {slide} does not fill the stage {stage}"
    screen.wait_contains("#banner", TITLES[0])
    assert screen.font_px(".banner-item") >= 30
    assert_target(screen, ".banner-item", 60, "the urgent banner")
    screen.wait_text("#clock", re.compile(r"^\d\d:\d\d$"))
    assert not screen.visible("#offline")
    screen.shot("screen-portrait-1080x1920", live.backend)

    # With a 3 s dwell the next slide comes up by itself, and its dot lights up.
    before = loop_state(screen)
    assert before["dot"] == ids.index(before["id"])
    after = wait_for_advance(screen, before["id"], timeout=5)
    assert after["id"] == ids[(ids.index(before["id"]) + 1) % len(ids)]
    assert after["dot"] == ids.index(after["id"]), "the progress dot did not follow the slide"
    assert screen.count("#dots span.on") == 1

    # Right after an advance there are 3 s to tap the slide that is showing.
    tapped = after["id"]
    title = screen.text(f'#loop .slide[data-slide-id="{tapped}"] .slide-title')
    screen.tap(CURRENT)
    screen.wait_body("detail-open")
    screen.until(lambda: screen.attr("#detail .detail-inner", "data-detail-id") == tapped, what="the tapped notice")
    assert screen.text("#detail h1") == title
    assert screen.font_px("#detail h1") >= 30, "the full-screen title is not in large type"
    assert screen.font_px("#detail .prose p") >= 30, "the full-screen text is not in large type"
    assert_fills(screen, "#detail", "the full-screen notice")
    assert screen.text("#detail [data-action=back]") == "← 返回"
    assert screen.text("#detail [data-action=home]") == "首页"
    assert_target(screen, "#detail [data-action=back]", 60, "返回")
    assert_target(screen, "#detail [data-action=home]", 60, "首页")
    assert screen.visible("#detail .detail-qr svg")
    screen.shot("screen-portrait-detail", live.backend)

    # A finger drags the long notice up: it scrolls (real touch events, not a scrollTop assignment).
    assert screen.js("() => { var el = document.querySelector('#detail .detail-scroll');"
                     " return el.scrollHeight > el.clientHeight + 200; }"), "the notice should be long here"
    screen.scroll_by_finger("#detail .detail-scroll", -700)
    assert loop_state(screen)["id"] == tapped, "the loop moved on behind the notice being read"

    # 返回 goes back to the loop, on the slide that was tapped.
    screen.tap("#detail [data-action=back]")
    screen.wait_body("detail-open", present=False)
    screen.wait_hidden("#detail")
    assert loop_state(screen)["id"] in (tapped, ids[(ids.index(tapped) + 1) % len(ids)])

    # Opened again and left alone: after idle_seconds (5) the screen goes home to the first slide by itself.
    touched = time.monotonic()
    screen.tap(CURRENT)
    screen.wait_body("detail-open")
    screen.wait_body("detail-open", present=False, timeout=12)
    waited = time.monotonic() - touched
    state = loop_state(screen)
    assert 4.5 <= waited <= 9, f"returned to the loop {waited:.1f} s after the last touch; idle_seconds is 5"
    assert state["id"] == ids[0] and state["dot"] == 0, "the idle return should land on the first slide"
    assert not screen.visible("#detail")
    assert screen.visible(f"{CURRENT} .slide-title")

    screen.assert_clean()


def test_landscape_loop_is_large_and_fits_the_screen(live, open_screen):
    compound = live.new_compound(name="枫树小区")
    seed_three(compound)
    path = compound.add_screen(orientation="landscape", dwell_seconds=30, idle_seconds=60)

    screen = open_screen(path, "landscape")
    assert screen.body_has("landscape")
    assert screen.text(f"{CURRENT} .slide-title") == TITLES[0]
    screen.shot("screen-landscape-1920x1080", live.backend)

    assert screen.font_px(f"{CURRENT} .slide-title") >= 30
    assert screen.font_px(f"{CURRENT} .slide-text") >= 24
    for part in (CURRENT, f"{CURRENT} .slide-title", f"{CURRENT} figure.qr"):
        box = screen.box(part)
        assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1920 \
            and box["y"] + box["height"] <= 1080, f"[{screen.engine}] part of the slide is off screen: {part} {box}"
    assert screen.box(CURRENT)["width"] == 1920, "the slide does not span the screen"
    assert screen.js("() => document.scrollingElement.scrollWidth") <= 1920
    assert screen.box(f"{CURRENT} figure.qr svg")["width"] >= 200, "the QR code is too small to scan from a step away"

    screen.tap(CURRENT)
    screen.wait_text("#detail h1", TITLES[0])
    assert screen.font_px("#detail h1") >= 30
    assert_fills(screen, "#detail", "the full-screen notice")
    assert_target(screen, "#detail [data-action=back]", 60, "返回")
    assert_target(screen, "#detail [data-action=home]", 60, "首页")
    screen.shot("screen-landscape-detail", live.backend)
    screen.tap("#detail [data-action=home]")
    screen.wait_body("detail-open", present=False)
    assert screen.text(f"{CURRENT} .slide-title") == TITLES[0]

    screen.assert_clean()


def test_night_hours_show_a_dark_clock_and_a_tap_wakes_the_screen(live, open_screen):
    compound = live.new_compound()
    compound.add_notice("周末垃圾分类宣传")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    path = compound.add_screen(night_start=(now - timedelta(hours=1)).time().replace(second=0, microsecond=0),
                               night_end=(now + timedelta(hours=1)).time().replace(second=0, microsecond=0),
                               dwell_seconds=10, idle_seconds=5)

    screen = open_screen(path, "portrait")
    screen.wait_body("night")
    screen.wait_visible("#night")
    screen.wait_text("#night .night-clock", re.compile(r"^\d\d:\d\d$"))
    assert "轻触屏幕唤醒" in screen.text("#night")
    assert_fills(screen, "#night", "the night screen")
    background = screen.query("#night")["background"]
    assert background == "rgb(0, 0, 0)", f"the night screen is not dark: {background}"
    # Nothing of the loop shows through: the middle of the screen belongs to the night overlay.
    assert screen.js("() => !!document.elementFromPoint(540, 960).closest('#night')")
    screen.shot("screen-night", live.backend)

    seen = len(screen.responses)
    screen.tap_at(540, 960)
    screen.wait_body("night", present=False)
    screen.wait_hidden("#night")
    assert screen.visible(f"{CURRENT} .slide-title")
    # The waking tap only wakes: it must not also open whatever slide was hidden under the finger.
    screen.pause(0.8)
    opened = [url for url, _ in screen.responses[seen:] if "/item/" in url]
    assert opened == [], f"the waking tap also opened a notice: {opened}"
    assert not screen.body_has("detail-open")

    screen.assert_clean()
