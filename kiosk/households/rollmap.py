"""Understanding a roll as property companies and 居委会 hand it over: which row is the header (title rows and a
two-line header with a merged "房屋信息" above it allowed), what each column means, and each data row read into a
household or refused with a reason.

Pure Python (no Flask, no database). understand() guesses the columns; read_rows() turns the grid into rows and
refusals for a given meaning per column (the committee may correct the guess in the preview).
"""
import re
import unicodedata
from dataclasses import dataclass, field

from . import address_list, csvio

N_ = csvio.N_
MEANINGS = ("building", "entrance", "room", "address", "area", "contact_name", "contact_phone", "occupancy",
            "owner_key", "note", "ignore")
# Exact header names (after tidying), best first for each meaning.
NAMES = {
    "building": ("楼栋", "楼号", "栋", "栋号", "幢", "幢号", "楼", "楼宇", "楼栋号", "building"),
    "entrance": ("单元", "单元号", "entrance", "unit"),
    "room": ("房号", "室", "室号", "门牌号", "房间号", "户号", "房屋号", "门牌", "room"),
    "address": ("房屋地址", "地址", "房屋坐落", "坐落", "房屋位置", "楼栋单元房号", "楼栋房号", "房屋编号", "address"),
    "area": ("专有部分面积", "建筑面积", "房屋面积", "面积", "产权面积", "登记面积", "area"),
    "contact_name": ("业主", "业主姓名", "产权人", "户主", "房主", "权利人", "姓名", "联系人", "业主名称",
                     "contact_name"),
    "contact_phone": ("电话", "联系电话", "手机", "手机号", "手机号码", "联系方式", "电话号码", "contact_phone"),
    "occupancy": ("状态", "居住状态", "房屋状态", "入住状态", "使用状态", "occupancy"),
    "owner_key": ("业主标识", "业主编号", "owner_key"),
    "note": ("备注", "说明", "note"),
}
# Words that name a meaning inside a longer header ("建筑面积（㎡）", "业主联系电话").
CONTAINS = (("面积", "area"), ("电话", "contact_phone"), ("手机", "contact_phone"), ("姓名", "contact_name"),
            ("地址", "address"), ("坐落", "address"))
TOTAL_WORDS = ("合计", "总计", "小计", "共计", "总数")
SEPARATORS = "-－—–_/、.·#"
ADDRESS_WORDS = re.compile(
    r"^(?P<building>[^栋幢座#\-]+?)(?:号楼|栋|幢|座|#楼|#)(?:(?P<entrance>[^单]+?)单元)?-?(?P<room>[^栋幢单]+?)(?:室|号)?$")
ADDRESS_DASHES = re.compile(r"^(?P<building>[^-]+)-(?:(?P<entrance>[^-]+)-)?(?P<room>[^-]+)$")
ROOM_WITH_ENTRANCE = re.compile(r"^(?P<entrance>[^单]+?)单元-?(?P<room>.+)$")
AREA_UNITS = ("平方米", "平米", "平方", "平", "m2", "㎡", "方")
AREA_ABOUT = ("大约", "约", "~", "≈", "左右")
PREVIEW_ROWS = 20
HEADER_SCAN = 15


@dataclass
class Row:
    """One data row read into a household's fields (only the meanings the file has), or refused."""

    line: int
    fields: dict
    why: str = ""  # a message id when refused
    args: dict = field(default_factory=dict)
    note: str = ""  # a message id to flag an accepted row (约90平)
    raw: str = ""


@dataclass
class Reading:
    """What a file says: where its header is, each column's title and meaning, and its rows."""

    header_line: int  # 1-based line of the (last) header row, 0 when none was found
    titles: list
    meanings: list
    samples: list
    rows: list = field(default_factory=list)
    skipped: int = 0  # blank, total and repeated-header rows
    missing: list = field(default_factory=list)  # meanings the file needs and has no column for
    doubled: list = field(default_factory=list)  # meanings chosen for two columns


def tidy(text):
    """A header as compared: half-width, no spaces, no unit in brackets, no trailing colon or star."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = re.sub(r"[\(\[【（].*?[\)\]】）]", "", text)
    return re.sub(r"[\s:*：]", "", text)


def guess(title):
    """The meaning of a column from its header text, and how sure (lower is surer); ("ignore", 99) if none."""
    name = tidy(title)
    if not name:
        return "ignore", 99
    for meaning, names in NAMES.items():
        if name in names:
            return meaning, names.index(name)
    for word, meaning in CONTAINS:
        if word in name:
            return meaning, 50
    return "ignore", 99


def _header_score(cells):
    """How much a row looks like a header: the number of different meanings it names."""
    return len({guess(cell)[0] for cell in cells} - {"ignore"})


def _combined(upper, lower):
    """A two-line header's titles: the lower line where it names something (楼栋 under 房屋信息), else the upper."""
    width = max(len(upper), len(lower))
    upper, lower = upper + [""] * (width - len(upper)), lower + [""] * (width - len(lower))
    return [b if guess(b)[0] != "ignore" or (b and not a) else a for a, b in zip(upper, lower)]


