"""The committee's downloads of a topic: its result (CSV or XLSX: each option, participation, thresholds,
verdict and fingerprint) and, for a named vote, the ballot list."""
from flask import abort
from flask_babel import gettext as _

from ... import exports
from ...auth.accounts import display_names
from .. import service
from ..models import CHANNEL_LABELS, PHASE_LABELS, Channel
from ..present import plain_area, present
from .base import admin_bp, load, sealed_hint, short


def _summary(topic, fig):
    """The rows every result file has: the topic, its rule and phase, participation against the totals."""
    return [[], [_("项目"), _("数值")],
            [_("议题"), topic.title], [_("通过规则"), str(topic.rule_label)], [_("状态"), str(PHASE_LABELS[topic.phase()])],
            [_("表决范围"), topic.electorate_label or _("全体业主")],
            [_("总户数"), fig.total_households], [_("参与户数"), fig.part_households],
            [_("总业主人数"), fig.total_heads], [_("参与业主人数"), fig.part_heads],
            [_("总面积（平方米）"), plain_area(fig.total_area_centi)],
            [_("参与面积（平方米）"), plain_area(fig.part_area_centi)]]


def result_rows(topic):
    """The results table and a summary block of participation and thresholds, as rows (areas as plain numbers,
    for a spreadsheet). A secret topic's released snapshot has each option's households only, and says why."""
    fig = present(topic, service.result_of(topic))
    if fig.sealed:
        return ([[_("选项"), _("户数")]] + [[o.label, o.households] for o in fig.options] + _summary(topic, fig)
                + [[_("说明"), sealed_hint(topic, fig)]])
    yes, no = _("是"), _("否")
    rows = [[_("选项"), _("户数"), _("业主人数"), _("面积（平方米）"), _("通过 / 当选")]]
    rows += [[o.label, o.households, o.heads, plain_area(o.area_centi), yes if o.approved else no]
             for o in fig.options]
    rows += _summary(topic, fig)
    if fig.quorum_required:
        rows += [[_("参与门槛面积（≥2/3，平方米）"), plain_area(fig.quorum_area_centi)],
                 [_("参与门槛人数（≥2/3）"), fig.quorum_heads]]
    if fig.need:
        rows += [[_("同意门槛面积（平方米）"), plain_area(fig.need.area_centi)], [_("同意门槛人数"), fig.need.heads]]
    rows += [[_("结论"), fig.outcome], [_("原因"), " ".join(fig.reasons)], [_("平票"), fig.tie],
             [_("截止时间"), exports.local_time(topic.closed_at)], [_("结果指纹"), topic.fingerprint]]
    return rows


@admin_bp.route("/<int:topic_id>/results.<any(csv, xlsx):fmt>")
def export_results(topic_id, fmt):
    """The result as CSV or XLSX: each option's households, owners and area; participation and thresholds."""
    topic = load(topic_id)
    if topic.status == "draft":
        abort(404)
    rows = result_rows(topic)
    ascii_name = f"topic-{topic.id}-results.{fmt}"
    name = _("%(title)s-表决结果.%(fmt)s", title=short(topic.title, 60), fmt=fmt)
    if fmt == "csv":
        return exports.csv_response(rows, ascii_name, name)
    return exports.xlsx_response(_("表决结果"), rows, ascii_name, name)


@admin_bp.route("/<int:topic_id>/ballots.csv")
def export_ballots(topic_id):
    """The ballot list of a named (not secret) topic: address, choices, channel, time, who entered it."""
    topic = load(topic_id)
    if topic.secret or topic.status == "draft":
        abort(404)
    rows = [(row.household, row.ballot) for row in service.roll_call(topic) if row.ballot is not None]
    who = display_names(b.entered_by for _h, b in rows)
    table = [[_("地址"), _("选择"), _("投票方式"), _("投票时间"), _("录入人")]]
    table += [[h.address, "、".join(topic.label_of(k) for k in b.choices), str(CHANNEL_LABELS[Channel(b.channel)]),
               exports.local_time(b.cast_at), who.get(b.entered_by, "")] for h, b in rows]
    return exports.csv_response(table, f"topic-{topic.id}-ballots.csv",
                                _("%(title)s-记名投票名单.csv", title=short(topic.title, 60)))
