"""Reading and writing the roll as CSV the way Excel in China does: UTF-8 with or without BOM, or GBK.

Pure Python (no Flask, no database): parse_area() and the limits and tenure words are shared with the upload
reader (rollfile.py reads any layout, rollmap.py understands it); parse_roll() is the strict reader of the
roll's own export (all rows good, or every row's problem), kept for round trips; roll_rows() is the table an
export writes (kiosk/exports.py makes its cells safe).
"""
import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


def N_(message):
    """Mark a message for translation; it is translated where it is shown (with Problem.args)."""
    return message

HEADERS = {
    "building": ("楼栋", "楼号", "栋", "building"),
    "entrance": ("单元", "entrance"),
    "room": ("室", "房号", "门牌号", "room"),
    "area": ("面积", "专有部分面积", "面积（㎡）", "面积(㎡)", "area"),
    "occupancy": ("状态", "occupancy"),
    "owner_key": ("业主标识", "业主编号", "owner_key"),
    "contact_name": ("联系人", "姓名", "contact_name"),
    "contact_phone": ("电话", "手机", "联系电话", "contact_phone"),
    "note": ("备注", "note"),
}
REQUIRED = ("building", "room", "area")
# Files written before tenure was recorded say 自住/出租 (or occupied): those units become owner-occupied, as
# the migration did with the roll; the committee corrects the rented ones.
OCCUPANCY = {"": "owner_occupied", "自住": "owner_occupied", "自住/出租": "owner_occupied",
             "occupied": "owner_occupied", "owner_occupied": "owner_occupied", "出租": "rented", "rented": "rented",
             "空置": "vacant", "vacant": "vacant", "开发商": "developer", "开发商持有": "developer",
             "developer": "developer", "已入住": "owner_occupied", "入住": "owner_occupied",
             "未入住": "vacant", "空房": "vacant", "闲置": "vacant", "租赁": "rented", "出租中": "rented"}
LIMITS = {"building": 20, "entrance": 10, "room": 20, "owner_key": 60, "contact_name": 40, "contact_phone": 30,
          "note": 200}
EXPORT_COLUMNS = [("building", "楼栋"), ("entrance", "单元"), ("room", "室"), ("area", "面积"),
                  ("occupancy", "状态"), ("owner_key", "业主标识"), ("contact_name", "联系人"),
                  ("contact_phone", "电话"), ("note", "备注")]
OCCUPANCY_OUT = {"owner_occupied": "自住", "rented": "出租", "vacant": "空置", "developer": "开发商持有"}
MAX_AREA_CENTI = 10_000 * 100


@dataclass
class Problem:
    """One thing wrong in an uploaded file: where, what was there, and why it cannot be used."""

    row: int  # line number in the file, the header being line 1
    column: str
    value: str
    why: str  # a message id, translated when shown
    args: dict | None = None


def decode(data):
    """Return the text of an uploaded CSV: UTF-8 (with or without BOM) first, else GBK (as GB18030)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def parse_area(text):
    """Return the area in hundredths of a m² from text like 86.35, or raise ValueError with a reason."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(N_("不是数字")) from None
    if not value.is_finite() or value <= 0:
        raise ValueError(N_("要大于 0"))
    if value.as_tuple().exponent < -2:
        raise ValueError(N_("最多两位小数"))
    centi = int(value * 100)
    if centi > MAX_AREA_CENTI:
        raise ValueError(N_("超过 10000 平方米，请检查"))
    return centi


def _column_map(header):
    """Map our field names to column indexes, from Chinese or English headers."""
    found = {}
    for index, name in enumerate(header):
        clean = name.strip().lower()
        for field, names in HEADERS.items():
            if clean in (n.lower() for n in names) and field not in found:
                found[field] = index
    return found


def parse_roll(data, labels):
    """Parse roll CSV bytes; return (rows, problems). labels maps field -> column title for messages."""
    try:
        text = decode(data)
    except UnicodeDecodeError:
        return [], [Problem(1, "", "", N_("文件编码无法识别，请在 Excel 里“另存为 CSV（UTF-8）”"))]
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        return [], [Problem(1, "", "", N_("文件是空的"))]
    columns = _column_map(header)
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        return [], [Problem(1, labels[f], "", N_("缺少这一列")) for f in missing]
    rows, problems, seen = [], [], {}
    for line, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        value = {f: (record[i].strip() if i < len(record) else "") for f, i in columns.items()}
        row = {"line": line}
        for field in REQUIRED:
            if not value[field]:
                problems.append(Problem(line, labels[field], "", N_("不能为空")))
        for field, limit in LIMITS.items():
            if len(value.get(field, "")) > limit:
                problems.append(Problem(line, labels[field], value[field], N_("最多 %(n)s 个字"), {"n": limit}))
        if value["area"]:
            try:
                row["area_centi"] = parse_area(value["area"])
            except ValueError as why:
                problems.append(Problem(line, labels["area"], value["area"], str(why)))
        occupancy = OCCUPANCY.get(value.get("occupancy", "").lower()) if "occupancy" in value else "owner_occupied"
        if occupancy is None:
            problems.append(Problem(line, labels["occupancy"], value["occupancy"],
                                    N_("只能是 自住、出租、空置 或 开发商持有")))
        row["occupancy"] = occupancy
        for field in ("building", "entrance", "room", "owner_key", "contact_name", "contact_phone", "note"):
            row[field] = value.get(field, "")
        key = (row["building"], row["entrance"], row["room"])
        if all(key[0::2]) and key in seen:
            problems.append(Problem(line, labels["room"], "".join(key), N_("和第 %(n)s 行是同一户"), {"n": seen[key]}))
        seen.setdefault(key, line)
        rows.append(row)
    if not rows and not problems:
        problems.append(Problem(2, "", "", N_("文件里没有住户")))
    return rows, problems


def roll_rows(households, private=True):
    """The roll as rows for a spreadsheet (exports.py writes them): a header, then one row per household;
    private adds the contacts and notes."""
    columns = [c for c in EXPORT_COLUMNS if private or c[0] not in ("contact_name", "contact_phone", "note")]
    rows = [[title for _, title in columns]]
    for h in households:
        values = {"building": h.building, "entrance": h.entrance, "room": h.room, "area": h.area,
                  "occupancy": OCCUPANCY_OUT[str(h.occupancy)], "owner_key": h.owner_key,
                  "contact_name": h.contact_name, "contact_phone": h.contact_phone, "note": h.note}
        rows.append([values[field] for field, _ in columns])
    return rows
