"""One presenter of a topic's result for every place that shows it: the phone page, the lobby screen, the
committee's page, the printed resolution and its notice, and the exports.

It takes the result as a dict (frozen with the topic at close, the running tally, or a secret topic's released
snapshot, see snapshots.py) and gives the figures people read, from exact integers only: percentages floored to
one decimal, areas exact from hundredths, thresholds as the least counts that reach them. The verdict and the
reasons come from the tally's own codes and tally.RULES' words, never from the rounded figures.
"""
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from .models import Kind
from .tally import QUORUM, RULES, reason_text


def area_text(centi):
    """Square metres from hundredths, exact, for people: 123456 -> "1,234.56"."""
    return f"{centi // 100:,}.{centi % 100:02d}"


def plain_area(centi):
    """Square metres from hundredths, exact, for a spreadsheet cell: 123456 -> "1234.56"."""
    return f"{centi // 100}.{centi % 100:02d}"


def least_count(whole, share, strict):
    """The least count that is at least (strict: more than) `share` of `whole`: a threshold as people read it."""
    if strict:
        return whole * share.numerator // share.denominator + 1
    return -(-whole * share.numerator // share.denominator)


def line_permille(share):
    """Where a threshold's line sits on a chart, in permille, to the nearest (2/3 -> 667)."""
    return (share.numerator * 2000 + share.denominator) // (2 * share.denominator)


def permille(part, whole):
    """part/whole in tenths of a percent, floored (integers only)."""
    return part * 1000 // whole if whole else 0


def percent_text(part, whole):
    """part of whole as a percentage floored to one decimal ("—" of nothing)."""
    if not whole:
        return "—"
    value = permille(part, whole)
    return f"{value // 10}.{value % 10}%"


@dataclass
class OptionFigures:
    """What one option received, as people read it (heads and area are None while a secret vote is sealed)."""

    key: str
    label: str
    households: int
    heads: int | None
    area_centi: int | None
    households_share: str
    heads_share: str = ""
    area_share: str = ""
    approved: bool = False
    winner: bool = False
    tied: bool = False
    area_met: bool = False  # against the approval threshold, where the rule has one
    heads_met: bool = False
    width: int = 0  # 0-1000: the bar's length on its chart (owners for statutory rules, else households)

    @property
    def area(self):
        return area_text(self.area_centi) if self.area_centi is not None else ""


@dataclass
class Need:
    """The approval threshold as the least counts that reach it."""

    area_centi: int
    heads: int
    share: str  # in words: "一半以上（不含一半）"

    @property
    def area(self):
        return area_text(self.area_centi)


@dataclass
class Presented:
    """Every figure and sentence of a result."""

    result: dict  # as given (templates read raw counts from it)
    statutory: bool  # the Civil Code's thresholds apply: owners and area count, not households
    sealed: bool  # an open secret topic's released snapshot: each option's households only
    as_of: datetime | None  # the moment a sealed snapshot counts up to
    total_households: int
    part_households: int
    households_share: str
    total_area_centi: int
    part_area_centi: int
    area_share: str
    total_heads: int
    part_heads: int
    heads_share: str
    turnout_permille: int
    quorum_required: bool
    quorum_area_centi: int
    quorum_heads: int
    quorum_area_met: bool
    quorum_heads_met: bool
    options: list = field(default_factory=list)
    need: Need | None = None
    approval_line: int | None = None  # permille of the participants where the approval line sits
    passed: bool = False
    outcome: str = ""  # what was decided, or where it stands (empty while sealed)
    reasons: list = field(default_factory=list)  # why it did not pass, in sentences
    tie: str = ""  # the seat that is tied, with the tied names
    conflicts: int = 0  # owners whose units voted differently

    @property
    def total_area(self):
        return area_text(self.total_area_centi)

    @property
    def part_area(self):
        return area_text(self.part_area_centi)

    @property
    def quorum_area(self):
        return area_text(self.quorum_area_centi)


def outcome(topic, result, winners=None):
    """One sentence: what was decided (or where it stands)."""
    winners = winners if winners is not None else [topic.label_of(k) for k in result["winners"]]
    if topic.kind == Kind.yesno:
        return _("表决通过。") if result["passed"] else _("未通过。")
    if topic.kind == Kind.election:
        if winners:
            return _("当选：%(names)s。", names="、".join(winners))
        return _("没有人当选。")
    if winners:
        return _("结果：%(names)s。", names="、".join(winners))
    return _("没有选项胜出。")


def _participation(result, statutory):
    """The figures every result has, sealed or not: participation against the totals and the quorum."""
    total_area, part_area = result["total_area_centi"], result["part_area_centi"]
    total_heads, part_heads = result["total_heads"], result["part_heads"]
    return dict(
        result=result, statutory=statutory, total_households=result["total_households"],
        part_households=result["part_households"],
        households_share=percent_text(result["part_households"], result["total_households"]),
        total_area_centi=total_area, part_area_centi=part_area, area_share=percent_text(part_area, total_area),
        total_heads=total_heads, part_heads=part_heads, heads_share=percent_text(part_heads, total_heads),
        turnout_permille=permille(result["part_households"], result["total_households"]),
        quorum_required=result["quorum_required"], quorum_area_centi=least_count(total_area, QUORUM, False),
        quorum_heads=least_count(total_heads, QUORUM, False), quorum_area_met=result["quorum_area_met"],
        quorum_heads_met=result["quorum_heads_met"])


def present(topic, result):
    """The figures and sentences of a topic's result dict (or of a secret topic's sealed snapshot)."""
    spec = RULES[topic.rule]
    if result.get("sealed"):
        return _sealed(topic, result, spec.statutory)
    part_area, part_heads, part_households = result["part_area_centi"], result["part_heads"], result["part_households"]
    need = None
    if spec.approval is not None:
        need = Need(least_count(part_area, spec.approval, spec.strict),
                    least_count(part_heads, spec.approval, spec.strict), _(spec.need))
    options = []
    for count in result["options"]:
        option = OptionFigures(
            key=count["key"], label=topic.label_of(count["key"]), households=count["households"],
            heads=count["heads"], area_centi=count["area_centi"],
            households_share=percent_text(count["households"], part_households),
            heads_share=percent_text(count["heads"], part_heads),
            area_share=percent_text(count["area_centi"], part_area), approved=count["approved"],
            winner=count["key"] in result["winners"], tied=count["key"] in result["tied"],
            width=permille(count["heads"], part_heads) if spec.statutory
            else permille(count["households"], part_households))
        if need is not None:
            option.area_met = part_area > 0 and count["area_centi"] >= need.area_centi
            option.heads_met = part_heads > 0 and count["heads"] >= need.heads
        options.append(option)
    winners = [topic.label_of(k) for k in result["winners"]]
    tie = ""
    if result["tied"]:
        tie = _("第 %(n)s 席出现平票：%(names)s，需另行决定。", n=len(winners) + 1,
                names="、".join(topic.label_of(k) for k in result["tied"]))
    return Presented(
        **_participation(result, spec.statutory), sealed=False, as_of=None, options=options, need=need,
        approval_line=line_permille(spec.approval) if spec.approval is not None else None,
        passed=result["passed"], outcome=outcome(topic, result, winners),
        reasons=[_(text) for text in (reason_text(code, topic.rule) for code in result["reasons"]) if text],
        tie=tie, conflicts=result["conflicts"])


def _sealed(topic, figures, statutory):
    """A secret topic's released snapshot: participation, and each option's households; nothing that needs a
    unit's area or owner (see snapshots.py), so no approval line, tick or verdict yet."""
    part = figures["part_households"]
    options = [OptionFigures(key=o["key"], label=topic.label_of(o["key"]), households=o["households"], heads=None,
                             area_centi=None, households_share=percent_text(o["households"], part),
                             width=permille(o["households"], part)) for o in figures["options"]]
    as_of = datetime.fromisoformat(figures["as_of"]) if figures.get("as_of") else None
    return Presented(**_participation(figures, statutory), sealed=True, as_of=as_of, options=options)
