"""The committee's document forms: a new document, a new version (files, posting period, adopting decision), a
contract's ledger entry, a seal-log line and its voiding."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from .models import Kind

KIND_LABELS = {Kind.statute.value: _l("管理规约"), Kind.rules.value: _l("议事规则"), Kind.contract.value: _l("服务合同"),
               Kind.minutes.value: _l("会议纪要"), Kind.audit.value: _l("审计报告"), Kind.other.value: _l("其他")}
APPROVER_LABELS = {"meeting": _l("委员会会议决定"), "owners": _l("业主表决决定"), "chair": _l("主任审批")}


class DocumentForm(FlaskForm):
    """A new document of the library; an audit report also names its auditor and what it covers."""

    # Not "kind": a consultation topic's form already uses that name for something else.
    doc_kind = SelectField(_l("类别"), choices=[SelectChoice(k, label) for k, label in KIND_LABELS.items()])
    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")),
                                               Length(max=120, message=_l("标题最多 120 个字。"))])
    auditor = StringField(_l("审计机构（审计报告填写）"), validators=[Length(max=120)])
    covers_from = DateField(_l("审计期间：从"), validators=[Optional()])
    covers_until = DateField(_l("审计期间：到"), validators=[Optional()])
    covers_term = StringField(_l("或审计的委员会任期"), validators=[Length(max=120)],
                              description=_l("例如：第二届委员会（2022年6月—2025年5月）"))


class VersionForm(FlaskForm):
    """A new version: a PDF or photos of the pages, its posting period and the decision that adopted it."""

    files = MultipleFileField(_l("文件（PDF 或各页照片）"))
    posted_from = DateField(_l("公示开始"), validators=[InputRequired(_l("请填写公示开始日期。"))])
    posted_until = DateField(_l("公示截止"), validators=[InputRequired(_l("请填写公示截止日期。"))])
    topic_id = SelectField(_l("通过它的决定"), coerce=int, validate_choice=False)
    note = StringField(_l("说明（可不填）"), validators=[Length(max=200)])


class EntryForm(FlaskForm):
    """A ledger entry paid under a contract."""

    ledger_entry = SelectField(_l("按本合同支付的账目"), coerce=int, validate_choice=False)


class SealForm(FlaskForm):
    """One use of the compound's seal."""

    used_on = DateField(_l("用印日期"), validators=[InputRequired(_l("请填写日期。"))])
    sealed = StringField(_l("盖章的文件"), validators=[DataRequired(_l("请填写盖章的文件。")), Length(max=120)])
    purpose = StringField(_l("用途"), validators=[DataRequired(_l("请填写用途。")), Length(max=200)])
    approved_by = SelectField(_l("批准"), choices=[SelectChoice(k, label) for k, label in APPROVER_LABELS.items()])
    topic_id = SelectField(_l("依据的决定（可不选）"), coerce=int, validate_choice=False)


class CorrectionForm(SealForm):
    """A correction of a seal-log line: the right details, and why the earlier line is void."""

    reason = StringField(_l("作废原因"), validators=[DataRequired(_l("请写明作废原因。")), Length(max=200)])


