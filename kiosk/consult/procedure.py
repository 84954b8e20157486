"""Procedure profiles: the rules around an owners' vote that the national regulation and city rules set
(notice before voting opens, the voting window, extensions, how soon a decision is posted, whether binding
votes must go through the city's e-voting platform, how often the committee meets).

A compound follows one profile (`Compound.procedure_profile`, the national default unless the street office
chose a city preset). The figures are data, each with the articles it comes from, so a street-office official
can check them against the texts; services enforce them (consult/service/procedure.py, never the form alone).
Figures we could not check against a text say so in their citation ("按我们的理解，请核对原文").
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Profile:
    """One set of procedure rules. Days are calendar days; `None` means the source sets no limit."""

    key: str
    name: str  # lazy msgid, e.g. 北京市
    notice_days: int = 15  # owners told this long before a statutory vote opens
    extraordinary_notice_days: int = 7  # ... before an extraordinary (临时) meeting's vote opens
    window_min_days: int | None = None  # shortest voting window
    window_max_days: int | None = None  # longest voting window (an extension may not take it past this)
    extension_allowed: bool = True  # a window may be extended: announced before it ends, once, with a reason
    extension_max_days: int | None = None  # longest extension
    decision_post_days: int = 3  # a decision is posted within this many days of the vote closing
    official_platform: str = ""  # the city's e-voting platform binding votes must use ("" = none)
    committee_meeting_days: int = 60  # the committee meets at least this often
    standing_post_days: int = 15  # rules, contracts, the use of the seal: posted at least this long
    audit_post_days: int = 30  # a year-end or term-end audit report: posted at least this long
    citations: tuple = field(default_factory=tuple)  # (rule, source) pairs, as msgids
    enforced: bool = True  # whether the topic form refuses notice and window outside these figures

    def cite(self, rule):
        """The source of one rule (a lazy string), or "" when the profile cites none."""
        for name, source in self.citations:
            if name == rule:
                return source
        return ""


NATIONAL = Profile(
    key="national", name=_l("全国通用（物业管理条例）"), extraordinary_notice_days=15, enforced=False,
    citations=(
        ("notice_days", _l("物业管理条例 第十四条")),
        ("extraordinary_notice_days", _l("物业管理条例 第十四条（全国性法规没有规定更短的临时会议通知期）")),
        ("window", _l("全国性法规没有规定投票期限")),
        ("extension", _l("全国性法规没有规定；延长须在截止前公告、只延长一次、写明原因（本系统的做法）")),
        ("decision_post_days", _l("全国性法规没有规定天数；本系统默认 3 日")),
        ("official_platform", _l("全国性法规没有指定电子投票平台")),
        ("committee_meeting_days", _l("全国性法规没有规定；本系统默认至少每两个月一次")),
        ("standing_post_days", _l("最高人民法院建筑物区分所有权解释第十三条（业主有权查阅管理规约、会议决定、合同等）；"
                                  "全国性法规没有规定公示天数，本系统默认 15 日（按我们的理解，请核对原文）")),
        ("audit_post_days", _l("全国性法规没有规定审计报告的公示天数，本系统默认 30 日（按我们的理解，请核对原文）")),
    ),
)

BEIJING = Profile(
    key="beijing", name=_l("北京市"), window_min_days=5, window_max_days=60,
    official_platform=_l("“北京业主”APP（北京市住房和城乡建设委员会）"),
    citations=(
        ("notice_days", _l("北京市物业管理条例第三十五条")),
        ("extraordinary_notice_days", _l("北京市物业管理条例第三十五条")),
        ("window", _l("北京市物业管理条例第三十五条")),
        ("extension", _l("北京市物业管理条例第三十五条（延长的条件和上限按我们的理解，请核对原文）")),
        ("decision_post_days", _l("北京市物业管理条例第三十七条")),
        ("official_platform", _l("北京市物业管理条例第三十五条；北京市住房和城乡建设委员会“北京业主”APP")),
        ("committee_meeting_days", _l("北京市物业管理条例第四十五条")),
    ),
)

SHANGHAI = Profile(
    key="shanghai", name=_l("上海市"), window_min_days=5, window_max_days=60,
    official_platform=_l("上海市业主大会电子投票系统（“上海智慧物业”）"),
    citations=(
        ("notice_days", _l("上海市住宅物业管理规定第十八条")),
        ("extraordinary_notice_days", _l("上海市住宅物业管理规定第十八条（按我们的理解，请核对原文）")),
        ("window", _l("上海市住宅物业管理规定第十八条（按我们的理解，请核对原文）")),
        ("extension", _l("上海市住宅物业管理规定第十八条（按我们的理解，请核对原文）")),
        ("decision_post_days", _l("上海市住宅物业管理规定第十八条（按我们的理解，请核对原文）")),
        ("official_platform", _l("上海市住宅物业管理规定第十八条（平台名称按我们的理解，请核对原文）")),
        ("committee_meeting_days", _l("上海市住宅物业管理规定第二十六条")),
        ("standing_post_days", _l("上海市住宅物业管理规定（按我们的理解，请核对原文）")),
        ("audit_post_days", _l("上海市住宅物业管理规定第六十六条至第六十七条：年度和任期届满审计，公示30日"
                               "（按我们的理解，请核对原文）")),
    ),
)

HANGZHOU = Profile(
    key="hangzhou", name=_l("杭州市"), window_min_days=5, window_max_days=60,
    citations=(
        ("notice_days", _l("杭州市物业管理条例第十九条")),
        ("extraordinary_notice_days", _l("杭州市物业管理条例第十九条（按我们的理解，请核对原文）")),
        ("window", _l("杭州市物业管理条例第二十条")),
        ("extension", _l("杭州市物业管理条例第二十条（按我们的理解，请核对原文）")),
        ("decision_post_days", _l("杭州市物业管理条例第三十条（按我们的理解，请核对原文）")),
        ("official_platform", _l("杭州市物业管理条例没有指定唯一的电子投票平台（按我们的理解，请核对原文）")),
        ("committee_meeting_days", _l("杭州市物业管理条例（按我们的理解，请核对原文）")),
        ("standing_post_days", _l("杭州市物业管理条例第三十条：管理规约、议事规则、合同、印章使用等公示不少于15日"
                                  "（按我们的理解，请核对原文）")),
        ("audit_post_days", _l("杭州市物业管理条例（按我们的理解，请核对原文）")),
    ),
)

SHENZHEN = Profile(
    key="shenzhen", name=_l("深圳市"), window_min_days=5, window_max_days=60, extension_max_days=90,
    official_platform=_l("深圳市物业管理投票系统（市物业管理信息平台）"),
    citations=(
        ("notice_days", _l("深圳经济特区物业管理条例（条文序号请核对原文）")),
        ("extraordinary_notice_days", _l("深圳经济特区物业管理条例（按我们的理解，请核对原文）")),
        ("window", _l("深圳经济特区物业管理条例（按我们的理解，请核对原文）")),
        ("extension", _l("深圳市业主大会和业主委员会指导规则：延长投票最长不超过3个月（按我们的理解，请核对原文）")),
        ("decision_post_days", _l("深圳经济特区物业管理条例（按我们的理解，请核对原文）")),
        ("official_platform", _l("深圳市物业管理电子投票规则（深建规〔2020〕14号）")),
        ("committee_meeting_days", _l("深圳经济特区物业管理条例（按我们的理解，请核对原文）")),
    ),
)

PROFILES = {p.key: p for p in (NATIONAL, BEIJING, SHANGHAI, HANGZHOU, SHENZHEN)}
PRESETS = tuple(p for p in PROFILES.values() if p.key != "national")


def profile_for(compound):
    """The profile a compound follows (the national default for an unknown key)."""
    return PROFILES.get(getattr(compound, "procedure_profile", None) or "national", NATIONAL)


def choices():
    """(key, label) pairs for a select field."""
    return [(p.key, p.name) for p in PROFILES.values()]


def _rule_sentence(reason, detail):
    """The rule itself, in one sentence, for a refusal of the procedure (without its source)."""
    from flask_babel import gettext as _

    from ..timefmt import format_datetime

    days = detail.get("days")
    if reason == "notice_short":
        if detail.get("extraordinary"):
            text = _("临时会议须提前%(n)s日通知全体业主，投票最早 %(when)s 开始。", n=days,
                     when=format_datetime(detail["earliest"]))
        else:
            text = _("须提前%(n)s日通知全体业主，投票最早 %(when)s 开始。", n=days,
                     when=format_datetime(detail["earliest"]))
        return text
    return {
        "window_short": lambda: _("投票期限不少于%(n)s日。", n=days),
        "window_long": lambda: _("投票期限不超过%(n)s日（延长后也不超过）。", n=days),
        "ext_not_allowed": lambda: _("投票期限不能延长。"),
        "ext_twice": lambda: _("投票期限只能延长一次，这个议题已经延长过了。"),
        "ext_too_long": lambda: _("每次最多延长%(n)s日。", n=days),
    }[reason]()


CITED = {"notice_short": "notice_days", "window_short": "window", "window_long": "window",
         "ext_not_allowed": "extension", "ext_twice": "extension", "ext_too_long": "extension"}


def explain(refused):
    """The sentence for a refusal of the procedure: the source, then the rule ("北京市物业管理条例第三十五条：投票期限
    不少于5日。"); a refusal that needs no source (a closed topic, a later deadline) is a plain sentence."""
    from flask_babel import gettext as _

    reason, detail = refused.reason, refused.detail
    if reason in CITED:
        profile = PROFILES.get(detail.get("profile"), NATIONAL)
        cited = "extraordinary_notice_days" if detail.get("extraordinary") else CITED[reason]
        source = profile.cite(cited)
        sentence = _rule_sentence(reason, detail)
        return _("%(source)s：%(rule)s", source=source, rule=sentence) if source else sentence
    return {
        "ext_not_statutory": lambda: _("只有法定表决事项的投票期限按规定延长；意见征集和协商一致的议题不用延长。"),
        "ext_draft": lambda: _("草稿还没有发布，直接修改截止时间就行。"),
        "ext_closed": lambda: _("投票已经截止，不能再延长：延长须在截止前公告。"),
        "ext_not_later": lambda: _("新的截止时间要晚于现在的截止时间。"),
    }.get(reason, lambda: "")()


def is_procedure(refused):
    """Whether a refusal is one of the procedure's (then explain() has its sentence)."""
    return refused.reason in CITED or refused.reason.startswith("ext_")
