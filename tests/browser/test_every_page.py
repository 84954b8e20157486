"""Every page, from the app's url_map (page_walk.py), as the people who read it (issue 13):

- axe-core finds no serious or critical WCAG 2.1 AA problem on any phone, committee or lobby-screen page, in
  normal type and in 长辈模式, and on the lobby screen upright and sideways (every slide and every slide's
  full-screen reader included);
- in 长辈模式, and always on the lobby screen, no text is under 24 px (18 pt) and no target under 60×60 px;
- at 200% text size on a 320 px phone, no page scrolls sideways.

One Debian Chromium, one browser context per kind of visitor, reused for every page; SQLite only (markup and
styles do not depend on the database). The time each part takes is printed (-s) for the CI budget.
"""
import time
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from .conftest import PASSWORD, expect
from .page_walk import PRINTED, SIZES_JS, path_of, walked_routes
from .screen_helpers import KIOSK
from .test_screen_a11y import AXE, axe_problems, need

pytestmark = pytest.mark.browser

LARGE_TEXT, LARGE_TARGET = 24, 60
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
NARROW = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
TIMINGS = {}


@pytest.fixture(scope="module")
def world(live):
    """The security tests' world (two compounds with one object of every kind), on the live server."""
    from functools import partial

    from factories import new_compound, new_user
    from kiosk.auth.models import Role
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from security_support import build_world

    from .conftest import password_hash

    make_compound, make_user = new_compound, partial(new_user, password_hash(live.app))
    with live.app.app_context():
        if db.session.scalar(select(Compound).where(Compound.slug == "maple")) is None:
            maple = make_compound()
            built = build_world(maple, make_user("chair", maple, Role.chair), make_compound, make_user)
            live.walk_world = SimpleNamespace(values=dict(built.values), platform=built.platform.username,
                                              token=built.token, slug=maple.slug)
    return live.walk_world


def pages(world, kinds):
    """[(endpoint, path)] of the walked pages of these kinds."""
    return [(endpoint, path_of(rule, world.values)) for kind, endpoint, rule in walked_routes() if kind in kinds]


def visit(page, path, what):
    """Open a page; it must answer 200 with HTML (a page, not a download)."""
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{what}: {path} answered {response and response.status}"
    assert response.headers.get("content-type", "").startswith("text/html"), f"{what}: {path} is not a page"
    page.wait_for_load_state("domcontentloaded")


def sizes(page, scope, name):
    """Text under 24 px in `scope`, and targets under 60×60 px anywhere, as problem lines."""
    found = page.evaluate(SIZES_JS, {"scope": scope, "minText": LARGE_TEXT, "minTarget": LARGE_TARGET})
    return [f"{name}: text {line}" for line in found["small"]] + [f"{name}: target {line}" for line in found["tiny"]]


