"""A committee learns on its practice compound (issue 17): the chair makes it from the admin nav, posts a notice
there, presses 练习重置, confirms, and finds the seeded demo data again, with the 练习 banner on every page."""
import pytest

from .conftest import expect, log_in, screenshot

pytestmark = pytest.mark.browser

BANNER = "练习小区 · 数据不作数"


def test_a_committee_practises_then_resets(live, visitor):
    compound = live.new_compound(name="枫叶小区", role="chair")
    page = visitor(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).page
    log_in(page, compound)
    page.get_by_role("link", name="练习小区").first.click()
    page.get_by_role("button", name="建立练习小区").click()
    expect(page.get_by_text("练习小区已建好")).to_be_visible()
    expect(page.get_by_text(BANNER)).to_be_visible()
    expect(page.get_by_text("冬季用电防火提示")).to_be_visible()  # the seeded demo notices

    page.get_by_role("link", name="发通知").first.click()
    page.get_by_label("标题").fill("练习：明天下午停电")
    page.get_by_label("正文").fill("练习发的通知。")
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_text("练习：明天下午停电").first).to_be_visible()

    page.get_by_role("link", name="练习重置").first.click()
    expect(page.get_by_role("heading", name="练习重置")).to_be_visible()
    page.get_by_role("button", name="确认重置").click()
    expect(page.get_by_text("练习小区已重置")).to_be_visible()
    expect(page.get_by_text(BANNER)).to_be_visible()
    expect(page.get_by_text("冬季用电防火提示")).to_be_visible()
    expect(page.get_by_text("练习：明天下午停电")).to_have_count(0)
    screenshot(page, "practice-after-reset", live)
