"""The committee's topic pages: every topic by phase, drafting and editing, publishing, correction notes, the
topic's page with its live or frozen result, the roll call and opinions."""
from datetime import timedelta
from itertools import groupby

from flask import abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ...auth.access import chair_required, editor_required
from ...auth.accounts import display_names
from ...compounds.context import get_or_404_in_compound
from ...database import utcnow
from ...extensions import db
from ...htmx import render, wants_fragment
from ...timefmt import format_datetime, from_local_naive, local_input, now_local, to_local
from .. import integrity, service, snapshots
from ..forms import (
    CorrectionForm,
    ExtensionForm,
    HideOpinionForm,
    PaperBallotForm,
    TopicForm,
    UpdateForm,
    option_lines,
)
from ..procedure import explain, is_procedure, profile_for
from ..service import paper
from ..models import CHANNEL_LABELS, PHASE_LABELS, Kind, Opinion, Phase, Proposal, ProposalStatus
from ..present import present
from .base import admin_bp, load, optional_url, sealed_hint

GROUPS = (Phase.voting, Phase.discussion, Phase.draft, Phase.closed, Phase.done)


def roll_by_building(topic):
    """The roll call grouped by building: [(building, voted, rows)], each row a service.RollRow."""
    rows = service.roll_call(topic)
    groups = []
    for building, members in groupby(rows, key=lambda r: r.household.building):
        members = list(members)
        groups.append((building, sum(1 for row in members if row.voted), members))
    return groups


def results_context(topic):
    """The live, released or frozen result, turnout by building and participation, for the results block."""
    voted, total = service.participation(topic)
    fig = present(topic, service.result_of(topic))
    return {"topic": topic, "phase": topic.phase(), "fig": fig, "voted": voted, "total": total,
            "buildings": service.turnout_by_building(topic) if topic.status != "draft" else [],
            "sealed_hint": sealed_hint(topic, fig), "recount": integrity.checked(topic)}


def show_page(topic, status=200, paper_form=None, update_form=None, hide_forms=None, correction_form=None,
              extension_form=None):
    """The topic page; a refused form comes back with its errors next to the fields."""
    phase = topic.phase()
    roll = roll_by_building(topic) if phase != Phase.draft else []
    ballots = [row.ballot for _b, _v, rows in roll for row in rows if row.ballot is not None]
    context = results_context(topic)
    context.update(
        phase_label=PHASE_LABELS[phase], roll=roll, enterers=display_names(b.entered_by for b in ballots),
        corrections=service.corrections(topic), correction_form=correction_form or CorrectionForm(formdata=None),
        channels=CHANNEL_LABELS, opinions=service.opinions(topic), updates=service.updates(topic),
        paper_form=paper_form or PaperBallotForm(formdata=None), update_form=update_form or UpdateForm(formdata=None),
        hide_forms=hide_forms or {}, hide_form=HideOpinionForm(formdata=None),
        extension_form=extension_form or ExtensionForm(formdata=None), profile=profile_for(g.compound),
        extendable=extendable(topic, phase), late=service.late_resolution(g.compound, topic), platform_bypassed=service.platform_bypassed(g.compound, topic),
        public_url=optional_url("consult.topic", topic_id=topic.id),
        print_url=optional_url("consult.resolution_print", topic_id=topic.id) if topic.resolution_notice_id else None,
        proposal=db.session.scalar(select(Proposal).where(Proposal.topic_id == topic.id)),
        origins=paper.ballot_origins(topic) if not topic.secret else {}, numbered=paper.printed(topic))
    return make_response(render_template("consult/admin_show.html", **context), status)


@admin_bp.route("/")
def index():
    """Every topic, grouped: voting, in discussion, drafts, closed, carried out; each with its turnout."""
    service.keep_time(g.compound)
    now = utcnow()
    groups = {phase: [] for phase in GROUPS}
    for topic in service.all_topics(g.compound):
        groups[topic.phase(now)].append(topic)
    groups[Phase.voting].sort(key=lambda t: t.closes_at)
    groups[Phase.discussion].sort(key=lambda t: t.opens_at)
    groups[Phase.closed].sort(key=lambda t: t.closed_at or t.closes_at, reverse=True)
    turnout = {t.id: service.participation(t) for phase in (Phase.voting, Phase.discussion, Phase.closed, Phase.done)
               for t in groups[phase]}
    waiting = sum(1 for p in service.proposals(g.compound) if p.status == ProposalStatus.received)
    late = {t.id: service.late_resolution(g.compound, t, now) for t in groups[Phase.closed]}
    return render_template("consult/admin_index.html", groups=[(p, PHASE_LABELS[p], groups[p]) for p in GROUPS],
                           turnout=turnout, waiting=waiting, late={k: v for k, v in late.items() if v},
                           profile=profile_for(g.compound))


