"""The committee's form for one roster entry."""
from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..auth.models import ROLE_LABELS, Role


def _one_line(value):
    return value.strip() if isinstance(value, str) else value


def _unix_newlines(value):
    # Browsers send CRLF; count a line break as the one character the person typed.
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class RosterForm(FlaskForm):
    """One roster entry: name, role, term, a short public introduction and an optional photo."""

    name = StringField(_l("姓名"), filters=[_one_line], render_kw={"maxlength": 40}, validators=[
        DataRequired(_l("请填写姓名。")), Length(max=40, message=_l("姓名最多 40 个字。"))])
    role = RadioField(_l("职务"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
                      default=Role.member.value, validators=[DataRequired(_l("请选一个职务。"))])
    term_start = DateField(_l("任期开始"), invalid_value_message=_l("请按“年-月-日”填写日期，例如 2024-06-01。"),
                           validators=[InputRequired(_l("请填写任期开始的日期。"))])
    term_end = DateField(_l("任期结束"), invalid_value_message=_l("请按“年-月-日”填写日期，例如 2027-05-31。"),
                         validators=[InputRequired(_l("请填写任期结束的日期。"))],
                         description=_l("填任期的最后一天。提前卸任请用名单上的“今天起卸任”。"))
    intro = TextAreaField(_l("简短介绍（公开）"), filters=[_unix_newlines], render_kw={"maxlength": 500},
                          validators=[Length(max=500, message=_l("介绍最多 500 个字。"))],
                          description=_l("居民在手机和大堂屏幕上能看到，最多 500 字。不要写电话、住址等私人信息。"))
    photo = FileField(_l("照片（可选）"))
    remove_photo = BooleanField(_l("删除现有照片"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        mb = limit // (1024 * 1024)
        self.photo.description = _("JPEG、PNG、WebP 或 GIF，最大 %(mb)s MB。照片会公开显示。", mb=mb)
        self.photo.render_kw = {"accept": "image/jpeg,image/png,image/webp,image/gif", "data-max-bytes": limit,
                                "data-too-big": _("图片太大（最大 %(mb)s MB），请换一张小一点的。", mb=mb)}

    def validate_term_end(self, field):
        """A term ends after it starts."""
        if field.data and self.term_start.data and field.data <= self.term_start.data:
            raise ValidationError(_l("任期结束的日期要晚于开始的日期。"))
