"""Files people download, written one way for every area: cells a spreadsheet never runs as formulas, CSV as
Excel in China opens it (UTF-8 with a BOM, CRLF), XLSX workbooks, and the attachment headers with the Chinese
file name. Inside WeChat's own browser, which cannot save a file, every download answers a calm page that
says how to open it in a real browser instead.

An export is a list of rows; a row is a list of cells. A cell is a plain value (text, int, Decimal, None) or a
Cell, which adds the looks only a workbook can show (bold, a colour, a number format). The CSV writer and the
XLSX writer take the same rows, so an area builds its table once.
"""
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import quote, urlsplit

from flask import g, make_response, render_template, request, url_for

from .security import local_path
from .timefmt import to_local

# What a spreadsheet takes as the start of a formula (OWASP "CSV injection"): a quote in front makes it text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...except a value of digits, spaces and dashes (a phone number, "-"): no formula or reference fits in those.
PLAIN_NUMBER = re.compile(r"\+?[\d\s-]+")
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
NAME_LIMIT = 120  # characters of a download's file name
NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|]')  # what Windows refuses in a file name
# WeChat's in-app browser says "MicroMessenger/<version>" in its User-Agent; WeChat Work's adds "wxwork/".
# Neither saves downloads nor has a print dialog.
WECHAT_MARKERS = ("micromessenger", "wxwork")


@dataclass(frozen=True)
class Cell:
    """A cell with the looks a workbook shows (a CSV file writes only the value)."""

    value: object
    bold: bool = False
    color: str | None = None  # hex RGB, e.g. "B00020"
    number_format: str | None = None


def yuan(fen, **looks):
    """An amount as a number of yuan with two decimals, exact from integer fen (CSV: "1234.50")."""
    return Cell(Decimal(fen).scaleb(-2), number_format=MONEY_FORMAT, **looks)


def bold(value):
    """A cell in bold (a header, a total's label)."""
    return Cell(value, bold=True)


def local_time(moment):
    """A stored moment as a cell: 2026-06-18 10:32 in local time ("" for none)."""
    return to_local(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _value(cell):
    return cell.value if isinstance(cell, Cell) else cell


def safe_cell(value):
    """A cell's value as a spreadsheet must get it: numbers as they are, empty as "", and text that would start
    a formula (=, +, -, @, a tab or a carriage return) behind a quote, so it shows as typed and never runs."""
    if value is None:
        return ""
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return value
    text = str(value)
    if text[:1] in FORMULA_START and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_bytes(rows):
    """CSV of the rows as Excel in China opens it: UTF-8 with a BOM, CRLF line ends, every cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(_value(cell)) for cell in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(title, rows, widths=()):
    """An XLSX workbook of one sheet: the rows with their looks, `widths` for the first columns. Text that starts
    with "=" stays typed text (openpyxl would store it as a live formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]  # Excel's limit on a sheet's name
    for number, row in enumerate(rows, start=1):
        for column, spec in enumerate(row, start=1):
            value = _value(spec)
            cell = sheet.cell(row=number, column=column, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
            if isinstance(spec, Cell):
                if spec.bold or spec.color:
                    cell.font = Font(bold=spec.bold, color=spec.color)
                if spec.number_format:
                    cell.number_format = spec.number_format
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[_column_letter(column)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _column_letter(number):
    from openpyxl.utils import get_column_letter

    return get_column_letter(number)


def file_name(name):
    """A download's file name people can save anywhere: no characters a file system refuses, not too long
    (the extension kept)."""
    clean = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    clean = NOT_IN_FILE_NAMES.sub("_", clean).strip() or "download"
    if len(clean) > NAME_LIMIT:
        stem, dot, ext = clean.rpartition(".")
        keep = NAME_LIMIT - len(ext) - 1
        clean = f"{stem[:keep]}.{ext}" if dot and 0 < len(ext) <= 8 and keep > 0 else clean[:NAME_LIMIT]
    return clean


def in_wechat():
    """Whether this request comes from WeChat's (or WeChat Work's) in-app browser."""
    g.asked_user_agent = True  # the answer varies by browser (see templating: Vary: User-Agent)
    agent = (request.headers.get("User-Agent") or "").lower()
    return any(marker in agent for marker in WECHAT_MARKERS)


def way_back():
    """Where the "back" link of a download's WeChat page goes: the page the person came from on this site,
    else the committee's start page (every download so far is the committee's)."""
    referrer = urlsplit(request.referrer or "")
    fallback = url_for("auth.index")
    if referrer.netloc != request.host:
        return fallback
    return local_path(referrer.path + (f"?{referrer.query}" if referrer.query else ""), fallback)


def wechat_page():
    """The calm page a download answers inside WeChat: open this address in the browser, then download."""
    response = make_response(render_template("wechat_download.html", back=way_back()))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def attachment(response, ascii_name, name):
    """Mark a response as a download: an ASCII file name for old browsers, the real one as filename*; and
    never kept by a cache (exports hold what only the committee may read)."""
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name(name), safe='')}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def csv_response(rows, ascii_name, name):
    """A CSV download of the rows (inside WeChat: the page saying how to download it)."""
    if in_wechat():
        return wechat_page()
    response = make_response(csv_bytes(rows))
    response.content_type = CSV_TYPE
    return attachment(response, ascii_name, name)


def xlsx_response(title, rows, ascii_name, name, widths=()):
    """An XLSX download of the rows (one sheet called `title`; inside WeChat: the page saying how)."""
    if in_wechat():
        return wechat_page()
    response = make_response(xlsx_bytes(title, rows, widths))
    response.content_type = XLSX_TYPE
    return attachment(response, ascii_name, name)
