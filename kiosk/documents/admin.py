"""The committee's document library: the list, a new document, a document's page (versions with their pages,
a new version from a phone's PDF or photos, publishing, a contract's ledger entries), the seal-use log and the
index as CSV. Views parse, call the service and render; a refusal is shown next to its field."""
from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..auth.access import editor_required, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..exports import csv_response
from ..extensions import db
from ..money import format_yuan
from ..timefmt import local_date
from ..uploads import ImageRejected, save_image
from . import service
from .forms import APPROVER_LABELS, KIND_LABELS, CorrectionForm, DocumentForm, EntryForm, SealForm, VersionForm
from .models import Document, SealUse, Version
from .sentences import sentence

bp = bind_compound(Blueprint("documents_admin", __name__, url_prefix="/admin/<compound>/documents"))
bp.before_request(require_committee)


def _refused_in(form, refused):
    """Put a refusal's sentence next to its field (or above the form); the transaction is rolled back."""
    db.session.rollback()
    field = getattr(form, refused.field, None) if refused.field else None
    if field is not None:
        field.errors = list(field.errors or []) + [sentence(refused)]
    else:
        form.form_errors.append(sentence(refused))


def _topic_choices(blank):
    return [SelectChoice(0, blank)] + [SelectChoice(t.id, t.title) for t in service.decided_topics(g.compound)]


@bp.route("/")
def index():
    """Every document of the compound with its versions' state."""
    documents = db.session.scalars(db.select(Document).where(Document.compound_id == g.compound.id)
                                   .order_by(Document.kind, Document.id.desc())).all()
    return render_template("documents/admin_index.html", documents=documents, kinds=KIND_LABELS,
                           status=service.posting_status(g.compound), today=local_date())


@bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Start a document: its kind and title (an audit report: auditor and what it covers)."""
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            document = service.create_document(g.compound, current_user, form.doc_kind.data, form.title.data,
                                               form.auditor.data or "", form.covers_from.data, form.covers_until.data,
                                               form.covers_term.data or "")
        except service.DocumentRefused as refused:
            _refused_in(form, refused)
        else:
            db.session.commit()
            flash(_("文件已建立。请上传第一个版本。"), "success")
            return redirect(url_for(".show", document_id=document.id))
    return render_template("documents/admin_form.html", form=form), 400 if request.method == "POST" else 200


def _version_form():
    form = VersionForm()
    form.topic_id.choices = _topic_choices(_("（不选）"))
    return form


def _entry_form():
    form = EntryForm()
    form.ledger_entry.choices = [SelectChoice(e.id, f"#{e.number} {e.description} {format_yuan(e.amount_fen)}")
                                 for e in service.linkable_entries(g.compound)]
    return form


def show_page(document, status=200, version_form=None, entry_form=None):
    """A document's committee page."""
    if version_form is None:
        version_form = _version_form()
        if request.method == "GET":
            days, _source = service.min_days(g.compound, document.kind)
            version_form.posted_from.data = local_date()
            version_form.posted_until.data = local_date() + timedelta(days=days - 1)
    days, source = service.min_days(g.compound, document.kind)
    return render_template("documents/admin_show.html", document=document, kinds=KIND_LABELS,
                           version_form=version_form, entry_form=entry_form or _entry_form(),
                           entries=service.linked_entries(document), min_days=days, source=source,
                           needs_decision=document.kind in service.NEEDS_DECISION, today=local_date()), status


@bp.route("/<int:document_id>")
def show(document_id):
    """One document: versions, pages, posting, and a contract's ledger entries."""
    return show_page(get_or_404_in_compound(Document, document_id))


@bp.route("/<int:document_id>/versions", methods=["POST"])
@editor_required
def add_version(document_id):
    """Upload a new version (a PDF or photos of its pages) as a draft."""
    document = get_or_404_in_compound(Document, document_id)
    form = _version_form()
    if form.validate_on_submit():
        uploads = [(f.filename or "", f.read()) for f in form.files.data or [] if getattr(f, "filename", "")]
        try:
            version = service.add_version(g.compound, current_user, document, uploads, form.posted_from.data,
                                          form.posted_until.data, form.topic_id.data or None, form.note.data or "")
        except service.DocumentRefused as refused:
            _refused_in(form, refused)
        else:
            db.session.commit()
            flash(_("第 %(n)s 版已上传（%(pages)s 页），还是草稿：核对页面后点“发布”。", n=version.number,
                    pages=len(version.pages)), "success")
            return redirect(url_for(".show", document_id=document.id) + f"#v{version.id}")
    return show_page(document, 400, version_form=form)


