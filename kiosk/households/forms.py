"""Forms for the roll: one household, and a CSV import."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from .csvio import parse_area
from .models import OCCUPANCY_LABELS

FIELD_LABELS = {"building": _l("楼栋"), "entrance": _l("单元"), "room": _l("室"), "area": _l("面积"),
                "occupancy": _l("状态"), "owner_key": _l("业主标识"), "contact_name": _l("联系人"),
                "contact_phone": _l("电话"), "note": _l("备注")}


class HouseholdForm(FlaskForm):
    """Address, registered area, occupancy, owner grouping and private contact details."""

    building = StringField(FIELD_LABELS["building"], validators=[DataRequired(_l("请填写楼栋。")), Length(max=20)])
    entrance = StringField(FIELD_LABELS["entrance"], validators=[Length(max=10)], description=_l("没有单元可不填。"))
    room = StringField(FIELD_LABELS["room"], validators=[DataRequired(_l("请填写室号。")), Length(max=20)])
    area = StringField(_l("专有部分面积（平方米）"), validators=[DataRequired(_l("请填写面积。"))],
                       description=_l("以不动产登记簿为准，最多两位小数。"), render_kw={"inputmode": "decimal"})
    occupancy = RadioField(FIELD_LABELS["occupancy"],
                           choices=[SelectChoice(k.value, label) for k, label in OCCUPANCY_LABELS.items()],
                           default="owner_occupied",
                           description=_l("出租的房屋表决时仍算业主的一票；租户只参加意见征集。"))
    owner_key = StringField(FIELD_LABELS["owner_key"], validators=[Length(max=60)],
                            description=_l("同一业主的几套房填相同的标识（表决时算一人）；可不填。"))
    contact_name = StringField(_l("联系人（仅委员会可见）"), validators=[Length(max=40)])
    contact_phone = StringField(_l("电话（仅委员会可见）"), validators=[Length(max=30)],
                                render_kw={"inputmode": "tel"})
    note = StringField(_l("备注（仅委员会可见）"), validators=[Length(max=200)])

    def validate_area(self, field):
        """The area must be a positive number with at most two decimals."""
        try:
            self.area_centi = parse_area(field.data or "")
        except ValueError as why:
            from flask_babel import gettext
            raise ValidationError(gettext(str(why))) from None


class ImportForm(FlaskForm):
    """A roll as the compound has it: Excel (.xlsx) or CSV (UTF-8 or GBK), header in any layout."""

    file = FileField(_l("名册文件（Excel 或 CSV）"),
                     description=_l("物业或居委会给的花名册直接上传即可：标题行、两行表头、合并单元格都可以；楼栋、单元、房号"
                                    "分三列或写在一列（3栋1单元502、3-1-502）都行；面积可以带单位（89.5㎡）。"
                                    "上传后先看预览，确认了才保存。"))


# What a column of an uploaded roll can mean, as the preview's select offers it.
MEANING_LABELS = {"building": _l("楼栋"), "entrance": _l("单元"), "room": _l("房号"),
                  "address": _l("地址（楼栋单元房号在一格）"), "area": _l("面积"), "contact_name": _l("业主（联系人）"),
                  "contact_phone": _l("电话"), "occupancy": _l("状态"), "owner_key": _l("业主标识"),
                  "note": _l("备注"), "ignore": _l("不导入")}
