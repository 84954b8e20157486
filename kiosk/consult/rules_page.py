"""The compound's procedure rules (议事规则) for residents and the committee alike: which profile the street office
chose, every rule with its figure and its source. Public: it names no one."""
from flask import g, render_template

from .procedure import profile_for
from .public import bp


def rule_rows(profile):
    """(what, figure, source) for every rule of a profile, in the order a vote goes through them."""
    from flask_babel import gettext as _

    def days(n, none):
        return _("%(n)s 日", n=n) if n is not None else none

    unlimited = _("不限")
    extension = (_("可以延长一次：须在截止前公告，写明原因；每次最多 %(n)s 日", n=profile.extension_max_days)
                 if profile.extension_allowed and profile.extension_max_days else
                 _("可以延长一次：须在截止前公告，写明原因") if profile.extension_allowed else _("不能延长"))
    if profile.window_min_days is None and profile.window_max_days is None:
        window = unlimited
    else:
        window = _("%(low)s 至 %(high)s", low=days(profile.window_min_days, unlimited),
                   high=days(profile.window_max_days, unlimited))
    return [
        (_("投票开始前通知全体业主"), days(profile.notice_days, unlimited), profile.cite("notice_days")),
        (_("临时会议的通知"), days(profile.extraordinary_notice_days, unlimited),
         profile.cite("extraordinary_notice_days")),
        (_("投票期限"), window, profile.cite("window")),
        (_("延长投票期限"), extension, profile.cite("extension")),
        (_("截止后发布决议公告"), _("%(n)s 日内", n=profile.decision_post_days), profile.cite("decision_post_days")),
        (_("业主共同决定的电子投票平台"), profile.official_platform or _("没有指定"), profile.cite("official_platform")),
        (_("委员会会议"), _("至少每 %(n)s 日一次", n=profile.committee_meeting_days),
         profile.cite("committee_meeting_days")),
    ]


@bp.route("/rules")
def rules():
    """The procedure rules this compound's votes follow, each with its source."""
    profile = profile_for(g.compound)
    return render_template("consult/rules.html", profile=profile, rows=rule_rows(profile))
