"""The chair's settings of the book (opening balance and start until the first close, cadence, signatures,
source) and the income and expense categories."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.access import can_edit, chair_required, editor_required
from ...compounds.context import get_or_404_in_compound
from ...extensions import db
from ...money import plain_yuan
from .. import service
from ..forms import CategoryForm, RenameForm, SettingsForm
from ..models import CADENCE_LABELS, Cadence, Category, Kind
from .base import admin_bp, refused
from .sentences import field_errors


def _categories_page(form=None, status=200):
    by_kind = {Kind.income: [], Kind.expense: []}
    for category in service.categories(g.compound, with_archived=True):
        by_kind[Kind(category.kind)].append(category)
    return render_template("ledger/admin_categories.html", by_kind=by_kind, used=service.used_categories(g.compound),
                           form=form or CategoryForm(formdata=None), rename=RenameForm(formdata=None)), status


@admin_bp.route("/categories", methods=["GET", "POST"])
def categories():
    """The income and expense categories: add, rename, stop using (archived ones stay on old entries)."""
    if request.method == "GET":
        return _categories_page()
    if not can_edit():
        abort(403)
    form = CategoryForm()
    if form.validate_on_submit():
        name = form.name.data.strip()
        try:
            service.add_category(g.compound, current_user, form.flow.data, name)
        except service.FieldsRefused as problems:
            db.session.rollback()
            field_errors(form, problems)
        else:
            db.session.commit()
            flash(_("已添加类别“%(name)s”。", name=name), "success")
            return redirect(url_for(".categories"))
    return _categories_page(form, 400)


def _category(category_id):
    return get_or_404_in_compound(Category, category_id)


@admin_bp.route("/categories/<int:category_id>/rename", methods=["POST"])
@editor_required
def rename_category(category_id):
    """Rename a category no posted entry uses yet (renaming would relabel what residents already saw)."""
    category = _category(category_id)
    form = RenameForm()
    if not form.validate_on_submit():
        return refused(" ".join(map(str, form.name.errors)) or _("请填写类别名称。"), 400, url_for(".categories"))
    service.rename_category(g.compound, current_user, category, form.name.data.strip())
    db.session.commit()
    flash(_("已改名为“%(name)s”。", name=category.name), "success")
    return redirect(url_for(".categories"))


@admin_bp.route("/categories/<int:category_id>/archive", methods=["POST"])
@editor_required
def archive_category(category_id):
    """Stop offering a category for new entries, or offer it again."""
    category = service.toggle_archived(g.compound, current_user, _category(category_id))
    db.session.commit()
    flash(_("“%(name)s”已停用。", name=category.name) if category.archived
          else _("“%(name)s”已恢复使用。", name=category.name), "success")
    return redirect(url_for(".categories"))


def _values(form, fixed):
    """The settings the form carries (the opening and start only while they can still change)."""
    values = {"cadence": Cadence(form.cadence.data), "signoffs_required": form.signoffs_required.data,
              "disclosure_days": form.disclosure_days.data, "source": form.source.data.strip()}
    if (form.book_name.data or "").strip():
        values["name"] = form.book_name.data.strip()
    if not fixed:
        values["opening_fen"] = form.opening.fen
        if form.started_on.data is not None:
            values["started_on"] = form.started_on.data
    return values


@admin_bp.route("/settings", methods=["GET", "POST"])
@chair_required
def settings():
    """Opening balance and start date (until the first period is closed), cadence, signatures, source."""
    book = g.book
    fixed = service.settings_fixed(g.compound)
    form = SettingsForm()
    if fixed:
        del form.opening
        del form.started_on
    if request.method == "GET":
        if not fixed:
            form.opening.data = plain_yuan(book.opening_fen)
            form.started_on.data = book.started_on
        form.cadence.data = book.cadence
        form.signoffs_required.data = book.signoffs_required
        form.disclosure_days.data = book.disclosure_days
        form.source.data = book.source
        form.book_name.data = book.name
    if form.validate_on_submit():
        try:
            service.save_settings(g.compound, current_user, _values(form, fixed))
        except service.FieldsRefused as problems:
            db.session.rollback()
            field_errors(form, problems)
        else:
            db.session.commit()
            flash(_("设置已保存。"), "success")
            return redirect(url_for(".settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("ledger/admin_settings.html", form=form, book=book, fixed=fixed,
                           supervisors=service.supervisors(g.compound), cadences=CADENCE_LABELS), status
