"""The sentences for refused document actions (for the committee member, next to the field)."""
from flask_babel import gettext as _

from ..timefmt import format_day


def sentence(refused):
    """The sentence for a DocumentRefused."""
    detail = refused.detail
    sentences = {
        "no_auditor": lambda: _("审计报告要写明审计机构。"),
        "no_cover": lambda: _("审计报告要写明审计期间（起止日期），或审计的委员会任期。"),
        "cover_backwards": lambda: _("审计期间的结束日期不能早于开始日期。"),
        "needs_decision": lambda: _("管理规约和议事规则由业主共同决定（民法典第二百七十八条），请选择通过它的表决议题。"),
        "topic_unknown": lambda: _("请选择本小区已经表决通过的议题。"),
        "period_backwards": lambda: _("公示截止日期不能早于开始日期。"),
        "period_short": lambda: _("%(source)s：公示不少于%(days)s日，截止日期最早为 %(day)s。",
                                  source=detail["source"], days=detail["days"], day=format_day(detail["earliest"])),
        "file": lambda: detail["sentence"],
        "too_many_pages": lambda: _("一个版本最多 %(limit)s 页，请分成几份再传。", **detail),
        "no_file": lambda: _("请选择要上传的PDF文件或各页照片。"),
        "already_posted": lambda: _("这个版本已经发布了。"),
        "period_over": lambda: _("这个版本的公示期已经过了，不能再发布：请上传新版本并重新定公示期。"),
        "not_contract": lambda: _("只有服务合同可以关联账目。"),
        "entry_unknown": lambda: _("请选择本小区已入账的账目。"),
        "entry_linked": lambda: _("这笔账目已经关联过了。"),
        "approver": lambda: _("请选择由谁批准用印。"),
        "future_seal": lambda: _("用印日期不能晚于今天。"),
        "no_reason": lambda: _("请写明作废原因。"),
        "already_voided": lambda: _("这一行已经更正过了（已作废）。"),
    }
    return sentences.get(refused.reason, lambda: _("这件事现在不能做。"))()
