"""The lobby screen as residents meet it, on every engine it must work on (issue 13).

Each journey is written once against screen_driver.ScreenDriver and runs on today's Debian Chromium and on
the frozen Chromium 65 and 78 of lobby WebViews (old engines on SQLite only, see conftest.py). Phones in
these journeys (a committee member posting, a resident getting a voting code) stay on Debian Chromium.
"""
import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .conftest import expect, log_in
from .screen_helpers import LONG_BODY

pytestmark = pytest.mark.browser

TITLES = ["3号楼明天上午停水", "二季度公共收益收支明细公示", "端午节大礼包领取安排"]
POLL = 1  # seconds between pulses where a journey sets it; htmx's request timeout on the screen is 2 × POLL
URGENT = "紧急：今晚8点至10点全小区停电检修"
URGENT_BODY = "供电公司检修线路，**今晚 20:00–22:00** 全小区停电。\n\n电梯停运，请提前回家。"
ERROR_PAGE_TEXT = "服务器出了点问题"
# What the console may say while the server is away or failing; anything else is a fault.
OUTAGE_NOISE = re.compile(r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE|CONNECTION_CLOSED)"
                          r"|htmx:(sendError|timeout|responseError|afterRequest)"
                          r"|Response Status Error Code 5\d\d|status of 50\d|Failed to load resource")
CURRENT = "#loop .slide.is-current"


@pytest.fixture
def fast_poll(live, monkeypatch):
    """Screens opened in this journey poll every POLL seconds (the app reads POLL_SECONDS per request)."""
    monkeypatch.setitem(live.app.config, "POLL_SECONDS", POLL)


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
    box = screen.box("#detail .detail-scroll")
    screen.drag(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.75, -700)
    screen.until(lambda: screen.js("() => document.querySelector('#detail .detail-scroll').scrollTop > 200"),
                 what="the notice to scroll under the finger")
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
    box = screen.box("#detail .detail-scroll")
    screen.drag(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.7, -600)
    screen.until(lambda: screen.js("() => document.querySelector('#detail .detail-scroll').scrollTop > 200"),
                 what="the notice to scroll")
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


KIOSK_LIMIT = 6  # seconds without a touch before a ballot at the screen is forgotten (30 s as shipped)


def assert_forgotten(live, screen, address, code):
    """Nothing on the screen or in its browser's storage ties it to the household any more."""
    from kiosk.households import cards

    from .test_consult_live import session_data_from

    html = screen.js("() => document.documentElement.outerHTML")
    assert address not in html, f"[{screen.engine}] the screen still shows {address}"
    assert code not in html and f"{code[:3]} {code[3:]}" not in html, "the screen still holds the code"
    assert screen.count("#detail input[name=code], #detail input[name=card]") == 0
    jar = screen.cookies()
    assert cards.COOKIE not in jar, "the screen's browser remembers a household card"
    remembered = repr(session_data_from(live, jar))
    assert code not in remembered and address not in remembered and "household" not in remembered, remembered
    storage = screen.js("() => JSON.stringify([Object.keys(localStorage).map(function (k) {"
                        " return [k, localStorage.getItem(k)]; }), Object.keys(sessionStorage).map(function (k) {"
                        " return [k, sessionStorage.getItem(k)]; })])")
    assert code not in storage and address not in storage, storage


def start_kiosk_ballot(screen, slide, code, address):
    """From the loop: tap the topic's slide, 在大屏投票, the code on the keypad, 确定; land on "为 <address> 投票"."""
    from .test_consult_live import TITLE

    screen.tap(slide)
    screen.wait_body("detail-open")
    screen.wait_text("#detail h1", TITLE)
    screen.tap_text("#detail button", "在大屏投票")
    screen.wait_visible("#detail .keypad")
    for digit in code:
        screen.tap(f'#detail .keypad button[data-key="{digit}"]')
    assert screen.query("#kiosk-code")["value"] == code, "the keypad did not type the code"
    screen.tap_text("#detail .keypad button", "确定")
    screen.wait_text("#detail .vote-who", f"为 {address} 投票")


