"""After the close: the resolution notice (决议公告), drafted from the frozen result, and the follow-through
(落实情况) until the matter is done."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.access import editor_required
from ...extensions import db
from ...timefmt import format_datetime, now_local
from .. import service
from ..forms import ResolutionForm, UpdateForm
from ..present import present
from .base import admin_bp, load, short
from .topics import show_page


def table_row(*cells):
    """One row of a Markdown table."""
    return "| " + " | ".join(str(c).replace("|", "／") for c in cells) + " |"


def resolution_markdown(topic, fig):
    """The resolution notice's body, from the frozen result: every figure, the verdict and the fingerprint."""
    lines = [
        _("%(compound)s自治管理委员会于 %(published)s 发布议题《%(title)s》，投票时间为 %(opens)s 至 %(closes)s，"
          "已于 %(closed)s 截止并冻结结果。", compound=g.compound.name, title=topic.title,
          published=format_datetime(topic.published_at), opens=format_datetime(topic.opens_at),
          closes=format_datetime(topic.closes_at), closed=format_datetime(topic.closed_at or topic.closes_at)),
        "",
        _("表决方式：%(kind)s；通过规则：%(rule)s；%(secret)s。", kind=topic.kind_label, rule=topic.rule_label,
          secret=_("无记名投票") if topic.secret else _("记名投票")),
        *(["", _("表决范围：%(who)s。参与和通过的比例按这一范围的户数、业主人数和面积计算。",
                 who=topic.electorate_label)] if topic.electorate_label else []),
        "", "## " + _("参与情况"), "",
        table_row(_("项目"), _("参与"), _("总数"), _("占比")), "| --- | --- | --- | --- |",
        table_row(_("户数"), fig.part_households, fig.total_households, fig.households_share),
        table_row(_("业主人数"), fig.part_heads, fig.total_heads, fig.heads_share),
        table_row(_("专有部分面积（平方米）"), fig.part_area, fig.total_area, fig.area_share),
        "",
    ]
    if fig.quorum_required:
        met = lambda ok: _("已达到") if ok else _("未达到")  # noqa: E731
        lines += [_("参与门槛（双三分之二）：面积不少于 %(area)s 平方米，%(a)s；人数不少于 %(heads)s 人，%(h)s。",
                    area=fig.quorum_area, a=met(fig.quorum_area_met), heads=fig.quorum_heads,
                    h=met(fig.quorum_heads_met)), ""]
    lines += ["## " + _("表决结果"), "",
              table_row(_("选项"), _("户数"), _("业主人数"), _("面积（平方米）"), _("面积占参与面积")),
              "| --- | --- | --- | --- | --- |"]
    for row in fig.options:
        lines.append(table_row(row.label, row.households, row.heads, row.area, row.area_share))
    lines.append("")
    if fig.need:
        lines += [_("通过门槛：同意的面积和人数都要%(share)s参与的面积和人数，即面积至少 %(area)s 平方米、人数至少 %(heads)s 人。",
                    share=fig.need.share, area=fig.need.area, heads=fig.need.heads), ""]
    lines.append("**" + _("结论：") + fig.outcome + "**")
    if fig.reasons:
        lines += ["", _("原因：") + " ".join(fig.reasons)]
    if fig.tie:
        lines += ["", fig.tie]
    lines += ["", _("结果指纹（SHA-256，可用于核对票数未被改动）：`%(fp)s`", fp=topic.fingerprint or "—"), "",
              _("特此公告。"), "", _("%(compound)s自治管理委员会", compound=g.compound.name), now_local().strftime("%Y-%m-%d")]
    return "\n".join(lines)


@admin_bp.route("/<int:topic_id>/resolution", methods=["GET", "POST"])
@editor_required
def resolution(topic_id):
    """Publish the resolution notice (决议公告) once, after close, drafted from the frozen result."""
    topic = load(topic_id)
    service.check_resolvable(topic)
    form = ResolutionForm()
    if request.method == "GET":
        form.title.data = _("关于《%(title)s》的决议公告", title=short(topic.title, 108))
        form.body.data = resolution_markdown(topic, present(topic, service.result_of(topic)))
    if form.validate_on_submit():
        service.publish_resolution(g.compound, current_user, topic, form.title.data.strip(), form.body.data)
        db.session.commit()
        flash(_("决议公告已发布，居民在手机和大屏上都能看到。"), "success")
        return redirect(url_for(".show", topic_id=topic.id))
    status = 400 if request.method == "POST" else 200
    return render_template("consult/admin_resolution.html", form=form, topic=topic), status


@admin_bp.route("/<int:topic_id>/updates", methods=["POST"])
@editor_required
def update(topic_id):
    """Post how the decision is being carried out (落实情况), also as a notice; optionally mark it done."""
    topic = load(topic_id)
    service.check_updatable(topic)
    form = UpdateForm()
    if not form.validate_on_submit():
        return show_page(topic, 400, update_form=form)
    service.post_update(g.compound, current_user, topic, form.body.data.strip(), form.done.data,
                        _("《%(title)s》落实情况", title=short(topic.title, 112)))
    db.session.commit()
    flash(_("已发布落实情况，并标记为全部落实。") if form.done.data else _("已发布落实情况。"), "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#updates")
