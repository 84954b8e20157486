"""The committee's notice templates page: list, add, edit, delete (members who may post notices only)."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import can_edit, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from . import template_service as service
from .forms import NoticeTemplateForm
from .models import NoticeTemplate

bp = bind_compound(Blueprint("notice_templates", __name__, url_prefix="/admin/<compound>/notices/templates"))


@bp.before_request
def _editors_only():
    """Templates are for the members who write notices: anyone else is refused (supervisors 403)."""
    refusal = require_committee()
    if refusal is not None:
        return refusal
    if not can_edit():
        abort(403)
    return None


def _save(form, template):
    """Validate and save; return a redirect, or None to show the form again with its errors next to the fields."""
    if not form.validate_on_submit():
        return None
    try:
        service.save_template(g.compound, current_user, template, form.title.data.strip(), form.body.data or "",
                              form.category.data)
    except service.TemplateRefused:
        db.session.rollback()
        form.title.errors.append(_("已经有一个同名的模板了，换个标题，或者去改那一个。"))
        return None
    db.session.commit()
    flash(_("模板已保存。"), "success")
    return redirect(url_for(".index"))


@bp.route("/", methods=["GET", "POST"])
def index():
    """The compound's templates, and a form to add one."""
    form = NoticeTemplateForm()
    done = _save(form, None)
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("notices/templates.html", templates=service.templates_of(g.compound), form=form), status


@bp.route("/<int:template_id>", methods=["GET", "POST"])
def edit(template_id):
    """Change one template."""
    template = get_or_404_in_compound(NoticeTemplate, template_id)
    form = NoticeTemplateForm(obj=template) if request.method == "GET" else NoticeTemplateForm()
    if request.method == "GET":
        form.category.data = template.category.value
    done = _save(form, template)
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("notices/template_form.html", form=form, template=template), status


@bp.route("/<int:template_id>/delete", methods=["POST"])
def delete(template_id):
    """Delete one template; notices already written from it keep their text."""
    template = get_or_404_in_compound(NoticeTemplate, template_id)
    service.delete_template(g.compound, current_user, template)
    db.session.commit()
    flash(_("模板“%(title)s”已删除。", title=template.title), "success")
    return redirect(url_for(".index"))
