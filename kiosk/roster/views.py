"""The committee roster (委员名单): the committee keeps it, residents read it on the phone and the lobby screen."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth import supervision
from ..auth.access import editor_required, require_committee
from ..auth.models import Role
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from ..htmx import render
from ..timefmt import format_day, local_date
from ..uploads import KEEP, ImageRejected, image_choice
from . import service
from .forms import RosterForm
from .models import RosterMember

admin_bp = bind_compound(Blueprint("roster_admin", __name__, url_prefix="/admin/<compound>/roster"))
admin_bp.before_request(require_committee)
bp = bind_compound(Blueprint("roster", __name__, url_prefix="/<compound>"))


def _admin_context(message=None, message_category="success"):
    current, upcoming, past = service.split_by_day(service.members_of(g.compound), local_date())
    return {"current": current, "upcoming": upcoming, "past": service.by_term(past), "message": message,
            "message_category": message_category}


@admin_bp.route("/")
def index():
    """The roster: this term first in role order, then members yet to start, then past terms."""
    return render("households/roster_admin.html", "households/_roster_admin_list.html", **_admin_context())


def _fields(form):
    return {"name": form.name.data, "role": Role(form.role.data), "term_start": form.term_start.data,
            "term_end": form.term_end.data, "intro": form.intro.data or ""}


def _handle_form(form, member):
    """Validate and save; return a redirect on success or None to show the form again with its errors."""
    if not form.validate_on_submit():
        return None
    fields = _fields(form)
    try:
        photo = image_choice(form.photo, form.remove_photo, g.compound, current_user)
    except ImageRejected as problem:
        form.photo.errors.append(str(problem))
        db.session.rollback()
        return None
    if photo is not KEEP:
        fields["photo"] = photo
    member = service.save(g.compound, current_user, member, fields)
    db.session.commit()
    flash(_("已保存%(name)s的信息，居民现在就能看到。", name=member.name), "success")
    return redirect(url_for("roster_admin.index"))


@admin_bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Add a member to the roster."""
    form = RosterForm()
    term = None
    if request.method == "GET":
        term = service.shared_term(service.current_members(g.compound, local_date()))
    if term:  # most entries belong to the term already listed
        form.term_start.data, form.term_end.data = term
    done = _handle_form(form, None)
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("households/roster_form.html", form=form, member=None), status


@admin_bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(member_id):
    """Correct a roster entry, past terms included."""
    member = get_or_404_in_compound(RosterMember, member_id)
    form = RosterForm(obj=member) if request.method == "GET" else RosterForm()
    if request.method == "GET":
        form.role.data = member.role.value
    done = _handle_form(form, member)
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("households/roster_form.html", form=form, member=member), status


@admin_bp.route("/<int:member_id>/end-term", methods=["POST"])
@editor_required
def end(member_id):
    """Record that a current member leaves office today; they stay on the roster under past terms."""
    member = get_or_404_in_compound(RosterMember, member_id)
    try:
        service.end_term(g.compound, current_user, member, local_date())
    except service.RosterRefused as refused:
        if refused.reason == "not_current":
            message, category = _("%(name)s现在不在任期内，不用卸任。", name=member.name), "info"
        else:
            message, category = _("%(name)s的任期昨天或今天才开始，不能这样卸任。如果是录错了，请点“修改”后删除。",
                                  name=member.name), "error"
    else:
        db.session.commit()
        message, category = _("%(name)s已卸任，任期到 %(day)s，名字已移到往届。",
                              name=member.name, day=format_day(member.term_end)), "success"
    if request.htmx:
        return render("households/roster_admin.html", "households/_roster_admin_list.html",
                      **_admin_context(message, category))
    flash(message, category)
    return redirect(url_for("roster_admin.index"))


@admin_bp.route("/<int:member_id>/delete", methods=["POST"])
@editor_required
def remove(member_id):
    """Delete an entry made by mistake (people who served stay as history: use end-term for them)."""
    member = get_or_404_in_compound(RosterMember, member_id)
    name = member.name
    service.delete(g.compound, current_user, member)
    db.session.commit()
    flash(_("已删除%(name)s这条记录。", name=name), "success")
    return redirect(url_for("roster_admin.index"))


@bp.route("/committee")
def show():
    """The committee as residents see it: this term, members about to start, past terms, and the supervisory
    body with every change to it (date, and the street office's or an election's authority)."""
    current, upcoming, past = service.split_by_day(service.members_of(g.compound), local_date())
    sitting = supervision.sitting(g.compound)
    return render_template("households/roster_public.html", current=current, upcoming=upcoming,
                           past=service.by_term(past), current_term=service.shared_term(current),
                           upcoming_term=service.shared_term(upcoming), notes=service.supervisor_notes(g.compound, current), sitting=sitting,
                           basis=supervision.basis(g.compound), changes=supervision.history(g.compound))


def blueprints():
    """The committee's roster pages and the residents' page."""
    return [admin_bp, bp]
