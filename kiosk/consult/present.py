"""Turn a frozen or live tally (a plain dict) into the figures and sentences people read.

Shares are shown from exact integers: percentages are floored to one decimal with integer arithmetic, and the
pass/fail sentences come from the tally's own verdict, never from the rounded figures.
"""
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _, lazy_gettext as _l

from .models import Kind, Rule

REASONS = {
    "no_votes": _l("还没有人投票。"),
    "quorum_area": _l("参与表决的专有部分面积不足总面积的三分之二。"),
    "quorum_heads": _l("参与表决的业主人数不足总人数的三分之二。"),
    "approval_area": _l("同意的面积未达到参与表决面积的规定比例。"),
    "approval_heads": _l("同意的人数未达到参与表决人数的规定比例。"),
    "not_unanimous": _l("协商一致要求每一户都同意，但有户不同意或弃权。"),
    "not_plurality": _l("没有选项得票最多。"),
    "tie": _l("最后一个名额出现平票，需另行决定。"),
}


def area_text(centi):
    """Square metres from hundredths, exact: 12345 -> "123.45"."""
    return f"{centi // 100:,}.{centi % 100:02d}"


def permille(part, whole):
    """part/whole in tenths of a percent, floored (integers only)."""
    return part * 1000 // whole if whole else 0


def percent_text(part, whole):
    value = permille(part, whole)
    return f"{value // 10}.{value % 10}%"


@dataclass
class Bar:
    label: str
    key: str
    households: int
    heads: int | None  # None while a secret topic is sealed
    area_centi: int | None
    approved: bool
    width: int  # 0-1000, the bar's length on the scale its chart uses

    @property
    def area(self):
        return area_text(self.area_centi) if self.area_centi is not None else ""


@dataclass
class Shown:
    """Everything a results block needs, in display form."""

    result: dict
    statutory: bool
    bars: list
    by_heads: bool  # statutory bars measure owners; polls measure households
    part_area_pct: str
    part_heads_pct: str
    part_households: int
    total_households: int
    turnout_permille: int
    approval_line: int | None  # permille of participants that the threshold sits at
    outcome: str
    reasons: list
    tied_labels: list
    winners_labels: list
    sealed: bool = False  # an open secret topic's released snapshot: per-option households only
    as_of: datetime | None = None  # the moment a sealed snapshot counts up to

    @property
    def r(self):
        return self.result


def show(topic, result):
    """Build the display figures for a topic's result dict (or a secret topic's sealed snapshot)."""
    if result.get("sealed"):
        return show_sealed(topic, result)
    statutory = topic.rule in (Rule.ordinary, Rule.special)
    part_basis = result["part_heads"] if statutory else result["part_households"]
    bars = []
    for option in result["options"]:
        value = option["heads"] if statutory else option["households"]
        bars.append(Bar(topic.label_of(option["key"]), option["key"], option["households"], option["heads"],
                        option["area_centi"], option["approved"], permille(value, part_basis)))
    approval_line = {Rule.ordinary: 500, Rule.special: 750}.get(Rule(topic.rule))
    winners = [topic.label_of(k) for k in result["winners"]]
    tied = [topic.label_of(k) for k in result["tied"]]
    return Shown(
        result=result, statutory=statutory, bars=bars, by_heads=statutory,
        part_area_pct=percent_text(result["part_area_centi"], result["total_area_centi"]),
        part_heads_pct=percent_text(result["part_heads"], result["total_heads"]),
        part_households=result["part_households"], total_households=result["total_households"],
        turnout_permille=permille(result["part_households"], result["total_households"]),
        approval_line=approval_line, outcome=outcome(topic, result, winners),
        reasons=[str(REASONS[r]) for r in result["reasons"] if r in REASONS],
        tied_labels=tied, winners_labels=winners)


def show_sealed(topic, figures):
    """A secret topic's released snapshot: participation, and each option's households; nothing that needs a
    unit's area or owner (see snapshots.py), so no approval line, tick or verdict yet."""
    statutory = topic.rule in (Rule.ordinary, Rule.special)
    bars = [Bar(topic.label_of(o["key"]), o["key"], o["households"], None, None, False,
                permille(o["households"], figures["part_households"])) for o in figures["options"]]
    return Shown(
        result=figures, statutory=statutory, bars=bars, by_heads=False,
        part_area_pct=percent_text(figures["part_area_centi"], figures["total_area_centi"]),
        part_heads_pct=percent_text(figures["part_heads"], figures["total_heads"]),
        part_households=figures["part_households"], total_households=figures["total_households"],
        turnout_permille=permille(figures["part_households"], figures["total_households"]),
        approval_line=None, outcome="", reasons=[], tied_labels=[], winners_labels=[], sealed=True,
        as_of=datetime.fromisoformat(figures["as_of"]) if figures.get("as_of") else None)


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
