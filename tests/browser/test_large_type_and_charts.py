"""Residents' and committee pages as older readers meet them (issue 13): a 长辈模式 switch on the committee pages,
a styled code box, read-aloud on every detail page, and charts that tell the truth: income never in the expense
red, every bar of a chart on one scale, and money figures that break only between digit groups. Debian Chromium.
(Every page's sizes and axe: test_every_page.py; the lobby screen's charts: test_screen_reading_journeys.py.)
"""
import re

import pytest

from .conftest import expect, log_in
from .ledger_world import disclosed_month

pytestmark = pytest.mark.browser

OK_GREEN, URGENT_RED = "rgb(29, 107, 47)", "rgb(168, 0, 28)"
# The example: a ¥1,400 bar was as wide as a ¥9,210 one (each kind had a scale of its own).
ENTRIES = [("停车费", 921000), ("场地租金", 140000), ("垃圾清运", 140000), ("维修", 460500)]
HUGE = [("停车费", 1234567890), ("广告费", 987654321), ("维修", 12345678)]
NARROW = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}

# A Chinese voice for the read-aloud button (headless Chromium has none); what it is asked to say is kept.
FAKE_VOICE = """(() => {
  const voice = {lang: "zh-CN", name: "测试语音"};
  const listeners = [];
  window.__spoken = [];
  const synth = {speaking: false, getVoices: () => [voice], cancel() { this.speaking = false; },
                 speak(utterance) { window.__spoken.push(utterance.text); },
                 addEventListener(name, fn) { listeners.push(fn); }};
  Object.defineProperty(window, "speechSynthesis", {value: synth, configurable: true});
  window.SpeechSynthesisUtterance = function (text) { this.text = text; };
})()"""


def bars(page, selector):
    """[(name, fen, drawn px, fill colour)] of the category bars under selector."""
    return page.locator(f"{selector} li").evaluate_all("""items => items.map(li => {
        const rect = li.querySelector("rect");
        return [li.querySelector(".cat-name").textContent.trim(),
                Number(li.querySelector(".figure").textContent.replace(/[¥,.]/g, "")),
                rect.getBoundingClientRect().width, getComputedStyle(rect).fill]; })""")


def assert_one_scale(drawn, what):
    """Every bar's length is its amount times one scale (to a pixel and a half)."""
    top = max(drawn, key=lambda bar: bar[1])
    px_per_fen = top[2] / top[1]
    for name, fen, width, _ in drawn:
        assert abs(width - fen * px_per_fen) <= 1.5, \
            f"{what}: {name} (¥{fen / 100:,.2f}) is drawn {width:.1f} px, {fen * px_per_fen:.1f} px on the scale of {top[0]}"


def test_a_period_charts_income_in_green_and_every_bar_on_one_scale(live, visitor, devices):
    compound = live.new_compound(name="枫树小区")
    period = disclosed_month(live, compound.slug, compound.username, ENTRIES)

    resident = visitor(**devices["Pixel 5"])
    page = resident.page
    page.goto(f"/{compound.slug}/ledger/{period}")
    expect(page.locator(".category-bars li")).to_have_count(4)
    incomes = bars(page, 'h2:has-text("收入来源") + .category-bars')
    expenses = bars(page, 'h2:has-text("支出用途") + .category-bars')
    assert [name for name, *_ in incomes] == ["停车费", "场地租金"] and len(expenses) == 2
    assert {fill for *_, fill in incomes} == {OK_GREEN}, f"income drawn in {incomes}"
    assert {fill for *_, fill in expenses} == {URGENT_RED}
    assert_one_scale(incomes + expenses, "the period's income and expense chart")
    rent, rubbish = incomes[1], next(bar for bar in expenses if bar[0] == "垃圾清运")
    assert abs(rent[2] - rubbish[2]) < 1, "two ¥1,400 bars are drawn at different lengths"
    assert incomes[0][2] > 6 * rent[2], "a ¥9,210 bar is not six and a half times a ¥1,400 one"

    page.goto(f"/{compound.slug}/ledger/")
    month = page.locator(".month-bars li").last
    fills = month.locator("rect").evaluate_all("rects => rects.map(r => getComputedStyle(r).fill)")
    assert fills == [OK_GREEN, URGENT_RED]
    widths = month.locator("rect").evaluate_all("rects => rects.map(r => r.getBoundingClientRect().width)")
    income, expense = 921000 + 140000, 140000 + 460500
    assert abs(widths[1] - widths[0] * expense / income) <= 1.5, f"month bars {widths} for ¥{income} / ¥{expense}"
    assert {fill for *_, fill in bars(page, ".category-bars")} == {URGENT_RED}  # where the spending went
    resident.assert_clean()


