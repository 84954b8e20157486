"""The committee's consultation pages: topics from draft to follow-through, paper ballots, the live and frozen
result with every figure, the resolution notice, exports, and the answers to residents' proposals."""
from datetime import timedelta
from itertools import groupby

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.routing import BuildError

from .. import exports
from ..auth.access import chair_required, editor_required, require_committee
from ..auth.models import User
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..database import utcnow
from ..extensions import db
from ..households import address_list
from ..households.models import Household
from ..htmx import render, wants_fragment
from ..timefmt import format_datetime, from_local_naive, local_input, now_local
from . import integrity, present, service, snapshots
from .forms import (
    AnswerForm,
    CorrectionForm,
    HideOpinionForm,
    PaperBallotForm,
    ResolutionForm,
    TopicForm,
    UpdateForm,
    option_lines,
)
from .models import (
    CHANNEL_LABELS,
    PHASE_LABELS,
    Channel,
    Kind,
    Opinion,
    Phase,
    Proposal,
    ProposalStatus,
    Topic,
)

admin_bp = bind_compound(Blueprint("consult_admin", __name__, url_prefix="/admin/<compound>/topics"))
admin_bp.before_request(require_committee)
proposals_bp = bind_compound(Blueprint("proposals_admin", __name__, url_prefix="/admin/<compound>/proposals"))
proposals_bp.before_request(require_committee)

GROUPS = (Phase.voting, Phase.discussion, Phase.draft, Phase.closed, Phase.done)


# --- figures: every number of a result as text, in integers only -------------------------------------------

def centi(value):
    """Hundredths as text with two decimals: 123456 -> "1234.56"."""
    return f"{value // 100}.{value % 100:02d}"


def percent(part, whole):
    """part of whole as a percentage, floored to one decimal, as the residents' pages show it."""
    return present.percent_text(part, whole) if whole > 0 else "—"


