"""The chair's form for a new committee account."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..auth.forms import USERNAME
from ..auth.models import ROLE_LABELS, Role


class MemberForm(FlaskForm):
    """A new committee account for this compound."""

    display_name = StringField(_l("姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=40)])
    username = StringField(_l("登录用户名"), validators=USERNAME)
    role = SelectField(_l("职务"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
                       default=Role.member.value)
