"""What the committee's ledger pages say: a period's name, and a calm sentence for each refusal of the ledger's
rules (service raises LedgerRefused with a reason code; the pages never decide the rules themselves)."""
from datetime import timedelta

from flask_babel import get_locale
from flask_babel import gettext as _

from ...money import format_yuan
from ...timefmt import format_day, format_month
from ..models import KIND_LABELS, Kind

# A refusal is a conflict with the ledger's state (409) unless it is about who may act, or a missing reason.
REFUSAL_STATUS = {"not_supervisor": 403, "recorded": 403, "reason_needed": 400}


def period_label(start, end):
    """2026年3月, 2026年第1季度, 2026年上半年, or the two dates for any other stretch."""
    next_day = end + timedelta(days=1)
    if start.day == 1 and next_day.day == 1:
        months = (next_day.year - start.year) * 12 + next_day.month - start.month
        if months == 1:
            return format_month(start)
        if months == 3 and start.month % 3 == 1:
            quarter = (start.month - 1) // 3 + 1
            return f"{start.year}年第{quarter}季度" if str(get_locale()).startswith("zh") else f"Q{quarter} {start.year}"
        if months == 6 and start.month in (1, 7):
            half = 1 if start.month == 1 else 2
            if str(get_locale()).startswith("zh"):
                return f"{start.year}年{'上' if half == 1 else '下'}半年"
            return f"H{half} {start.year}"
    return f"{format_day(start)}—{format_day(end)}"


def period_words(period):
    """A period's name, as period_label gives it."""
    return period_label(period.starts_on, period.ends_on)


def _locked(period, day=None):
    if day is not None and day < period.starts_on:
        return _("%(period)s 的账已经公示，不能再记入它之前的日期（会改变已公示的期初余额）。请改日期，或在本期记一笔冲销或补记。",
                 period=period_words(period))
    if period.status == "published":
        return _("%(period)s 的账已经公示，不能再记入这一期。请改日期，或在本期记一笔冲销或补记。",
                 period=period_words(period))
    return _("%(period)s 的账已经提交给监督委员审核，不能再记入这一期。请改日期；如确需更正，请监督委员退回后再记。",
             period=period_words(period))


def _posted(detail):
    if "number" in detail:
        return _("第 %(n)s 号已经入账，不能修改，只能冲销。", n=detail["number"])
    return _("这笔账已经入账，不能修改或删除，只能冲销。")


