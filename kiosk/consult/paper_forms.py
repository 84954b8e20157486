"""The committee's forms for written proxies and numbered paper ballots."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import IntegerField, RadioField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from .forms import PaperBallotForm
from .paper_models import EntryStage
from .service.proxies import LIMIT_RANGE


class ProxyForm(PaperBallotForm):
    """An owner's written proxy: the household (as on a paper ballot), the person, and the signed 委托书."""

    name = StringField(_l("受托人姓名"), validators=[DataRequired(_l("请填写受托人姓名。")),
                                                   Length(max=40, message=_l("姓名最多 40 个字。"))])
    id_last4 = StringField(_l("受托人身份证后四位（可不填）"), validators=[
        Optional(), Regexp(r"^[0-9]{3}[0-9Xx]$", message=_l("请填身份证号码的最后四位，例如 123X。"))],
        render_kw={"autocomplete": "off", "maxlength": 4})
    phone = StringField(_l("受托人电话（可不填）"), validators=[
        Optional(), Regexp(r"^[0-9+\- ]{5,20}$", message=_l("电话号码只能有数字，最多 20 位。"))],
        render_kw={"inputmode": "tel", "autocomplete": "off"})
    scan = FileField(_l("委托书照片或扫描件"), description=_l("业主签字的委托书，只有委员会能看到。"))


class ProxyLimitForm(FlaskForm):
    """How many owners one proxy may represent on one topic."""

    max_owners = IntegerField(_l("每位受托人最多代表几户"), validators=[
        InputRequired(_l("请填写一个数字。")),
        NumberRange(min=LIMIT_RANGE[0], max=LIMIT_RANGE[1], message=_l("请填 1 到 50 之间的数。"))])


STAGE_LABELS = {EntryStage.first: _l("第一遍：登记交回的票"), EntryStage.confirm: _l("第二遍：复核（另一位委员盲录）")}


class PaperEntryForm(FlaskForm):
    """One returned numbered ballot: its number (typed, or a scanned QR's URL), the pass, the choices."""

    ballot = StringField(_l("票号或扫码"), validators=[DataRequired(_l("请扫票上的二维码，或输入票号。"))],
                         render_kw={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false",
                                    "enterkeyhint": "next"},
                         description=_l("USB 扫码枪：点一下这个框再扫；也可以直接输入票号数字。"))
    stage = RadioField(_l("这一遍是"), choices=[SelectChoice(k.value, label) for k, label in STAGE_LABELS.items()],
                       default=EntryStage.first.value, validators=[InputRequired(_l("请选择是登记还是复核。"))])
    choices = SelectMultipleField(_l("票上的选择"), choices=[], validate_choice=False)
    photo = FileField(_l("票的照片（可不传）"))


class ResolveForm(FlaskForm):
    """The chair's reading of a mismatched paper."""

    choices = SelectMultipleField(_l("票上的选择"), choices=[], validate_choice=False)