def find_header(grid):
    """Return (last header line index, titles) for the likeliest header in the first rows, or (None, None)."""
    best = (1, None, None)
    for index, row in enumerate(grid[:HEADER_SCAN]):
        candidates = [(index, row)]
        if index + 1 < len(grid):
            candidates.append((index + 1, _combined(row, grid[index + 1])))
        for last, titles in candidates:
            score = _header_score(titles)
            if score > best[0]:  # strictly: a one-line header beats itself joined with the first data row
                best = (score, last, titles)
    return best[1], best[2]


def guess_meanings(titles):
    """Each column's meaning: for every meaning, the surest column wins; the others are ignored."""
    chosen = {}
    for index, title in enumerate(titles):
        meaning, rank = guess(title)
        if meaning != "ignore" and (meaning not in chosen or rank < chosen[meaning][1]):
            chosen[meaning] = (index, rank)
    meanings = ["ignore"] * len(titles)
    for meaning, (index, _rank) in chosen.items():
        meanings[index] = meaning
    return meanings


def numerals(text):
    """A building or entrance written in Chinese numerals as digits (三 → 3, 十二 → 12); other text as it is."""
    digits = "零一二三四五六七八九"
    if not text or any(ch not in digits + "十" for ch in text) or len(text) > 3:
        return text
    if "十" not in text:
        return "".join(str(digits.index(ch)) for ch in text)
    tens, _ten, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return text
    return str((digits.index(tens) if tens else 1) * 10 + (digits.index(ones) if ones else 0))


def address_key(building, entrance, room):
    """The comparable address, with Chinese-numeral buildings and entrances as digits (三栋二单元 → 3, 2)."""
    building, entrance, room = address_list.key(building, entrance, room)
    return numerals(building), numerals(entrance), room