SENTENCES = {
    "posted": _posted,
    "not_posted": lambda d: _("这笔账还是草稿，入账后才能冲销。"),
    "is_reversal": lambda d: _("这是一条冲销记录，不能再冲销。"),
    "reversed": lambda d: _("这笔账已经被第 %(n)s 号（%(day)s）冲销过，不能再冲销一次。",
                            n=d["by"].number, day=format_day(d["by"].occurred_on)),
    "locked": lambda d: _locked(d["period"], d.get("day")),
    "broken_chain": lambda d: _("账本核对不上：有记录在系统之外被改动或删除过（见“核对”）。为免把新的记录接在被改动过的记录后面，"
                                "现在不能入账、结账或签字。请尽快请社区或街道核查。"),
    "earlier_unpublished": lambda d: _("%(period)s 的账还没有公示。各期要按顺序签字：上一期公示后，它的期末余额才是这一期的期初余额。",
                                       period=period_words(d["period"])),
    "stale_opening": lambda d: _("上一期提交的期末余额 %(opening)s 和入账记录算出的 %(expected)s 不一致：更早的账目在提交后有变动。"
                                 "请监督委员退回上一期，重新核对提交后再结这一期。", opening=format_yuan(d["opening"]),
                                 expected=format_yuan(d["expected"])),
    "figures_changed": lambda d: _("您看到的是这一期早先的数字，之后账目已经重新提交或退回。什么都没有保存，请重新打开这一期，核对后再签字。"),
    "no_longer_match": lambda d: _("这一期的入账记录和提交时的数字对不上（有记录在系统之外被改动过），不能签字。请退回并写明原因，或请社区核查。"),
    "before_start": lambda d: _("本账从 %(day)s 开始，日期不能早于这一天。", day=format_day(d["started_on"])),
    "not_ended": lambda d: _("这一期到 %(day)s 才结束，结束后才能结账。", day=format_day(d["end"])),
    "drafts": lambda d: _("这一期还有 %(n)s 笔草稿没有入账。请先入账或删除，再结账。", n=d["count"]),
    "not_returned": lambda d: _("这一期没有被退回，不需要重新提交。"),
    "not_supervisor": lambda d: _("只有本小区的监督委员可以签字或退回。"),
    "not_submitted": lambda d: _("这一期现在不在等待签字。"),
    "recorded": lambda d: _("您在这一期记过账或入过账，不能审核自己经手的账，请其他监督委员签字。"),
    "already_signed": lambda d: _("这一次提交您已经表过态了，每位监督委员每次只能签一次。"),
    "reason_needed": lambda d: _("退回要写明原因。"),
    "mismatch": lambda d: _mismatch(d),
    "no_category": lambda d: _("请选择类别。"),
    "category_kind": lambda d: _("“%(name)s”是%(kind)s类别，和上面选的“%(chosen)s”不一致。", name=d["category"].name,
                                 kind=KIND_LABELS[Kind(d["category"].kind)], chosen=KIND_LABELS[Kind(d["kind"])]),
    "future": lambda d: _("日期不能晚于今天。"),
    "no_topic": lambda d: _("请从列表里选择决议。"),
    "over_budget": lambda d: _("确认无误请勾选“我知道已超出预算”，再保存。"),
    "category_taken": lambda d: _("已经有“%(name)s”这个类别了。", name=d["name"]),
    "category_used": lambda d: _("“%(name)s”已经用在入账的记录上，改名会改变已公示的账目。可以停用它，再新建一个类别。",
                                 name=d["name"]),
    "start_after_entries": lambda d: _("已有 %(day)s 的记录，开始日期不能晚于它。", day=format_day(d["earliest"])),
    "too_many": lambda d: _("本小区现在有 %(n)s 位监督委员，签字人数不能多于 %(n)s。", n=d["supervisors"]),
    "below_floor": lambda d: _("本小区有 %(n)s 位监督委员，签字人数不能少于 %(m)s 位：一个人签字说了不算。",
                               n=d["supervisors"], m=d["limit"]),
    "lowering": lambda d: _("减少签字人数要由街道（平台）工作人员来改，委员会不能自己降低；现在是 %(n)s 位。可以增加。",
                            n=d["current"]),
    "answered": lambda d: _("这个问题已经答复过了。"),
    "no_book": lambda d: _("请选择从哪个账本转出。"),
    "same_book": lambda d: _("请选择转入的账本（不能和转出的是同一个）。"),
    "transfer_amount": lambda d: _("请填写大于零的金额。"),
    "transfer_purpose": lambda d: _("请写明这笔转账的用途。"),
    "transfer_over_balance": lambda d: _("转出的账本现在只有 %(b)s，不够转。", b=format_yuan(d["available"])),
    "transfer_side": lambda d: _("这是转账 第%(n)s号的一边。转账只能在“转账”页整笔冲销（两个账本一起冲销）。", n=d["number"]),
    "fund_out": lambda d: _("专项维修资金属于业主共有，只能经业主共同决定用于维修，不能转到其他账本。"),
    "fund_topic": lambda d: _("动用专项维修资金须经业主共同决定，请选择已表决通过的议题。"),
    "fund_building": lambda d: _("这项决议只由 %(scope)s 的业主表决，只能用于这些楼栋的维修；请选择其中一栋。",
                                 scope="、".join(d["scope"])),
    "no_building": lambda d: _("请从名单里选择楼栋，或留空表示全小区共用部分。"),
}


def _mismatch(detail):
    difference = detail["difference"]
    direction = _("实际比账面多") if difference > 0 else _("实际比账面少")
    return _("差额 %(diff)s（%(direction)s）：账面结余应为 %(expected)s，您填的是 %(actual)s。请核对现金和银行余额，"
             "或检查有没有漏记、错记。什么都还没有保存。", diff=format_yuan(abs(difference)), direction=direction,
             expected=format_yuan(detail["expected"]), actual=format_yuan(detail["actual"]))


def refusal_sentence(refused):
    """The sentence for a LedgerRefused."""
    sentence = SENTENCES.get(refused.reason)
    return sentence(refused.detail) if sentence else _("这件事现在不能做。")


def field_errors(form, refused):
    """Put each of a FieldsRefused's problems next to its field of the form."""
    for name, problem in refused.problems.items():
        getattr(form, name).errors.append(refusal_sentence(problem))
