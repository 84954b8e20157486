"""The committee's pages about itself: its accounts (the chair's members page; supervisors are platform staff's
to appoint or remove, see auth/supervision.py) and the audit log of every change in the compound."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth import accounts, supervision
from ..auth.access import chair_required, require_committee
from ..auth.accounts import AccountRefused, new_password
from ..auth.models import Membership, Role, User
from ..changes import AuditEntry
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from . import audit as words
from .forms import MemberForm

admin_bp = bind_compound(Blueprint("compound_admin", __name__, url_prefix="/admin/<compound>"))
admin_bp.before_request(require_committee)


def blueprints():
    """The members page and the audit log."""
    return [admin_bp]


def _refusal_sentence(refused):
    """The sentence for an account rule, shown next to the field it concerns."""
    sentences = {
        "username_taken": lambda: _("这个用户名已经有人用了。"),
        "name_unreadable": lambda: _("姓名里要有能认出来的字。"),
        "name_taken": lambda: _("本小区已有一位“%(name)s”（写法相近也算同名）。同名会让签字和操作记录分不清是谁，"
                                "请加上区分，例如“%(name)s（3栋）”。", name=refused.detail.get("name", "")),
        "supervisor": lambda: _("监督委员由街道任命，或按居民选举的结果产生，委员会不能自己添加或移除。"),
        "not_platform": lambda: _("监督委员由街道任命，或按居民选举的结果产生，委员会不能自己添加或移除。"),
        "chair": lambda: _("副主任不能移除主任。"),
        "self": lambda: _("不能移除自己的账号。"),
    }
    return sentences.get(refused.reason, lambda: _("这件事现在不能做。"))()


FIELD_OF_REFUSAL = {"username_taken": "username", "name_unreadable": "display_name", "name_taken": "display_name",
                    "supervisor": "role", "not_platform": "role"}


def _add_account(form, platform):
    """Create the account the form describes; return ((username, one-time password), 200), or (None, status)
    with the problem next to its field (403 when the role is not the committee's to give)."""
    username = form.username.data.strip().lower()
    display_name = form.display_name.data.strip()
    role = Role(form.role.data)
    one_time = new_password()
    try:
        if role == Role.supervisor and platform:
            supervision.appoint_new(g.compound, current_user, username, display_name, one_time)
        else:
            accounts.add_member(g.compound, current_user, username, display_name, role, one_time)
    except AccountRefused as refused:
        db.session.rollback()
        getattr(form, FIELD_OF_REFUSAL.get(refused.reason, "username")).errors.append(_refusal_sentence(refused))
        return None, 403 if refused.reason in ("supervisor", "not_platform") else 400
    db.session.commit()
    return (username, one_time), 200


def _member_form(platform, **kwargs):
    """The add-account form; only platform staff are offered the supervisor role."""
    form = MemberForm(**kwargs)
    if not platform:
        form.role.choices = [c for c in form.role.choices if c.value != Role.supervisor.value]
    return form


@admin_bp.route("/members", methods=["GET", "POST"])
@chair_required
def members():
    """List the committee's accounts and add one with a one-time password; supervisors are platform staff's to
    appoint (or an election's), so a chair's form does not offer them."""
    platform = current_user.is_platform_admin
    form = _member_form(platform)
    created, status = None, 200
    if request.method == "POST" and request.form.get("role") == Role.supervisor.value and not platform:
        form.validate()
        form.role.errors = [_refusal_sentence(AccountRefused("supervisor"))]
        status = 403
    elif form.validate_on_submit():
        created, status = _add_account(form, platform)
        if created:
            flash(_("已添加。请把一次性密码交给本人，首次登录后须改密码。"), "success")
            form = _member_form(platform, formdata=None)
    elif request.method == "POST":
        status = 400
    memberships = db.session.scalars(
        select(Membership).where(Membership.compound_id == g.compound.id).join(User).order_by(User.display_name)).all()
    return render_template("compounds/members.html", form=form, memberships=memberships, created=created,
                           basis=supervision.basis(g.compound), platform=platform), status


@admin_bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@chair_required
def remove_member(membership_id):
    """Take an account off this compound's committee (its audit history stays); a supervisor only by platform
    staff, recorded on the public roster."""
    membership = get_or_404_in_compound(Membership, membership_id)
    try:
        if membership.role == Role.supervisor:
            supervision.remove(g.compound, current_user, membership)
        else:
            accounts.remove_member(g.compound, current_user, g.role, membership)
    except AccountRefused as refused:
        db.session.rollback()
        if refused.reason == "self":
            flash(_refusal_sentence(refused), "error")
            return redirect(url_for("compound_admin.members"))
        abort(403)
    db.session.commit()
    flash(_("已移除。"), "success")
    return redirect(url_for("compound_admin.members"))


@admin_bp.route("/audit")
def audit():
    """The compound's audit log, newest first: who changed what, when, from what to what."""
    page = max(request.args.get("page", 1, type=int), 1)
    entries = db.paginate(select(AuditEntry).where(AuditEntry.compound_id == g.compound.id)
                          .order_by(AuditEntry.id.desc()), page=page, per_page=50, error_out=False)
    actors = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({e.actor_id for e in entries.items if e.actor_id})))}
    return render_template("compounds/audit.html", entries=entries, actors=actors,
                           changed_fields=words.changed_fields, action_labels=words.ACTION_LABELS,
                           field_labels=words.FIELD_LABELS, value_label=words.value_label)
