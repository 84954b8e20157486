"""The lobby screen stays live on every engine (issue 13): a change posted on a phone arrives within a poll, outages
and server errors never blank it, it reloads itself after an upgrade but never under a reader, and it reports
its engine, saying so on the screen where live updates cannot run. Debian Chromium, Chromium 78 and 65.
"""
import re
import time

import pytest

from .conftest import expect, log_in
from .journeys import (CURRENT, ERROR_PAGE_TEXT, OUTAGE_NOISE, POLL, URGENT, URGENT_BODY, assert_fills,
                       current_slide, slide_ids, wait_for_advance)
from .screen_helpers import LONG_BODY

pytestmark = pytest.mark.browser


def test_urgent_notice_posted_on_a_phone_reaches_the_screen_without_a_reload(live, open_screen, visitor, devices,
                                                                              fast_poll):
    compound = live.new_compound(name="枫树小区")
    reading = compound.add_notice("快递柜搬到南门", body=LONG_BODY, published_minutes_ago=30)
    path = compound.add_screen(dwell_seconds=30, idle_seconds=120)

    screen = open_screen(path)
    assert not screen.visible("#banner")
    loads = len(screen.documents)

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
    screen.wait_contains("#banner", URGENT, timeout=3)
    arrived = time.monotonic() - saved
    expect(phone.get_by_role("status")).to_have_text("已发布，居民现在就能看到。")
    urgent_id = live.notice_by_title(compound.slug, URGENT)[0]

    assert screen.visible("#banner")
    assert screen.count("#banner .banner-item") == 1
    assert screen.text("#banner .banner-tag") == "紧急"
    assert screen.count("#banner") == 1  # swapped, not nested
    screen.wait_count(f'#loop .slide[data-slide-id="notices-{urgent_id}"]', 1)
    assert screen.count("#group-notices") == 1
    assert screen.not_reloaded() and screen.documents[loads:] == [], "the screen reloaded to show the change"
    assert arrived <= 3, f"[{screen.engine}] the urgent notice took {arrived:.1f} s to reach the screen"
    # The slide that was showing stays up; the urgent one waits its turn (the banner carries it meanwhile).
    assert current_slide(screen) == f"notices-{reading}"
    screen.shot("screen-urgent-banner", live.backend)

    # A resident starts reading; a change arriving meanwhile must not take the notice from under them.
    screen.tap(CURRENT)
    screen.wait_body("detail-open")
    screen.wait_text("#detail h1", "快递柜搬到南门")
    screen.scroll_by_finger("#detail .detail-scroll", -600)
    place = screen.js("() => document.querySelector('#detail .detail-scroll').scrollTop")

    later = compound.publish_notice("周六上午义诊活动", category="event")
    screen.wait_count(f'#loop .slide[data-slide-id="notices-{later}"]', 1, timeout=4)
    screen.pause(0.3)  # let the banner's refresh land as well
    assert screen.body_has("detail-open")
    assert screen.attr("#detail .detail-inner", "data-detail-id") == f"notices-{reading}"
    assert screen.text("#detail h1") == "快递柜搬到南门"
    assert screen.js("() => document.querySelector('#detail .detail-scroll').scrollTop") == place, \
        "the reader lost their place"
    assert screen.not_reloaded() and screen.documents[loads:] == []

    # Back on the loop, the slide they were reading is still the one showing.
    screen.tap("#detail [data-action=back]")
    screen.wait_body("detail-open", present=False)
    assert current_slide(screen) == f"notices-{reading}"
    assert len([i for i in slide_ids(screen) if i.startswith("notices-")]) == 3

    screen.assert_clean()
    member.assert_clean()


