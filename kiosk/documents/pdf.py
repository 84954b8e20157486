"""PDF uploads, checked and turned into page images (the PDF counterpart of kiosk/uploads.py).

Residents never receive the uploaded file: each page is rendered on the server with PDFium (pypdfium2), at a
bounded size, re-encoded as a fresh PNG/JPEG without metadata, and its text (where the file carries any) is
kept for search and read-aloud. Before anything is rendered the file is refused calmly when it is too big,
not a PDF, cannot be opened, has too many pages (counted first, so a 10,000-page file costs no rendering), or
carries JavaScript or embedded files. PDFium as shipped by pypdfium2 runs no JavaScript; we refuse such files
anyway, so a script or an attachment is never part of what the compound publishes.
"""
import io
import re
from dataclasses import dataclass


MAGIC = b"%PDF-"
# Name tokens that carry scripts, launch other programs or embed files: refused wherever they appear in the
# file's bytes (PDFium's own counts below also find them inside compressed object streams' names trees).
HOSTILE_NAMES = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])")
SCRIPT_NAMES = {b"JavaScript", b"JS", b"Launch", b"RichMedia", b"XFA"}


class PdfRejected(ValueError):
    """An upload we will not publish; the message is a calm sentence for the committee member who sent it."""


@dataclass
class RenderedPage:
    """One page of a checked PDF: a clean image and the page's text ("" when the page is a scan)."""

    data: bytes
    content_type: str
    width: int
    height: int
    text: str


def is_pdf(data):
    """Whether the bytes start like a PDF (a header within the first 1 KB, as readers accept)."""
    return MAGIC in data[:1024]


def _sentence(reason, **detail):
    from flask_babel import gettext as _

    return {
        "size": lambda: _("这个PDF太大（超过 %(mb)s MB），请压缩或分成几份再传。", **detail),
        "not_pdf": lambda: _("这个文件不是PDF，请选择PDF文件或照片。"),
        "broken": lambda: _("这个PDF打不开（文件可能已损坏），请重新导出后再传。"),
        "password": lambda: _("这个PDF设置了密码，请去掉密码后再传。"),
        "pages": lambda: _("这个PDF有 %(count)s 页，超过了 %(limit)s 页的上限，请分成几份再传。", **detail),
        "empty": lambda: _("这个PDF没有页面，请换一个文件。"),
        "script": lambda: _("这个PDF含有脚本，出于安全不能上传，请另存为普通PDF后再传。"),
        "attachment": lambda: _("这个PDF里夹带了其他文件（附件），出于安全不能上传，请另存为普通PDF后再传。"),
    }[reason]()


def _refuse(reason, **detail):
    raise PdfRejected(_sentence(reason, **detail))


def _scan_names(data):
    """Refuse a file whose bytes name a script, a launch action or an embedded file."""
    for match in HOSTILE_NAMES.finditer(data):
        _refuse("script" if match.group(1) in SCRIPT_NAMES else "attachment")


def open_checked(data, max_bytes, max_pages):
    """Open an uploaded PDF after every check that needs no rendering; return the PdfDocument, or raise
    PdfRejected. The caller closes the document."""
    if len(data) > max_bytes:
        _refuse("size", mb=max_bytes // (1024 * 1024))
    if not is_pdf(data):
        _refuse("not_pdf")
    _scan_names(data)
    # Imported here, not at start-up: PDFium adds about 11 MiB to every server process, and only an upload needs it.
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            _refuse("password")
        _refuse("broken")
    try:
        # The page count is read from the page tree before any page is loaded: a huge file stops here.
        count = len(document)
        if count > max_pages:
            _refuse("pages", count=count, limit=max_pages)
        if count == 0:
            _refuse("empty")
        if pdfium_c.FPDFDoc_GetJavaScriptActionCount(document) > 0:
            _refuse("script")
        if document.count_attachments() > 0:
            _refuse("attachment")
    except PdfRejected:
        document.close()
        raise
    return document


def _page_text(page):
    """A page's text, lines trimmed; "" when it has none (a scanned page)."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
    finally:
        textpage.close()
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _encode(image):
    """A clean JPEG of a rendered page (pages are paper: no transparency to keep)."""
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


def render_pages(data, max_bytes, max_pages, max_side, dpi=150):
    """Check an uploaded PDF and return its pages as RenderedPage, or raise PdfRejected.

    Each page is drawn at `dpi` but never larger than `max_side` pixels on its longer side (an enormous page
    size cannot make an enormous bitmap)."""
    import pypdfium2 as pdfium

    document = open_checked(data, max_bytes, max_pages)
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                width, height = page.get_size()
                longest = max(width, height, 1)
                scale = min(dpi / 72, max_side / longest)
                bitmap = page.render(scale=scale, may_draw_forms=False)
                image = bitmap.to_pil()
                bitmap.close()
                pages.append(RenderedPage(_encode(image), "image/jpeg", image.width, image.height,
                                          _page_text(page)))
            except pdfium.PdfiumError:
                _refuse("broken")
            finally:
                page.close()
    finally:
        document.close()
    return pages