def at_least(whole, num, den):
    """The least count that is at least num/den of whole."""
    return -(-whole * num // den)


def more_than(whole, num, den):
    """The least count that is more than num/den of whole."""
    return whole * num // den + 1


def reason_text(code, result):
    """A failure code of the tally as a sentence."""
    special = result["approval"] == [3, 4]
    texts = {
        "no_votes": _("没有一户投票。"),
        "quorum_area": _("参与投票的专有部分面积不足总面积的三分之二。"),
        "quorum_heads": _("参与投票的业主人数不足总人数的三分之二。"),
        "approval_area": _("同意的面积不足参与面积的四分之三。") if special else _("同意的面积没有超过参与面积的一半。"),
        "approval_heads": _("同意的业主人数不足参与人数的四分之三。") if special else _("同意的业主人数没有超过参与人数的一半。"),
        "not_unanimous": _("参与者的意见不一致，没有达成协商一致。"),
        "not_plurality": _("没有哪个选项得票最多。"),
        "tie": "",
    }
    return texts.get(code, code)


def sealed_figures(topic, result):
    """An open secret topic's released snapshot as text: participation against the quorum, and each option's
    households; nothing per option that needs units' areas or owners (see snapshots.py)."""
    total_area, total_heads, part_area, part_heads = (result["total_area_centi"], result["total_heads"],
                                                      result["part_area_centi"], result["part_heads"])
    options = [{"key": o["key"], "label": topic.label_of(o["key"]), "households": o["households"],
                "households_share": percent(o["households"], result["part_households"])} for o in result["options"]]
    return {
        "sealed": True, "as_of": result.get("as_of"),
        "total_households": result["total_households"], "part_households": result["part_households"],
        "households_share": percent(result["part_households"], result["total_households"]),
        "total_area": centi(total_area), "part_area": centi(part_area), "area_share": percent(part_area, total_area),
        "total_heads": total_heads, "part_heads": part_heads, "heads_share": percent(part_heads, total_heads),
        "quorum_required": result["quorum_required"],
        "quorum_area": centi(at_least(total_area, 2, 3)), "quorum_heads": at_least(total_heads, 2, 3),
        "quorum_area_met": result["quorum_area_met"], "quorum_heads_met": result["quorum_heads_met"],
        "options": options,
    }


def figures(topic, result):
    """Everything the result block, the exports and the resolution show, as ready-made text."""
    if result.get("sealed"):
        return sealed_figures(topic, result)
    label = topic.label_of
    approval = result["approval"]
    part_area, part_heads = result["part_area_centi"], result["part_heads"]
    need = None
    if approval:
        num, den = approval
        pick = more_than if result["approval_strict"] else at_least
        need = {"area": pick(part_area, num, den), "heads": pick(part_heads, num, den),
                "share": _("一半以上（不含一半）") if result["approval_strict"] else _("四分之三及以上")}
    options = []
    for count in result["options"]:
        row = {"key": count["key"], "label": label(count["key"]), "households": count["households"],
               "heads": count["heads"], "area": centi(count["area_centi"]),
               "area_share": percent(count["area_centi"], part_area), "heads_share": percent(count["heads"], part_heads),
               "households_share": percent(count["households"], result["part_households"]),
               "approved": count["approved"], "winner": count["key"] in result["winners"],
               "tied": count["key"] in result["tied"]}
        if need:
            row["area_met"] = count["area_centi"] >= need["area"] and part_area > 0
            row["heads_met"] = count["heads"] >= need["heads"] and part_heads > 0
        options.append(row)
    total_area, total_heads = result["total_area_centi"], result["total_heads"]
    tie = None
    if result["tied"]:
        tie = _("第 %(n)s 席出现平票：%(names)s，需另行决定。", n=len(result["winners"]) + 1,
                names="、".join(label(k) for k in result["tied"]))
    verdict = present.outcome(topic, result)
    return {
        "total_households": result["total_households"], "part_households": result["part_households"],
        "households_share": percent(result["part_households"], result["total_households"]),
        "total_area": centi(total_area), "part_area": centi(part_area), "area_share": percent(part_area, total_area),
        "total_heads": total_heads, "part_heads": part_heads, "heads_share": percent(part_heads, total_heads),
        "quorum_required": result["quorum_required"],
        "quorum_area": centi(at_least(total_area, 2, 3)), "quorum_heads": at_least(total_heads, 2, 3),
        "quorum_area_met": result["quorum_area_met"], "quorum_heads_met": result["quorum_heads_met"],
        "need": need and {"area": centi(need["area"]), "heads": need["heads"], "share": need["share"]},
        "options": options, "passed": result["passed"], "verdict": verdict, "tie": tie,
        "reasons": [t for t in (reason_text(c, result) for c in result["reasons"]) if t],
        "conflicts": result["conflicts"], "sealed": False,
    }


# --- helpers -------------------------------------------------------------------------------------------------

def optional_url(endpoint, **values):
    """A URL for an endpoint another part of the app may not have yet, else None."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


def load(topic_id):
    """The topic in this compound, after closing any vote whose time is up (so the page shows it closed) and
    releasing secret topics' figures that are due."""
    service.keep_time(g.compound)
    return get_or_404_in_compound(Topic, topic_id)


def names_of(user_ids):
    """{user id: display name} for the committee members who typed in paper ballots."""
    ids = {i for i in user_ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def roll_by_building(topic):
    """The roll call grouped by building: [(building, voted, rows)], each row a service.RollRow."""
    rows = service.roll_call(topic)
    groups = []
    for building, members in groupby(rows, key=lambda r: r.household.building):
        members = list(members)
        groups.append((building, sum(1 for row in members if row.voted), members))
    return groups


def sealed_hint(topic, fig):
    """The committee's sentence on a secret topic's figures while they move in batches, or ""."""
    if not fig.get("sealed"):
        return ""
    minutes, batch = snapshots.settings()
    text = _("无记名投票：为保护投票秘密，这里和居民看到的一样，每 %(minutes)s 分钟最多更新一次、每次至少 %(n)s 户新投票；"
             "投票名单也只随之更新，不显示投票时间和方式。各选项的面积、人数和是否通过，截止后公布。",
             minutes=minutes, n=batch)
    if fig.get("as_of"):
        from datetime import datetime
        text += " " + _("以上是 %(when)s 的情况。", when=format_datetime(datetime.fromisoformat(fig["as_of"])))
    return text


def results_context(topic):
    """The live, released or frozen result, turnout by building and participation, for the results block."""
    result = service.result_of(topic)
    voted, total = service.participation(topic)
    fig = figures(topic, result)
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
        phase_label=PHASE_LABELS[phase], roll=roll, enterers=names_of(b.entered_by for b in ballots),
        corrections=service.corrections(topic), correction_form=correction_form or CorrectionForm(formdata=None),
        channels=CHANNEL_LABELS, opinions=service.opinions(topic), updates=service.updates(topic),
        paper_form=paper_form or PaperBallotForm(formdata=None), update_form=update_form or UpdateForm(formdata=None),
        hide_forms=hide_forms or {}, hide_form=HideOpinionForm(formdata=None),
        public_url=optional_url("consult.topic", topic_id=topic.id),
        print_url=optional_url("consult.resolution_print", topic_id=topic.id) if topic.resolution_notice_id else None,
        proposal=db.session.scalar(select(Proposal).where(Proposal.topic_id == topic.id)))
    response = make_response(render_template("consult/admin_show.html", **context), status)
    return response


# --- topics ----------------------------------------------------------------------------------------------------

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
    if topic.status != "draft":
        if topic.phase() in (Phase.closed, Phase.done):
            flash(_("投票已截止，议题不能再修改：居民是按当时的内容投票的。"), "info")
            return redirect(url_for(".show", topic_id=topic.id))
        flash(_("议题发布后，标题、背景说明和选项都不能再改：居民已经在按这些讨论和投票。"
                "写错了的地方，请在下面“更正说明”里写明，居民在投票处会看到。"), "info")
        return redirect(url_for(".show", topic_id=topic.id) + "#corrections")
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
    if topic.status != "published":
        flash(_("投票已截止，议题不能再更正：居民是按当时的内容投票的。") if topic.result is not None
              else _("草稿还没有发布，直接修改就行。"), "info")
        return redirect(url_for(".show", topic_id=topic.id))
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
    if topic.status != "draft":
        flash(_("这个议题已经发布过了。"), "info")
    elif topic.closes_at <= utcnow():
        flash(_("投票截止时间 %(when)s 已经过了，请先修改时间再发布。", when=format_datetime(topic.closes_at)), "error")
    else:
        try:
            count = service.publish(g.compound, current_user, topic)
        except service.VoteRefused as refused:
            db.session.rollback()
            flash({"published": _("这个议题已经发布过了。"),
                   "closed": _("投票截止时间 %(when)s 已经过了，请先修改时间再发布。",
                               when=format_datetime(topic.closes_at))}.get(
                refused.reason, _("还没有录入住户，不能发布：投票名单要从住户名册里来。")), "error")
        else:
            db.session.commit()
            flash(_("已发布。投票名单共 %(n)s 户，以现在的住户名册为准，之后不再变动。", n=count), "success")
    return redirect(url_for(".show", topic_id=topic.id))


def find_household(form):
    """The household a paper ballot is for (by id from a card, else by building, entrance and room), or None
    after putting the problem next to the field."""
    if form.household_id.data and form.household_id.data.isdigit():
        household = db.session.get(Household, int(form.household_id.data))
        if household is not None and household.compound_id == g.compound.id:
            return household
    building = address_list.clean_building(form.building.data or "")
    entrance = address_list.clean_entrance(form.entrance.data or "")
    room = address_list.clean_room(form.room.data or "")
    if not building or not room:
        (form.building if not building else form.room).errors.append(_("请填写楼栋和房号。"))
        return None
    query = select(Household).where(Household.compound_id == g.compound.id, Household.building == building,
                                    Household.room == room)
    if entrance:
        query = query.where(Household.entrance == entrance)
    found = db.session.scalars(query.limit(20)).all()
    if not found:
        form.room.errors.append(_("本小区没有 %(address)s，请核对楼栋和房号。",
                                  address=address_list.shown(building, entrance, room)))
        return None
    if len(found) > 1:
        form.entrance.errors.append(_("%(building)s栋 %(room)s 有 %(n)s 户（%(which)s），请填写单元。",
                                      building=building, room=room, n=len(found),
                                      which="、".join(h.address for h in found)))
        return None
    return found[0]


def refusal_text(topic, household, refused):
    """Why a paper ballot was not taken, as a calm sentence. In a secret topic the earlier ballot's time and
    channel are not shown: they would tell when the household voted (see snapshots.py)."""
    if refused.reason == "already" and topic.secret:
        return _("%(address)s 已经投过票，本议题不允许改票，这张纸质票不能录入。", address=household.address)
    if refused.reason == "already":
        ballot = refused.ballot
        who = names_of([ballot.entered_by]).get(ballot.entered_by) if ballot.entered_by else None
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
    }
    return texts.get(refused.reason, _("这张票没有录入。"))


