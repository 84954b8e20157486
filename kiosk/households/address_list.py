"""An uploaded list of addresses (楼栋, 单元, 室) read into households, all or nothing, with errors per row."""
import csv
import io
import re
import unicodedata

from flask_babel import lazy_gettext as _l

from . import csvio
from .models import format_address

MAX_ROWS = 5000
MAX_ERRORS_SHOWN = 20
ADDRESS = re.compile(r"^(?P<building>[^栋幢]+?)(?:栋|幢|号楼)(?:(?P<entrance>[^单]+?)单元)?(?P<room>.+?)(?:室|号)?$")
HEADER_WORDS = {
    "building": ("楼栋", "栋", "楼号", "幢", "building"),
    "entrance": ("单元", "entrance", "unit"),
    "room": ("室", "房号", "房间", "门牌", "room"),
}


class AddressListError(ValueError):
    """The list could not be used; `errors` holds one message per problem (row numbers included)."""

    def __init__(self, errors):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def clean(value, suffixes=()):
    """Normalise one address part: full-width to half-width, spaces gone, a trailing 栋/单元/室 dropped."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def clean_building(value):
    """A building as stored: "3栋", "3号楼" and "３" all become "3"."""
    return clean(value, ("号楼", "栋", "幢"))


def clean_entrance(value):
    """An entrance as stored: "2单元" becomes "2"."""
    return clean(value, ("单元",))


def clean_room(value):
    """A room as stored: "501室" becomes "501"."""
    return clean(value, ("室", "号"))


def key(building, entrance, room):
    """The comparable form of an address."""
    return clean_building(building), clean_entrance(entrance), clean_room(room)


def shown(building, entrance, room):
    """An address as people write it: 3栋2单元501."""
    return format_address(building, entrance, room)


def decode(data):
    """Return the text of an uploaded CSV: UTF-8 (with or without BOM), else GBK (read as GB18030)."""
    if data[:2] == b"PK" or data[:4] == b"\xd0\xcf\x11\xe0":
        raise AddressListError([_l("这是 Excel 文件。请在 Excel 里选“另存为 → CSV”，再上传那个 CSV 文件。")])
    if b"\x00" in data:
        raise AddressListError([_l("文件不是文字格式（CSV），请检查是不是选错了文件。")])
    try:
        return csvio.decode(data)
    except UnicodeDecodeError:
        raise AddressListError([_l("读不出文件里的字：请存成 UTF-8 或 GBK 编码的 CSV。")]) from None


def _columns(header):
    """Map building/entrance/room to column positions from a header row, or None if it cannot."""
    found = {}
    for index, cell in enumerate(header):
        name = clean(cell).lower()
        for column, words in HEADER_WORDS.items():
            if column not in found and any(word in name for word in words):
                found[column] = index
                break
    if "building" in found and "room" in found:
        return found
    return None


def _split(cells, columns):
    """Return (building, entrance, room) from one row, or None when the row has no usable address."""
    if columns:
        def cell(name):
            index = columns.get(name)
            return cells[index] if index is not None and index < len(cells) else ""
        return cell("building"), cell("entrance"), cell("room")
    filled = [c for c in cells if clean(c)]
    if len(cells) >= 3:
        return cells[0], cells[1], cells[2]
    if len(filled) == 2:
        return filled[0], "", filled[1]
    if len(filled) == 1:
        match = ADDRESS.match(clean(filled[0]))
        if match:
            return match["building"], match["entrance"] or "", match["room"]
    return None


def parse(text):
    """Return ([(line, building, entrance, room)], [(line, error)]) from CSV text; raise AddressListError
    when the file as a whole cannot be used."""
    rows = list(csv.reader(io.StringIO(text)))
    numbered = [(i + 1, row) for i, row in enumerate(rows) if any(clean(c) for c in row)]
    if not numbered:
        raise AddressListError([_l("文件是空的：请每行写一户，分三列：楼栋、单元、室。")])
    columns = None
    first = numbered[0][1]
    if not any(ch.isdigit() for c in first for ch in c):  # a header row has no numbers in it
        columns = _columns(first)
        if columns is None and len(first) >= 3:
            columns = {"building": 0, "entrance": 1, "room": 2}
        numbered = numbered[1:]
    if len(numbered) > MAX_ROWS:
        raise AddressListError([_l("名单太长：最多 %(n)s 户。", n=MAX_ROWS)])
    if not numbered:
        raise AddressListError([_l("文件里只有标题行，没有住户。")])
    parsed, errors = [], []
    for line, cells in numbered:
        parts = _split(cells, columns)
        if parts is None or not clean(parts[0]) or not clean(parts[2]):
            errors.append((line, _l("第 %(line)s 行：缺楼栋或房号（应为三列：楼栋、单元、室）。", line=line)))
            continue
        parsed.append((line, *key(*parts)))
    return parsed, errors


def _capped(errors):
    """At most MAX_ERRORS_SHOWN messages, then one saying how many more."""
    if len(errors) <= MAX_ERRORS_SHOWN:
        return errors
    return errors[:MAX_ERRORS_SHOWN] + [_l("……还有 %(n)s 行有问题。", n=len(errors) - MAX_ERRORS_SHOWN)]


def read(data, households):
    """Return the ids of the households an uploaded file names; raise AddressListError listing every bad row."""
    rows, errors = parse(decode(data))
    chosen, more = match(rows, households)
    errors = [message for _line, message in sorted(errors + more, key=lambda e: e[0])]
    if errors:
        raise AddressListError(_capped(errors))
    return chosen


def match(rows, households):
    """Return (household ids, [(line, error)]) for parsed rows: unknown, unclear and repeated rows are errors.

    A row without an entrance matches when only one household has that building and room.
    """
    exact, loose = {}, {}
    for household in households:
        k = key(household.building, household.entrance, household.room)
        exact[k] = household.id
        loose.setdefault((k[0], k[2]), []).append(household.id)
    chosen, first_line, errors = [], {}, []
    for line, building, entrance, room in rows:
        household_id = exact.get((building, entrance, room))
        if household_id is None and not entrance:
            candidates = loose.get((building, room), [])
            if len(candidates) > 1:
                errors.append((line, _l("第 %(line)s 行：%(address)s 不止一户，请写上单元。", line=line,
                                        address=shown(building, "", room))))
                continue
            household_id = candidates[0] if candidates else None
        if household_id is None:
            errors.append((line, _l("第 %(line)s 行：本小区没有 %(address)s。", line=line,
                                    address=shown(building, entrance, room))))
        elif household_id in first_line:
            errors.append((line, _l("第 %(line)s 行：和第 %(first)s 行是同一户。", line=line,
                                    first=first_line[household_id])))
        else:
            first_line[household_id] = line
            chosen.append(household_id)
    return chosen, errors
