"""The lobby screen as a resident meets it: a loop of large slides, tap to read in full, back to the loop by itself."""
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import expect, screenshot
from .screen_helpers import LONG_BODY, assert_target_size, font_px, open_kiosk, slide_ids, touch_drag

pytestmark = pytest.mark.browser

TITLES = ["3号楼明天上午停水", "二季度公共收益收支明细公示", "端午节大礼包领取安排"]
WEB_FONT = re.compile(r"\.(woff2?|ttf|otf|eot)(\?|$)", re.I)


def seed_three(compound):
    """An urgent notice, a pinned disclosure and an event, each long enough to scroll in full screen."""
    compound.add_notice(TITLES[0], body=LONG_BODY, category="safety", urgent=True, published_minutes_ago=10)
    compound.add_notice(TITLES[1], body=LONG_BODY, category="disclosure", pinned=True, published_minutes_ago=30)
    compound.add_notice(TITLES[2], body=LONG_BODY, category="event", published_minutes_ago=50)


def loop_state(page):
    return page.evaluate("""() => ({
        id: document.querySelector('#loop .slide.is-current').dataset.slideId,
        dot: Array.prototype.indexOf.call(document.querySelectorAll('#dots span'),
                                          document.querySelector('#dots span.on')),
        detail: document.body.classList.contains('detail-open')})""")


def wait_for_advance(page, from_id, timeout):
    page.wait_for_function(
        "id => document.querySelector('#loop .slide.is-current').dataset.slideId !== id", arg=from_id,
        timeout=timeout)
    return loop_state(page)


