"""A committee member imports the sample messy roll on a narrow phone: the preview (a table of column meanings
with a select each) passes axe, does not scroll sideways at 320 px, a corrected column is previewed again, and
the confirmation lands on the roll. The browser is what proves the layout and the accessible selects."""
import pytest
from sqlalchemy import func, select

from .conftest import IN_CI, PASSWORD, expect, password_hash
from .test_screen_a11y import AXE, axe_problems, need

pytestmark = pytest.mark.browser

NARROW = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}


def test_a_committee_member_previews_corrects_and_confirms_the_sample_roll_on_a_phone(live, chromium, tmp_path):
    from factories import new_compound, new_user
    from kiosk.auth.models import Role
    from kiosk.compounds.models import Compound
    from kiosk.extensions import db
    from kiosk.households import rollsample
    from kiosk.households.models import Household

    with live.app.app_context():
        compound_id = new_compound("rollwalk", "花名册小区").id
        new_user(password_hash(live.app), "rollchair", db.session.get(Compound, compound_id), Role.chair)
    sample = tmp_path / "示例花名册.xlsx"
    sample.write_bytes(rollsample.workbook_bytes())
    context = chromium.new_context(base_url=live.base_url, bypass_csp=True, locale="zh-CN", **NARROW)
    page = context.new_page()
    try:
        page.goto("/admin/login")
        page.get_by_label("用户名").fill("rollchair")
        page.get_by_label("密码", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.goto("/admin/rollwalk/households/import")
        page.get_by_label("名册文件（Excel 或 CSV）").set_input_files(str(sample))
        page.get_by_role("button", name="上传并预览").click()
        expect(page.get_by_role("heading", name="预览：还没有保存")).to_be_visible()
        expect(page.locator("main")).to_contain_text("新增 24 户，更新 0 户，不变 0 户，不导入 3 行。")
        if AXE.exists() or IN_CI:  # without node_modules the layout and the journey are still checked
            need(AXE, "axe-core")
            assert axe_problems(page, "roll import preview") == []
        assert page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")

        page.get_by_label("业主姓名").select_option("ignore")  # the committee keeps names out of this import
        page.get_by_role("button", name="按所选重新预览").click()
        expect(page.get_by_label("业主姓名")).to_have_value("ignore")
        page.get_by_role("button", name="确认导入 24 户").click()
        expect(page.locator("main")).to_contain_text("导入完成：新增 24 户")
    finally:
        context.close()
    with live.app.app_context():
        names = db.session.scalars(select(func.count()).select_from(Household).where(
            Household.compound_id == compound_id, Household.contact_name != "")).one()
        assert names == 0