def topic_fields(form):
    """The topic fields from a validated form, times in UTC."""
    kind = form.kind.data
    return {"title": form.title.data.strip(), "background": form.background.data or "", "kind": kind,
            "rule": form.rule.data, "seats": form.seats.data if kind in (Kind.multi, Kind.election) else 1,
            "secret": form.secret.data, "visibility": form.visibility.data, "allow_change": form.allow_change.data,
            "opens_at": from_local_naive(form.opens_at.data), "closes_at": from_local_naive(form.closes_at.data),
            "extraordinary": bool(form.extraordinary.data) and service.is_statutory(form.rule.data)}


def extendable(topic, phase):
    """Whether the topic page offers the extension form: a published statutory topic, still open, never extended."""
    return (phase in (Phase.discussion, Phase.voting) and service.is_statutory(topic.rule)
            and topic.extended_at is None and profile_for(g.compound).extension_allowed)


def form_page(form, topic, proposal, status):
    """The topic form with the compound's procedure profile beside it."""
    return render_template("consult/admin_form.html", form=form, topic=topic, proposal=proposal,
                           secret_pace=snapshots.settings(), profile=profile_for(g.compound)), status


def saved_or_refused(form, topic):
    """Save the form's topic; a refusal of the procedure goes next to its field (nothing is saved) and gives
    None. After saving, a statutory topic held here instead of on the city's platform gets a warning."""
    try:
        fields = {**topic_fields(form), **form.electorate(), "require_verified": form.require_verified.data}
        saved = service.save_topic(g.compound, current_user, topic, fields, option_lines(form.options.data))
    except service.VoteRefused as refused:
        if not is_procedure(refused):
            raise
        db.session.rollback()
        getattr(form, refused.detail.get("field", "opens_at")).errors.append(explain(refused))
        return None
    earliest = service.unenforced_shortfall(g.compound, saved)
    if earliest is not None:
        profile = profile_for(g.compound)
        flash(_("提醒：%(source)s要求业主共同决定事项提前%(n)s日通知全体业主，按现在发布，投票最早 %(when)s 开始。"
                "本小区还没有选定城市规则，系统只提示、不拦截。", source=profile.cite("notice_days"),
                n=service.notice_days(profile, saved.extraordinary), when=format_datetime(earliest)), "info")
    if service.platform_bypassed(g.compound, saved):
        flash(_("本市规定业主共同决定须通过%(platform)s表决。本议题选了法定规则，本系统的结果不能代替平台表决"
                "（例如平台暂时无法使用时才这样做），请向街道说明。", platform=profile_for(g.compound).official_platform),
              "warning")
    return saved


def electorate_form(form, topic=None):
    """Offer the roll's buildings and 单元 for the electorate; a new topic requires verified cards by default
    when the compound has any (a saved topic shows its own choice)."""
    form.set_places(service.roll_places(g.compound))
    if request.method == "GET":
        if topic is not None:
            form.show_electorate(topic)
        else:
            form.require_verified.data = service.has_verified_cards(g.compound)
    return form


def source_proposal():
    """The proposal a new topic is made from (?from_proposal=), or None."""
    proposal_id = request.args.get("from_proposal", type=int)
    return get_or_404_in_compound(Proposal, proposal_id) if proposal_id else None


