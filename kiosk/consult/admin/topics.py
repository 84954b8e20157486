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
from ...timefmt import from_local_naive, local_input, now_local
from .. import integrity, service, snapshots
from ..service import paper
from ..forms import CorrectionForm, HideOpinionForm, PaperBallotForm, TopicForm, UpdateForm, option_lines
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


def show_page(topic, status=200, paper_form=None, update_form=None, hide_forms=None, correction_form=None):
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
        public_url=optional_url("consult.topic", topic_id=topic.id),
        print_url=optional_url("consult.resolution_print", topic_id=topic.id) if topic.resolution_notice_id else None,
        proposal=db.session.scalar(select(Proposal).where(Proposal.topic_id == topic.id)),
        origins=paper.ballot_origins(topic) if not topic.secret else {})
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
    return render_template("consult/admin_index.html", groups=[(p, PHASE_LABELS[p], groups[p]) for p in GROUPS],
                           turnout=turnout, waiting=waiting)


def topic_fields(form):
    """The topic fields from a validated form, times in UTC."""
    kind = form.kind.data
    return {"title": form.title.data.strip(), "background": form.background.data or "", "kind": kind,
            "rule": form.rule.data, "seats": form.seats.data if kind in (Kind.multi, Kind.election) else 1,
            "secret": form.secret.data, "visibility": form.visibility.data, "allow_change": form.allow_change.data,
            "opens_at": from_local_naive(form.opens_at.data), "closes_at": from_local_naive(form.closes_at.data)}


def source_proposal():
    """The proposal a new topic is made from (?from_proposal=), or None."""
    proposal_id = request.args.get("from_proposal", type=int)
    return get_or_404_in_compound(Proposal, proposal_id) if proposal_id else None


@admin_bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Draft a topic; from a resident's proposal, its title and text are filled in and the two are linked."""
    proposal = source_proposal()
    form = TopicForm()
    if request.method == "GET":
        start = now_local().replace(minute=0, second=0, microsecond=0) + timedelta(days=3, hours=1)
        form.opens_at.data = start.replace(hour=9, tzinfo=None)
        form.closes_at.data = (start + timedelta(days=7)).replace(hour=20, tzinfo=None)
        if proposal is not None:
            form.title.data = proposal.title
            form.background.data = proposal.body
    if form.validate_on_submit():
        topic = service.save_topic(g.compound, current_user, None, topic_fields(form), option_lines(form.options.data))
        if proposal is not None:
            service.link_proposal(g.compound, current_user, proposal, topic)
        db.session.commit()
        flash(_("已存为草稿。检查无误后点“发布（开始讨论）”。"), "success")
        return redirect(url_for(".show", topic_id=topic.id))
    status = 400 if request.method == "POST" else 200
    return render_template("consult/admin_form.html", form=form, topic=None, proposal=proposal,
                           secret_pace=snapshots.settings()), status


@admin_bp.route("/<int:topic_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(topic_id):
    """Everything while a draft. Once published nothing of what households discuss and vote on changes (the
    database refuses it too): a mistake gets a correction note on the topic page instead."""
    topic = load(topic_id)
    service.check_editable(topic)
    form = TopicForm(obj=topic) if request.method == "GET" else TopicForm()
    if request.method == "GET":
        form.opens_at.data = local_input(topic.opens_at)
        form.closes_at.data = local_input(topic.closes_at)
        if topic.kind != Kind.yesno:
            form.options.data = "\n".join(o.label for o in topic.options)
    if form.validate_on_submit():
        service.save_topic(g.compound, current_user, topic, topic_fields(form), option_lines(form.options.data))
        db.session.commit()
        flash(_("已保存。"), "success")
        return redirect(url_for(".show", topic_id=topic.id))
    status = 400 if request.method == "POST" else 200
    return render_template("consult/admin_form.html", form=form, topic=topic, proposal=None,
                           secret_pace=snapshots.settings()), status


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
