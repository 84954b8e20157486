"""The closed topic's result in a form fit for entering on the city's official e-voting platform: one row per
household of the electorate (address, area, whether it voted, and for a named vote its choice and channel),
then each option's totals."""
from flask import abort, g
from flask_babel import gettext as _

from ... import exports
from .. import service
from ..models import CHANNEL_LABELS, Channel, Phase
from ..present import plain_area, present
from ..procedure import profile_for
from .base import admin_bp, load, short


def platform_rows(topic):
    """The rows of the platform file: a heading block, the households in address order, the totals."""
    profile = profile_for(g.compound)
    fig = present(topic, service.result_of(topic))
    yes, no = _("是"), _("否")
    secret_note = _("无记名投票：只列是否投票，不列选择和方式")
    rows = [[_("议题"), topic.title], [_("通过规则"), str(topic.rule_label)],
            [_("投票时间"), exports.local_time(topic.opens_at), exports.local_time(topic.closes_at)],
            [_("录入平台"), str(profile.official_platform or profile.name)],
            [_("结果指纹"), topic.fingerprint], []]
    rows.append([_("地址"), _("面积（平方米）"), _("已投票"), _("选择"), _("投票方式")])
    for row in service.roll_call(topic):
        household, ballot = row.household, row.ballot
        if ballot is not None:
            choice, channel = topic.labels_of(ballot.choices), str(CHANNEL_LABELS[Channel(ballot.channel)])
        else:
            choice, channel = (secret_note if topic.secret and row.voted else ""), ""
        rows.append([household.address, plain_area(household.area_centi), yes if row.voted else no, choice, channel])
    rows += [[], [_("选项"), _("户数"), _("业主人数"), _("面积（平方米）")]]
    rows += [[o.label, o.households, o.heads, plain_area(o.area_centi)] for o in fig.options]
    rows += [[_("参与户数"), fig.part_households, fig.part_heads, plain_area(fig.part_area_centi)],
             [_("总户数"), fig.total_households, fig.total_heads, plain_area(fig.total_area_centi)]]
    return rows


@admin_bp.route("/<int:topic_id>/platform.csv")
def export_platform(topic_id):
    """A closed topic's households and totals, laid out for entering on the city's e-voting platform."""
    topic = load(topic_id)
    if topic.phase() not in (Phase.closed, Phase.done):
        abort(404)
    return exports.csv_response(platform_rows(topic), f"topic-{topic.id}-platform.csv",
                                _("%(title)s-录入平台.csv", title=short(topic.title, 60)))
