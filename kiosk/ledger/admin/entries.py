"""The committee's entry pages: record income and expenses with receipt photos, keep drafts, post and reverse;
and residents' questions with the public answers."""
from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ...auth.access import editor_required
from ...auth.accounts import display_names
from ...compounds.context import get_or_404_in_compound
from ...database import utcnow
from ...extensions import db
from ...money import format_yuan, plain_yuan
from ...security import local_path
from ...timefmt import local_date
from ...uploads import ImageRejected, reencode
from .. import service
from ..forms import AnswerForm, EntryForm, ReverseForm
from ..models import KIND_LABELS, BookKind, Entry, Kind, Question, Receipt
from .base import admin_bp, refused
from .sentences import field_errors, refusal_sentence

MAX_RECEIPTS = 10


def _category_choices(current=None):
    """Categories grouped by kind (income first) for the select; an archived one stays on the draft using it."""
    found = [c for c in service.categories(g.compound, with_archived=True) if not c.archived or c.id == current]
    return [SelectChoice(c.id, c.name, optgroup=str(KIND_LABELS[kind]))
            for kind in (Kind.income, Kind.expense) for c in found if c.kind == kind]


def _topic_choices():
    if g.book.kind == BookKind.maintenance_fund:  # spending the fund: a decided statutory resolution, budget or not
        return [SelectChoice(0, _("请选择已表决通过的议题"))] + [
            SelectChoice(t.id, f"{t.title}（{t.electorate_label}）" if t.scope_buildings else t.title)
            for t in service.fund_topics(g.compound)]
    choices = [SelectChoice(0, _("不关联决议"))]
    for topic in service.budgeted_topics(g.compound):
        spent = service.spent_on(topic)
        choices.append(SelectChoice(topic.id, _("%(title)s（预算 %(budget)s，已支出 %(spent)s）", title=topic.title,
                                                budget=format_yuan(topic.budget_fen), spent=format_yuan(spent))))
    return choices


def _building_choices():
    """The roll's buildings, after "the whole compound's shared parts"."""
    return [SelectChoice("", _("全小区共用部分"))] + [
        SelectChoice(b, _("%(b)s栋", b=b)) for b in service.fund_buildings(g.compound)]


def _fill(form, entry):
    form.building.data = entry.building or ""
    form.occurred_on.data = entry.occurred_on
    form.flow.data = entry.kind
    form.category_id.data = entry.category_id
    form.amount.data = plain_yuan(entry.amount_fen)
    form.description.data = entry.description
    form.counterparty.data = entry.counterparty
    form.person.data = entry.counterparty_is_person
    form.method.data = entry.method
    form.topic_id.data = entry.topic_id or 0


def _fields(form):
    """The entry's fields as the form carries them (service.check_entry judges them)."""
    return {"kind": form.flow.data, "occurred_on": form.occurred_on.data, "category_id": form.category_id.data or None,
            "amount_fen": form.amount.fen, "description": (form.description.data or "").strip(),
            "counterparty": (form.counterparty.data or "").strip(), "counterparty_is_person": bool(form.person.data),
            "method": form.method.data, "topic_id": form.topic_id.data or None,
            "building": (form.building.data or None) if g.book.kind == BookKind.maintenance_fund else None}


def _uploads(form):
    """The chosen receipt files, each checked now (nothing is stored until everything else is valid)."""
    files = [f for f in (form.receipts.data or []) if f and getattr(f, "filename", "")]
    if len(files) > MAX_RECEIPTS:
        form.receipts.errors.append(_("一次最多传 %(n)s 张收据。", n=MAX_RECEIPTS))
        return []
    cfg = current_app.config
    for upload in files:
        try:
            reencode(upload.read(), cfg["IMAGE_MAX_PIXELS"], cfg["IMAGE_MAX_SIDE"])
        except ImageRejected as problem:
            form.receipts.errors.append(_("%(file)s：%(problem)s", file=upload.filename, problem=str(problem)))
        upload.stream.seek(0)
    return files


def _checked(form, entry):
    """Every problem the service finds with the form's fields, next to its field; (topic, overspend) for the page."""
    found = service.check_entry(g.compound, entry, _fields(form), bool(form.over_budget_ok.data))
    for name, problem in found.problems.items():
        getattr(form, name).errors.append(refusal_sentence(problem))
    return found.topic, found.overspend


def _save(form, entry, files):
    """Save the draft, post it if asked, store its receipts, all or nothing; the saved entry, or None with the
    problem on the form."""
    try:
        saved = service.save_draft(g.compound, current_user, entry, _fields(form), bool(form.over_budget_ok.data))
        if request.form.get("action") == "post":
            service.post(g.compound, current_user, saved)
        service.add_receipts(g.compound, current_user, saved, files, bool(form.receipts_public.data))
        db.session.commit()
        return saved
    except service.FieldsRefused as problems:
        db.session.rollback()
        field_errors(form, problems)
    except service.LedgerRefused as problem:
        db.session.rollback()
        form.occurred_on.errors.append(refusal_sentence(problem))
    except ImageRejected as problem:
        db.session.rollback()
        form.receipts.errors.append(str(problem))
    return None