def log_in_as_staff(page, username):
    """Platform staff may open every committee page of every compound."""
    page.goto("/admin/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("body.admin")).to_have_count(1)
    assert "/admin/login" not in page.url


def open_card(page, world):
    """Scan the household card first, as a resident does: the household pages then show their forms."""
    page.goto(f"/h/{world.token}")


def timed(name):
    """Record how long a block took (printed at the end of the module)."""
    class Timer:
        def __enter__(self):
            self.start = time.monotonic()

        def __exit__(self, *exc):
            TIMINGS[name] = time.monotonic() - self.start
            print(f"\n[page walk] {name}: {TIMINGS[name]:.1f} s")
    return Timer()


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_phone_and_committee_pages_pass_axe_and_large_sizes(live, chromium, world, large):
    """Every phone and committee page: no serious axe problem; in 长辈模式, nothing under 24 px or 60×60 px."""
    need(AXE, "axe-core")
    problems = []
    with timed(f"phone and committee pages, {'large' if large else 'normal'}"):
        for kinds, who in ((("phone",), "resident"), (("login",), "visitor"), (("admin",), "staff")):
            context = chromium.new_context(base_url=live.base_url, bypass_csp=True, locale="zh-CN",
                                           timezone_id="Asia/Shanghai", **PHONE)
            if large:
                context.add_cookies([{"name": "kiosk_large", "value": "1", "url": live.base_url}])
            page = context.new_page()
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
            if who == "staff":
                log_in_as_staff(page, world.platform)
            if who == "resident":
                open_card(page, world)
            for endpoint, path in pages(world, kinds):
                name = f"{endpoint} {path}" + (" [长辈模式]" if large else "")
                visit(page, path, endpoint)
                if large and endpoint not in PRINTED:
                    assert page.evaluate("() => document.documentElement.classList.contains('large')"), \
                        f"{name}: 长辈模式 is not on"
                problems += axe_problems(page, name)
                if large and endpoint not in PRINTED:
                    problems += sizes(page, "main, .foot", name)
            context.close()
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_lobby_screen_pages_pass_axe_and_large_sizes_on_every_slide(live, chromium, world, orientation):
    """The screen, each of its slides and each slide's reader, and the kiosk vote page: no serious axe
    problem, no text under 24 px, no target under 60×60 px, upright and sideways."""
    from kiosk.extensions import db
    from kiosk.screen.models import Orientation, Screen

    need(AXE, "axe-core")
    with live.app.app_context():
        screen = db.session.get(Screen, world.values["screen_id"])
        screen.orientation = Orientation(orientation)
        db.session.commit()
    problems = []
    with timed(f"lobby screen, {orientation}"):
        context = chromium.new_context(base_url=live.base_url, bypass_csp=True, locale="zh-CN",
                                       timezone_id="Asia/Shanghai", **KIOSK[orientation])
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        for endpoint, path in pages(world, ("kiosk",)):
            name = f"{endpoint} {path} [{orientation}]"
            visit(page, path, endpoint)
            problems += axe_problems(page, name)
            problems += sizes(page, "body", name)
        page.goto(f"/{world.slug}/screen/{world.values['key']}")
        page.wait_for_function("() => window.htmx !== undefined && document.querySelector('#loop .slide.is-current')")
        ids = page.locator("#loop .group:not(.fallback) .slide").evaluate_all("els => els.map(e => e.dataset.slideId)")
        assert len(ids) >= 4, f"the world's screen shows too few slides: {ids}"
        for slide in ids:
            name = f"slide {slide} [{orientation}]"
            page.evaluate("""(id) => { document.querySelectorAll('#loop .slide.is-current')
                .forEach(function (s) { s.classList.remove('is-current'); });
                document.querySelector('#loop .slide[data-slide-id="' + id + '"]').classList.add('is-current'); }""",
                          slide)
            problems += axe_problems(page, name)
            problems += sizes(page, "body", name)
            page.locator(f'#loop .slide[data-slide-id="{slide}"]').tap()
            expect(page.locator(f'#detail .detail-inner[data-detail-id="{slide}"]')).to_have_count(1)
            problems += axe_problems(page, f"reader of {name}")
            problems += sizes(page, "body", f"reader of {name}")
            page.locator("#detail [data-action=back]").tap()
            expect(page.locator("body.detail-open")).to_have_count(0)
        context.close()
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_no_page_scrolls_sideways_at_200_percent_text_on_a_320px_phone(live, chromium, world, large):
    """The browser's text size at 200% (32 px default font), a 320 px wide phone: every phone and committee
    page keeps to the screen's width."""
    wide = []
    with timed(f"320 px at 200% text, {'large' if large else 'normal'}"):
        for kinds, who in ((("phone",), "resident"), (("login",), "visitor"), (("admin",), "staff")):
            context = chromium.new_context(base_url=live.base_url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                           **NARROW)
            if large:
                context.add_cookies([{"name": "kiosk_large", "value": "1", "url": live.base_url}])
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Page.enable")
            cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
            if who == "staff":
                log_in_as_staff(page, world.platform)
            if who == "resident":
                open_card(page, world)
            for endpoint, path in pages(world, kinds):
                if endpoint in PRINTED:
                    continue
                visit(page, path, endpoint)
                width = page.evaluate("() => document.scrollingElement.scrollWidth")
                if width > 320:
                    culprits = page.evaluate("""() => Array.prototype.filter.call(document.querySelectorAll('body *'),
                        function (e) { var r = e.getBoundingClientRect(); return r.right > 321 && r.width > 0; })
                        .slice(-3).map(function (e) { return e.tagName.toLowerCase() + '.' + e.className + ' '
                        + Math.round(e.getBoundingClientRect().right); })""")
                    wide.append(f"{endpoint} {path}: {width} px wide; {culprits}")
            context.close()
    assert wide == [], "pages that scroll sideways at 200% text on a 320 px phone:\n" + "\n".join(wide)