@pytest.mark.parametrize("large", [False, True], ids=["normal", "large"])
def test_money_figures_fit_a_320px_phone_at_200_percent_text_breaking_only_between_digit_groups(
        live, chromium, large):
    compound = live.new_compound(name="枫树小区")
    period = disclosed_month(live, compound.slug, compound.username, HUGE)
    context = chromium.new_context(base_url=live.base_url, locale="zh-CN", **NARROW)
    if large:
        context.add_cookies([{"name": "kiosk_large", "value": "1", "url": live.base_url}])
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Page.enable")
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    try:
        for path in (f"/{compound.slug}/ledger/{period}", f"/{compound.slug}/ledger/"):
            page.goto(path)
            figures = page.locator("dl.money-figures dd")
            expect(figures.first).to_be_visible()
            assert "¥22,222,222.11" in figures.nth(1 if path.endswith(str(period)) else 0).inner_text().replace("\n", "")
            assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 320, f"{path} scrolls sideways"
            # Where an amount wraps, the line ends with a comma: never inside a group of digits.
            breaks = figures.evaluate_all("""dds => dds.map(dd => {
                const text = dd.textContent, range = document.createRange(), walker = document.createTreeWalker(dd, 4);
                const chars = [];
                for (let node; (node = walker.nextNode());) {
                  for (let i = 0; i < node.length; i++) {
                    range.setStart(node, i); range.setEnd(node, i + 1);
                    const rect = range.getBoundingClientRect();
                    if (rect.width) chars.push([node.data[i], rect.top]);
                  }
                }
                return chars.filter((c, i) => i > 0 && c[1] > chars[i - 1][1] + 2).map(c => chars[chars.indexOf(c) - 1][0]);
            })""")
            for ends in breaks:
                assert all(char == "," for char in ends), f"{path}: an amount breaks after {ends}"
    finally:
        context.close()


def test_the_committee_pages_have_a_large_type_switch(live, visitor, devices):
    compound = live.new_compound()
    member = visitor(**devices["Pixel 5"])
    page = member.page
    log_in(page, compound)
    header = page.locator("header.top")
    header.get_by_role("link", name="长辈模式").tap()
    expect(page.locator("html")).to_have_class(re.compile(r"\blarge\b"))
    expect(page).to_have_url(live.base_url + compound.admin)
    size = lambda selector: float(page.locator(selector).first.evaluate("e => getComputedStyle(e).fontSize")[:-2])  # noqa: E731
    assert size("main") >= 24 and size("main h1") >= 30 and size("main .big") >= 24
    for i in range(page.locator("nav.tabs a").count()):
        box = page.locator("nav.tabs a").nth(i).bounding_box()
        assert box["height"] >= 60 and box["width"] >= 60, f"tab {i} is {box}"
    header.get_by_role("link", name="标准字号").tap()
    expect(page.locator("html")).not_to_have_class(re.compile(r"\blarge\b"))
    assert size("main") < 24
    member.assert_clean()


