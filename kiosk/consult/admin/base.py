"""What every committee consultation page shares: the blueprints, loading a topic (after the clock's work), a few
helpers, and the one error handler that turns a refusal of the consultations' rules into a sentence on the
topic's page."""
from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from ...auth.access import require_committee
from ...compounds.context import bind_compound, get_or_404_in_compound
from ...extensions import db
from ...timefmt import format_datetime
from .. import service, snapshots
from ..models import Topic, scope_place
from ..procedure import explain, is_procedure

admin_bp = bind_compound(Blueprint("consult_admin", __name__, url_prefix="/admin/<compound>/topics"))
admin_bp.before_request(require_committee)
proposals_bp = bind_compound(Blueprint("proposals_admin", __name__, url_prefix="/admin/<compound>/proposals"))
proposals_bp.before_request(require_committee)


def load(topic_id):
    """The topic in this compound, after closing any vote whose time is up (so the page shows it closed) and
    releasing secret topics' figures that are due."""
    service.keep_time(g.compound)
    return get_or_404_in_compound(Topic, topic_id)


def optional_url(endpoint, **values):
    """A URL for an endpoint another part of the app may not have yet, else None."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def short(text, room):
    """Text cut to fit in `room` characters, with an ellipsis when cut."""
    return text if len(text) <= room else text[:room - 1] + "…"


def sealed_hint(topic, shown):
    """The committee's sentence on a secret topic's figures while they move in batches, or ""."""
    if not shown.sealed:
        return ""
    minutes, batch = snapshots.settings()
    text = _("无记名投票：为保护投票秘密，这里和居民看到的一样，每 %(minutes)s 分钟最多更新一次、每次至少 %(n)s 户新投票；"
             "投票名单也只随之更新，不显示投票时间和方式。各选项的面积、人数和是否通过，截止后公布。",
             minutes=minutes, n=batch)
    if shown.as_of:
        text += " " + _("以上是 %(when)s 的情况。", when=format_datetime(shown.as_of))
    return text


def _refusal(topic, refused):
    """(sentence, flash category, anchor on the topic page) for a refusal of the topic's rules."""
    if is_procedure(refused):
        return explain(refused), "error", ""
    detail = refused.detail
    sentences = {
        "published": lambda: (_("这个议题已经发布过了。"), "info", ""),
        "wording_fixed": lambda: (_("投票已截止，议题不能再修改：居民是按当时的内容投票的。"), "info", "")
        if detail.get("closed") else (_("议题发布后，标题、背景说明和选项都不能再改：居民已经在按这些讨论和投票。"
                                       "写错了的地方，请在下面“更正说明”里写明，居民在投票处会看到。"), "info",
                                     "#corrections"),
        "deadline_passed": lambda: (_("投票截止时间 %(when)s 已经过了，请先修改时间再发布。",
                                      when=format_datetime(topic.closes_at)), "error", ""),
        "no_households": lambda: (_("住户名册里没有%(where)s的住户，不能发布：请修改表决范围。",
                                    where=scope_place(topic.scope)), "error", "")
        if detail.get("scoped") else (_("还没有录入住户，不能发布：投票名单要从住户名册里来。"), "error", ""),
        "frozen": lambda: (_("草稿还没有发布，直接修改就行。") if detail.get("draft")
                           else _("投票已截止，议题不能再更正：居民是按当时的内容投票的。"), "info", ""),
        "closed": lambda: (_("投票已于 %(when)s 截止，不能再录入。", when=format_datetime(topic.closes_at)), "error", ""),
        "not_open": lambda: (_("投票还没开始，%(when)s 开始。", when=format_datetime(topic.opens_at)), "error", ""),
        "not_closed": lambda: (_("投票截止后才能发布决议公告。"), "info", ""),
        "resolved": lambda: (_("决议公告已经发布过了。"), "info", ""),
        "too_early": lambda: (_("投票截止后才能发布落实情况。"), "info", ""),
        "done": lambda: (_("这件事已经标记为落实完毕。"), "info", ""),
        "hidden": lambda: (_("这条看法已经隐藏了。"), "info", "#opinions"),
    }
    return sentences.get(refused.reason, lambda: (_("这件事现在不能做。"), "error", ""))()


@admin_bp.errorhandler(service.VoteRefused)
def _refused(error):
    """Nothing of a refused action is kept: back to the topic's page, which says why."""
    db.session.rollback()
    topic = get_or_404_in_compound(Topic, request.view_args["topic_id"])
    sentence, category, anchor = _refusal(topic, error)
    flash(sentence, category)
    return redirect(url_for(".show", topic_id=topic.id) + anchor)
