"""Platform staff's form for a new compound and its first chair."""
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..auth.forms import USERNAME
from ..consult.procedure import choices as procedure_choices

PROCEDURE_HELP = _l("本小区业主投票按哪里的规定办理：通知期、投票期限、延长、决议公告期限、电子投票平台。委员会和居民"
                    "在“议事规则”页看到每一条和出处。")


COPY_HELP = _l("新小区照搬所选小区的账本和收支类别、议事规则、委托代理人数上限和通知模板，从零开始记账；"
               "住户、住户卡、议题、账目、通知、文件和人员一样也不复制。")


def procedure_field():
    """The procedure profile select: the national default or a city's preset."""
    return SelectField(_l("议事规则"), choices=[SelectChoice(key, label) for key, label in procedure_choices()],
                       default="national", description=PROCEDURE_HELP,
                       validators=[DataRequired(_l("请选择议事规则。"))])


class CompoundForm(FlaskForm):
    """A new compound and its first chair."""

    name = StringField(_l("小区名称"), validators=[DataRequired(_l("请填写小区名称。")), Length(max=80)])
    slug = StringField(_l("网址名"), validators=[DataRequired(_l("请填写网址名。")), Length(max=40)],
                       description=_l("出现在网址和二维码里，印出去后不要再改，例如 fengshu。"))
    community = StringField(_l("所属社区"), validators=[Length(max=80)])
    district = StringField(_l("所属街道"), validators=[Length(max=80)])
    admin_name = StringField(_l("第一位管理员姓名"), validators=[DataRequired(_l("请填写姓名。")), Length(max=40)])
    admin_username = StringField(_l("第一位管理员用户名"), validators=USERNAME)
    copy_from = SelectField(_l("复制设置自"), choices=[], validate_choice=False, default="",
                            description=COPY_HELP)
    procedure_profile = SelectField(
        _l("议事规则"), default="", description=PROCEDURE_HELP,
        choices=[SelectChoice("", _l("与复制来源相同（不复制时为全国通用）"))]
        + [SelectChoice(key, label) for key, label in procedure_choices()])

    def set_models(self, compounds):
        """Offer every existing compound as a model to copy from ("不复制" first, the default)."""
        self.copy_from.choices = [SelectChoice("", _("不复制"))] + [
            SelectChoice(str(c.id), f"{c.name} (/{c.slug}/)") for c in compounds]


class ProcedureForm(FlaskForm):
    """Change which procedure profile a compound follows (audited in the compound)."""

    procedure_profile = procedure_field()
