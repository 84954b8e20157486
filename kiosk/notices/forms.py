"""The notice form."""
from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DateTimeLocalField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from .models import CATEGORY_LABELS, Category


class NoticeForm(FlaskForm):
    """Everything a committee member fills in to post a notice."""

    title = StringField(_l("标题"), validators=[
        DataRequired(_l("请填写标题。")), Length(max=120, message=_l("标题最多 120 个字。"))])
    body = TextAreaField(_l("正文"), validators=[Length(max=20000, message=_l("正文最多 20000 个字。"))],
                         description=_l("可用 Markdown：空一行分段，**加粗**，- 开头列项。"))
    category = RadioField(_l("类别"), choices=[SelectChoice(c.value, label) for c, label in CATEGORY_LABELS.items()],
                          default=Category.notice.value,
                          validators=[DataRequired(_l("请选一个类别。"))])
    urgent = BooleanField(_l("紧急（红色置顶，大屏显示横幅）"))
    pinned = BooleanField(_l("置顶"))
    buildings = StringField(_l("只给这些楼栋（可选）"), validators=[Length(max=60, message=_l("最多 60 个字。"))],
                            description=_l("例如 3 或 3,5：这些楼大堂的屏幕优先显示，其他楼的屏幕不显示。不填则全小区。"))
    starts_at = DateTimeLocalField(_l("开始显示"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                   description=_l("不填则发布后立即显示。"))
    ends_at = DateTimeLocalField(_l("结束显示"), format="%Y-%m-%dT%H:%M", validators=[Optional()],
                                 description=_l("到时自动下架；不填则一直显示，直到归档。"))
    image = FileField(_l("配图（可选）"), description=_l("JPEG、PNG、WebP 或 GIF，最大 8 MB。"),
                      render_kw={"data-too-big": _l("图片太大（最大 8 MB），请换一张小一点的。")})
    remove_image = BooleanField(_l("删除现有配图"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        mb = limit // (1024 * 1024)
        self.image.description = _("JPEG、PNG、WebP 或 GIF，最大 %(mb)s MB。", mb=mb)
        self.image.render_kw = {"accept": "image/jpeg,image/png,image/webp,image/gif", "data-max-bytes": limit,
                                "data-too-big": _("图片太大（最大 %(mb)s MB），请换一张小一点的。", mb=mb)}

    def validate_buildings(self, field):
        """Building numbers separated by commas, nothing else."""
        from ..screen.models import split_buildings

        if any(len(part) > 20 for part in split_buildings(field.data)):
            raise ValidationError(_l("楼栋号太长；多个楼栋用逗号隔开，例如 3,5。"))

    def validate_ends_at(self, field):
        """The window must end after it starts."""
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("结束时间要晚于开始时间。"))


class NoticeTemplateForm(FlaskForm):
    """A notice template: the title, body and category a new notice starts from."""

    title = StringField(_l("模板标题"), validators=[
        DataRequired(_l("请填写模板标题。")), Length(max=120, message=_l("标题最多 120 个字。"))],
        description=_l("发通知时这就是通知的标题，可以再改。"))
    body = TextAreaField(_l("正文"), validators=[Length(max=20000, message=_l("正文最多 20000 个字。"))],
                         description=_l("要每次填写的地方用【】标出，例如【日期】。可用 Markdown。"))
    category = RadioField(_l("类别"), choices=[SelectChoice(c.value, label) for c, label in CATEGORY_LABELS.items()],
                          default=Category.notice.value, validators=[DataRequired(_l("请选一个类别。"))])