def test_portrait_loop_advances_and_a_tapped_slide_reads_full_screen_until_idle(live, visitor):
    compound = live.new_compound(name="枫树小区")
    seed_three(compound)
    path = compound.add_screen(orientation="portrait", dwell_seconds=3, idle_seconds=5)

    kiosk = open_kiosk(visitor, path, "portrait")
    page = kiosk.page
    ids = slide_ids(page)
    assert [i for i in ids if i.startswith("notices-")] == ids[:3] and len(ids) >= 3
    expect(page.locator("#dots span")).to_have_count(len(ids))
    expect(page.locator("#loop .slide.is-current .slide-title")).to_have_text(TITLES[0])
    assert font_px(page.locator("#loop .slide.is-current .slide-title")) >= 30
    expect(page.locator("#loop .slide.is-current figure.qr svg")).to_be_visible()
    expect(page.locator("#loop .slide.is-current figcaption")).to_have_text("扫码在手机上看")
    expect(page.locator("#banner")).to_contain_text(TITLES[0])
    assert font_px(page.locator(".banner-item")) >= 30
    assert_target_size(page.locator(".banner-item"), 60, "the urgent banner")
    expect(page.locator("#clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(page.locator("#offline")).to_be_hidden()
    screenshot(page, "screen-portrait-1080x1920", live)

    # With a 3 s dwell the next slide comes up by itself, and its dot lights up.
    before = loop_state(page)
    assert before["dot"] == ids.index(before["id"])
    after = wait_for_advance(page, before["id"], timeout=5_000)
    assert after["id"] == ids[(ids.index(before["id"]) + 1) % len(ids)]
    assert after["dot"] == ids.index(after["id"]), "the progress dot did not follow the slide"
    expect(page.locator("#dots span.on")).to_have_count(1)

    # Right after an advance there are 3 s to tap the slide that is showing.
    tapped = after["id"]
    title = page.locator(f'#loop .slide[data-slide-id="{tapped}"] .slide-title').inner_text()
    page.locator("#loop .slide.is-current").tap()
    expect(page.locator("body")).to_have_class(re.compile(r"\bdetail-open\b"))
    detail = page.locator("#detail")
    expect(detail.locator(".detail-inner")).to_have_attribute("data-detail-id", tapped)
    heading = detail.get_by_role("heading", level=1)
    expect(heading).to_have_text(title)
    assert font_px(heading) >= 30, "the full-screen title is not in large type"
    assert font_px(detail.locator(".prose p").first) >= 30, "the full-screen text is not in large type"
    box = detail.bounding_box()
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 1080, 1920), f"detail is not full screen: {box}"
    back, home = detail.locator("[data-action=back]"), detail.locator("[data-action=home]")
    expect(back).to_have_text("← 返回")
    expect(home).to_have_text("首页")
    assert_target_size(back, 60, "返回")
    assert_target_size(home, 60, "首页")
    expect(detail.locator(".detail-qr svg")).to_be_visible()
    screenshot(page, "screen-portrait-detail", live)

    # A finger drags the long notice up: it scrolls (real touch events, not a scrollTop assignment).
    scroller = detail.locator(".detail-scroll")
    assert scroller.evaluate("el => el.scrollHeight > el.clientHeight + 200"), "the notice should be long here"
    sbox = scroller.bounding_box()
    touch_drag(page, sbox["x"] + sbox["width"] / 2, sbox["y"] + sbox["height"] * 0.75, -700)
    page.wait_for_function("() => document.querySelector('#detail .detail-scroll').scrollTop > 200")
    assert loop_state(page)["id"] == tapped, "the loop moved on behind the notice being read"

    # 返回 goes back to the loop, on the slide that was tapped.
    back.tap()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bdetail-open\b"))
    expect(detail).to_be_hidden()
    state = loop_state(page)
    assert state["id"] in (tapped, ids[(ids.index(tapped) + 1) % len(ids)])

    # Opened again and left alone: after idle_seconds (5) the screen goes home to the first slide by itself.
    touched = time.monotonic()
    page.locator("#loop .slide.is-current").tap()
    expect(page.locator("body")).to_have_class(re.compile(r"\bdetail-open\b"))
    page.wait_for_function("() => !document.body.classList.contains('detail-open')", timeout=12_000)
    waited = time.monotonic() - touched
    state = loop_state(page)
    assert 4.5 <= waited <= 9, f"returned to the loop {waited:.1f} s after the last touch; idle_seconds is 5"
    assert state["id"] == ids[0] and state["dot"] == 0, "the idle return should land on the first slide"
    expect(page.locator("#detail")).to_be_hidden()
    expect(page.locator("#loop .slide.is-current .slide-title")).to_be_visible()

    kiosk.assert_clean()


def test_landscape_loop_is_large_and_fits_the_screen(live, visitor):
    compound = live.new_compound(name="枫树小区")
    seed_three(compound)
    path = compound.add_screen(orientation="landscape", dwell_seconds=30, idle_seconds=60)

    kiosk = open_kiosk(visitor, path, "landscape")
    page = kiosk.page
    expect(page.locator("body")).to_have_class(re.compile(r"\blandscape\b"))
    slide = page.locator("#loop .slide.is-current")
    expect(slide.locator(".slide-title")).to_have_text(TITLES[0])
    screenshot(page, "screen-landscape-1920x1080", live)

    assert font_px(slide.locator(".slide-title")) >= 30
    assert font_px(slide.locator(".slide-text")) >= 24
    for part in (slide, slide.locator(".slide-title"), slide.locator("figure.qr")):
        box = part.bounding_box()
        assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= 1920 \
            and box["y"] + box["height"] <= 1080, f"part of the slide is off screen: {box}"
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 1920
    qr = slide.locator("figure.qr svg").bounding_box()
    assert qr["width"] >= 200, "the QR code is too small to scan from a step away"

    slide.tap()
    detail = page.locator("#detail")
    expect(detail.get_by_role("heading", level=1)).to_have_text(TITLES[0])
    assert font_px(detail.get_by_role("heading", level=1)) >= 30
    assert_target_size(detail.locator("[data-action=back]"), 60, "返回")
    assert_target_size(detail.locator("[data-action=home]"), 60, "首页")
    screenshot(page, "screen-landscape-detail", live)
    detail.locator("[data-action=home]").tap()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bdetail-open\b"))
    expect(slide.locator(".slide-title")).to_have_text(TITLES[0])

    kiosk.assert_clean()


def test_night_hours_show_a_dark_clock_and_a_tap_wakes_the_screen(live, visitor):
    compound = live.new_compound()
    compound.add_notice("周末垃圾分类宣传")
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    path = compound.add_screen(night_start=(now - timedelta(hours=1)).time().replace(second=0, microsecond=0),
                               night_end=(now + timedelta(hours=1)).time().replace(second=0, microsecond=0),
                               dwell_seconds=10, idle_seconds=5)

    kiosk = open_kiosk(visitor, path, "portrait")
    page = kiosk.page
    expect(page.locator("body")).to_have_class(re.compile(r"\bnight\b"))
    night = page.locator("#night")
    expect(night).to_be_visible()
    expect(night.locator(".night-clock")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(night).to_contain_text("轻触屏幕唤醒")
    assert night.bounding_box() == {"x": 0, "y": 0, "width": 1080, "height": 1920}
    background = night.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(0, 0, 0)", f"the night screen is not dark: {background}"
    # Nothing of the loop shows through: the middle of the screen belongs to the night overlay.
    assert page.evaluate("() => !!document.elementFromPoint(540, 960).closest('#night')")
    screenshot(page, "screen-night", live)

    opened_items = []
    page.on("request", lambda request: opened_items.append(request.url) if "/item/" in request.url else None)
    page.touchscreen.tap(540, 960)
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bnight\b"))
    expect(night).to_be_hidden()
    expect(page.locator("#loop .slide.is-current .slide-title")).to_be_visible()
    # The waking tap only wakes: it must not also open whatever slide was hidden under the finger.
    page.wait_for_timeout(800)
    assert opened_items == [], f"the waking tap also opened a notice: {opened_items}"
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bdetail-open\b"))

    kiosk.assert_clean()


def test_first_load_is_light_and_requests_no_web_fonts(live, visitor):
    compound = live.new_compound()
    seed_three(compound)
    path = compound.add_screen(orientation="portrait")

    kiosk = visitor(**{"viewport": {"width": 1080, "height": 1920}, "has_touch": True})
    page = kiosk.page
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sent, done = {}, {}
    cdp.on("Network.requestWillBeSent", lambda e: sent.setdefault(e["requestId"], (e["request"]["url"], e.get("type"))))
    cdp.on("Network.loadingFinished", lambda e: done.__setitem__(e["requestId"], e["encodedDataLength"]))
    cdp.on("Network.loadingFailed", lambda e: done.__setitem__(e["requestId"], 0))

    page.goto(path, wait_until="load")
    expect(page.locator("#loop .slide.is-current")).to_have_count(1)
    page.wait_for_function("() => window.htmx !== undefined")
    page.wait_for_timeout(300)  # let the loadingFinished events of the last responses arrive

    first_load = {rid: sent[rid] for rid in sent if "/pulse" not in sent[rid][0]}
    missing = [sent[rid][0] for rid in first_load if rid not in done]
    assert not missing, f"still loading after the load event: {missing}"
    sizes = {url: done[rid] for rid, (url, _) in first_load.items()}
    total = sum(sizes.values())
    listing = "\n".join(f"{n:>7} {url}" for url, n in sorted(sizes.items(), key=lambda kv: -kv[1]))
    print(f"\nfirst load of the screen: {total} bytes\n{listing}")
    assert total <= 80 * 1024, f"first load transferred {total} bytes (> 80 KB):\n{listing}"
    kinds = {kind for _, kind in first_load.values()}
    assert "Font" not in kinds and not any(WEB_FONT.search(url) for url in sizes), f"web fonts requested:\n{listing}"
    assert {"Document", "Stylesheet", "Script"} <= kinds, listing

    kiosk.assert_clean()
