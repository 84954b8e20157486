"""The phone check runs on Chromium 65, as frozen lobby WebViews and old phones have it: the page's script is
ES2017 at most, and a real headless Chromium 65 recomputes a period and says it matches the paper.

Chromium 65 is the build `scripts/old-chromium.sh` unpacks (./scripts/test runs it), driven over DevTools by
the same small client as the lobby-screen journeys (tests/browser/old_chromium.py): current Playwright does not
speak its protocol.
"""
import re
import time
from pathlib import Path

import pytest

from .conftest import _no_browser
from .old_chromium import ENGINES, Browser, missing_reason
from .test_ledger_phone_check import build_ledger

SCRIPT = Path(__file__).resolve().parents[2] / "static" / "js" / "ledger.js"
# Syntax newer than ES2017, which Chromium 65 can't parse: the whole file would fail, not just one line.
NEWER = {
    "optional chaining ?.": r"\?\.(?!\d)",
    "nullish ??": r"\?\?",
    "spread or rest in an object literal": r"\{\s*\.\.\.",
    "optional catch binding": r"catch\s*\{",
    "async iteration": r"for\s+await|async\s+function\s*\*",
    "regex lookbehind or named group": r"\(\?<",
    "BigInt literal": r"\b\d+n\b",
    "private class members": r"(\.|\s)#\w",
    "logical assignment": r"(\|\||&&|\?\?)=",
    "numeric separator": r"\d_\d",
}


def code_only(source):
    """The script without its comments and string literals (they may say anything)."""
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', source)
    return re.sub(r"//[^\n]*", "", source)


def test_the_phone_check_script_uses_nothing_newer_than_es2017():
    code = code_only(SCRIPT.read_text(encoding="utf-8"))
    found = [name for name, pattern in NEWER.items() if re.search(pattern, code, flags=re.M)]
    assert found == [], f"static/js/ledger.js uses syntax Chromium 65 can't parse: {found}"
    assert "crypto.subtle.digest(\"SHA-256\"" in SCRIPT.read_text(encoding="utf-8")  # WebCrypto, no library


@pytest.mark.browser
def test_chromium_65_recomputes_a_period_and_it_matches_the_paper(live):
    engine = ENGINES["chrome65"]
    reason = missing_reason(engine)
    if reason:
        _no_browser(reason)
    account = live.new_compound(name="梧桐小区")
    january, _february = build_ledger(live, account)
    from kiosk.extensions import db
    from kiosk.ledger.models import Period

    with live.app.app_context():
        period = db.session.get(Period, january)
        url = f"{live.base_url}/{account.slug}/ledger/check/{january}?n={period.head_number}&h={period.head_hash}"
    browser = Browser(engine, width=412, height=915)
    try:
        page = browser.connect_page()

        def evaluate(expression):
            return page.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})[
                "result"].get("value")

        assert "HeadlessChrome/65." in evaluate("navigator.userAgent")
        page.send("Page.navigate", {"url": url})
        state = "[data-ledger-check]"
        deadline = time.monotonic() + 30
        while evaluate(f"(document.querySelector('{state}') || {{}}).getAttribute ? "
                       f"document.querySelector('{state}').getAttribute('data-done') : null") != "true":
            assert time.monotonic() < deadline, "the phone check did not finish on Chromium 65"
            time.sleep(0.3)
        shown = evaluate("Array.prototype.map.call(document.querySelectorAll('[data-ledger-check] "
                         "[data-show]'), function (p) { return p.hidden ? '' : p.textContent; }).join(' ')")
        page.close()
    finally:
        browser.close()
    assert "第 1 至 3 号共 3 笔记录（本期 3 笔）在手机上重新计算，结果与公示表上的核对码一致" in shown, shown
    assert "本期收入 ¥8,600.00，支出 ¥1,730.00" in shown
