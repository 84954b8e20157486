"""Distribution of benefits (福利发放): the committee's events and pickups, and the residents' progress page."""
from datetime import timedelta

from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import exports
from ..auth.access import editor_required, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..database import utcnow
from ..extensions import db
from ..htmx import render, trigger, wants_fragment
from ..security import local_path
from ..timefmt import format_datetime, from_local_naive, local_input, now_local
from ..households import address_list
from ..households.models import Household
from . import service
from .forms import EventForm, NewEventForm
from .models import DistributionEvent

admin_bp = bind_compound(Blueprint("distribution_admin", __name__, url_prefix="/admin/<compound>/events"))
admin_bp.before_request(require_committee)
bp = bind_compound(Blueprint("distribution", __name__, url_prefix="/<compound>"))


@admin_bp.route("/")
def index():
    """The compound's events: handing out now, coming up, and past, each with its progress."""
    groups = service.events_by_state(g.compound)
    progress = service.progress_of(e.id for events in groups.values() for e in events)
    return render_template("households/event_index.html", groups=groups, progress=progress)


def _window(form):
    """The event fields from a validated form, times in UTC."""
    return {"name": form.name.data.strip(), "item": form.item.data.strip(),
            "starts_at": from_local_naive(form.starts_at.data), "ends_at": from_local_naive(form.ends_at.data)}


def _eligible(form):
    """Return (household ids, description) for the form's eligibility choice, or None after adding errors."""
    scope = form.scope.data
    if scope == "list":
        upload = form.address_list.data
        if not upload or not getattr(upload, "filename", ""):
            form.address_list.errors.append(_("选了“上传名单”，请选择名单文件。"))
            return None
        try:
            ids = address_list.read(upload.read(), service.all_households(g.compound))
        except address_list.AddressListError as problem:
            form.address_list.errors.extend(str(e) for e in problem.errors)
            return None
        return ids, _("上传的名单（%(file)s）", file=upload.filename)[:200]
    if scope == "buildings":
        chosen = [b for b in form.buildings.data or [] if b in dict(form.buildings.choices)]
        if not chosen:
            form.buildings.errors.append(_("选了“指定楼栋”，请至少勾选一栋。"))
            return None
        households = service.households_in_scope(g.compound, scope, chosen, form.occupied_only.data)
        description = _("%(buildings)s 栋", buildings="、".join(chosen))
        if form.occupied_only.data:
            description += _("，不含空置、开发商持有")
        return [h.id for h in households], description[:200]
    households = service.households_in_scope(g.compound, scope)
    labels = {"all": _("全部住户"), "occupied": _("全部在住户（不含空置、开发商持有）")}
    return [h.id for h in households], labels[scope]


@admin_bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Create an event; its list of eligible households is fixed now."""
    form = NewEventForm()
    form.buildings.choices = [(b, _("%(building)s 栋", building=b)) for b in service.buildings(g.compound)]
    if request.method == "GET":
        start = now_local().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        form.starts_at.data = start.replace(tzinfo=None)
        form.ends_at.data = (start + timedelta(days=3)).replace(hour=18, tzinfo=None)
    if form.validate_on_submit():
        chosen = _eligible(form)
        if chosen is not None and not chosen[0]:
            form.scope.errors.append(_("按这个条件一户也没有。请先在“住户”里录入住户，或换一个条件。"))
        elif chosen is not None:
            event = service.create_event(g.compound, current_user, _window(form), *chosen)
            db.session.commit()
            flash(_("已建好“%(name)s”，名单上共 %(n)s 户。", name=event.name, n=len(chosen[0])), "success")
            return redirect(url_for(".show", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template("households/event_form.html", form=form, event=None), status


@admin_bp.route("/<int:event_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(event_id):
    """Change the name, the item or the pickup window (the list stays as it was made)."""
    event = get_or_404_in_compound(DistributionEvent, event_id)
    form = EventForm(obj=event) if request.method == "GET" else EventForm()
    if request.method == "GET":
        form.starts_at.data = local_input(event.starts_at)
        form.ends_at.data = local_input(event.ends_at)
    if form.validate_on_submit():
        service.edit_event(g.compound, current_user, event, _window(form))
        db.session.commit()
        flash(_("已保存。"), "success")
        return redirect(url_for(".show", event_id=event.id))
    status = 400 if request.method == "POST" else 200
    return render_template("households/event_form.html", form=form, event=event), status


def _find_terms():
    """The building and room asked for, cleaned the way addresses are stored."""
    building = address_list.clean_building(request.args.get("building", ""))[:20]
    room = address_list.clean_room(request.args.get("room", ""))[:20]
    return building, room


@admin_bp.route("/<int:event_id>")
def show(event_id):
    """One event: progress, find a household by building and room, who has and has not collected.

    With ?building=&room= it also lists the matching households; htmx gets just that list.
    """
    event = get_or_404_in_compound(DistributionEvent, event_id)
    building, room = _find_terms()
    searched = bool(building or room)
    found, more = service.search(event, building, room) if searched else ([], False)
    context = {"event": event, "building": building, "room": room, "searched": searched, "found": found,
               "more": more, "next": request.full_path.rstrip("?"), "oob": False, "now": utcnow()}
    if not wants_fragment():
        context.update(progress=service.progress(event), state=event.state(), collected=service.collected(event),
                       waiting=service.not_collected(event))
    return render("households/event_show.html", "households/_event_results.html", **context)


@admin_bp.route("/<int:event_id>/progress")
def progress(event_id):
    """The progress block (htmx refreshes it after each pickup); a direct visit goes to the event page."""
    event = get_or_404_in_compound(DistributionEvent, event_id)
    if not wants_fragment():
        return redirect(url_for(".show", event_id=event.id))
    return render("households/event_show.html", "households/_event_progress.html", event=event,
                  progress=service.progress(event), state=event.state())


def _outcome(event, household_id, status, message, household=None, pickup=None):
    """Answer a pickup: htmx gets the row's new content (and the count refreshes), others a redirect and a flash."""
    back = local_path(request.form.get("next", ""), url_for(".show", event_id=event.id))
    if not wants_fragment():
        flash(("✓ " if status == 200 else "✗ ") + message, "success" if status == 200 else "error")
        return redirect(back)
    find_building = request.form.get("find_building")
    response = make_response(render_template(
        "households/_event_outcome.html", event=event, household_id=household_id, household=household,
        pickup=pickup, ok=status == 200, message=message, building=find_building or "", room="",
        oob=find_building is not None and status == 200), status)
    response.vary.add("HX-Request")
    return trigger(response, "pickup-recorded") if pickup is not None else response


