"""Paper ballots: a committee member types in a household's paper ballot at a meeting, recorded as paper and
as entered by them."""
from flask import flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.access import editor_required
from ...auth.accounts import display_names
from ...extensions import db
from ...households import service as households
from ...households.models import Household
from ...timefmt import format_datetime
from .. import service
from ..forms import PaperBallotForm
from ..models import CHANNEL_LABELS, Channel
from .base import admin_bp, load
from .topics import show_page


def find_household(form):
    """The household a paper ballot is for (by id from a card, else by building, entrance and room), or None
    after putting the problem next to the field."""
    if form.household_id.data and form.household_id.data.isdigit():
        household = db.session.get(Household, int(form.household_id.data))
        if household is not None and household.compound_id == g.compound.id:
            return household
    try:
        return households.find(g.compound, form.building.data, form.entrance.data, form.room.data)
    except households.HouseholdRefused as refused:
        detail = refused.detail
        if refused.reason == "incomplete":
            (form.building if not detail["building"] else form.room).errors.append(_("请填写楼栋和房号。"))
        elif refused.reason == "unknown":
            form.room.errors.append(_("本小区没有 %(address)s，请核对楼栋和房号。", address=detail["address"]))
        else:
            form.entrance.errors.append(_("%(building)s栋 %(room)s 有 %(n)s 户（%(which)s），请填写单元。",
                                          building=detail["building"], room=detail["room"], n=len(detail["found"]),
                                          which="、".join(h.address for h in detail["found"])))
        return None


def refusal_text(topic, household, refused):
    """Why a paper ballot was not taken, as a calm sentence. In a secret topic the earlier ballot's time and
    channel are not shown: they would tell when the household voted (see snapshots.py)."""
    if refused.reason == "already" and topic.secret:
        return _("%(address)s 已经投过票，本议题不允许改票，这张纸质票不能录入。", address=household.address)
    if refused.reason == "already":
        ballot = refused.ballot
        who = display_names([ballot.entered_by]).get(ballot.entered_by) if ballot.entered_by else None
        how = CHANNEL_LABELS[Channel(ballot.channel)]
        text = _("%(address)s 已于 %(when)s 通过%(channel)s投过票，本议题不允许改票，这张纸质票不能录入。",
                 address=household.address, when=format_datetime(ballot.cast_at), channel=how)
        return text + (_("（那张票由 %(who)s 录入）", who=who) if who else "")
    texts = {
        "not_elector": _("%(address)s 不在本议题的投票名单上（名单在发布时按住户名册确定）。", address=household.address),
        "closed": _("投票已于 %(when)s 截止，不能再录入。", when=format_datetime(topic.closes_at)),
        "not_open": _("投票还没开始，%(when)s 开始。", when=format_datetime(topic.opens_at)),
        "choices": _("请按选票勾选：同意/不同意/弃权和单选只能选一项。"),
        "too_many": _("最多只能选 %(n)s 项。", n=topic.seats),
        "proxy_voted": _("%(address)s 的受托人已经代为表决，以受托人的票为准，这张票不能录入。", address=household.address),
        "numbered": _("本议题已经印发编号纸质表决票，交回的票请在“编号纸质表决票”页录入，由两位委员核对。"),
        "paper_final": _("%(address)s 的编号纸质表决票已经确认，以编号表决票为准，这张票不能录入。",
                         address=household.address),
    }
    return texts.get(refused.reason, _("这张票没有录入。"))


@admin_bp.route("/<int:topic_id>/paper", methods=["POST"])
@editor_required
def paper(topic_id):
    """Enter a paper ballot for a household, recorded as paper and as entered by this member."""
    topic = load(topic_id)
    service.check_open(topic)  # the paper form is only on the page while voting is open
    form = PaperBallotForm()
    if not form.validate_on_submit():
        return show_page(topic, 400, paper_form=form)
    household = find_household(form)
    if household is None:
        return show_page(topic, 400, paper_form=form)
    if not form.choices.data:
        form.choices.errors.append(_("请勾选选票上的选择。"))
        return show_page(topic, 400, paper_form=form)
    changed = (topic.allow_change and not topic.secret
               and service.current_ballot(topic, household) is not None)
    try:
        service.cast(g.compound, topic, household, form.choices.data, channel=Channel.paper,
                     entered_by=current_user._get_current_object())
    except service.VoteRefused as refused:
        field = form.choices if refused.reason in ("choices", "too_many") else form.room
        field.errors.append(refusal_text(topic, household, refused))
        conflict = refused.reason in ("already", "proxy_voted", "paper_final", "numbered")
        return show_page(topic, 409 if conflict else 400, paper_form=form)
    message = _("已录入纸质票：%(address)s（由 %(who)s 录入）", address=household.address,
                who=current_user.display_name)
    if changed:
        message += _("。这一户之前的票已作废，以这张为准。")
    flash(message, "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#paper")
