"""An uploaded roll file read into a grid of text cells: XLSX (merged cells filled in) or CSV in UTF-8 (with or
without BOM), UTF-16 (Excel's "Unicode text") or GBK/GB18030, found by looking at the bytes, never by asking.

Pure Python (no Flask, no database). read_grid() returns the first sheet that has anything in it as a list of
rows of stripped strings, or raises RollFileError with a message id for the person who sent the file.
"""
import csv
import datetime
import io
from decimal import Decimal, InvalidOperation

MAX_ROWS = 20_000
MAX_COLUMNS = 60
SIGNATURES = ((b"\x89PNG", "image"), (b"\xff\xd8\xff", "image"), (b"GIF8", "image"), (b"%PDF", "pdf"),
              (b"\xd0\xcf\x11\xe0", "xls"), (b"PK\x03\x04", "xlsx"))


def N_(message):
    """Mark a message for translation; it is translated where it is shown."""
    return message


class RollFileError(ValueError):
    """The file as a whole cannot be read; `why` is a message id shown next to the file field."""

    def __init__(self, why):
        super().__init__(why)
        self.why = why


def kind(data):
    """What the bytes look like: "xlsx", "xls", "image", "pdf", or "text"."""
    for signature, name in SIGNATURES:
        if data.startswith(signature):
            return name
    return "text"


def read_grid(data):
    """Return the rows of the file's first non-empty sheet as lists of stripped strings (merged cells filled)."""
    if not data or not data.strip():
        raise RollFileError(N_("文件是空的。"))
    found = kind(data)
    if found == "xlsx":
        grid = _xlsx_grid(data)
    elif found == "xls":
        raise RollFileError(N_("这是旧版 Excel（.xls）文件：请在 Excel 里“另存为”.xlsx 或 CSV，再上传。"))
    elif found in ("image", "pdf"):
        raise RollFileError(N_("这个文件是图片或 PDF，不是表格：请上传 Excel（.xlsx）或 CSV 文件。"))
    else:
        grid = _csv_grid(data)
    if len(grid) > MAX_ROWS:
        raise RollFileError(N_("表格太长：最多 20000 行。"))
    if not any(any(cell for cell in row) for row in grid):
        raise RollFileError(N_("表格里什么也没有：请检查是不是选错了文件或工作表。"))
    return grid


def decode(data):
    """The text of a CSV file: UTF-16 by its BOM, UTF-8 (with or without BOM), else GBK read as GB18030."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise RollFileError(N_("这个文件不是表格：请上传 Excel（.xlsx）或 CSV 文件。"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RollFileError(N_("读不出文件里的字：请在 Excel 里“另存为 CSV（UTF-8）”再上传。")) from None


def _csv_grid(data):
    """Rows of a CSV (comma, or tab as Excel's "Unicode text" writes)."""
    text = decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    return [[cell.strip() for cell in row[:MAX_COLUMNS]]
            for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _xlsx_grid(data):
    """Rows of the first sheet of a workbook that has any value in it, merged ranges filled with their value."""
    import openpyxl  # imported here: only an XLSX upload needs it
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception:  # a broken zip or a workbook part openpyxl cannot read: the person only needs to know
        raise RollFileError(N_("这个文件打不开：请确认是 Excel 保存的 .xlsx 文件，或另存为 CSV 再上传。")) from None
    for sheet in book.worksheets:
        if sheet.max_row > MAX_ROWS:
            raise RollFileError(N_("表格太长：最多 20000 行。"))
        width = min(sheet.max_column, MAX_COLUMNS)
        grid = [[cell_text(value) for value in row[:width]]
                for row in sheet.iter_rows(max_col=width, values_only=True)]
        for merged in sheet.merged_cells.ranges:
            value = cell_text(sheet.cell(merged.min_row, merged.min_col).value)
            for r in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
                for c in range(merged.min_col, min(merged.max_col, width) + 1):
                    grid[r - 1][c - 1] = value
        if any(any(row) for row in grid):
            return grid
    return []


def cell_text(value):
    """A cell as the text a person reads: 502 not 502.0, 89.5 as typed, dates as 2026-06-12."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()[:10]
    if not isinstance(value, str):
        try:
            # repr() is the shortest text that reads back as the same number; a formula's 89.49999999999 is
            # what the sheet shows as 89.50, so tiny noise beyond two decimals is dropped.
            number = Decimal(repr(value))
        except InvalidOperation:
            return str(value).strip()
        rounded = number.quantize(Decimal("0.01"))
        if abs(number - rounded) < Decimal("0.000001"):
            number = rounded
        text = format(number.normalize(), "f")
        return text
    return value.strip()