def test_a_resident_votes_at_the_screen_with_a_code_and_the_screen_forgets_them(live, open_screen, visitor, devices,
                                                                                 monkeypatch):
    from sqlalchemy import select

    from kiosk.compounds.models import Compound
    from kiosk.consult import public as consult_public
    from kiosk.consult import service
    from kiosk.consult.models import Channel, KioskCode
    from kiosk.extensions import db
    from kiosk.households.models import Household

    from .test_consult_live import KIOSK_VOTER, WALKS_AWAY, build, current_ballots, recount

    assert consult_public.KIOSK_IDLE_SECONDS == 30  # as shipped; test_consult_live.py runs the real 30 s
    monkeypatch.setattr(consult_public, "KIOSK_IDLE_SECONDS", KIOSK_LIMIT)
    plan = build(live)
    slide = f'#loop .slide[data-slide-id="consult-{plan.topic_id}"]'
    screen = open_screen(plan.screen_path)
    assert screen.has_class(slide, "is-current")
    screen.wait_text(f"{slide} .slide-turnout", "已投 0 / 30 户")

    # The household gets a one-time code on its phone (Debian Chromium) ...
    resident = visitor(**devices["Pixel 5"])
    phone = resident.page
    phone.goto(f"/h/{plan.tokens[KIOSK_VOTER]}")
    phone.goto(f"/{plan.slug}/topics/{plan.topic_id}")
    phone.get_by_role("link", name="到大屏投票：获取投票码").tap()
    phone.get_by_role("button", name="获取投票码").tap()
    shown = phone.locator(".one-time-code")
    expect(shown).to_have_text(re.compile(r"^\d{3} \d{3}$"))
    code = shown.inner_text().replace(" ", "")
    voter_id, address, _ = plan.households[KIOSK_VOTER]

    # ... and votes at the screen with it, on the keypad.
    start_kiosk_ballot(screen, slide, code, address)
    screen.tap_text("#detail label.choice", "同意")
    assert screen.js("() => document.querySelector('#detail input[value=yes]').checked")
    screen.tap_text("#detail button", "投票")
    screen.wait_text("#detail .kiosk-done", "✓ 已投票，谢谢！")
    screen.shot("consult-kiosk-voted", live.backend)
    assert_forgotten(live, screen, address, code)
    assert current_ballots(live, plan.topic_id)[voter_id] == (["yes"], Channel.kiosk)
    with live.app.app_context():
        assert db.session.scalar(select(KioskCode.used_at).where(KioskCode.household_id == voter_id)) is not None
    # The household's phone sees the ballot cast at the screen.
    phone.goto(f"/{plan.slug}/topics/{plan.topic_id}")
    expect(phone.locator("p.done")).to_contain_text("本户已于")

    # Back on the loop, the slide counts the screen's vote, as a recount does.
    screen.tap("#detail [data-action=home]")
    screen.wait_body("detail-open", present=False)
    assert recount(live, plan.topic_id).part_households == 1
    screen.wait_text(f"{slide} .slide-turnout", "已投 1 / 30 户", timeout=6)

    # Someone else starts a ballot, picks an option and walks away: the screen forgets them by itself.
    away_id, away_address, _ = plan.households[WALKS_AWAY]
    with live.app.app_context():
        compound = db.session.scalar(select(Compound).where(Compound.slug == plan.slug))
        fresh = service.issue_code(compound, db.session.get(Household, away_id))
        db.session.commit()
    start_kiosk_ballot(screen, slide, fresh, away_address)
    screen.tap_text("#detail label.choice", "不同意")
    left = time.monotonic()
    screen.pause(KIOSK_LIMIT - 2)  # not yet: someone may just be slow
    assert screen.body_has("detail-open") and screen.text("#detail .vote-who") == f"为 {away_address} 投票"
    screen.wait_body("detail-open", present=False, timeout=5)
    waited = time.monotonic() - left
    assert KIOSK_LIMIT - 0.5 <= waited <= KIOSK_LIMIT + 3, f"forgot the ballot after {waited:.1f} s"
    assert screen.js("() => document.getElementById('detail').children.length") == 0
    assert_forgotten(live, screen, away_address, fresh)
    assert screen.has_class(slide, "is-current")
    assert away_id not in current_ballots(live, plan.topic_id), "walking away cast a ballot"

    screen.assert_clean()
    resident.assert_clean()


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
    screen.assert_clean(allow=OUTAGE_NOISE)


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
