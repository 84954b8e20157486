"""Platform staff (社区/街道): every compound with its published notices, and a new compound with its first chair."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import platform_required
from ..auth.accounts import new_password
from ..auth.models import User
from ..extensions import db
from ..notices.models import Notice, Status
from ..compounds.models import REAL, Compound, slug_problem
from ..consult.procedure import PROFILES, profile_for
from .forms import CompoundForm, ProcedureForm
from .service import create_compound, set_procedure_profile

bp = Blueprint("platform", __name__, url_prefix="/admin/platform")
bp.before_request(platform_required)


def blueprints():
    """The street office's compounds page."""
    return [bp]


@bp.route("/", methods=["GET", "POST"])
def index():
    """List every compound with its published notice count; create a new compound."""
    form = CompoundForm()
    compounds = db.session.scalars(select(Compound).where(REAL).order_by(Compound.district, Compound.name)).all()
    form.set_models(compounds)
    created = None
    if form.validate_on_submit():
        model = _model(form, compounds)
        slug = form.slug.data.strip().lower()
        username = form.admin_username.data.strip().lower()
        problem = slug_problem(slug)
        if problem:
            form.slug.errors.append(problem)
        elif db.session.scalar(select(Compound).where(Compound.slug == slug)):
            form.slug.errors.append(_("这个网址名已被其他小区使用。"))
        if db.session.scalar(select(User).where(User.username == username)):
            form.admin_username.errors.append(_("这个用户名已经有人用了。"))
        if not form.errors:
            password = new_password()
            compound, chair = create_compound(current_user, form.name.data.strip(), slug,
                                              form.community.data.strip(), form.district.data.strip(),
                                              form.admin_name.data.strip(), username, password,
                                              form.procedure_profile.data, model)
            db.session.commit()
            created = {"compound": compound, "username": username, "password": password, "model": model}
            flash(_("小区已创建。"), "success")
            compounds = db.session.scalars(select(Compound).where(REAL).order_by(Compound.district, Compound.name)).all()
            form = CompoundForm(formdata=None)
            form.set_models(compounds)
    counts = dict(db.session.execute(
        select(Notice.compound_id, func.count()).where(Notice.status == Status.published)
        .group_by(Notice.compound_id)).all())
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("platform/index.html", form=form, compounds=compounds, counts=counts,
                           created=created, profiles=PROFILES), status


def _model(form, compounds):
    """The compound chosen to copy from, or None for "不复制"; an unknown choice is an error next to the field."""
    wanted = (form.copy_from.data or "").strip()
    if not wanted:
        return None
    found = next((c for c in compounds if str(c.id) == wanted), None)
    if found is None:
        form.copy_from.errors.append(_("找不到这个小区（可能刚被改动），请从列表里重新选择。"))
    return found


@bp.route("/<int:compound_id>/procedure", methods=["GET", "POST"])
def procedure(compound_id):
    """Choose the procedure profile a compound's votes follow; the change is audited in the compound."""
    compound = db.get_or_404(Compound, compound_id)
    form = ProcedureForm(obj=compound) if request.method == "GET" else ProcedureForm()
    if form.validate_on_submit():
        if set_procedure_profile(current_user, compound, form.procedure_profile.data):
            db.session.commit()
            flash(_("%(name)s 的议事规则已改为“%(rules)s”。", name=compound.name,
                    rules=profile_for(compound).name), "success")
        return redirect(url_for(".index"))
    status = 400 if request.method == "POST" else 200
    return render_template("platform/procedure.html", form=form, compound=compound,
                           profile=profile_for(compound)), status
