"""Forms for compounds and their committee accounts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from ..auth.models import Role

ROLE_LABELS = {
    Role.chair: _l("主任"),
    Role.vice_chair: _l("副主任"),
    Role.member: _l("自治委员"),
    Role.supervisor: _l("监督委员"),
}

USERNAME = [
    DataRequired(_l("请填写用户名。")),
    Regexp(r"^\s*[A-Za-z0-9_.-]{3,40}\s*$", message=_l("用户名用 3–40 个字母、数字、点、下划线或连字符。")),
]


class MemberForm(FlaskForm):
    """A new committee account for this compound."""

    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=40)])
    username = StringField(_l("登录用户名"), validators=USERNAME)
    role = SelectField(_l("职务"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
                       default=Role.member.value)


class CompoundForm(FlaskForm):
    """A new compound and its first chair."""

    name = StringField(_l("小区名称"), validators=[DataRequired(_l("请填写小区名称。")), Length(max=80)])
    slug = StringField(_l("网址名"), validators=[DataRequired(_l("请填写网址名。")), Length(max=40)],
                       description=_l("出现在网址和二维码里，印出去后不要再改，例如 fengshu。"))
    community = StringField(_l("所属社区"), validators=[Length(max=80)])
    district = StringField(_l("所属街道"), validators=[Length(max=80)])
    admin_name = StringField(_l("第一位管理员姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=40)])
    admin_username = StringField(_l("第一位管理员用户名"), validators=USERNAME)
