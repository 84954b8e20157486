"""The form a committee member fills in to register a lobby screen."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from .models import Orientation


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
