"""The compound's phone home page, and the chair's page for committee accounts."""
import secrets

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.access import chair_required, require_committee
from ..auth.models import Membership, Role, User
from ..changes import record_change
from ..extensions import db
from ..htmx import render
from ..notices.models import CATEGORY_LABELS, Category, public_notices
from .context import bind_compound, get_or_404_in_compound
from .forms import MemberForm

bp = bind_compound(Blueprint("compounds", __name__, url_prefix="/<compound>"))
admin_bp = bind_compound(Blueprint("compound_admin", __name__, url_prefix="/admin/<compound>"))
admin_bp.before_request(require_committee)
site_bp = Blueprint("site", __name__)


@site_bp.route("/")
def index():
    """The bare server address: tell a visitor to scan their compound's code."""
    return render_template("compounds/site.html")


@bp.route("/")
def home():
    """The compound's phone home: current notices, urgent and pinned first, filterable by category."""
    category = request.args.get("c")
    try:
        category = Category(category) if category else None
    except ValueError:
        category = None
    notices = db.session.scalars(public_notices(g.compound, category)).all()
    return render("compounds/home.html", "compounds/_notices.html",
                  notices=notices, category=category, categories=CATEGORY_LABELS)


def new_password():
    """Return a one-time password that is easy to read aloud and type on a phone."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


@admin_bp.route("/members", methods=["GET", "POST"])
@chair_required
def members():
    """List the committee's accounts and add one with a one-time password."""
    form = MemberForm()
    one_time = None
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        if db.session.scalar(select(User).where(User.username == username)):
            form.username.errors.append(_("这个用户名已经有人用了。"))
        else:
            one_time = new_password()
            user = User(username=username, display_name=form.display_name.data.strip())
            user.set_password(one_time)
            db.session.add(user)
            db.session.flush()
            membership = Membership(user_id=user.id, compound_id=g.compound.id, role=Role(form.role.data))
            db.session.add(membership)
            record_change(g.compound, current_user, "accounts", "create", user, None,
                          {"username": username, "role": form.role.data})
            db.session.commit()
            flash(_("已添加。请把一次性密码交给本人，首次登录后须改密码。"), "success")
            form = MemberForm(formdata=None)
    memberships = db.session.scalars(
        select(Membership).where(Membership.compound_id == g.compound.id).join(User).order_by(User.display_name)).all()
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("compounds/members.html", form=form, memberships=memberships,
                           one_time=one_time, created=username if one_time else None), status


@admin_bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@chair_required
def remove_member(membership_id):
    """Take an account off this compound's committee (its audit history stays)."""
    membership = get_or_404_in_compound(Membership, membership_id)
    if membership.user_id == current_user.id:
        flash(_("不能移除自己的账号。"), "error")
        return redirect(url_for("compound_admin.members"))
    record_change(g.compound, current_user, "accounts", "remove", membership.user,
                  {"username": membership.user.username, "role": str(membership.role)}, None)
    db.session.delete(membership)
    db.session.commit()
    flash(_("已移除。"), "success")
    return redirect(url_for("compound_admin.members"))
