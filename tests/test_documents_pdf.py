"""PDF uploads are checked before anything is rendered or saved: hostile files (JavaScript, attachments, 10,000
pages, a broken cross-reference table, a text file renamed .pdf) are refused with a calm sentence; an ordinary
PDF becomes clean page images with its text."""
import io
import re
import time

import pytest
from PIL import Image as PILImage

from kiosk.documents import pdf

import documents_support as hostile

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_pages": 200, "max_side": 1600}
REFUSALS = [
    (hostile.javascript_pdf, "这个PDF含有脚本，出于安全不能上传，请另存为普通PDF后再传。"),
    (hostile.document_js_pdf, "这个PDF含有脚本，出于安全不能上传，请另存为普通PDF后再传。"),
    (hostile.embedded_file_pdf, "这个PDF里夹带了其他文件（附件），出于安全不能上传，请另存为普通PDF后再传。"),
    (hostile.many_pages_pdf, "这个PDF有 10000 页，超过了 200 页的上限，请分成几份再传。"),
    (hostile.broken_xref_pdf, "这个PDF打不开（文件可能已损坏），请重新导出后再传。"),
    (hostile.truncated_pdf, "这个PDF打不开（文件可能已损坏），请重新导出后再传。"),
    (hostile.not_a_pdf, "这个文件不是PDF，请选择PDF文件或照片。"),
]


@pytest.mark.parametrize(("make", "sentence"), REFUSALS, ids=[m.__name__ for m, _s in REFUSALS])
def test_hostile_pdfs_are_refused_with_their_sentence(app, make, sentence):
    with app.test_request_context():
        with pytest.raises(pdf.PdfRejected) as refused:
            pdf.render_pages(make(), **LIMITS)
    assert str(refused.value) == sentence


def test_ten_thousand_pages_are_refused_without_rendering_any(app, monkeypatch):
    """The page count is read first: not one page is loaded, and the refusal is quick."""
    from pypdfium2 import PdfDocument

    loaded = []
    monkeypatch.setattr(PdfDocument, "get_page", lambda self, i: loaded.append(i))
    started = time.monotonic()
    with app.test_request_context(), pytest.raises(pdf.PdfRejected):
        pdf.render_pages(hostile.many_pages_pdf(), **LIMITS)
    assert loaded == [] and time.monotonic() - started < 2


def test_pdfium_finds_scripts_and_attachments_the_byte_scan_cannot_see(app, monkeypatch):
    """Names inside compressed object streams escape a byte scan: PDFium's own counts still refuse the file."""
    monkeypatch.setattr(pdf, "HOSTILE_NAMES", re.compile(rb"(?!x)x"))
    with app.test_request_context():
        with pytest.raises(pdf.PdfRejected, match="含有脚本"):
            pdf.render_pages(hostile.document_js_pdf(), **LIMITS)
        with pytest.raises(pdf.PdfRejected, match="夹带了其他文件"):
            pdf.render_pages(hostile.embedded_file_pdf(), **LIMITS)


def test_too_big_and_too_many_pages_follow_the_settings(app):
    with app.test_request_context():
        with pytest.raises(pdf.PdfRejected, match="超过 1 MB"):
            pdf.render_pages(b"%PDF-1.7\n" + b" " * (1024 * 1024), 1024 * 1024, 200, 1600)
        with pytest.raises(pdf.PdfRejected, match="这个PDF有 2 页，超过了 1 页的上限"):
            pdf.render_pages(hostile.text_pdf(), 1 << 20, 1, 1600)


def test_an_ordinary_pdf_becomes_clean_page_images_with_their_text(app):
    with app.test_request_context():
        pages = pdf.render_pages(hostile.text_pdf(), max_bytes=1 << 20, max_pages=10, max_side=800)
    assert [p.text for p in pages] == ["第一章 总则\n业主共同遵守本规约。", "第二章 电梯\n电梯维修费用由本栋业主分摊。"]
    for page in pages:
        image = PILImage.open(io.BytesIO(page.data))
        assert image.format == "JPEG" and max(image.size) <= 800 and (image.width, image.height) == (page.width,
                                                                                                      page.height)
        assert not image.info.get("exif") and b"%PDF" not in page.data


def test_a_server_process_loads_pdfium_only_when_a_pdf_arrives(tmp_path):
    """PDFium costs about 11 MiB in every server process (issue 16 holds each to 120 MB); only an upload needs it."""
    import subprocess
    import sys

    probe = ("import sys; from kiosk import create_app; create_app(); "
             "print('pypdfium2' in sys.modules)")
    env = {"KIOSK_INSTANCE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin", "KIOSK_SECRET_KEY": "x" * 40}
    shown = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert shown.stdout.strip().splitlines()[-1:] == ["False"], shown.stderr[-2000:]
