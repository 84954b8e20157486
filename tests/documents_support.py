"""Hostile and ordinary PDFs for the document library's tests, written byte by byte here (kiosk/documents/textpdf.py
writes the ordinary ones), and a decided topic to adopt documents with."""
import io

from PIL import Image as PILImage

from kiosk.consult import service as consult_service
from kiosk.consult.models import Option, Status as TopicStatus, Topic
from kiosk.documents import textpdf
from kiosk.extensions import db

from conftest import ago

ONE_PAGE = [["第一条 本小区电梯每年检验一次。"]]
# textpdf numbers the catalog 1, the page tree 2, the font 3, then a content stream and a page per page: a
# one-page file's extra objects start at 6.


def text_pdf(pages=None):
    """An ordinary PDF with text on each page."""
    return textpdf.build(pages or [["第一章 总则", "业主共同遵守本规约。"], ["第二章 电梯", "电梯维修费用由本栋业主分摊。"]])


def javascript_pdf():
    """A PDF that runs JavaScript when opened (/OpenAction pointing at a /JavaScript action)."""
    return textpdf.build(ONE_PAGE, extra_catalog="/OpenAction 6 0 R ",
                         extra_objects=["<< /Type /Action /S /JavaScript /JS (app.alert\\('hi'\\)) >>"])


def document_js_pdf():
    """A PDF with document-level JavaScript in its /Names tree (no name tokens PDFium would not see)."""
    return textpdf.build(ONE_PAGE, extra_catalog="/Names << /JavaScript 6 0 R >> ",
                         extra_objects=["<< /Names [(init) 7 0 R] >>", "<< /S /JavaScript /JS (1) >>"])


def embedded_file_pdf():
    """A PDF carrying an attached file in its /EmbeddedFiles names tree."""
    return textpdf.build(ONE_PAGE, extra_catalog="/Names << /EmbeddedFiles 6 0 R >> ", extra_objects=[
        "<< /Names [(evil.exe) 7 0 R] >>",
        "<< /Type /Filespec /F (evil.exe) /EF << /F 8 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream"])


def many_pages_pdf(count=10_000):
    """A small file whose page tree lists `count` pages, all the same page object."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               (f"<< /Type /Pages /Kids [{' '.join(['3 0 R'] * count)}] /Count {count} >>").encode(),
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    return textpdf.assemble(objects)


def broken_xref_pdf():
    """A PDF whose cross-reference table and trailer are garbage."""
    data = text_pdf()
    return data[:data.rindex(b"xref")] + b"xref\n0 zz\nnonsense\ntrailer\n<< /Root 99 0 R >>\nstartxref\n12\n%%EOF\n"


def truncated_pdf():
    """A PDF header and nothing a reader could open."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog"


def not_a_pdf():
    """A text file renamed .pdf."""
    return "这不是PDF，只是一段文字。".encode() * 20


def jpeg_photo(color=(240, 240, 230)):
    """A phone photo of a page."""
    out = io.BytesIO()
    PILImage.new("RGB", (300, 420), color).save(out, "JPEG")
    return out.getvalue()


def decided_topic(compound, author, title="修订管理规约"):
    """A consultation topic of the compound that was decided and passed (what adopts a 管理规约)."""
    topic = Topic(compound_id=compound.id, title=title, background="背景", kind="yesno", rule="ordinary",
                  status=TopicStatus.draft, opens_at=ago(days=20), closes_at=ago(days=10), created_by=author.id)
    topic.options = [Option(key=k, label=label, position=i) for i, (k, label) in enumerate(consult_service.YES_NO)]
    db.session.add(topic)
    db.session.flush()
    topic.status, topic.published_at, topic.closed_at = TopicStatus.closed, ago(days=25), ago(days=10)
    topic.result = dict(consult_service.compute(topic).as_record(), passed=True)
    db.session.flush()
    return topic