def test_screen_keeps_its_slides_through_an_outage_and_recovers_by_itself(live, open_screen, fast_poll):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    compound.add_notice("二季度公共收益收支明细公示", category="disclosure", published_minutes_ago=60)
    path = compound.add_screen(dwell_seconds=3, idle_seconds=60)

    screen = open_screen(path)
    assert not screen.visible("#offline")
    loads = len(screen.documents)
    screen.wait_response("/pulse", len(screen.responses), status=200)  # one good pulse: "data as of" is now
    before = slide_ids(screen)

    live.stop()
    try:
        screen.wait_visible("#offline", timeout=4)
        screen.wait_text("#offline", re.compile(r"离线 · 数据截至\s*\d\d:\d\d"))
        # Not blank, not the browser's error page: the same document, still going round its slides.
        wait_for_advance(screen, current_slide(screen), timeout=5)
        assert screen.not_reloaded() and screen.documents[loads:] == []
        assert slide_ids(screen) == before
        assert screen.text(f"{CURRENT} .slide-title") and screen.visible(f"{CURRENT} .slide-title")
        assert screen.count("body.screen") == 1
        screen.shot("screen-offline", live.backend)
        # The committee posts while the screen cannot reach the server.
        new_id = compound.publish_notice("周日上午停水", body="管道维修，周日 8:00–11:00 停水。")
    finally:
        live.start()
    back = time.monotonic()

    # Recovers by itself within a poll interval plus a request timeout, with a margin.
    limit = POLL + 2 * POLL + 3
    screen.wait_hidden("#offline", timeout=limit)
    screen.wait_count(f'#loop .slide[data-slide-id="notices-{new_id}"]', 1, timeout=limit)
    assert time.monotonic() - back <= limit + 1
    assert screen.not_reloaded() and screen.documents[loads:] == []
    assert screen.visible(f"{CURRENT} .slide-title")
    screen.assert_clean(allow=OUTAGE_NOISE)


def test_server_errors_never_reach_the_screen(live, open_screen, fast_poll, monkeypatch):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    compound.add_notice("二季度公共收益收支明细公示", category="disclosure", published_minutes_ago=60)
    path = compound.add_screen(dwell_seconds=30, idle_seconds=60)

    screen = open_screen(path)
    before = slide_ids(screen)
    views = live.app.view_functions
    working = {name: views[name] for name in ("screen.pulse", "screen.slides", "screen.banner")}

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure: the database went away")

    def assert_screen_untouched():
        text = screen.text("body")
        assert ERROR_PAGE_TEXT not in text and "RuntimeError" not in text and "500" not in text, text
        assert slide_ids(screen) == before
        assert screen.visible(f"{CURRENT} .slide-title")
        assert screen.count("#group-notices") == 1 and screen.count("#banner") == 1
        assert not screen.visible("#banner")
        assert screen.not_reloaded()

    # 1. The pulse itself answers 500 (a change is waiting, so it gets past the fast 204 path).
    for name in working:
        monkeypatch.setitem(views, name, broken)
    seen = len(screen.responses)
    urgent_id = compound.publish_notice(URGENT, body=URGENT_BODY, urgent=True)
    screen.wait_visible("#offline", timeout=4)
    screen.wait_response("/pulse", seen, status=500)
    assert_screen_untouched()

    # 2. The pulse is healthy again and names the changed areas, but fetching them answers 500.
    seen = len(screen.responses)
    monkeypatch.setitem(views, "screen.pulse", working["screen.pulse"])
    screen.wait_response("/banner", seen, status=500, timeout=4)
    screen.wait_response("/slides/", seen, status=500, timeout=4)
    screen.wait_hidden("#offline", timeout=4)
    screen.pause(0.2)
    assert_screen_untouched()
    screen.shot("screen-after-500s", live.backend)

    # 3. Everything answers again: the screen catches up by itself, without a reload or a new change.
    monkeypatch.setitem(views, "screen.slides", working["screen.slides"])
    monkeypatch.setitem(views, "screen.banner", working["screen.banner"])
    screen.wait_count(f'#loop .slide[data-slide-id="notices-{urgent_id}"]', 1, timeout=5)
    screen.wait_contains("#banner", URGENT, timeout=5)
    assert screen.not_reloaded()
    screen.assert_clean(allow=OUTAGE_NOISE)


def upgrade_code(live, monkeypatch, version):
    """Restart the server as a new release would: its pages and pulses now carry another code version."""
    from kiosk.screen import views
    from kiosk.screen.fastpulse import FastPulse

    live.stop()
    monkeypatch.setattr(views, "__version__", version)
    layer = live.app.wsgi_app
    while layer is not None:
        if isinstance(layer, FastPulse):
            monkeypatch.setattr(layer, "_headers", [(k, version if k == "X-Kiosk-Code" else v) for k, v in layer._headers])
        layer = getattr(layer, "wsgi_app", None) or getattr(layer, "app", None)
    live.start()


