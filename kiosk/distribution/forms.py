"""The distribution forms: a new event (with who is eligible), and editing one."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateTimeLocalField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

SCOPES = [
    ("occupied", _l("全部在住户（不含空置、开发商持有的房屋）")),
    ("all", _l("全部住户")),
    ("buildings", _l("指定楼栋")),
    ("list", _l("上传名单（CSV）")),
]


class EventForm(FlaskForm):
    """Name, what is handed out, and the pickup window."""

    name = StringField(_l("活动名称"), validators=[
        DataRequired(_l("请填写活动名称。")), Length(max=80, message=_l("活动名称最多 80 个字。"))],
        description=_l("例如：端午节大礼包"))
    item = StringField(_l("发放物品"), validators=[
        DataRequired(_l("请填写发放什么。")), Length(max=120, message=_l("最多 120 个字。"))],
        description=_l("例如：粽子一盒、咸鸭蛋 10 个、食用油一桶"))
    starts_at = DateTimeLocalField(_l("开始领取"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired(_l("请填写开始领取的时间。"))])
    ends_at = DateTimeLocalField(_l("领取截止"), format="%Y-%m-%dT%H:%M",
                                 validators=[DataRequired(_l("请填写领取截止的时间。"))])

    def validate_ends_at(self, field):
        """The window must end after it starts."""
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("截止时间要晚于开始时间。"))


class NewEventForm(EventForm):
    """A new event also says which households may collect (fixed once created)."""

    scope = RadioField(_l("哪些住户可以领"), choices=[SelectChoice(v, label) for v, label in SCOPES],
                       default="occupied", validators=[DataRequired(_l("请选择哪些住户可以领。"))])
    buildings = SelectMultipleField(_l("楼栋"), choices=[], validate_choice=False,
                                    description=_l("选“指定楼栋”时勾选。"))
    occupied_only = BooleanField(_l("指定楼栋时不含空置、开发商持有的房屋"), default=True)
    address_list = FileField(_l("名单文件（CSV）"), description=_l(
        "选“上传名单”时用。每行一户，三列：楼栋、单元、室（没有单元的留空）；第一行可以是标题。"
        "UTF-8 或 GBK 编码都可以（Excel“另存为 CSV”即可）。"),
        render_kw={"accept": ".csv,text/csv"})