@admin_bp.route("/<int:topic_id>/paper", methods=["POST"])
@editor_required
def paper(topic_id):
    """Enter a paper ballot for a household, recorded as paper and as entered by this member."""
    topic = load(topic_id)
    if topic.phase() != Phase.voting:  # the paper form is only on the page while voting is open
        flash(_("投票已于 %(when)s 截止，不能再录入。", when=format_datetime(topic.closes_at))
              if topic.phase() in (Phase.closed, Phase.done)
              else _("投票还没开始，%(when)s 开始。", when=format_datetime(topic.opens_at)), "error")
        return redirect(url_for(".show", topic_id=topic.id))
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
        return show_page(topic, 409 if refused.reason == "already" else 400, paper_form=form)
    message = _("已录入纸质票：%(address)s（由 %(who)s 录入）", address=household.address,
                who=current_user.display_name)
    if changed:
        message += _("。这一户之前的票已作废，以这张为准。")
    flash(message, "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#paper")


@admin_bp.route("/<int:topic_id>/opinions/<int:opinion_id>/hide", methods=["POST"])
@editor_required
def hide_opinion(topic_id, opinion_id):
    """Hide a resident's opinion; the reason is shown publicly in its place."""
    topic = load(topic_id)
    opinion = db.session.get(Opinion, opinion_id)
    if opinion is None or opinion.topic_id != topic.id:
        abort(404)
    form = HideOpinionForm()
    if opinion.hidden_at is not None:
        flash(_("这条看法已经隐藏了。"), "info")
    elif not form.validate_on_submit():
        return show_page(topic, 400, hide_forms={opinion.id: form})
    else:
        service.hide_opinion(g.compound, current_user, opinion, form.reason.data.strip())
        db.session.commit()
        flash(_("已隐藏。居民会看到“已隐藏：%(reason)s”。", reason=form.reason.data.strip()), "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#opinions")


