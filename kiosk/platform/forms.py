"""Platform staff's form for a new compound and its first chair."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..auth.forms import USERNAME


class CompoundForm(FlaskForm):
    """A new compound and its first chair."""

    name = StringField(_l("小区名称"), validators=[DataRequired(_l("请填写小区名称。")), Length(max=80)])
    slug = StringField(_l("网址名"), validators=[DataRequired(_l("请填写网址名。")), Length(max=40)],
                       description=_l("出现在网址和二维码里，印出去后不要再改，例如 fengshu。"))
    community = StringField(_l("所属社区"), validators=[Length(max=80)])
    district = StringField(_l("所属街道"), validators=[Length(max=80)])
    admin_name = StringField(_l("第一位管理员姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=40)])
    admin_username = StringField(_l("第一位管理员用户名"), validators=USERNAME)
