"""A made-up messy roll, as a property company hands one over, for a newcomer to try the import's preview on:
a merged title row, a two-line header with 房屋信息 merged over 楼栋/单元/房号, a building merged down its rows,
areas written with units, a blank row, a duplicate, an unreadable area, a missing room and a 合计 row.
Every name and number in it is invented."""
import io

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
GIVEN = ("桂英", "建国", "秀兰", "志强", "淑珍", "国华", "玉梅", "德明", "春花", "永福", "丽娟", "海军")
AREA_STYLES = ("{}㎡", "{}平方米", "{} m²", "{}")


def rows():
    """The data rows: (序号, 楼栋, 单元, 房号, 建筑面积, 业主姓名, 联系电话, 备注); a few deliberately wrong."""
    out = []
    n = 0
    for building in ("3", "5"):
        for entrance in ("1", "2"):
            for floor in (1, 2, 3):
                for door in (1, 2):
                    n += 1
                    area = f"{86 + door * 3 + floor}.{(n * 7) % 100:02d}"
                    name = SURNAMES[n % len(SURNAMES)] + GIVEN[n % len(GIVEN)]
                    out.append([n, f"{building}栋", f"{entrance}单元", f"{floor}0{door}",
                                AREA_STYLES[n % len(AREA_STYLES)].format(area), name, f"1390000{n:04d}", ""])
    out[4][4] = "约90平"
    out.append([n + 1, "5栋", "2单元", "302", "98.10㎡", "重复的行", "", "和上一户重复"])
    out.append([n + 2, "5栋", "2单元", "303", "待核实", "面积看不懂", "", ""])
    out.append([n + 3, "5栋", "2单元", "", "77.00", "没有房号", "", ""])
    return out


def workbook_bytes():
    """The sample roll as an .xlsx file's bytes."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "业主花名册"
    sheet.append(["示例小区业主花名册（物业移交）"])
    sheet.merge_cells("A1:H1")
    sheet.append(["序号", "房屋信息", None, None, "建筑面积", "业主姓名", "联系电话", "备注"])
    sheet.append([None, "楼栋", "单元", "房号", None, None, None, None])
    sheet.merge_cells("B2:D2")
    for column in "AEFGH":
        sheet.merge_cells(f"{column}2:{column}3")
    data = rows()
    for index, row in enumerate(data):
        if index == 6:
            sheet.append([])  # a blank row, as hand-kept sheets have
        sheet.append(row)
    sheet.merge_cells("B4:B9")  # the first building's name written once, merged down its first rows
    sheet.append(["合计", None, None, None, f"{len(data)} 户", None, None, None])
    for column, width in zip("ABCDEFGH", (6, 8, 8, 8, 14, 12, 14, 14)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
