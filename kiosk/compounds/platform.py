"""Platform staff (社区/街道): create compounds and their first chair, see all compounds."""
from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..auth.access import platform_required
from ..auth.models import Membership, Role, User
from ..changes import record_change
from ..extensions import db
from ..notices.models import Notice, Status
from .forms import CompoundForm
from .models import Compound, slug_problem
from .views import new_password

bp = Blueprint("platform", __name__, url_prefix="/admin/platform")
bp.before_request(platform_required)


def create_compound(actor, name, slug, community, district, admin_name, admin_username, password):
    """Create a compound and its first chair account; the caller commits."""
    compound = Compound(name=name, slug=slug, community=community, district=district)
    chair = User(username=admin_username, display_name=admin_name)
    chair.set_password(password)
    db.session.add_all([compound, chair])
    db.session.flush()
    db.session.add(Membership(user_id=chair.id, compound_id=compound.id, role=Role.chair))
    record_change(compound, actor, "compounds", "create", compound, None,
                  {"slug": slug, "name": name, "chair": admin_username})
    return compound, chair


@bp.route("/", methods=["GET", "POST"])
def index():
    """List every compound with its published notice count; create a new compound."""
    form = CompoundForm()
    created = None
    if form.validate_on_submit():
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
                                              form.admin_name.data.strip(), username, password)
            db.session.commit()
            created = {"compound": compound, "username": username, "password": password}
            flash(_("小区已创建。"), "success")
            form = CompoundForm(formdata=None)
    counts = dict(db.session.execute(
        select(Notice.compound_id, func.count()).where(Notice.status == Status.published)
        .group_by(Notice.compound_id)).all())
    compounds = db.session.scalars(select(Compound).order_by(Compound.district, Compound.name)).all()
    status = 400 if request.method == "POST" and form.errors else 200
    return render_template("platform/index.html", form=form, compounds=compounds, counts=counts,
                           created=created), status
