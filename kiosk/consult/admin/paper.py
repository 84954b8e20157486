"""Numbered paper ballots (表决票) for the committee: print the set and the delivery receipts, type returned
ballots in (scan the QR with a phone or a USB scanner, or type the number), confirm them blind, and the
problems list where the chair decides mismatches."""
from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ...auth.access import can_edit, chair_required, editor_required
from ...auth.accounts import display_names
from ...compounds.context import get_or_404_in_compound
from ...extensions import db
from ...qr import public_url, qr_svg
from ...uploads import ImageRejected, save_image, upload_dir
from ...timefmt import format_datetime
from ..paper_forms import STAGE_LABELS, PaperEntryForm, ResolveForm
from ..paper_models import PAPER_STATE_LABELS, EntryStage, PaperBallot
from ..service import VoteRefused
from ..service import paper as service
from .base import admin_bp, load

ONLINE_RULE = _l("网上（手机、大屏）和纸质表决票都投了的，以纸质表决票为准。")
OUTCOMES = {
    "entered": _l("已登记第 %(number)s 号票（%(address)s），等另一位委员复核。"),
    "confirmed": _l("第 %(number)s 号票（%(address)s）两次录入一致，已计票。"),
    "mismatch": _l("第 %(number)s 号票（%(address)s）两次录入不一致，已列入待处理，由主任看原票裁定。"),
    "duplicate": _l("第 %(number)s 号票已经录入过：这次记为重复交回，列入待处理，不计票。"),
    "set_aside": _l("第 %(number)s 号票（%(address)s）两次一致，但这一户的受托人已经代为表决，这张票不计，列入待处理。"),
}


def refusal_text(topic, refused):
    """A sentence for a refused entry, shown next to the field it is about: (field name, sentence)."""
    detail = refused.detail
    texts = {
        "unknown_number": ("ballot", _("没有找到这张票：本议题的票号是 1 到 %(n)s，请核对票上的号码。",
                                       n=len(service.papers(topic)))),
        "other_compound": ("ballot", _("这张票不是本小区的，不能在这里录入。")),
        "other_topic": ("ballot", _("这张票属于另一个议题“%(title)s”，请到那个议题下录入。", title=detail.get("title", ""))),
        "closed": ("ballot", _("投票已于 %(when)s 截止，不能再录入。", when=format_datetime(topic.closes_at))),
        "not_open": ("ballot", _("投票还没开始，%(when)s 开始。", when=format_datetime(topic.opens_at))),
        "not_entered": ("stage", _("这张票还没有人登记过：请先选“第一遍：登记交回的票”。")),
        "own_entry": ("stage", _("这张票是您自己登记的，复核要由另一位委员来做。")),
        "choices": ("choices", _("请按票上的勾选：同意/不同意/弃权和单选只能选一项。")),
        "too_many": ("choices", _("最多只能选 %(n)s 项。", n=topic.seats)),
        "not_elector": ("ballot", _("这一户不在本议题的投票名单上。")),
        "not_mismatch": ("choices", _("这张票已经处理过了。")),
    }
    return texts.get(refused.reason, ("ballot", _("这张票没有录入。")))


def recognised(topic, text):
    """The paper ballot a scanned or typed value names, or None (shown above the choices so the member sees
    which household's paper the system took it for)."""
    try:
        return service.find(g.compound, topic, text) if text else None
    except VoteRefused:
        return None


def page(topic, status=200, form=None, resolve_forms=None):
    """The paper ballots page of a topic: the set, the entry form, the problems."""
    found = service.problems(topic)
    users = display_names(e.entered_by for p in found for e in p.entries)
    form = form or PaperEntryForm(formdata=None, ballot=request.args.get("ballot", ""),
                                  stage=request.args.get("stage", EntryStage.first.value))
    context = {
        "topic": topic, "printed": service.printed(topic), "summary": service.summary(topic),
        "state_labels": PAPER_STATE_LABELS, "problems": found, "users": users, "form": form,
        "resolve_form": ResolveForm(formdata=None), "resolve_forms": resolve_forms or {},
        "stage_labels": STAGE_LABELS, "online_rule": str(ONLINE_RULE), "editable": can_edit(),
        "voting": topic.phase() == "voting", "open": topic.status == "published",
        "counted": service.paper_ballot_count(topic), "scanned": recognised(topic, form.ballot.data),
    }
    return make_response(render_template("consult/admin_paper_ballots.html", **context), status)


@admin_bp.route("/<int:topic_id>/paper-ballots")
def paper_ballots(topic_id):
    """Where paper ballots are printed, entered, confirmed and their problems decided."""
    return page(load(topic_id))


@admin_bp.route("/<int:topic_id>/paper-ballots/print", methods=["POST"])
@editor_required
def print_ballots(topic_id):
    """Number one ballot per household of the electorate, once; then go to the printable sheets."""
    topic = load(topic_id)
    try:
        count = service.print_set(g.compound, current_user, topic)
    except VoteRefused as refused:
        db.session.rollback()
        flash(_("这个议题的表决票已经编好号了，直接打印就行。") if refused.reason == "printed"
              else _("投票已截止，不能再印表决票。"), "info")
        return redirect(url_for(".paper_ballots", topic_id=topic.id))
    db.session.commit()
    flash(_("已为 %(n)s 户编好票号。请打印表决票和送达回执。", n=count), "success")
    return redirect(url_for(".paper_ballots", topic_id=topic.id))