@bp.route("/<int:document_id>/versions/<int:version_id>/publish", methods=["POST"])
@editor_required
def publish(document_id, version_id):
    """Publish a draft version: residents read it from its posting date."""
    document = get_or_404_in_compound(Document, document_id)
    version = get_or_404_in_compound(Version, version_id)
    if version.document_id != document.id:
        abort(404)
    try:
        service.publish(g.compound, current_user, version)
    except service.DocumentRefused as refused:
        db.session.rollback()
        flash(sentence(refused), "error")
    else:
        db.session.commit()
        flash(_("已发布。"), "success")
    return redirect(url_for(".show", document_id=document.id))


@bp.route("/<int:document_id>/entries", methods=["POST"])
@editor_required
def link_entry(document_id):
    """Link a posted ledger entry to a contract."""
    document = get_or_404_in_compound(Document, document_id)
    form = _entry_form()
    if form.validate_on_submit():
        try:
            service.link_entry(g.compound, current_user, document, form.ledger_entry.data)
        except service.DocumentRefused as refused:
            _refused_in(form, refused)
        else:
            db.session.commit()
            flash(_("已关联这笔账目。"), "success")
            return redirect(url_for(".show", document_id=document.id) + "#entries")
    return show_page(document, 400, entry_form=form)


def _seal_page(form=None, status=200, correcting=None):
    if form is None:
        if correcting is not None:
            form = CorrectionForm(data={"used_on": correcting.used_on, "sealed": correcting.sealed,
                                        "purpose": correcting.purpose, "approved_by": correcting.approved_by,
                                        "topic_id": correcting.topic_id or 0})
        else:
            form = SealForm(data={"used_on": local_date()})
    form.topic_id.choices = _topic_choices(_("（不选）"))
    return render_template("documents/admin_seal.html", form=form, lines=service.seal_log(g.compound),
                           voided=service.voided_ids(g.compound), approvers=APPROVER_LABELS,
                           correcting=correcting), status


@bp.route("/seal", methods=["GET", "POST"])
def seal():
    """The seal-use log; editors add a line (with an optional photo), or open a line's correction (?correct=id)."""
    if request.method == "GET":
        correct = request.args.get("correct", "")
        correcting = get_or_404_in_compound(SealUse, int(correct)) if correct.isdigit() and len(correct) < 12 \
            else None
        return _seal_page(correcting=correcting)
    return _record_seal()


@editor_required
def _record_seal():
    form = SealForm()
    form.topic_id.choices = _topic_choices("")
    if not form.validate_on_submit():
        return _seal_page(form, 400)
    try:
        photo = save_image(request.files["photo"], g.compound, current_user) \
            if request.files.get("photo") and request.files["photo"].filename else None
        service.record_seal(g.compound, current_user, form.used_on.data, form.sealed.data, form.purpose.data,
                            form.approved_by.data, form.topic_id.data or None, photo)
    except ImageRejected as error:
        db.session.rollback()
        form.form_errors.append(str(error))
        return _seal_page(form, 400)
    except service.DocumentRefused as refused:
        _refused_in(form, refused)
        return _seal_page(form, 400)
    db.session.commit()
    flash(_("已登记。"), "success")
    return redirect(url_for(".seal"))


@bp.route("/seal/<int:seal_id>/void", methods=["POST"])
@editor_required
def void_seal(seal_id):
    """Correct a line: a new line with the right details voids it, with the reason; both stay visible."""
    line = get_or_404_in_compound(SealUse, seal_id)
    form = CorrectionForm()
    form.topic_id.choices = _topic_choices("")
    if form.validate_on_submit():
        try:
            service.void_seal(g.compound, current_user, line, form.reason.data, form.used_on.data, form.sealed.data,
                              form.purpose.data, form.approved_by.data, form.topic_id.data or None)
        except service.DocumentRefused as refused:
            _refused_in(form, refused)
        else:
            db.session.commit()
            flash(_("已登记更正，原来那行标为作废。"), "success")
            return redirect(url_for(".seal"))
    return _seal_page(form, 400, correcting=line)


@bp.route("/export.csv")
def export():
    """The library index as CSV: title, kind, version, posting dates, adopting decision, state."""
    rows = [[_("标题"), _("类别"), _("版本"), _("公示开始"), _("公示截止"), _("通过它的决定"), _("状态")]]
    for document, version in service.index_rows(g.compound):
        rows.append([document.title, str(KIND_LABELS[document.kind]), version.number, version.posted_from.isoformat(),
                     version.posted_until.isoformat(), version.topic.title if version.topic else "",
                     _("已发布") if version.posted_at else _("草稿")])
    return csv_response(rows, "documents.csv", _("文件公开目录") + ".csv")