def short(text, room):
    """Text cut to fit in `room` characters, with an ellipsis when cut."""
    return text if len(text) <= room else text[:room - 1] + "…"


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
        "", "## " + _("参与情况"), "",
        table_row(_("项目"), _("参与"), _("总数"), _("占比")), "| --- | --- | --- | --- |",
        table_row(_("户数"), fig["part_households"], fig["total_households"], fig["households_share"]),
        table_row(_("业主人数"), fig["part_heads"], fig["total_heads"], fig["heads_share"]),
        table_row(_("专有部分面积（平方米）"), fig["part_area"], fig["total_area"], fig["area_share"]),
        "",
    ]
    if fig["quorum_required"]:
        met = lambda ok: _("已达到") if ok else _("未达到")
        lines += [_("参与门槛（双三分之二）：面积不少于 %(area)s 平方米，%(a)s；人数不少于 %(heads)s 人，%(h)s。",
                    area=fig["quorum_area"], a=met(fig["quorum_area_met"]), heads=fig["quorum_heads"],
                    h=met(fig["quorum_heads_met"])), ""]
    lines += ["## " + _("表决结果"), "",
              table_row(_("选项"), _("户数"), _("业主人数"), _("面积（平方米）"), _("面积占参与面积")),
              "| --- | --- | --- | --- | --- |"]
    for row in fig["options"]:
        lines.append(table_row(row["label"], row["households"], row["heads"],
                                                      row["area"], row["area_share"]))
    lines.append("")
    if fig["need"]:
        lines += [_("通过门槛：同意的面积和人数都要%(share)s参与的面积和人数，即面积至少 %(area)s 平方米、人数至少 %(heads)s 人。",
                    share=fig["need"]["share"], area=fig["need"]["area"], heads=fig["need"]["heads"]), ""]
    lines.append("**" + _("结论：") + fig["verdict"] + "**")
    lines += [""] + [_("原因：") + " ".join(fig["reasons"])] if fig["reasons"] else []
    if fig["tie"]:
        lines += ["", fig["tie"]]
    lines += ["", _("结果指纹（SHA-256，可用于核对票数未被改动）：`%(fp)s`", fp=topic.fingerprint or "—"), "",
              _("特此公告。"), "", _("%(compound)s自治管理委员会", compound=g.compound.name), now_local().strftime("%Y-%m-%d")]
    return "\n".join(lines)