def _refusal_sentence(event, reason):
    """Why a pickup was not recorded: not on the list, not started yet, or over."""
    if reason == "not_started":
        return _("“%(name)s”还没开始领取，%(when)s 开始。", name=event.name, when=format_datetime(event.starts_at))
    if reason == "ended":
        return _("“%(name)s”已于 %(when)s 截止，不能再登记领取。", name=event.name,
                 when=format_datetime(event.ends_at))
    return _("这一户不在“%(name)s”的名单上，不能领取。", name=event.name)


def _collected_message(household, pickup):
    """Why a second pickup is refused: when the household collected, and who recorded it."""
    who = pickup.recorder.display_name if pickup.recorder else _("（账号已删除）")
    return _("%(address)s 已于 %(when)s 领取（由 %(who)s 登记），不能重复领取。",
             address=household.address, when=format_datetime(pickup.collected_at), who=who)


@admin_bp.route("/<int:event_id>/pickups", methods=["POST"])
@editor_required
def pickup(event_id):
    """Mark a household as having collected; refuse one not on the list, outside the window, or a second time."""
    event = get_or_404_in_compound(DistributionEvent, event_id)
    household_id = request.form.get("household_id", type=int)
    household = db.session.get(Household, household_id) if household_id else None
    try:
        done = service.collect(g.compound, current_user, event, household)
    except service.PickupRefused as refused:
        return _outcome(event, household_id, 400, _refusal_sentence(event, refused.reason),
                        household if refused.reason != "not_listed" else None)
    except service.AlreadyCollected as taken:
        return _outcome(event, household_id, 409, _collected_message(household, taken.pickup), household,
                        taken.pickup)
    message = _("已登记领取：%(address)s，%(when)s。", address=household.address,
                when=format_datetime(done.collected_at))
    return _outcome(event, household_id, 200, message, household, done)


@admin_bp.route("/household/<int:household_id>")
def household(household_id):
    """One household (reached by scanning its card): every open event with a button, and its recent pickups."""
    household = get_or_404_in_compound(Household, household_id)
    events = service.open_events(g.compound)
    return render_template("households/event_household.html", household=household, events=events,
                           standing=service.household_status(household, events),
                           recent=service.recent_pickups(household), next=request.path, now=utcnow())


@admin_bp.route("/<int:event_id>/<any(posting, committee):kind>.csv")
def export(event_id, kind):
    """The list as CSV: "posting" (addresses and whether collected, to put up) or "committee" (with contacts)."""
    event = get_or_404_in_compound(DistributionEvent, event_id)
    rows = service.roll_for_export(event)
    yes, no = _("已领取"), _("未领取")
    if kind == "posting":
        table = [[_("地址"), _("是否已领取"), _("领取时间")]]
        table += [[h.address, yes if p else no, exports.local_time(p.collected_at if p else None)] for h, p in rows]
        name = _("%(name)s-公示名单.csv", name=event.name)
    else:
        table = [[_("地址"), _("联系人"), _("联系电话"), _("是否已领取"), _("领取时间"), _("登记人")]]
        table += [[h.address, h.contact_name, h.contact_phone, yes if p else no,
                   exports.local_time(p.collected_at if p else None),
                   (p.recorder.display_name if p.recorder else "") if p else ""] for h, p in rows]
        name = _("%(name)s-委员会名单（含联系方式，勿张贴）.csv", name=event.name)
    return exports.csv_response(table, f"distribution-{event.id}-{kind}.csv", name)


@bp.route("/events/<int:event_id>")
def public_show(event_id):
    """What residents see: the event, what is handed out, when, and how many households have collected."""
    event = get_or_404_in_compound(DistributionEvent, event_id)
    return render_template("households/event_public.html", event=event, progress=service.progress(event),
                           state=event.state())


def blueprints():
    """The committee's pages and the residents' event page."""
    return [admin_bp, bp]