@pytest.mark.slow
def test_after_an_upgrade_the_screen_reloads_itself_but_never_under_a_reader(live, open_screen, monkeypatch,
                                                                            fast_poll):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", body=LONG_BODY, published_minutes_ago=30)
    path = compound.add_screen(dwell_seconds=30, idle_seconds=60)

    screen = open_screen(path)
    old_code = screen.js("() => document.body.dataset.code")
    screen.tap(CURRENT)
    screen.wait_body("detail-open")
    touched = time.monotonic()
    upgrade_code(live, monkeypatch, old_code + "+next")

    # A resident is reading: more than 10 s pass (the screen's quiet time) and still no reload under them.
    loads = len(screen.documents)
    screen.until(lambda: time.monotonic() - touched > 11.5, 15, "eleven and a half seconds", interval=0.5)
    assert screen.not_reloaded() and screen.documents[loads:] == [], "the screen reloaded under a reader"
    assert screen.body_has("detail-open")

    # They go back to the loop; after 10 quiet seconds the screen reloads once, into the new code.
    screen.tap("#detail [data-action=back]")
    left = time.monotonic()
    screen.until(lambda: not screen.not_reloaded(), 16, "the reload after the upgrade", interval=0.25)
    waited = time.monotonic() - left
    assert 9.5 <= waited <= 15, f"[{screen.engine}] reloaded {waited:.1f} s after the last touch; it waits 10 s"
    screen.wait_count(CURRENT, 1)
    screen.until(lambda: screen.js("() => document.body.dataset.code") == old_code + "+next", 5, "the new page")
    screen.until(lambda: screen.js("() => window.htmx !== undefined"), 5, "htmx on the new page")
    reloads = len(screen.documents) - loads
    assert reloads == 1, f"expected one reload, saw {screen.documents[loads:]}"
    screen.pause(3 * POLL)
    assert len(screen.documents) - loads == 1, "the screen kept reloading after the upgrade"
    # The reload may cut short a poll that was in flight; htmx reports that as sendAbort.
    screen.assert_clean(allow=re.compile(OUTAGE_NOISE.pattern + "|htmx:sendAbort"))


def screen_report(live, path):
    """(engine, live_updates) the screen at this path last reported to the server."""
    from kiosk.extensions import db
    from kiosk.screen.models import Screen

    with live.app.app_context():
        row = db.session.execute(db.select(Screen.engine, Screen.live_updates)
                                 .where(Screen.key == path.rsplit("/", 1)[1])).one()
        return row.engine, row.live_updates


def test_the_screen_reports_its_engine_and_says_so_where_live_updates_cannot_run(live, open_screen, fast_poll):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    working_path = compound.add_screen(name="1号楼大堂", dwell_seconds=30, idle_seconds=60)
    broken_path = compound.add_screen(name="2号楼大堂", dwell_seconds=30, idle_seconds=60)

    # A screen whose browser runs htmx reports its engine and that live updates work; no warning shows.
    screen = open_screen(working_path)
    label = f"Chrome {screen.major}"
    screen.until(lambda: screen_report(live, working_path) == (label, True), 6, f"the report ({label}, live)")
    screen.pause(3 * POLL + 2.5)  # past the moment screen-check.js decides
    assert not screen.visible("#too-old")
    assert screen.visible(f"{CURRENT} .slide-title")

    # Where htmx cannot run (here: it never arrives, as if it did not parse), the screen says so in large type
    # over everything, instead of showing slides that will never change; the committee's list learns it.
    old = open_screen(broken_path, ready=False, before=lambda driver: driver.block("vendor/htmx-"))
    old.wait_visible("#too-old", timeout=8)
    assert old.text("#too-old h1") == "浏览器版本过旧，本屏无法实时更新"
    assert old.font_px("#too-old h1") >= 60 and old.font_px("#too-old p") >= 36
    assert "Android System WebView" in old.text("#too-old")
    assert_fills(old, "#too-old", "the too-old notice")
    assert old.js("() => !!document.elementFromPoint(540, 960).closest('#too-old')"), "slides show through"
    assert old.visible("#too-old figure.qr svg")
    assert "htmx" in old.text("#too-old .too-old-engine")
    old.until(lambda: screen_report(live, broken_path) == (label, False), 6, f"the report ({label}, not live)")
    old.shot("screen-too-old", live.backend)
    blocked = re.compile(r"Failed to load resource|ERR_FAILED|ERR_BLOCKED_BY_CLIENT")
    old.assert_clean(allow=blocked)
    screen.assert_clean()