@admin_bp.route("/<int:topic_id>/resolution", methods=["GET", "POST"])
@editor_required
def resolution(topic_id):
    """Publish the resolution notice (决议公告) once, after close, drafted from the frozen result."""
    topic = load(topic_id)
    if topic.phase() not in (Phase.closed, Phase.done):
        flash(_("投票截止后才能发布决议公告。"), "info")
        return redirect(url_for(".show", topic_id=topic.id))
    if topic.resolution_notice_id is not None:
        flash(_("决议公告已经发布过了。"), "info")
        return redirect(url_for(".show", topic_id=topic.id))
    form = ResolutionForm()
    if request.method == "GET":
        form.title.data = _("关于《%(title)s》的决议公告", title=short(topic.title, 108))
        form.body.data = resolution_markdown(topic, figures(topic, service.result_of(topic)))
    if form.validate_on_submit():
        try:
            service.publish_resolution(g.compound, current_user, topic, form.title.data.strip(), form.body.data)
        except service.VoteRefused:
            db.session.rollback()
            flash(_("决议公告已经发布过了。"), "info")
            return redirect(url_for(".show", topic_id=topic.id))
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
    phase = topic.phase()
    if phase != Phase.closed:
        flash(_("这件事已经标记为落实完毕。") if phase == Phase.done else _("投票截止后才能发布落实情况。"), "info")
        return redirect(url_for(".show", topic_id=topic.id))
    form = UpdateForm()
    if not form.validate_on_submit():
        return show_page(topic, 400, update_form=form)
    service.post_update(g.compound, current_user, topic, form.body.data.strip(), form.done.data,
                        _("《%(title)s》落实情况", title=short(topic.title, 112)))
    db.session.commit()
    flash(_("已发布落实情况，并标记为全部落实。") if form.done.data else _("已发布落实情况。"), "success")
    return redirect(url_for(".show", topic_id=topic.id) + "#updates")


# --- exports -----------------------------------------------------------------------------------------------------

def sealed_rows(topic, fig):
    """A secret topic's released snapshot as rows: each option's households, participation, and when."""
    rows = [[_("选项"), _("户数")]]
    rows += [[o["label"], o["households"]] for o in fig["options"]]
    rows += [[], [_("项目"), _("数值")],
             [_("议题"), topic.title], [_("通过规则"), str(topic.rule_label)], [_("状态"), str(PHASE_LABELS[topic.phase()])],
             [_("总户数"), fig["total_households"]], [_("参与户数"), fig["part_households"]],
             [_("总业主人数"), fig["total_heads"]], [_("参与业主人数"), fig["part_heads"]],
             [_("总面积（平方米）"), fig["total_area"]], [_("参与面积（平方米）"), fig["part_area"]],
             [_("说明"), sealed_hint(topic, fig)]]
    return rows


