"""The lobby screen's first load is light: no web fonts, at most 80 KB over the wire (Debian Chromium).

The screen's journeys (loop, tap to read, idle return, night, live updates, outages, kiosk voting, reload after an
upgrade) run on Debian Chromium and on the frozen Chromium 65 and 78 of lobby WebViews: test_screen_*journey*.py.
"""
import re

import pytest

from .conftest import expect
from .screen_helpers import LONG_BODY

pytestmark = pytest.mark.browser

TITLES = ["3号楼明天上午停水", "二季度公共收益收支明细公示", "端午节大礼包领取安排"]
WEB_FONT = re.compile(r"\.(woff2?|ttf|otf|eot)(\?|$)", re.I)


def seed_three(compound):
    """An urgent notice, a pinned disclosure and an event, each long enough to scroll in full screen."""
    compound.add_notice(TITLES[0], body=LONG_BODY, category="safety", urgent=True, published_minutes_ago=10)
    compound.add_notice(TITLES[1], body=LONG_BODY, category="disclosure", pinned=True, published_minutes_ago=30)
    compound.add_notice(TITLES[2], body=LONG_BODY, category="event", published_minutes_ago=50)


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