@admin_bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Draft a topic; from a resident's proposal, its title and text are filled in and the two are linked."""
    proposal = source_proposal()
    form = electorate_form(TopicForm())
    if request.method == "GET":
        form.rule.data = service.default_rule(g.compound)
        # A day's margin past the notice (from the profile) so the draft can wait a day before it is published.
        earliest = to_local(service.first_opening(g.compound, form.rule.data)) + timedelta(days=1)
        start = max(earliest, now_local() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        form.opens_at.data = (start + timedelta(days=1)).replace(hour=9, tzinfo=None)
        form.closes_at.data = (start + timedelta(days=8)).replace(hour=20, tzinfo=None)
        if proposal is not None:
            form.title.data = proposal.title
            form.background.data = proposal.body
    if form.validate_on_submit():
        topic = saved_or_refused(form, None)
        if topic is not None:
            if proposal is not None:
                service.link_proposal(g.compound, current_user, proposal, topic)
            db.session.commit()
            flash(_("已存为草稿。检查无误后点“发布（开始讨论）”。"), "success")
            return redirect(url_for(".show", topic_id=topic.id))
    return form_page(form, None, proposal, 400 if request.method == "POST" else 200)


@admin_bp.route("/<int:topic_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(topic_id):
    """Everything while a draft. Once published nothing of what households discuss and vote on changes (the
    database refuses it too): a mistake gets a correction note on the topic page instead."""
    topic = load(topic_id)
    service.check_editable(topic)
    form = electorate_form(TopicForm(obj=topic) if request.method == "GET" else TopicForm(), topic)
    if request.method == "GET":
        form.opens_at.data = local_input(topic.opens_at)
        form.closes_at.data = local_input(topic.closes_at)
        if topic.kind != Kind.yesno:
            form.options.data = "\n".join(o.label for o in topic.options)
    if form.validate_on_submit() and saved_or_refused(form, topic) is not None:
        db.session.commit()
        flash(_("已保存。"), "success")
        return redirect(url_for(".show", topic_id=topic.id))
    if request.method == "POST":
        topic = load(topic_id)  # a refusal rolled back: the page shows the draft as saved
    return form_page(form, topic, None, 400 if request.method == "POST" else 200)


@admin_bp.route("/<int:topic_id>/corrections", methods=["POST"])
@chair_required
def correct(topic_id):
    """Append a dated, signed correction note to a published topic (the chair or vice chair; it is audited and
    shown above the ballot on phones, at the lobby screen and on the printed resolution)."""
    topic = load(topic_id)
    service.check_correctable(topic)
    form = CorrectionForm()
    if not form.validate_on_submit():
        return show_page(topic, 400, correction_form=form)
    service.add_correction(g.compound, current_user, topic, form.body.data.strip())
    db.session.commit()
    flash(_("更正说明已发布，居民在议题页、投票处和决议公告上都会看到。"), "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#corrections")


@admin_bp.route("/<int:topic_id>")
def show(topic_id):
    """One topic: phase and times, the result with every figure, paper ballots, the roll call, opinions."""
    return show_page(load(topic_id))


@admin_bp.route("/<int:topic_id>/results")
def results(topic_id):
    """The results block alone (htmx polls it while voting); a direct visit goes to the topic page."""
    topic = load(topic_id)
    if not wants_fragment():
        return redirect(url_for(".show", topic_id=topic.id))
    return render("consult/admin_show.html", "consult/_admin_results.html", **results_context(topic))


@admin_bp.route("/<int:topic_id>/publish", methods=["POST"])
@editor_required
def publish(topic_id):
    """Publish a draft: discussion starts, and the households on the roll now are the electorate."""
    topic = load(topic_id)
    count = service.publish(g.compound, current_user, topic)
    db.session.commit()
    flash(_("已发布。投票名单共 %(n)s 户，以现在的住户名册为准，之后不再变动。", n=count), "success")
    return redirect(url_for(".show", topic_id=topic.id))


@admin_bp.route("/<int:topic_id>/extend", methods=["POST"])
@editor_required
def extend(topic_id):
    """Extend an open statutory topic's window once, with a reason residents read on phones and the screen."""
    topic = load(topic_id)
    form = ExtensionForm()
    if not form.validate_on_submit():
        return show_page(topic, 400, extension_form=form)
    try:
        service.extend(g.compound, current_user, topic, from_local_naive(form.closes_at.data), form.reason.data.strip())
    except service.VoteRefused as refused:
        if not is_procedure(refused):
            raise
        db.session.rollback()
        form.closes_at.errors.append(explain(refused))
        return show_page(load(topic_id), 400, extension_form=form)
    db.session.commit()
    flash(_("投票期限已延长至 %(when)s，居民在手机和大屏上会看到原因。", when=format_datetime(topic.closes_at)), "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#extension")


@admin_bp.route("/<int:topic_id>/opinions/<int:opinion_id>/hide", methods=["POST"])
@editor_required
def hide_opinion(topic_id, opinion_id):
    """Hide a resident's opinion; the reason is shown publicly in its place."""
    topic = load(topic_id)
    opinion = db.session.get(Opinion, opinion_id)
    if opinion is None or opinion.topic_id != topic.id:
        abort(404)
    service.check_hideable(opinion)
    form = HideOpinionForm()
    if not form.validate_on_submit():
        return show_page(topic, 400, hide_forms={opinion.id: form})
    service.hide_opinion(g.compound, current_user, opinion, form.reason.data.strip())
    db.session.commit()
    flash(_("已隐藏。居民会看到“已隐藏：%(reason)s”。", reason=form.reason.data.strip()), "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#opinions")