def split_address(text):
    """(building, entrance, room) from one cell: 3栋1单元502, 3-1-502, 3幢502室, 3号楼1单元502; None if not."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"\s+", "", text)
    for mark in "－—–_/、·":
        text = text.replace(mark, "-")
    for pattern in (ADDRESS_WORDS, ADDRESS_DASHES):
        match = pattern.match(text)
        if match and match["room"]:
            entrance, room = match["entrance"] or "", match["room"]
            if not entrance and room.count("-") == 1:  # 3#1-502: the entrance before the dash
                entrance, room = room.split("-")
            return address_key(match["building"], entrance, room.strip("-"))
    return None


def parse_area(text):
    """(area in hundredths of a m², approximate?) from 89.5㎡, 89.5平方米, 89.50 m², 约90平; ValueError if not."""
    value = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))
    about = False
    for word in AREA_ABOUT:
        if value.startswith(word) or value.endswith(word):
            value, about = value.removeprefix(word).removesuffix(word), True
    for unit in AREA_UNITS:
        if value.lower().endswith(unit):
            value = value[: -len(unit)]
            break
    return csvio.parse_area(value), about


def understand(grid, meanings=None):
    """Read the grid: the header found, meanings guessed (or as given, one per column), and every row."""
    last, titles = find_header(grid)
    if last is None:  # nothing looks like a header: the first filled row is, and the committee picks meanings
        last = next((i for i, row in enumerate(grid) if any(row)), 0)
        titles = list(grid[last]) if grid else []
    width = max([len(titles)] + [len(row) for row in grid[last + 1:last + 200]])
    titles = list(titles) + [""] * (width - len(titles))
    body = grid[last + 1:]
    samples = [next((row[i] for row in body if i < len(row) and row[i]), "") for i in range(width)]
    if meanings is None:
        meanings = guess_meanings(titles)
        meanings = _room_holding_addresses(meanings, body)
    meanings = (list(meanings) + ["ignore"] * width)[:width]
    reading = Reading(header_line=last + 1, titles=titles, meanings=meanings, samples=samples)
    chosen = [m for m in meanings if m != "ignore"]
    reading.doubled = sorted({m for m in chosen if chosen.count(m) > 1}, key=MEANINGS.index)
    has = set(chosen)
    if "address" not in has:
        reading.missing += [m for m in ("building", "room") if m not in has]
    if "area" not in has:
        reading.missing.append("area")
    if not reading.missing and not reading.doubled:
        _read_rows(reading, grid, last)
    return reading


def _room_holding_addresses(meanings, body):
    """A 房号 column without a 楼栋 column that holds whole addresses (3-1-502) is the address column."""
    if "building" in meanings or "address" in meanings or "room" not in meanings:
        return meanings
    index = meanings.index("room")
    values = [row[index] for row in body[:50] if index < len(row) and row[index]]
    if values and sum(split_address(v) is not None for v in values) * 2 >= len(values):
        meanings = list(meanings)
        meanings[index] = "address"
    return meanings


def _skip(cells, titles):
    """Blank rows, totals (合计) and a header repeated on a printed page are not households."""
    if not any(cells):
        return True
    if any(cell.startswith(TOTAL_WORDS) for cell in cells if cell):
        return True
    return [c for c in cells if c] == [t for t in titles if t]


def _read_rows(reading, grid, last):
    """Fill reading.rows from the data rows below the header; duplicates of an address are refused."""
    seen = {}
    for index in range(last + 1, len(grid)):
        cells = list(grid[index]) + [""] * (len(reading.meanings) - len(grid[index]))
        if _skip(cells, reading.titles):
            reading.skipped += 1
            continue
        row = read_row(index + 1, cells, reading.meanings)
        key = (row.fields.get("building"), row.fields.get("entrance"), row.fields.get("room"))
        if not row.why:
            if key in seen:
                row.why, row.args = N_("和第 %(n)s 行是同一户"), {"n": seen[key]}
            else:
                seen[key] = row.line
        reading.rows.append(row)


def read_row(line, cells, meanings):
    """One data row's household fields, refused with the first reason found."""
    value = {m: cells[i].strip() for i, m in enumerate(meanings) if m != "ignore"}
    row = Row(line=line, fields={}, raw=" | ".join(c for c in cells if c))
    building, entrance, room = (value.get("building", ""), value.get("entrance", ""), value.get("room", ""))
    if "address" in value and value["address"] and not (building and room):
        parts = split_address(value["address"])
        if parts is None:
            row.why = N_("看不懂地址“%(value)s”，应像 3栋1单元502 或 3-1-502")
            row.args = {"value": value["address"]}
            return row
        building, entrance, room = building or parts[0], entrance or parts[1], room or parts[2]
    if room and not entrance and "entrance" not in value:
        match = ROOM_WITH_ENTRANCE.match(unicodedata.normalize("NFKC", room))
        if match:
            entrance, room = match["entrance"], match["room"]
    building, entrance, room = address_key(building, entrance, room)
    if not room:
        row.why = N_("缺少房号")
        return row
    if not building:
        row.why = N_("缺少楼栋")
        return row
    row.fields.update(building=building, entrance=entrance, room=room)
    if any(len(row.fields[name]) > csvio.LIMITS[name] for name in ("building", "entrance", "room")):
        row.why = N_("地址太长：楼栋和房号最多 20 个字，单元最多 10 个字")
        return row
    if not value.get("area"):
        row.why = N_("缺少面积")
        return row
    try:
        row.fields["area_centi"], about = parse_area(value["area"])
    except ValueError as why:
        row.why, row.args = N_("面积“%(value)s”读不懂：%(why)s"), {"value": value["area"], "why": str(why)}
        return row
    if about:
        row.note = N_("原文写的是约数，请按不动产登记簿核对")
    if value.get("occupancy"):  # an empty cell keeps what the roll says (a new household: 自住)
        occupancy = csvio.OCCUPANCY.get(value["occupancy"].lower())
        if occupancy is None:
            row.why, row.args = N_("状态“%(value)s”看不懂：只能是 自住、出租、空置 或 开发商持有"), {"value": value["occupancy"]}
            return row
        row.fields["occupancy"] = occupancy
    for name in ("contact_name", "contact_phone", "owner_key"):
        if len(value.get(name, "")) > csvio.LIMITS[name]:
            row.why, row.args = N_("“%(value)s”太长：最多 %(n)s 个字"), {"value": value[name], "n": csvio.LIMITS[name]}
            return row
        if name in value:
            row.fields[name] = value[name]
    if "note" in value:
        row.fields["note"] = value["note"][: csvio.LIMITS["note"]]  # a long remark is cut, not a reason to refuse
    return row