def _entry_form(entry):
    """New entry or a draft's edit: validate everything (images too), then write it all or nothing."""
    form = EntryForm()
    form.category_id.choices = _category_choices(entry.category_id if entry else None)
    form.topic_id.choices = _topic_choices()
    form.building.choices = _building_choices()
    if request.method == "GET":
        if entry is not None:
            _fill(form, entry)
        else:
            form.occurred_on.data = local_date()
            if request.args.get("flow") in (Kind.income, Kind.expense):
                form.flow.data = request.args["flow"]
                # "记一笔支出" starts on the first spending category, not on the list's first (an income one).
                form.category_id.data = next((c.id for c in service.categories(g.compound)
                                              if c.kind == form.flow.data and not c.archived), None)
    topic, overspend = None, 0
    if form.validate_on_submit():
        topic, overspend = _checked(form, entry)
        files = _uploads(form)
        saved = _save(form, entry, files) if not form.errors else None
        if saved is not None:
            if saved.posted:
                flash(_("已入账，编号第 %(n)s 号。", n=saved.number), "success")
            else:
                flash(_("草稿已保存。入账前还可以修改。"), "success")
            return redirect(url_for(".entry", entry_id=saved.id))
    elif request.method == "POST" and form.flow.data in (Kind.income, Kind.expense):
        _checked(form, entry)  # show every problem at once, not one round at a time
    status = 400 if request.method == "POST" else 200
    return render_template("ledger/admin_entry_form.html", form=form, entry=entry, topic=topic,
                           overspend=overspend, book=g.book), status


@admin_bp.route("/entries/new", methods=["GET", "POST"])
@editor_required
def new_entry():
    """Record an income or expense: save it as a draft, or save and post it at once."""
    return _entry_form(None)


def _entry(entry_id):
    return get_or_404_in_compound(Entry, entry_id)


@admin_bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@editor_required
def edit_entry(entry_id):
    """Change a draft; a posted entry has no edit form (it can only be reversed)."""
    entry = _entry(entry_id)
    if entry.posted:
        raise service.LedgerRefused("posted", number=entry.number)
    return _entry_form(entry)


@admin_bp.route("/entries/<int:entry_id>")
def entry(entry_id):
    """One entry: every field, its place in the chain, receipts, reversal, and residents' questions."""
    return _entry_page(_entry(entry_id))


def _entry_page(entry, reverse_form=None, status=200):
    reversal = service.reversal_of(entry) if entry.posted else None
    questions = service.questions_for(entry) if entry.posted else []
    answer_forms = {q.id: AnswerForm(formdata=None, prefix=f"q{q.id}") for q in questions}
    return render_template(
        "ledger/admin_entry.html", entry=entry, reversal=reversal, questions=questions,
        reverse_form=reverse_form or ReverseForm(formdata=None), answer_forms=answer_forms,
        overdue=service.is_overdue, locked=service.locked_period(g.compound, entry.occurred_on),
        names=display_names([entry.recorded_by, entry.posted_by]), now=utcnow()), status


@admin_bp.route("/entries/<int:entry_id>/post", methods=["POST"])
@editor_required
def post_entry(entry_id):
    """Post a draft: it gets the next number and joins the chain; from now on it can only be reversed."""
    entry = _entry(entry_id)
    service.post(g.compound, current_user, entry)
    db.session.commit()
    flash(_("已入账，编号第 %(n)s 号。", n=entry.number), "success")
    return redirect(url_for(".entry", entry_id=entry.id))


@admin_bp.route("/entries/<int:entry_id>/delete", methods=["POST"])
@editor_required
def delete_entry(entry_id):
    """Delete a draft (a posted entry is never deleted)."""
    service.delete_draft(g.compound, current_user, _entry(entry_id))
    db.session.commit()
    flash(_("草稿已删除。"), "success")
    return redirect(url_for(".index"))


@admin_bp.route("/entries/<int:entry_id>/reverse", methods=["POST"])
@editor_required
def reverse(entry_id):
    """Correct a posted entry with a reversing one dated today; the original stays as it was."""
    entry = _entry(entry_id)
    form = ReverseForm()
    if not form.validate_on_submit():
        return _entry_page(entry, reverse_form=form, status=400)
    reversal = service.reverse(g.compound, current_user, entry, form.reason.data.strip())
    db.session.commit()
    flash(_("已冲销：第 %(n)s 号冲销了第 %(m)s 号。", n=reversal.number, m=entry.number), "success")
    return redirect(url_for(".entry", entry_id=reversal.id))


@admin_bp.route("/receipts/<int:receipt_id>/visibility", methods=["POST"])
@editor_required
def receipt_visibility(receipt_id):
    """Make a receipt public, or committee-only (e.g. it shows a person's ID or bank card)."""
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.entry.compound_id != g.compound.id:
        abort(404)
    service.toggle_receipt(g.compound, current_user, receipt)
    db.session.commit()
    flash(_("这张收据现在公开。") if receipt.public else _("这张收据现在只有委员会能看。"), "success")
    return redirect(url_for(".entry", entry_id=receipt.entry_id, _anchor="receipts"))


@admin_bp.route("/questions")
def questions():
    """Residents' questions still waiting for an answer, oldest first; overdue ones flagged."""
    waiting = service.open_questions(g.compound)
    forms = {q.id: AnswerForm(formdata=None, prefix=f"q{q.id}") for q in waiting}
    return render_template("ledger/admin_questions.html", waiting=waiting, forms=forms, overdue=service.is_overdue,
                           now=utcnow())


@admin_bp.route("/questions/<int:question_id>/answer", methods=["POST"])
@editor_required
def answer(question_id):
    """Answer a question publicly; the answer shows under the entry on residents' phones."""
    question = get_or_404_in_compound(Question, question_id)
    back = local_path(request.form.get("next", ""), url_for(".questions"))
    form = AnswerForm(prefix=f"q{question.id}")
    if not form.answer.data and request.form.get("answer"):  # a plain form without the prefix
        form = AnswerForm()
    if not form.validate_on_submit() and question.answered_at is None:  # an answered one: the service says so
        return refused(" ".join(map(str, form.answer.errors)) or _("请写答复。"), 400, back)
    service.answer(g.compound, current_user, question, (form.answer.data or "").strip())
    db.session.commit()
    flash(_("已答复，居民在这笔账下面可以看到。"), "success")
    return redirect(back)
