"""The form a committee member fills in to register a lobby screen."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, FormField, IntegerField, RadioField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from .models import Orientation, split_buildings


class ScreenForm(FlaskForm):
    """Name, place, orientation, timings and night hours of a screen."""

    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称。")), Length(max=60)],
                       description=_l("例如：3 栋大堂"))
    place = StringField(_l("位置"), validators=[Length(max=80)])
    orientation = RadioField(_l("方向"), choices=[SelectChoice(Orientation.portrait.value, _l("竖屏")),
                                                 SelectChoice(Orientation.landscape.value, _l("横屏"))],
                             default=Orientation.portrait.value)
    dwell_seconds = IntegerField(_l("每页停留（秒）"), default=12, validators=[
        DataRequired(_l("请填写秒数。")), NumberRange(3, 120, _l("请填 3 到 120 之间的秒数。"))])
    idle_seconds = IntegerField(_l("无人触摸多久回到轮播（秒）"), default=60, validators=[
        DataRequired(_l("请填写秒数。")), NumberRange(5, 600, _l("请填 5 到 600 之间的秒数。"))])
    night_start = TimeField(_l("夜间息屏开始"), validators=[Optional()], description=_l("例如 22:00；不填则不息屏。"))
    night_end = TimeField(_l("夜间息屏结束"), validators=[Optional()], description=_l("例如 06:30"))
    buildings = StringField(_l("所在楼栋（可选）"), validators=[Length(max=60, message=_l("最多 60 个字。"))],
                            description=_l("例如 3 或 3,5：只给这些楼的通知优先显示，只给别的楼的通知不显示。"
                                           "不填（如小区大门）则显示全部。"))

    def validate_buildings(self, field):
        """Building numbers separated by commas."""
        if any(len(part) > 20 for part in split_buildings(field.data)):
            raise ValidationError(_l("楼栋号太长；多个楼栋用逗号隔开，例如 3,5。"))

    def validate(self, extra_validators=None):
        """Night hours need both ends, and they must differ (checked even when one end is empty)."""
        ok = super().validate(extra_validators)
        start, end = self.night_start.data, self.night_end.data
        if bool(start) != bool(end):
            self.night_end.errors = [*self.night_end.errors, _l("夜间时段要同时填开始和结束，或者都不填。")]
            return False
        if start and start == end:
            self.night_end.errors = [*self.night_end.errors, _l("开始和结束不能是同一时间。")]
            return False
        return ok


class AreaForm(Form):
    """One slide area on one screen: shown or not, and an optional daily time slot (Asia/Shanghai)."""

    show = BooleanField(_l("在这块屏幕上显示"))
    start = TimeField(_l("每天从"), validators=[Optional()])
    end = TimeField(_l("到"), validators=[Optional()], description=_l("不填则全天显示。例如 07:00 到 22:00。"))

    def validate(self, extra_validators=None):
        """A slot needs both ends, and they must differ."""
        ok = super().validate(extra_validators)
        start, end = self.start.data, self.end.data
        if bool(start) != bool(end):
            self.end.errors = [*self.end.errors, _l("时段要同时填开始和结束，或者都不填。")]
            return False
        if start and start == end:
            self.end.errors = [*self.end.errors, _l("开始和结束不能是同一时间。")]
            return False
        return ok


def area_field_name(area):
    """The form field of an area's settings."""
    return f"area_{area}"


def screen_form(providers, **kwargs):
    """A ScreenForm with one AreaForm per slide area the registry knows (so a new area needs no edit here)."""
    fields = {area_field_name(p.area): FormField(AreaForm, label=p.label) for p in providers}
    return type("ScreenAreasForm", (ScreenForm,), fields)(**kwargs)
