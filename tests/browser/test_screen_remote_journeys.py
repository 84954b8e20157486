"""The street office runs a lobby screen remotely (issue 13): the admin sees what the open screen shows, presses
重新加载, and the screen reloads within one pulse, once. Debian Chromium, and Chromium 65 (where the JS that
reports the slide and obeys HX-Refresh must still run)."""
import time

import pytest

from .conftest import expect, log_in
from .journeys import CURRENT, POLL

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("screen_engine", ["chromium", "chrome65"], indirect=True)
def test_admin_sees_the_slide_and_reloads_the_open_screen_within_one_pulse(live, open_screen, visitor, fast_poll):
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    path = compound.add_screen(name="3 栋大堂", dwell_seconds=30, idle_seconds=60)
    screen = open_screen(path)
    shown = screen.attr(CURRENT, "data-slide-id")
    assert shown.startswith("notices-")
    # The loop's order (votes and urgent slides once a minute) runs on this engine too.
    assert screen.js("() => JSON.stringify(window.kioskBuildLoop([false, true, false], 30))") == "[1,0,1,2]"

    admin = visitor().page
    log_in(admin, compound, tap=False)
    admin.goto(f"/admin/{compound.slug}/screens/")
    # The screen reports the slide with its first live pulse; the list shows it in words.
    deadline = time.monotonic() + 6
    while "正在显示：通知：电梯年检通知" not in admin.content() and time.monotonic() < deadline:
        time.sleep(0.5)
        admin.reload()
    expect(admin.get_by_text("正在显示：通知：电梯年检通知")).to_be_visible()

    loads = len(screen.documents)
    admin.get_by_role("button", name="重新加载 3 栋大堂").click()
    pressed = time.monotonic()
    expect(admin.get_by_role("status")).to_contain_text("已通知“3 栋大堂”重新加载")
    screen.until(lambda: not screen.not_reloaded(), 2 * POLL + 3, "the screen to reload", interval=0.1)
    took = time.monotonic() - pressed
    assert took <= 2 * POLL + 2, f"[{screen.engine}] reloaded {took:.1f} s after the press"
    screen.wait_count(CURRENT, 1)
    screen.until(lambda: screen.js("() => window.htmx !== undefined"), 5, "htmx on the reloaded page")
    screen.mark()
    # One press, one reload: several more pulses go by and the page stays.
    screen.pause(4 * POLL + 1)
    assert screen.not_reloaded(), f"[{screen.engine}] the screen reloaded again"
    assert len(screen.documents) - loads == 1, screen.documents[loads:]
    screen.assert_clean()


@pytest.mark.parametrize("screen_engine", ["chromium"], indirect=True)
def test_an_area_outside_its_time_slot_stays_out_of_the_loop(live, open_screen):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    later = [(now + timedelta(hours=h)).strftime("%H:%M") for h in (2, 3)]
    around = [(now + timedelta(hours=h)).strftime("%H:%M") for h in (-1, 1)]
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    closed = open_screen(compound.add_screen(dwell_seconds=3, slots={"compound": later}))
    open_ = open_screen(compound.add_screen(name="大门", dwell_seconds=3, slots={"compound": around}))
    seen_closed, seen_open = set(), set()
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        seen_closed.add(closed.attr(CURRENT, "data-slide-id"))
        seen_open.add(open_.attr(CURRENT, "data-slide-id"))
        time.sleep(0.5)
    assert "compound-home" not in seen_closed and len(seen_closed) == 1
    assert "compound-home" in seen_open and len(seen_open) == 2


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_axe_finds_no_serious_problems_on_the_screen_admin_pages(live, visitor):
    """The pages the street office and the committee use to run screens: list, one screen, settings (with an
    error shown next to a field), the notice form's building field, and the district's list."""
    from kiosk.auth.models import User
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.screen.models import Screen

    from conftest import PASSWORD, password_hash
    from .test_screen_a11y import AXE, axe_problems, need

    need(AXE, "axe-core")
    compound = live.new_compound(name="枫树小区")
    compound.add_notice("电梯年检通知", published_minutes_ago=30)
    compound.add_screen(name="3 栋大堂", buildings="3", slots={"consult": ["07:00", "22:00"]})
    with live.app.app_context():
        # The live site is shared by the module's tests: another compound has a "3 栋大堂" too.
        screen_id = db.session.scalar(db.select(Screen.id).join(Compound, Compound.id == Screen.compound_id)
                                      .where(Screen.name == "3 栋大堂", Compound.slug == compound.slug))
        db.session.add(User(username="jiedao", display_name="街道技术员", password_hash=password_hash(live.app),
                            is_platform_admin=True, must_change_password=False))
        db.session.commit()
    problems = []
    page = visitor(bypass_csp=True).page
    log_in(page, compound, tap=False)
    base = f"/admin/{compound.slug}"
    for name, url in (("screen list", f"{base}/screens/"), ("screen page", f"{base}/screens/{screen_id}"),
                      ("screen settings", f"{base}/screens/{screen_id}/edit"),
                      ("notice form", f"{base}/notices/new")):
        page.goto(url)
        problems += axe_problems(page, name)
    page.goto(f"{base}/screens/{screen_id}/edit")
    page.locator("#area_consult-end").fill("")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#area_consult-end-error")).to_be_visible()
    problems += axe_problems(page, "screen settings with an error")

    staff = visitor(bypass_csp=True).page
    staff.goto("/admin/login")
    staff.get_by_label("用户名").fill("jiedao")
    staff.get_by_label("密码", exact=True).fill(PASSWORD)
    staff.get_by_role("button", name="登录").click()
    staff.goto("/admin/platform/screens/")
    expect(staff.get_by_role("heading", level=1)).to_have_text("全街道的屏幕")
    problems += axe_problems(staff, "district screens")
    assert problems == [], "axe-core found serious or critical WCAG 2.1 AA problems:\n" + "\n".join(problems)
