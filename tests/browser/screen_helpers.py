"""Shared pieces of the lobby-screen browser tests: kiosk viewports, reading the loop, measuring boxes."""
from .conftest import expect

# A lobby touchscreen hangs either way; both have touch and no mouse.
PORTRAIT = {"viewport": {"width": 1080, "height": 1920}, "has_touch": True}
LANDSCAPE = {"viewport": {"width": 1920, "height": 1080}, "has_touch": True}
KIOSK = {"portrait": PORTRAIT, "landscape": LANDSCAPE}

# A notice long enough that its full-screen detail has to scroll, even in 30 px type.
LONG_BODY = "\n\n".join(
    f"第{i}条：请各位居民按时参加，如有疑问请到物业办公室或拨打值班电话咨询，谢谢大家的理解与支持。"
    for i in range(1, 31))


def open_kiosk(visitor, path, orientation="portrait"):
    """Open a lobby screen page in a fresh kiosk browser; wait until a slide is showing; mark the window."""
    kiosk = visitor(**KIOSK[orientation])
    page = kiosk.page
    page.goto(path)
    expect(page.locator("#loop .slide.is-current")).to_have_count(1)
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__kioskMarker = 'first-load'; }")
    return kiosk


def not_reloaded(page):
    """Whether the document is still the one open_kiosk loaded (a full reload would wipe the mark)."""
    return page.evaluate("() => window.__kioskMarker") == "first-load"




def slide_ids(page):
    return page.locator("#loop .group:not(.fallback) .slide").evaluate_all("els => els.map(e => e.dataset.slideId)")


def font_px(locator):
    return float(locator.evaluate("el => getComputedStyle(el).fontSize").removesuffix("px"))




def assert_no_csp_or_script_errors(kiosk):
    """What a test that takes the server away can still demand: the CSP never fired and no script threw."""
    assert kiosk.csp_violations == [], "Content-Security-Policy violations:\n" + "\n".join(kiosk.csp_violations)
    assert kiosk.page_errors == [], "uncaught page errors:\n" + "\n".join(kiosk.page_errors)
