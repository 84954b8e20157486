"""The committee's ledger forms: an entry, a reversal, categories, the book's settings, closing a period,
a supervisor's decision, an answer to a question and a resolution's budget.

Amounts are typed in yuan and become integer fen through money.parse_yuan; its message is shown next to
the field. The view fills the choices that depend on the compound (categories, resolutions).
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..request import bounded_int
from .models import CADENCE_LABELS, KIND_LABELS, METHOD_LABELS, Cadence, Kind, Method
from ..money import MoneyError, parse_yuan

KIND_CHOICES = [SelectChoice(Kind.income.value, KIND_LABELS[Kind.income]),
                SelectChoice(Kind.expense.value, KIND_LABELS[Kind.expense])]


class YuanField(StringField):
    """Yuan as typed ("1,234.50", "¥80"); `fen` holds the integer fen after validation."""

    def __init__(self, label=None, validators=None, allow_zero=False, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(label, validators, **kwargs)
        self.allow_zero = allow_zero
        self.fen = None

    def pre_validate(self, form):
        self.fen = None
        try:
            self.fen = parse_yuan(self.data or "", allow_zero=self.allow_zero)
        except MoneyError as problem:
            raise ValidationError(str(problem)) from None


class EntryForm(FlaskForm):
    """One income or expense line (a draft until posted)."""

    occurred_on = DateField(_l("日期"), validators=[InputRequired(_l("请填写日期。"))],
                            description=_l("钱实际收到或付出的那一天。"))
    flow = RadioField(_l("收入还是支出"), choices=KIND_CHOICES, default=Kind.expense.value,
                      validators=[InputRequired(_l("请选择收入还是支出。"))])
    category_id = SelectField(_l("类别"), coerce=bounded_int, choices=[], validate_choice=False)
    amount = YuanField(_l("金额（元）"), description=_l("例如 1,234.50；收入和支出都填正数。"))
    description = StringField(_l("摘要"), validators=[
        DataRequired(_l("请写一句摘要，说明这笔钱是什么。")), Length(max=200, message=_l("摘要最多 200 个字。"))],
        description=_l("例如：3 月停车费（12 个车位）；6 号楼化粪池清掏。"))
    counterparty = StringField(_l("对方"), validators=[Length(max=80, message=_l("最多 80 个字。"))],
                               description=_l("付款或收款的单位、商户或个人。"))
    person = BooleanField(_l("对方是个人（公示时不显示姓名）"))
    method = SelectField(_l("收付方式"), choices=[SelectChoice(m.value, METHOD_LABELS[m]) for m in Method],
                         default=Method.bank.value)
    topic_id = SelectField(_l("关联决议"), coerce=bounded_int, choices=[], default=0, validate_choice=False,
                           description=_l("这笔支出是在落实哪一项议事决议（有批准预算的）。"))
    over_budget_ok = BooleanField(_l("我知道已超出预算"))
    building = SelectField(_l("楼栋"), choices=[], default="", validate_choice=False,
                           description=_l("这笔钱记在哪一栋楼的维修资金上；留空表示全小区共用部分。"))
    receipts = MultipleFileField(_l("收据照片"), render_kw={"accept": "image/*", "multiple": True},
                                 description=_l("可以一次选几张。拍清楚金额、日期和盖章。"))
    receipts_public = BooleanField(_l("这些收据公开（居民可以看到照片）"), default=True)


class ReverseForm(FlaskForm):
    reason = StringField(_l("冲销原因"), validators=[
        DataRequired(_l("请写明为什么冲销。")), Length(max=150, message=_l("最多 150 个字。"))],
        description=_l("冲销记录今天入账，金额与原记录相反，原记录保持不变。"))


class CategoryForm(FlaskForm):
    flow = RadioField(_l("收入还是支出"), choices=KIND_CHOICES, default=Kind.expense.value,
                      validators=[InputRequired(_l("请选择收入还是支出。"))])
    name = StringField(_l("类别名称"), validators=[
        DataRequired(_l("请填写类别名称。")), Length(max=30, message=_l("类别名称最多 30 个字。"))])


class RenameForm(FlaskForm):
    name = StringField(_l("新名称"), validators=[
        DataRequired(_l("请填写类别名称。")), Length(max=30, message=_l("类别名称最多 30 个字。"))])


class SettingsForm(FlaskForm):
    opening = YuanField(_l("期初余额（元）"), allow_zero=True,
                        description=_l("开始记账那天，账上（现金加银行）已有的钱。"))
    started_on = DateField(_l("开始记账日期"), validators=[Optional()])
    cadence = RadioField(_l("多久公示一次"), choices=[SelectChoice(c.value, CADENCE_LABELS[c]) for c in Cadence],
                         default=Cadence.monthly.value, validators=[InputRequired(_l("请选择公示周期。"))])
    signoffs_required = IntegerField(_l("需要几位监督委员签字"), validators=[
        InputRequired(_l("请填写需要几位监督委员签字。")), NumberRange(min=1, message=_l("至少 1 位。"))])
    disclosure_days = IntegerField(_l("公示期（天）"), validators=[
        InputRequired(_l("请填写公示多少天。")), NumberRange(min=1, max=90, message=_l("公示期在 1 到 90 天之间。"))])
    source = StringField(_l("资金来源"), validators=[
        DataRequired(_l("请填写资金来源。")), Length(max=80, message=_l("最多 80 个字。"))],
        description=_l("印在公示表上，例如：小区公共收益（停车、场地租金、广告）。"))
    book_name = StringField(_l("账本名称"), validators=[Optional(), Length(max=30, message=_l("最多 30 个字。"))],
                            description=_l("居民看到的账本名字；留空不改。"))


class CountedForm(FlaskForm):
    """The counted cash plus bank balance at the end of the period."""

    actual = YuanField(_l("实际结余（现金 + 银行，元）"), allow_zero=True,
                       description=_l("数一数现金，再看银行账户余额，两者相加。"))


class RefuseForm(FlaskForm):
    reason = TextAreaField(_l("退回原因"), validators=[
        DataRequired(_l("退回要写明原因。")), Length(max=300, message=_l("最多 300 个字。"))],
        render_kw={"rows": 3})


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("公开答复"), validators=[
        DataRequired(_l("请写答复。")), Length(max=2000, message=_l("最多 2000 个字。"))],
        render_kw={"rows": 3}, description=_l("答复会公开显示在这笔账下面。"))


class BudgetForm(FlaskForm):
    budget = YuanField(_l("批准预算（元）"), description=_l("按决议写明的金额上限填写。"))


class TransferForm(FlaskForm):
    """Money moved from one of the compound's books to another (both sides posted at once)."""

    from_book = SelectField(_l("从哪个账本转出"), choices=[], validate_choice=False)
    to_book = SelectField(_l("转入哪个账本"), choices=[], validate_choice=False)
    amount = YuanField(_l("金额（元）"), description=_l("例如：上季度公共收益净收入的一半以上转入维修资金。"))
    occurred_on = DateField(_l("日期"), validators=[InputRequired(_l("请填写日期。"))])
    purpose = StringField(_l("用途"), validators=[Length(max=120, message=_l("最多 120 个字。"))],
                          description=_l("例如：2026年第3季度公共收益按规定转入专项维修资金。"))
