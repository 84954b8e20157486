"""Written proxies (书面委托) for the committee: record one with the signed 委托书, enter the ballot the proxy
casts, revoke one on the owner's written word, and the compound's limit on owners per proxy."""
from flask import abort, flash, g, make_response, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from ...auth.access import can_edit, chair_required, editor_required
from ...auth.accounts import display_names
from ...compounds.context import get_or_404_in_compound
from ...extensions import db
from ...timefmt import format_datetime
from ...uploads import ImageRejected, save_image
from ..forms import PaperBallotForm
from ..paper_forms import ProxyForm, ProxyLimitForm
from ..paper_models import Proxy, ProxyState
from ..service import VoteRefused, current_ballot
from ..service import proxies as service
from .ballots import find_household
from .paper import discard
from .base import admin_bp, load

RULES = _l("业主可以在受托人投票前随时撤销委托（在手机上点“撤销委托”，或书面告知委员会）。"
         "业主自己投了票，委托即失效；受托人投票后，以受托人的票为准，业主不能再投。")


def refusal_text(topic, refused):
    """A calm sentence for a refused proxy action."""
    detail = refused.detail
    return {
        "closed": _("投票已于 %(when)s 截止，不能再办理委托。", when=format_datetime(topic.closes_at)),
        "not_open": _("投票还没开始，%(when)s 开始。", when=format_datetime(topic.opens_at)),
        "not_elector": _("这一户不在本议题的投票名单上。"),
        "proxy_exists": _("这一户在本议题已经有一份有效的委托。要换人，请先撤销原来的委托。"),
        "proxy_limit": _("这位受托人在本议题已代表 %(held)s 户，本小区规定每位受托人最多代表 %(n)s 户。",
                         held=detail.get("held", 0), n=detail.get("limit", 0)),
        "proxy_used": _("受托人已经代为投票，委托不能再撤销。"),
        "proxy_revoked": _("这份委托已经撤销了。"),
        "owner_voted": _("业主本人已经投了票，委托已失效，受托人的票不能录入。"),
        "choices": _("请按受托人的选择勾选：同意/不同意/弃权和单选只能选一项。"),
        "too_many": _("最多只能选 %(n)s 项。", n=topic.seats),
        "limit_range": _("请填 1 到 50 之间的数。"),
    }.get(refused.reason, _("这件事现在不能做。"))


def page(topic, status=200, form=None, vote_forms=None, limit_form=None):
    """The proxies page of a topic."""
    listed = service.proxies(topic)
    lapsed = set()
    if not topic.secret:  # in a secret topic, whether a household has voted shows only with the batched roll
        lapsed = {p.id for p in listed if p.state == ProxyState.standing
                  and current_ballot(topic, p.household) is not None}
    context = {"topic": topic, "proxies": listed, "lapsed": lapsed, "form": form or ProxyForm(formdata=None),
               "vote_forms": vote_forms or {}, "vote_form": PaperBallotForm(formdata=None),
               "limit": service.limit_for(g.compound), "rules": str(RULES), "editable": can_edit(),
               "recorders": display_names(p.recorded_by for p in listed),
               "limit_form": limit_form or ProxyLimitForm(formdata=None, max_owners=service.limit_for(g.compound)),
               "open": topic.status == "published" and topic.phase() in ("discussion", "voting"),
               "voting": topic.phase() == "voting", "used": service.proxy_ballot_count(topic)}
    return make_response(render_template("consult/admin_proxies.html", **context), status)


def _proxy(topic, proxy_id):
    proxy = get_or_404_in_compound(Proxy, proxy_id)
    if proxy.topic_id != topic.id:
        abort(404)
    return proxy


@admin_bp.route("/<int:topic_id>/proxies")
def proxies(topic_id):
    """Every written proxy of a topic, and the form to record one."""
    return page(load(topic_id))


@admin_bp.route("/<int:topic_id>/proxies/new", methods=["POST"])
@editor_required
def record_proxy(topic_id):
    """Record an owner's written proxy, with the signed 委托书's photo or scan."""
    topic = load(topic_id)
    form = ProxyForm()
    if not form.validate_on_submit():
        return page(topic, 400, form=form)
    household = find_household(form)
    if household is None:
        return page(topic, 400, form=form)
    scan = None
    try:
        if form.scan.data and getattr(form.scan.data, "filename", ""):
            scan = save_image(form.scan.data, g.compound, current_user)
        service.record(g.compound, current_user, topic, household, form.name.data.strip(),
                       (form.id_last4.data or "").upper(), (form.phone.data or "").strip(), scan)
    except ImageRejected as rejected:
        db.session.rollback()
        form.scan.errors.append(str(rejected))
        return page(topic, 400, form=form)
    except VoteRefused as refused:
        db.session.rollback()
        discard(scan)
        field = form.name if refused.reason == "proxy_limit" else form.room
        field.errors.append(refusal_text(topic, refused))
        return page(topic, 409, form=form)
    db.session.commit()
    flash(_("已登记 %(address)s 的书面委托。", address=household.address), "success")
    return redirect(url_for(".proxies", topic_id=topic.id))


@admin_bp.route("/<int:topic_id>/proxies/<int:proxy_id>/vote", methods=["POST"])
@editor_required
def proxy_vote(topic_id, proxy_id):
    """Enter the ballot the proxy cast in person or on paper; recorded as the proxy's, entered by this member."""
    topic = load(topic_id)
    proxy = _proxy(topic, proxy_id)
    form = PaperBallotForm()
    if not form.validate_on_submit() or not form.choices.data:
        if not form.choices.errors:
            form.choices.errors.append(_("请按受托人的选择勾选。"))
        return page(topic, 400, vote_forms={proxy.id: form})
    try:
        service.cast_by_proxy(g.compound, current_user, topic, proxy, form.choices.data)
    except VoteRefused as refused:
        form.choices.errors.append(refusal_text(topic, refused))
        return page(topic, 409, vote_forms={proxy.id: form})
    flash(_("已录入受托人代 %(address)s 投的票（由 %(who)s 录入）。", address=proxy.household.address,
            who=current_user.display_name), "success")
    return redirect(url_for(".proxies", topic_id=topic.id))


@admin_bp.route("/<int:topic_id>/proxies/<int:proxy_id>/revoke", methods=["POST"])
@editor_required
def revoke_proxy(topic_id, proxy_id):
    """Revoke a proxy on the owner's written word (the owner can also do it from the phone)."""
    topic = load(topic_id)
    proxy = _proxy(topic, proxy_id)
    try:
        service.revoke(g.compound, topic, proxy, actor=current_user)
    except VoteRefused as refused:
        db.session.rollback()
        flash(refusal_text(topic, refused), "error")
        return redirect(url_for(".proxies", topic_id=topic.id))
    db.session.commit()
    flash(_("已撤销 %(address)s 的委托。", address=proxy.household.address), "success")
    return redirect(url_for(".proxies", topic_id=topic.id))


@admin_bp.route("/<int:topic_id>/proxies/limit", methods=["POST"])
@chair_required
def proxy_limit(topic_id):
    """Set how many owners one proxy may represent (for every topic of the compound; audited)."""
    topic = load(topic_id)
    form = ProxyLimitForm()
    if not form.validate_on_submit():
        return page(topic, 400, limit_form=form)
    service.set_limit(g.compound, current_user, form.max_owners.data)
    db.session.commit()
    flash(_("已改为每位受托人最多代表 %(n)s 户。", n=form.max_owners.data), "success")
    return redirect(url_for(".proxies", topic_id=topic.id))