def result_rows(topic):
    """The results table and a summary block of participation and thresholds, as rows of text."""
    fig = figures(topic, service.result_of(topic))
    if fig["sealed"]:
        return sealed_rows(topic, fig)
    yes, no = _("是"), _("否")
    rows = [[_("选项"), _("户数"), _("业主人数"), _("面积（平方米）"), _("通过 / 当选")]]
    rows += [[o["label"], o["households"], o["heads"], o["area"], yes if o["approved"] else no] for o in fig["options"]]
    rows += [[], [_("项目"), _("数值")],
             [_("议题"), topic.title], [_("通过规则"), str(topic.rule_label)], [_("状态"), str(PHASE_LABELS[topic.phase()])],
             [_("总户数"), fig["total_households"]], [_("参与户数"), fig["part_households"]],
             [_("总业主人数"), fig["total_heads"]], [_("参与业主人数"), fig["part_heads"]],
             [_("总面积（平方米）"), fig["total_area"]], [_("参与面积（平方米）"), fig["part_area"]]]
    if fig["quorum_required"]:
        rows += [[_("参与门槛面积（≥2/3，平方米）"), fig["quorum_area"]], [_("参与门槛人数（≥2/3）"), fig["quorum_heads"]]]
    if fig["need"]:
        rows += [[_("同意门槛面积（平方米）"), fig["need"]["area"]], [_("同意门槛人数"), fig["need"]["heads"]]]
    rows += [[_("结论"), fig["verdict"]], [_("原因"), " ".join(fig["reasons"])], [_("平票"), fig["tie"] or ""],
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
    who = names_of(b.entered_by for _h, b in rows)
    table = [[_("地址"), _("选择"), _("投票方式"), _("投票时间"), _("录入人")]]
    table += [[h.address, "、".join(topic.label_of(k) for k in b.choices), str(CHANNEL_LABELS[Channel(b.channel)]),
               exports.local_time(b.cast_at), who.get(b.entered_by, "")] for h, b in rows]
    return exports.csv_response(table, f"topic-{topic.id}-ballots.csv",
                                _("%(title)s-记名投票名单.csv", title=short(topic.title, 60)))


# --- residents' proposals ------------------------------------------------------------------------------------------

@proposals_bp.route("/", endpoint="index")
def proposals_index():
    """Residents' proposals, newest first, with who sent them (for the committee only) and the answer form."""
    items = service.proposals(g.compound, public=False)
    return render_template("consult/admin_proposals.html", proposals=items, form=AnswerForm(formdata=None),
                           failed={})


@proposals_bp.route("/<int:proposal_id>/answer", methods=["POST"])
@editor_required
def answer(proposal_id):
    """Answer a proposal publicly, and say whether it stays open or is finished."""
    proposal = get_or_404_in_compound(Proposal, proposal_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        items = service.proposals(g.compound, public=False)
        return render_template("consult/admin_proposals.html", proposals=items, form=AnswerForm(formdata=None),
                               failed={proposal.id: form}), 400
    status = ProposalStatus.topic if proposal.topic_id and form.outcome.data == ProposalStatus.answered \
        else ProposalStatus(form.outcome.data)
    service.answer_proposal(g.compound, current_user, proposal, form.answer.data.strip(), status)
    db.session.commit()
    flash(_("已答复“%(title)s”，居民在提议列表里能看到。", title=proposal.title), "success")
    return redirect(url_for(".index") + f"#proposal-{proposal.id}")


def blueprints():
    """The committee's topic pages and its proposals page."""
    return [admin_bp, proposals_bp]

