"""After a power cut the lobby screen may boot before the server or the network is back (issue 13): it shows the
loop it last had, with the offline badge and the time its data dates from, instead of a browser error page, and
catches up when the server returns. A service worker (static/js/screen-sw.js, served as /<compound>/screen/sw.js)
keeps the screen page and its static files, nothing else. Service workers need https or localhost: the test
server is 127.0.0.1; docs/screens.md says what to set on a plain-http LAN.

Debian Chromium, and the frozen Chromium 78 and 65 of lobby WebViews (old engines on SQLite only).
"""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from .journeys import OUTAGE_NOISE, POLL, slide_ids

pytestmark = pytest.mark.browser

CACHE = "kiosk-screen-1"


def kept_urls(screen):
    """The URLs the screen's service worker keeps (Cache API, read from the page; None until it answers)."""
    screen.js("""(name) => { window.__kept = null;
        caches.open(name).then(function (c) { return c.keys(); })
          .then(function (keys) { window.__kept = keys.map(function (r) { return r.url; }); }); }""", CACHE)
    screen.until(lambda: screen.js("() => window.__kept !== null"), 5, "the cache's keys", interval=0.1)
    return screen.js("() => window.__kept")


def test_a_screen_that_boots_before_the_server_shows_its_last_loop_with_the_offline_badge(live, open_screen,
                                                                                      fast_poll):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", body="本周三上午电梯年检，请走楼梯。", published_minutes_ago=30)
    compound.add_notice("二季度公共收益收支明细公示", category="disclosure", published_minutes_ago=60)
    path = compound.add_screen(dwell_seconds=600, idle_seconds=60)
    key = path.rsplit("/", 1)[1]

    screen = open_screen(path)
    before = slide_ids(screen)
    first_served = int(screen.attr("body", "data-served"))
    # After the first good pulse the screen keeps its page and files for the next boot.
    screen.until(lambda: any(url.endswith(path) for url in (kept_urls(screen) or [])), 15,
                 "the service worker to keep the screen page")
    screen.until(lambda: sum("/static/" in url for url in kept_urls(screen)) >= 4, 10, "the static files kept")
    # Asked to keep anything else, it refuses: no admin, household, card or detail page, no other site.
    screen.js("""(urls) => { navigator.serviceWorker.controller.postMessage({keep: urls}); }""",
              ["/admin/login", f"/{compound.slug}/my", f"/{compound.slug}/n/1", f"{path}/item/notices/1",
               f"{path}?x=1", "https://example.org/static/x.js"])
    screen.pause(1)
    kept = kept_urls(screen)
    others = [url for url in kept if not (url == live.base_url + path or url.startswith(live.base_url + "/static/"))]
    assert others == [], f"[{screen.engine}] the service worker keeps more than the screen: {others}"

    live.stop()
    try:
        screen.goto(path)  # the power comes back before the server does
        screen.wait_count("#loop .slide.is-current", 1, timeout=10)
        assert slide_ids(screen) == before, f"[{screen.engine}] not the last loop"
        assert screen.text("#loop .slide.is-current .slide-title") == "电梯年检通知"
        assert screen.js("() => document.title").startswith("枫树小区")
        screen.wait_visible("#offline", timeout=6)
        # "Data as of" is when the kept copy was made: the first load, or the copy the screen kept a moment later
        # (which may fall in the next minute).
        kept_served = int(screen.attr("body", "data-served"))
        assert first_served <= kept_served <= first_served + 60_000, f"[{screen.engine}] kept a page of {kept_served}"
        served = datetime.fromtimestamp(kept_served / 1000, ZoneInfo("Asia/Shanghai"))
        screen.wait_text("#offline", re.compile(rf"离线 · 数据截至\s*{served:%H:%M}"))
        screen.shot("screen-booted-without-server", live.backend)
        new_id = compound.publish_notice("周日上午停水", body="管道维修，周日 8:00–11:00 停水。")
    finally:
        live.start()

    # The server is back: the badge goes and the loop catches up, without another reload.
    screen.mark()
    screen.wait_hidden("#offline", timeout=8)
    screen.wait_count(f'#loop .slide[data-slide-id="notices-{new_id}"]', 1, timeout=8)
    assert screen.not_reloaded()
    assert key in screen.js("() => location.pathname")
    screen.assert_clean(allow=OUTAGE_NOISE)


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
@pytest.mark.parametrize("screen_engine", ["chromium"], indirect=True)
def test_a_screen_whose_server_went_away_while_it_set_up_its_memory_sets_it_up_once_the_server_is_back(
        live, open_screen, fast_poll, monkeypatch):
    """The worker is registered after the first good pulse; when fetching its script fails (the server went away
    just then), the screen asks again after a later good pulse instead of never keeping its loop."""
    from flask import abort

    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", body="本周三上午电梯年检，请走楼梯。", published_minutes_ago=30)
    path = compound.add_screen(dwell_seconds=600, idle_seconds=60)
    asked, send = [], live.app.send_static_file

    def server_away(filename, *args, **kwargs):
        """The worker's script, while the server is still starting behind its proxy: 503 (other files as ever)."""
        if filename != "js/screen-sw.js":
            return send(filename, *args, **kwargs)
        asked.append(filename)
        abort(503)

    monkeypatch.setattr(live.app, "send_static_file", server_away, raising=False)
    screen = open_screen(path)
    screen.until(lambda: asked, 10, "the screen to ask for its service worker")
    screen.pause(1)
    assert screen.js("() => navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
    monkeypatch.undo()
    monkeypatch.setitem(live.app.config, "POLL_SECONDS", POLL)  # undo() undid fast_poll too

    screen.until(lambda: any(url.endswith(path) for url in (kept_urls(screen) or [])), 25,
                 "the screen to keep its page once the worker's script comes")
    assert screen.not_reloaded()
    screen.assert_clean(allow=OUTAGE_NOISE)
