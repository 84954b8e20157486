"""The committee's notice pages: list, post, edit, publish, unpublish, archive."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import case, select

from ..auth.access import editor_required, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from ..htmx import render, trigger
from ..screen.models import split_buildings
from ..timefmt import from_local_naive, local_input
from ..uploads import KEEP, ImageRejected, image_choice
from . import service
from .forms import NoticeForm
from .models import Category, Notice, NoticeTemplate, Status
from .template_service import templates_of

bp = bind_compound(Blueprint("notices_admin", __name__, url_prefix="/admin/<compound>/notices"))
bp.before_request(require_committee)

STATUS_TABS = ("current", "draft", "archived")


@bp.route("/")
def index():
    """List the compound's notices by status tab."""
    tab = request.args.get("tab", "current")
    if tab not in STATUS_TABS:
        tab = "current"
    status = {"current": Status.published, "draft": Status.draft, "archived": Status.archived}[tab]
    notices = db.session.scalars(
        select(Notice).where(Notice.compound_id == g.compound.id, Notice.status == status)
        .order_by(Notice.urgent.desc(), Notice.pinned.desc(),
                  case((Notice.published_at.is_(None), Notice.updated_at), else_=Notice.published_at).desc(),
                  Notice.id.desc())
    ).all()
    return render("notices/admin_index.html", "notices/_admin_list.html", notices=notices, tab=tab)


def _fields(form):
    """Turn a validated form into model fields (times converted to UTC)."""
    return {
        "title": form.title.data.strip(),
        "body": form.body.data or "",
        "category": Category(form.category.data),
        "urgent": form.urgent.data,
        "pinned": form.pinned.data,
        "buildings": ",".join(split_buildings(form.buildings.data)),
        "starts_at": from_local_naive(form.starts_at.data),
        "ends_at": from_local_naive(form.ends_at.data),
    }


def _handle_form(form, notice):
    """Validate and save the notice form; return a redirect on success or None to re-render with errors."""
    if not form.validate_on_submit():
        return None
    publish = request.form.get("action") == "publish"
    fields = _fields(form)
    try:
        image = image_choice(form.image, form.remove_image, g.compound, current_user)
    except ImageRejected as problem:
        form.image.errors.append(str(problem))
        db.session.rollback()
        return None
    if image is not KEEP:
        fields["image"] = image
    notice = service.save(g.compound, current_user, notice, fields, publish)
    db.session.commit()
    if notice.status == Status.published and not notice.is_public():
        flash(_("已保存。按设定的显示时间，居民现在还看不到这条通知。"), "info")
    else:
        flash(_("已发布，居民现在就能看到。") if publish else _("已存为草稿。"), "success")
    return redirect(url_for("notices_admin.index", tab="current" if notice.status == Status.published else "draft"))


@bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Post a new notice."""
    form = NoticeForm()
    done = _handle_form(form, None)
    if done is not None:
        return done
    picked, missing = None, False
    if request.method == "GET" and request.args.get("template"):
        picked, missing = _start_from_template(form, request.args.get("template"))
    return render_template("notices/form.html", form=form, notice=None, templates=templates_of(g.compound),
                           picked=picked, template_missing=missing), 400 if request.method == "POST" else 200


def _start_from_template(form, wanted):
    """Fill an empty notice form from one of this compound's templates; return (template, missing)."""
    template = db.session.get(NoticeTemplate, int(wanted)) if wanted.isdigit() and len(wanted) < 10 else None
    if template is None or template.compound_id != g.compound.id:
        return None, True  # another compound's template is as absent as a deleted one
    form.title.data, form.body.data, form.category.data = template.title, template.body, template.category.value
    return template, False


@bp.route("/<int:notice_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(notice_id):
    """Edit a notice; archived ones are read-only."""
    notice = get_or_404_in_compound(Notice, notice_id)
    if notice.status == Status.archived:
        abort(404)
    form = NoticeForm(obj=notice) if request.method == "GET" else NoticeForm()
    if request.method == "GET":
        form.starts_at.data = local_input(notice.starts_at)
        form.ends_at.data = local_input(notice.ends_at)
        form.category.data = notice.category.value
    done = _handle_form(form, notice)
    if done is not None:
        return done
    return render_template("notices/form.html", form=form, notice=notice, templates=(), picked=None,
                           template_missing=False), 400 if request.method == "POST" else 200


@bp.route("/<int:notice_id>")
def show(notice_id):
    """Preview a notice as residents would see it, with its status."""
    notice = get_or_404_in_compound(Notice, notice_id)
    return render_template("notices/admin_show.html", notice=notice)


@bp.route("/<int:notice_id>/<any(publish, unpublish, archive):action>", methods=["POST"])
@editor_required
def change_status(notice_id, action):
    """Publish, unpublish or archive; htmx gets the updated row, others a redirect."""
    notice = get_or_404_in_compound(Notice, notice_id)
    if notice.status == Status.archived:
        abort(404)
    service.set_status(g.compound, current_user, notice, action)
    db.session.commit()
    messages = {"publish": _("已发布。"), "unpublish": _("已撤回为草稿，居民不再看到。"), "archive": _("已归档。")}
    if request.htmx:
        response = render("notices/admin_index.html", "notices/_admin_row.html", notice=notice,
                          message=messages[action], tab=None)
        return trigger(response, "notices-changed")
    flash(messages[action], "success")
    return redirect(request.referrer if request.referrer and request.referrer.startswith(request.host_url)
                    else url_for("notices_admin.index"))
