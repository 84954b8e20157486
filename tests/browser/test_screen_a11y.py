"""Accessibility (axe-core, WCAG 2.1 AA), HTML validity (the Nu HTML Checker) and large type, on real pages."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import IN_CI, expect, log_in
from .screen_helpers import LONG_BODY, font_px, open_kiosk

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
HX_ATTRIBUTE = re.compile(r"Attribute “hx-[a-z:-]+” not allowed")


def need(path, what):
    if not path.exists():
        message = f"{what}: {path} is missing; run npm ci"
        pytest.fail(message) if IN_CI else pytest.skip(reason=message)


def seed(live):
    compound = live.new_compound(name="枫树小区")
    urgent = compound.add_notice("紧急：3号楼明天上午停水", body="因水管抢修，明天 **8:00–12:00** 停水。",
                                 category="safety", urgent=True, published_minutes_ago=10)
    compound.add_notice("二季度公共收益收支明细公示", body=LONG_BODY, category="disclosure", pinned=True,
                        published_minutes_ago=60)
    compound.add_notice("端午节大礼包领取安排", body="6月12日起，凭户卡到物业办公室领取。", category="event",
                        published_minutes_ago=120)
    return compound, urgent


def axe_problems(page, name):
    """Run axe-core on the page as it is; return its serious and critical WCAG 2.1 AA violations as text."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA)
    return [f"{name}: [{v['impact']}] {v['id']}: {v['help']} -> "
            + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


# Markup and styles do not depend on the database: these two checks run on SQLite only.
@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_axe_finds_no_serious_wcag_problems(live, visitor, devices):
    need(AXE, "axe-core")
    compound, urgent = seed(live)
    path = compound.add_screen(orientation="portrait", dwell_seconds=60, idle_seconds=120)
    problems = []

    # bypass_csp only so axe's injected script may run; every other test keeps the strict policy.
    kiosk = open_kiosk(lambda **o: visitor(bypass_csp=True, **o), path, "portrait")
    page = kiosk.page
    problems += axe_problems(page, "screen loop")
    page.locator("#loop .slide.is-current").tap()
    expect(page.locator("#detail").get_by_role("heading", level=1)).to_have_text("紧急：3号楼明天上午停水")
    problems += axe_problems(page, "screen detail")

    phone = visitor(bypass_csp=True, **devices["Pixel 5"]).page
    phone.goto(compound.home)
    expect(phone.locator("#notice-list .notice-card")).to_have_count(3)
    problems += axe_problems(phone, "phone home")
    phone.goto(f"/{compound.slug}/n/{urgent}")
    expect(phone.get_by_role("heading", level=1)).to_have_text("紧急：3号楼明天上午停水")
    problems += axe_problems(phone, "phone notice")
    phone.goto(f"/large/on?next={compound.home}")
    expect(phone.locator("body")).to_have_class(re.compile(r"\blarge\b"))
    problems += axe_problems(phone, "phone home, large type")

    assert problems == [], "axe-core found serious or critical WCAG 2.1 AA problems:\n" + "\n".join(problems)


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_nu_html_checker_finds_no_errors(live, visitor, devices, tmp_path):
    need(VNU, "vnu-jar")
    java = shutil.which("java")
    if java is None:
        pytest.fail("java is not installed") if IN_CI else pytest.skip(reason="JAVA: java is not installed")
    compound, urgent = seed(live)
    path = compound.add_screen(orientation="landscape")
    key = path.rsplit("/", 1)[1]

    # The HTML exactly as the server sends it (not the DOM after scripts ran).
    anonymous = visitor().page.request
    member = visitor(**devices["Pixel 5"]).page
    log_in(member, compound)
    large = {"Cookie": "kiosk_large=1"}
    pages = {
        "login": (anonymous, "/admin/login", {}),
        "screen": (anonymous, path, {}),
        "screen-detail": (anonymous, f"/{compound.slug}/screen/{key}/item/notices/{urgent}", {}),
        "phone-home": (anonymous, compound.home, {}),
        "phone-notice": (anonymous, f"/{compound.slug}/n/{urgent}", {}),
        "phone-home-large": (anonymous, compound.home, large),
        "phone-notice-large": (anonymous, f"/{compound.slug}/n/{urgent}", large),
        "admin-notice-form": (member.request, f"/admin/{compound.slug}/notices/new", {}),
    }
    files = {}
    for name, (client, url, headers) in pages.items():
        response = client.get(url, headers=headers)
        assert response.status == 200, f"{name}: {url} answered {response.status}"
        html = response.text()
        assert html.lstrip().lower().startswith("<!doctype html>"), f"{name} is not a full page"
        files[name] = tmp_path / f"{name}.html"
        files[name].write_text(html, encoding="utf-8")
    assert 'class="phone large"' in files["phone-home-large"].read_text(encoding="utf-8")

    result = subprocess.run([java, "-jar", str(VNU), "--stdout", "--errors-only", "--format", "json",
                             *map(str, files.values())], capture_output=True, text=True, timeout=120)
    report = json.loads(result.stdout or "{}")
    errors = [f"{str(m.get('url', '?')).rsplit('/', 1)[-1]}:{m.get('lastLine', '?')}: {m['message']}"
              for m in report.get("messages", [])
              if m.get("type") in ("error", "non-document-error") and not HX_ATTRIBUTE.search(m.get("message", ""))]
    assert errors == [], "the Nu HTML Checker found errors:\n" + "\n".join(errors)
    assert "messages" in report, f"vnu gave no report: {result.stderr[-2000:]}"


def test_large_type_on_the_phone(live, visitor, devices):
    """长辈模式: main text at least 18 pt (24 px), links at least 60 px tall. (The screen's sizes: test_screen_journeys.py.)"""
    compound, urgent = seed(live)

    resident = visitor(**devices["Pixel 5"])
    page = resident.page
    page.goto(compound.home)
    page.get_by_role("link", name="长辈模式").tap()
    expect(page.locator("body")).to_have_class(re.compile(r"\blarge\b"))
    expect(page).to_have_url(live.base_url + compound.home)
    assert font_px(page.locator("main")) >= 24, "large type: main text under 24 px (18 pt)"
    titles = page.locator("#notice-list .notice-card .title")
    expect(titles).to_have_count(3)
    for i in range(3):
        assert font_px(titles.nth(i)) >= 24, f"large type: notice title {i} under 24 px"
    targets = page.locator("nav.filters a, nav.prefs a")
    assert targets.count() >= 7
    for i in range(targets.count()):
        box = targets.nth(i).bounding_box()
        assert box["height"] >= 60, f"large type: {targets.nth(i).inner_text()!r} is {box['height']:.0f} px tall"
    expect(page.get_by_role("link", name="标准字号")).to_be_visible()

    titles.first.tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("紧急：3号楼明天上午停水")
    assert font_px(page.locator(".prose p").first) >= 24, "large type: notice text under 24 px (18 pt)"
    assert font_px(page.get_by_role("heading", level=1)) >= 24
    resident.assert_clean()
