"""The committee's meeting forms: scheduling, the day the notice was sent, an item's decision, the minutes and
posting the decision."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from .service import MAX_ITEMS


def agenda_lines(text):
    """The agenda typed one item per line: blank lines dropped, spaces trimmed."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class MeetingForm(FlaskForm):
    """When and where the committee meets, and what it will discuss."""

    held_at = DateTimeLocalField(_l("会议时间"), format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired(_l("请填写会议时间。"))])
    place = StringField(_l("地点"), validators=[DataRequired(_l("请填写地点。")),
                                               Length(max=80, message=_l("地点最多 80 个字。"))],
                        description=_l("例如：3 栋一楼委员会办公室"))
    agenda = TextAreaField(_l("议程"), validators=[DataRequired(_l("请至少写一项议程。"))],
                           description=_l("一行一项。会议只能对通知里列出的议程作决定。"), render_kw={"rows": 5})

    def validate_agenda(self, field):
        lines = agenda_lines(field.data)
        if len(lines) > MAX_ITEMS:
            raise ValidationError(_l("议程最多 %(n)s 项。", n=MAX_ITEMS))
        if any(len(line) > 120 for line in lines):
            raise ValidationError(_l("每项议程最多 120 个字。"))


class SentForm(FlaskForm):
    """The day the agenda notice was handed or sent to the 居委会."""

    sent_on = DateField(_l("送达居委会的日期"), validators=[InputRequired(_l("请填写日期。"))])


class DecisionForm(FlaskForm):
    """What the committee decided on one item (each present member's vote is read from the request)."""

    decision = TextAreaField(_l("决定内容"), validators=[DataRequired(_l("请写明决定内容。")),
                                                      Length(max=5000, message=_l("决定内容太长了。"))],
                             render_kw={"rows": 3})


class MinutesForm(FlaskForm):
    """The meeting's minutes (会议纪要)."""

    minutes = TextAreaField(_l("会议纪要"), validators=[DataRequired(_l("请填写会议纪要。")),
                                                    Length(max=20000, message=_l("会议纪要太长了。"))],
                            description=_l("确认后再修改，已有的确认会作废，需要委员重新确认。"), render_kw={"rows": 10})


class PostForm(FlaskForm):
    """The title of the public notice of the meeting's decisions."""

    title = StringField(_l("公告标题"), validators=[DataRequired(_l("请填写标题。")),
                                                  Length(max=120, message=_l("标题最多 120 个字。"))])
