"""The document library on real phones: a committee member uploads a PDF through the phone form and publishes it;
a resident opens the library, searches a word, and reads the page as an image the server drew (never the PDF),
with the page's text beside it to read aloud."""
import re

import pytest

from kiosk.documents import textpdf

from .conftest import expect, log_in, screenshot

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def test_a_committee_pdf_becomes_pages_a_resident_finds_and_reads(live, visitor, tmp_path):
    compound = live.new_compound(name="枫叶小区", role="chair")
    pdf = tmp_path / "合同.pdf"
    pdf.write_bytes(textpdf.build([["电梯维保服务合同", "甲方：枫叶小区自治管理委员会"],
                                   ["第三条 电梯每半月保养一次", "维保费用每月 1,200 元"]]))
    committee = visitor(**PHONE)
    page = committee.page
    log_in(page, compound)
    page.goto(f"/admin/{compound.slug}/documents/new")
    page.get_by_label("类别").select_option("contract")
    page.get_by_label("标题").fill("电梯维保服务合同")
    page.get_by_role("button", name="保存").tap()
    page.get_by_label("文件（PDF 或各页照片）").set_input_files(str(pdf))
    page.get_by_role("button", name="上传（先存为草稿）").tap()
    expect(page.get_by_text("第 1 版已上传（2 页）")).to_be_visible()
    page.get_by_role("button", name="发布第 1 版").tap()
    expect(page.get_by_text("已发布。")).to_be_visible()

    resident = visitor(**PHONE).page
    resident.goto(f"/{compound.slug}/docs/")
    resident.get_by_label("在文件里找字").fill("半月保养")
    resident.get_by_role("button", name="查找").tap()
    resident.get_by_role("link", name="电梯维保服务合同 第 2 页").tap()
    expect(resident).to_have_url(re.compile(rf"/{compound.slug}/docs/\d+#page-2$"))
    image = resident.get_by_role("img", name="电梯维保服务合同 第 2 页")
    image.scroll_into_view_if_needed()
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth > 500")
    assert resident.evaluate("() => [...document.querySelectorAll('a, img, iframe, embed, object')]"
                             ".every(el => !/\\.pdf$/i.test(el.getAttribute('href') || el.getAttribute('src') || ''))")
    resident.locator("#page-2 summary").tap()
    expect(resident.locator("#page-2 .page-text")).to_contain_text("第三条 电梯每半月保养一次")
    screenshot(resident, "documents-phone-page", live)
    assert committee.page_errors == []