def test_the_verify_code_box_is_styled_and_large(live, visitor, devices):
    compound = live.new_compound()
    resident = visitor(**devices["Pixel 5"])
    page = resident.page
    for large in (False, True):
        page.goto(f"/large/{'on' if large else 'off'}?next=/{compound.slug}/ledger/verify")
        box = page.get_by_label("输入公示表上的核对码")
        style = box.evaluate("""e => { const s = getComputedStyle(e); return {size: parseFloat(s.fontSize),
            border: parseFloat(s.borderTopWidth), colour: s.borderTopColor, font: s.fontFamily,
            body: parseFloat(getComputedStyle(document.body).fontSize)}; }""")
        shape = box.bounding_box()
        main = page.locator("main").bounding_box()
        assert style["size"] >= style["body"], f"the code is typed in {style['size']} px type"
        assert style["border"] >= 2 and "monospace" in style["font"], style
        assert shape["height"] >= (60 if large else 48) and shape["width"] >= min(main["width"] * 0.6, 300), shape
    resident.assert_clean()


def test_every_detail_page_reads_aloud(live, visitor, devices):
    from sqlalchemy import select

    from kiosk.auth.models import User
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from security_support import _populate, _populate_consult

    compound = live.new_compound(name="枫树小区")
    period = disclosed_month(live, compound.slug, compound.username, ENTRIES)
    with live.app.app_context():
        maple = db.session.scalar(select(Compound).where(Compound.slug == compound.slug))
        chair = db.session.scalar(select(User).where(User.username == compound.username))
        objects = _populate(maple, chair, "d", "枫树的停电通知")
        topics = _populate_consult(maple, chair, objects.household, "枫树的议题")
        db.session.commit()
        notice, topic, member = objects.notice.id, topics.voting.id, objects.member.name

    resident = visitor(**devices["Pixel 5"])
    page = resident.page
    page.add_init_script(FAKE_VOICE)
    pages = {f"/{compound.slug}/n/{notice}": "枫树的停电通知", f"/{compound.slug}/topics/{topic}": "加装电梯议题",
             f"/{compound.slug}/ledger/entries/1": "第 1 号", f"/{compound.slug}/ledger/{period}": "收支明细",
             f"/{compound.slug}/committee": member}
    for path, words in pages.items():
        page.goto(path)
        button = page.get_by_role("button", name="朗读")
        expect(button).to_be_visible()
        button.tap()
        spoken = page.evaluate("() => window.__spoken")
        assert len(spoken) == 1 and words in spoken[0], f"{path}: read aloud {spoken}"
        assert page.get_by_role("heading", level=1).inner_text() in spoken[0]
    resident.assert_clean()


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_a_disclosed_period_and_the_ledger_home_pass_axe_in_both_type_sizes(live, chromium, devices):
    """The page walk (test_every_page.py) meets a period still waiting for signatures; here a signed one, with
    its charts, signatures and QR, in normal type and in 长辈模式."""
    from .page_walk import SIZES_JS
    from .test_screen_a11y import AXE, axe_problems, need

    need(AXE, "axe-core")
    compound = live.new_compound(name="枫树小区")
    period = disclosed_month(live, compound.slug, compound.username, ENTRIES)
    problems = []
    for large in (False, True):
        context = chromium.new_context(base_url=live.base_url, bypass_csp=True, locale="zh-CN", **devices["Pixel 5"])
        if large:
            context.add_cookies([{"name": "kiosk_large", "value": "1", "url": live.base_url}])
        page = context.new_page()
        for path in (f"/{compound.slug}/ledger/{period}", f"/{compound.slug}/ledger/"):
            page.goto(path)
            problems += axe_problems(page, f"{path} {'large' if large else 'normal'}")
            if large:
                found = page.evaluate(SIZES_JS, {"scope": "main, .foot", "minText": 24, "minTarget": 60})
                problems += [f"{path}: {line}" for line in found["small"] + found["tiny"]]
        context.close()
    assert problems == [], "\n".join(problems)