def _printed_or_404(topic):
    papers = service.papers(topic)
    if not papers:
        abort(404)
    return papers


@admin_bp.route("/<int:topic_id>/paper-ballots/sheets")
@editor_required
def ballot_sheets(topic_id):
    """One A5 ballot per household (two to an A4 sheet): address, topic, options with boxes, deadline, number,
    and a QR naming the ballot (it opens a committee-only page, never the household's card)."""
    topic = load(topic_id)
    papers = _printed_or_404(topic)
    qrs = {p.id: Markup(qr_svg(public_url(url_for(".paper_scan", ballot_token=p.token)), title=f"No.{p.number}"))
           for p in papers}
    return render_template("consult/paper_sheets.html", topic=topic, papers=papers, qrs=qrs,
                           online_rule=str(ONLINE_RULE))


@admin_bp.route("/<int:topic_id>/paper-ballots/receipts")
@editor_required
def receipts(topic_id):
    """The delivery receipt list (送达回执) per building: address, number, a signature and a date column."""
    topic = load(topic_id)
    buildings = {}
    for paper in _printed_or_404(topic):
        buildings.setdefault(paper.household.building, []).append(paper)
    return render_template("consult/paper_receipts.html", topic=topic, buildings=buildings)


@admin_bp.route("/paper/<ballot_token>")
def paper_scan(ballot_token):
    """Where a printed ballot's QR leads: the committee's entry page with the number filled in. Anyone else is
    sent to log in (admin pages) or finds nothing: the URL names no household and shows no choice."""
    paper = service.by_token(g.compound, ballot_token)
    if paper is None:
        abort(404)
    return redirect(url_for(".paper_ballots", topic_id=paper.topic_id, ballot=str(paper.number)) + "#enter")


def discard(image):
    """Remove the file of a photo whose entry was refused (its row went with the rollback): nothing half-saved."""
    if image is not None:
        upload_dir().joinpath(image.filename).unlink(missing_ok=True)


@admin_bp.route("/<int:topic_id>/paper-ballots/enter", methods=["POST"])
@editor_required
def enter_paper(topic_id):
    """Type in a returned ballot (first pass or blind confirmation); refusals go next to their field."""
    topic = load(topic_id)
    form = PaperEntryForm()
    if not form.validate_on_submit():
        return page(topic, 400, form=form)
    if not form.choices.data:
        form.choices.errors.append(_("请按票上的勾选选择。"))
        return page(topic, 400, form=form)
    image = None
    try:
        paper = service.find(g.compound, topic, form.ballot.data)
        if form.photo.data and getattr(form.photo.data, "filename", ""):
            try:
                image = save_image(form.photo.data, g.compound, current_user)
                db.session.flush()
            except ImageRejected as rejected:
                db.session.rollback()
                form.photo.errors.append(str(rejected))
                return page(topic, 400, form=form)
        done = service.enter(g.compound, current_user, topic, paper, form.stage.data, form.choices.data, image)
    except VoteRefused as refused:
        db.session.rollback()
        discard(image)
        name, text = refusal_text(topic, refused)
        getattr(form, name).errors.append(text)
        return page(topic, 409 if refused.reason in ("own_entry", "not_entered") else 400, form=form)
    category = "success" if done.outcome in ("entered", "confirmed") else "error"
    flash(str(OUTCOMES[done.outcome]) % {"number": paper.number, "address": paper.household.address}, category)
    return redirect(url_for(".paper_ballots", topic_id=topic.id, stage=form.stage.data) + "#enter")


@admin_bp.route("/<int:topic_id>/paper-ballots/<int:paper_id>/resolve", methods=["POST"])
@chair_required
def resolve_paper(topic_id, paper_id):
    """The chair (or vice chair) reads the mismatched paper and decides; audited."""
    topic = load(topic_id)
    paper = get_or_404_in_compound(PaperBallot, paper_id)
    if paper.topic_id != topic.id:
        abort(404)
    form = ResolveForm()
    if not form.validate_on_submit() or not form.choices.data:
        if not form.choices.errors:
            form.choices.errors.append(_("请按原票上的勾选选择。"))
        return page(topic, 400, resolve_forms={paper.id: form})
    try:
        outcome = service.resolve(g.compound, current_user, topic, paper, form.choices.data)
    except VoteRefused as refused:
        form.choices.errors.append(refusal_text(topic, refused)[1])
        return page(topic, 409, resolve_forms={paper.id: form})
    if outcome == "set_aside":
        flash(str(OUTCOMES["set_aside"]) % {"number": paper.number, "address": paper.household.address}, "error")
    else:
        flash(_("第 %(number)s 号票已由 %(who)s 裁定并计票。", number=paper.number, who=current_user.display_name),
              "success")
    return redirect(url_for(".paper_ballots", topic_id=topic.id) + "#problems")

