"""The committee's and supervisors' ledger pages: record income and expenses with receipt photos, post and
reverse, close a period against the counted balance, sign or return it, answer residents' questions, set
budgets of decided resolutions; and the district's cadence view. Exports and the printed notice are in
exports.py, on the same blueprint.

Every rule lives in service.py; these pages explain its refusals in a sentence. Money is integer fen from
the moment money.parse_yuan reads the typed yuan.
"""
from datetime import timedelta

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from ..auth.access import (
    can_edit,
    chair_required,
    editor_required,
    platform_required,
    require_committee,
)
from ..auth.models import Role
from ..changes import record_change
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..compounds.models import Compound
from ..database import utcnow
from ..database import writing
from ..extensions import db
from ..security import local_path
from ..uploads import ImageRejected, reencode, save_image
from . import AREA, evidence, service
from .forms import (
    AnswerForm,
    BudgetForm,
    CategoryForm,
    CountedForm,
    EntryForm,
    RefuseForm,
    RenameForm,
    ReverseForm,
    SettingsForm,
)
from .models import (
    CADENCE_LABELS,
    KIND_LABELS,
    Book,
    Cadence,
    Category,
    Entry,
    Kind,
    Period,
    PeriodStatus,
    Question,
    Receipt,
)
from .money import format_yuan, plain_yuan, uppercase

admin_bp = bind_compound(Blueprint("ledger_admin", __name__, url_prefix="/admin/<compound>/ledger"))
admin_bp.before_request(require_committee)
platform_bp = Blueprint("ledger_platform", __name__, url_prefix="/admin/platform/ledger")
platform_bp.before_request(platform_required)

PER_PAGE = 50
RECENT = 20
MAX_RECEIPTS = 10
REVIEW_OPINION = "经审核，账目清楚，同意公示"


def blueprints():
    return [admin_bp, platform_bp]


# --- words and numbers for the templates ------------------------------------------------------------------

def cn_date(day):
    """A date the Chinese way (2026年6月12日), or 12 Jun 2026 in English."""
    if day is None:
        return ""
    if str(get_locale()).startswith("zh"):
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%d %b %Y")


def period_label(start, end):
    """2026年3月, 2026年第1季度, or the two dates for any other stretch."""
    zh = str(get_locale()).startswith("zh")
    next_day = end + timedelta(days=1)
    if start.day == 1 and next_day.day == 1:
        months = (next_day.year - start.year) * 12 + next_day.month - start.month
        if months == 1:
            return f"{start.year}年{start.month}月" if zh else start.strftime("%b %Y")
        if months == 3 and start.month % 3 == 1:
            quarter = (start.month - 1) // 3 + 1
            return f"{start.year}年第{quarter}季度" if zh else f"Q{quarter} {start.year}"
    return f"{cn_date(start)}—{cn_date(end)}"


def _names(ids):
    from ..auth.models import User
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _template_helpers():
    return {"yuan": format_yuan, "daxie": uppercase, "cn_date": cn_date, "period_label": period_label,
            "kind_label": lambda kind: KIND_LABELS[Kind(kind)], "Kind": Kind, "PeriodStatus": PeriodStatus}


admin_bp.context_processor(_template_helpers)
platform_bp.context_processor(_template_helpers)


@admin_bp.before_request
def _open_book():
    """The first visit opens the compound's book with the default categories (the chair adjusts it in 设置)."""
    if db.session.scalar(select(Book.id).where(Book.compound_id == g.compound.id)) is None:
        with writing():
            service.open_book(g.compound)
    g.book = service.book(g.compound)


def _is_supervisor():
    return g.get("role") == Role.supervisor


def _refused(message, status, back=None, title=None):
    """A refusal as a sentence on its own page, with the way back."""
    if status == 403:
        message = f"{message} {_('您没有权限做这件事。')}"
    return render_template("ledger/admin_refused.html", message=message, back=back or url_for(".index"),
                           title=title or _("没有办成")), status


def _period_words(period):
    return period_label(period.starts_on, period.ends_on)


def _locked_sentence(period, day=None):
    if day is not None and day < period.starts_on:
        return _("%(period)s 的账已经公示，不能再记入它之前的日期（会改变已公示的期初余额）。请改日期，或在本期记一笔冲销或补记。",
                 period=_period_words(period))
    if period.status == PeriodStatus.published:
        return _("%(period)s 的账已经公示，不能再记入这一期。请改日期，或在本期记一笔冲销或补记。",
                 period=_period_words(period))
    return _("%(period)s 的账已经提交给监督委员审核，不能再记入这一期。请改日期；如确需更正，请监督委员退回后再记。",
             period=_period_words(period))


def refusal_sentence(refused):
    """The sentence for a LedgerRefused the pages don't handle field by field."""
    detail, reason = refused.detail, refused.reason
    sentences = {
        "posted": lambda: _("这笔账已经入账，不能修改或删除，只能冲销。"),
        "not_posted": lambda: _("这笔账还是草稿，入账后才能冲销。"),
        "is_reversal": lambda: _("这是一条冲销记录，不能再冲销。"),
        "reversed": lambda: _("这笔账已经被第 %(n)s 号（%(day)s）冲销过，不能再冲销一次。",
                              n=detail["by"].number, day=cn_date(detail["by"].occurred_on)),
        "locked": lambda: _locked_sentence(detail["period"], detail.get("day")),
        "broken_chain": lambda: _("账本核对不上：有记录在系统之外被改动或删除过（见“核对”）。为免把新的记录接在被改动过的记录后面，"
                                  "现在不能入账、结账或签字。请尽快请社区或街道核查。"),
        "earlier_unpublished": lambda: _("%(period)s 的账还没有公示。各期要按顺序签字：上一期公示后，它的期末余额才是这一期的期初余额。",
                                         period=_period_words(detail["period"])),
        "stale_opening": lambda: _("上一期提交的期末余额 %(opening)s 和入账记录算出的 %(expected)s 不一致：更早的账目在提交后有变动。"
                                   "请监督委员退回上一期，重新核对提交后再结这一期。", opening=format_yuan(detail["opening"]),
                                   expected=format_yuan(detail["expected"])),
        "figures_changed": lambda: _("您看到的是这一期早先的数字，之后账目已经重新提交或退回。什么都没有保存，请重新打开这一期，核对后再签字。"),
        "no_longer_match": lambda: _("这一期的入账记录和提交时的数字对不上（有记录在系统之外被改动过），不能签字。请退回并写明原因，或请社区核查。"),
        "before_start": lambda: _("本账从 %(day)s 开始，日期不能早于这一天。", day=cn_date(detail["started_on"])),
        "not_ended": lambda: _("这一期到 %(day)s 才结束，结束后才能结账。", day=cn_date(detail["end"])),
        "drafts": lambda: _("这一期还有 %(n)s 笔草稿没有入账。请先入账或删除，再结账。", n=detail["count"]),
        "not_returned": lambda: _("这一期没有被退回，不需要重新提交。"),
        "not_supervisor": lambda: _("只有本小区的监督委员可以签字或退回。"),
        "not_submitted": lambda: _("这一期现在不在等待签字。"),
        "recorded": lambda: _("您在这一期记过账或入过账，不能审核自己经手的账，请其他监督委员签字。"),
        "already_signed": lambda: _("这一次提交您已经表过态了，每位监督委员每次只能签一次。"),
        "reason_needed": lambda: _("退回要写明原因。"),
    }
    return sentences.get(reason, lambda: _("这件事现在不能做。"))()


REFUSAL_STATUS = {"not_supervisor": 403, "recorded": 403, "reason_needed": 400}


# --- the ledger home ------------------------------------------------------------------------------------

@admin_bp.route("/")
def index():
    """Balance, what is due and when, questions waiting too long, drafts, the latest entries and the periods."""
    compound = g.compound
    drafts = db.session.scalars(select(Entry).options(joinedload(Entry.category)).where(
        Entry.compound_id == compound.id, Entry.posted.is_(False)).order_by(Entry.occurred_on, Entry.id)).all()
    recent = db.session.scalars(select(Entry).options(joinedload(Entry.category)).where(
        Entry.compound_id == compound.id, Entry.posted.is_(True)).order_by(Entry.number.desc()).limit(RECENT)).all()
    report, _checked_at = evidence.cached_check(compound)
    return render_template("ledger/admin_index.html", book=g.book, balance=service.balance(compound),
                           cadence=service.cadence(compound), overdue=service.overdue_questions(compound),
                           open_count=len(service.open_questions(compound)), drafts=drafts, recent=recent,
                           periods=service.periods(compound), supervisors=service.supervisors(compound),
                           report=report, intact=evidence.chain_intact(report))


# --- recording --------------------------------------------------------------------------------------------

def _category_choices(current=None):
    """Categories grouped by kind (income first) for the select; an archived one stays on the draft using it."""
    found = [c for c in service.categories(g.compound, with_archived=True) if not c.archived or c.id == current]
    return [SelectChoice(c.id, c.name, optgroup=str(KIND_LABELS[kind]))
            for kind in (Kind.income, Kind.expense) for c in found if c.kind == kind]


def _topic_choices():
    choices = [SelectChoice(0, _("不关联决议"))]
    for topic in service.budgeted_topics(g.compound):
        spent = service.spent_on(topic)
        choices.append(SelectChoice(topic.id, _("%(title)s（预算 %(budget)s，已支出 %(spent)s）", title=topic.title,
                                                budget=format_yuan(topic.budget_fen), spent=format_yuan(spent))))
    return choices


def _fill(form, entry):
    form.occurred_on.data = entry.occurred_on
    form.flow.data = entry.kind
    form.category_id.data = entry.category_id
    form.amount.data = plain_yuan(entry.amount_fen)
    form.description.data = entry.description
    form.counterparty.data = entry.counterparty
    form.person.data = entry.counterparty_is_person
    form.method.data = entry.method
    form.topic_id.data = entry.topic_id or 0


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


def _check_entry(form, entry):
    """Checks across fields; returns (fields, topic, overspend) with errors added to the form where they apply."""
    category = db.session.get(Category, form.category_id.data or 0)
    if category is None or category.compound_id != g.compound.id or (
            category.archived and (entry is None or entry.category_id != category.id)):
        form.category_id.errors.append(_("请选择类别。"))
        category = None
    elif category.kind != form.flow.data:
        form.category_id.errors.append(_("“%(name)s”是%(kind)s类别，和上面选的“%(chosen)s”不一致。",
                                         name=category.name, kind=KIND_LABELS[Kind(category.kind)],
                                         chosen=KIND_LABELS[Kind(form.flow.data)]))
    day = form.occurred_on.data
    if day is not None:
        if day < g.book.started_on:
            form.occurred_on.errors.append(_("本账从 %(day)s 开始，日期不能早于这一天。", day=cn_date(g.book.started_on)))
        elif day > service.today():
            form.occurred_on.errors.append(_("日期不能晚于今天。"))
        else:
            locked = service.locked_period(g.compound, day)
            if locked is not None:
                form.occurred_on.errors.append(_locked_sentence(locked, day))
    topic, overspend = None, 0
    if form.topic_id.data:
        topic = next((t for t in service.budgeted_topics(g.compound) if t.id == form.topic_id.data), None)
        if topic is None:
            form.topic_id.errors.append(_("请从列表里选择决议。"))
        elif form.flow.data == Kind.expense and form.amount.fen:
            overspend = service.over_budget(topic, form.amount.fen)
            if overspend and not form.over_budget_ok.data:
                form.over_budget_ok.errors.append(_("确认无误请勾选“我知道已超出预算”，再保存。"))
    fields = {"kind": form.flow.data, "occurred_on": day, "category_id": category.id if category else None,
              "amount_fen": form.amount.fen, "description": (form.description.data or "").strip(),
              "counterparty": (form.counterparty.data or "").strip(), "counterparty_is_person": bool(form.person.data),
              "method": form.method.data, "topic_id": topic.id if topic else None}
    return fields, topic, overspend


def _entry_form(entry):
    """New entry or a draft's edit: validate everything (images too), then write it all or nothing."""
    form = EntryForm()
    form.category_id.choices = _category_choices(entry.category_id if entry else None)
    form.topic_id.choices = _topic_choices()
    if request.method == "GET":
        if entry is not None:
            _fill(form, entry)
        else:
            form.occurred_on.data = service.today()
            if request.args.get("flow") in (Kind.income, Kind.expense):
                form.flow.data = request.args["flow"]
    topic, overspend = None, 0
    if form.validate_on_submit():
        fields, topic, overspend = _check_entry(form, entry)
        files = _uploads(form)
        if not form.errors:
            posting = request.form.get("action") == "post"
            try:
                saved = service.save_draft(g.compound, current_user, entry, fields)
                if posting:
                    service.post(g.compound, current_user, saved)
                for upload in files:
                    image = save_image(upload, g.compound, current_user)
                    db.session.flush()
                    db.session.add(Receipt(entry_id=saved.id, image_id=image.id,
                                           public=bool(form.receipts_public.data)))
                if files:
                    record_change(g.compound, current_user, AREA, "receipts", saved, None,
                                  {"added": len(files), "public": bool(form.receipts_public.data)})
                db.session.commit()
            except service.LedgerRefused as refused:
                db.session.rollback()
                form.occurred_on.errors.append(refusal_sentence(refused))
            except ImageRejected as problem:
                db.session.rollback()
                form.receipts.errors.append(str(problem))
            else:
                if posting:
                    flash(_("已入账，编号第 %(n)s 号。", n=saved.number), "success")
                else:
                    flash(_("草稿已保存。入账前还可以修改。"), "success")
                return redirect(url_for(".entry", entry_id=saved.id))
    elif request.method == "POST" and form.flow.data in (Kind.income, Kind.expense):
        _check_entry(form, entry)  # show every problem at once, not one round at a time
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
        return _refused(_("第 %(n)s 号已经入账，不能修改，只能冲销。", n=entry.number), 409,
                        url_for(".entry", entry_id=entry.id))
    return _entry_form(entry)


@admin_bp.route("/entries/<int:entry_id>")
def entry(entry_id):
    """One entry: every field, its place in the chain, receipts, reversal, and residents' questions."""
    entry = _entry(entry_id)
    return _entry_page(entry)


def _entry_page(entry, reverse_form=None, answer_forms=None, status=200):
    reversal = service.reversal_of(entry) if entry.posted else None
    questions = service.questions_for(entry) if entry.posted else []
    answer_forms = answer_forms or {}
    for question in questions:
        answer_forms.setdefault(question.id, AnswerForm(formdata=None, prefix=f"q{question.id}"))
    return render_template(
        "ledger/admin_entry.html", entry=entry, reversal=reversal, questions=questions,
        reverse_form=reverse_form or ReverseForm(formdata=None), answer_forms=answer_forms,
        overdue=service.is_overdue, locked=service.locked_period(g.compound, entry.occurred_on),
        names=_names([entry.recorded_by, entry.posted_by]), now=utcnow()), status


@admin_bp.route("/entries/<int:entry_id>/post", methods=["POST"])
@editor_required
def post_entry(entry_id):
    """Post a draft: it gets the next number and joins the chain; from now on it can only be reversed."""
    entry = _entry(entry_id)
    try:
        service.post(g.compound, current_user, entry)
        db.session.commit()
    except service.LedgerRefused as refused:
        db.session.rollback()
        return _refused(refusal_sentence(refused), 409, url_for(".entry", entry_id=entry.id))
    flash(_("已入账，编号第 %(n)s 号。", n=entry.number), "success")
    return redirect(url_for(".entry", entry_id=entry.id))


@admin_bp.route("/entries/<int:entry_id>/delete", methods=["POST"])
@editor_required
def delete_entry(entry_id):
    """Delete a draft (a posted entry is never deleted)."""
    entry = _entry(entry_id)
    try:
        service.delete_draft(g.compound, current_user, entry)
        db.session.commit()
    except service.LedgerRefused as refused:
        db.session.rollback()
        return _refused(refusal_sentence(refused), 409, url_for(".entry", entry_id=entry.id))
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
    try:
        reversal = service.reverse(g.compound, current_user, entry, form.reason.data.strip())
        db.session.commit()
    except service.LedgerRefused as refused:
        db.session.rollback()
        return _refused(refusal_sentence(refused), 409, url_for(".entry", entry_id=entry.id))
    flash(_("已冲销：第 %(n)s 号冲销了第 %(m)s 号。", n=reversal.number, m=entry.number), "success")
    return redirect(url_for(".entry", entry_id=reversal.id))


@admin_bp.route("/receipts/<int:receipt_id>/visibility", methods=["POST"])
@editor_required
def receipt_visibility(receipt_id):
    """Make a receipt public, or committee-only (e.g. it shows a person's ID or bank card)."""
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.entry.compound_id != g.compound.id:
        abort(404)
    before = {"public": receipt.public}
    receipt.public = not receipt.public
    record_change(g.compound, current_user, AREA, "receipt_public" if receipt.public else "receipt_private",
                  receipt, before, {"public": receipt.public, "entry": receipt.entry.number})
    db.session.commit()
    flash(_("这张收据现在公开。") if receipt.public else _("这张收据现在只有委员会能看。"), "success")
    return redirect(url_for(".entry", entry_id=receipt.entry_id, _anchor="receipts"))


# --- categories -------------------------------------------------------------------------------------------

def _categories_page(form=None, status=200):
    by_kind = {Kind.income: [], Kind.expense: []}
    for category in service.categories(g.compound, with_archived=True):
        by_kind[Kind(category.kind)].append(category)
    used = set(db.session.scalars(select(Entry.category_id).where(
        Entry.compound_id == g.compound.id, Entry.posted.is_(True)).distinct()))
    return render_template("ledger/admin_categories.html", by_kind=by_kind, used=used,
                           form=form or CategoryForm(formdata=None), rename=RenameForm(formdata=None)), status


def _name_taken(kind, name, but=None):
    query = select(Category.id).where(Category.compound_id == g.compound.id, Category.kind == kind,
                                      Category.name == name)
    if but is not None:
        query = query.where(Category.id != but)
    return db.session.scalar(query) is not None


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
        if _name_taken(form.flow.data, name):
            form.name.errors.append(_("已经有“%(name)s”这个类别了。", name=name))
        else:
            position = db.session.scalar(select(func.coalesce(func.max(Category.position), -1)).where(
                Category.compound_id == g.compound.id, Category.kind == form.flow.data)) + 1
            category = Category(compound_id=g.compound.id, kind=form.flow.data, name=name, position=position)
            db.session.add(category)
            record_change(g.compound, current_user, AREA, "category_add", category, None,
                          {"kind": category.kind, "name": name})
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
        return _refused(" ".join(map(str, form.name.errors)) or _("请填写类别名称。"), 400, url_for(".categories"))
    name = form.name.data.strip()
    used = db.session.scalar(select(Entry.id).where(Entry.category_id == category.id, Entry.posted.is_(True))
                             .limit(1))
    if used is not None:
        return _refused(_("“%(name)s”已经用在入账的记录上，改名会改变已公示的账目。可以停用它，再新建一个类别。",
                          name=category.name), 409, url_for(".categories"))
    if _name_taken(category.kind, name, but=category.id):
        return _refused(_("已经有“%(name)s”这个类别了。", name=name), 409, url_for(".categories"))
    before = {"name": category.name}
    category.name = name
    record_change(g.compound, current_user, AREA, "category_rename", category, before, {"name": name})
    db.session.commit()
    flash(_("已改名为“%(name)s”。", name=name), "success")
    return redirect(url_for(".categories"))


@admin_bp.route("/categories/<int:category_id>/archive", methods=["POST"])
@editor_required
def archive_category(category_id):
    """Stop offering a category for new entries, or offer it again."""
    category = _category(category_id)
    before = {"archived": category.archived}
    category.archived = not category.archived
    record_change(g.compound, current_user, AREA, "category_archive" if category.archived else "category_restore",
                  category, before, {"archived": category.archived, "name": category.name})
    db.session.commit()
    flash(_("“%(name)s”已停用。", name=category.name) if category.archived
          else _("“%(name)s”已恢复使用。", name=category.name), "success")
    return redirect(url_for(".categories"))


# --- settings ---------------------------------------------------------------------------------------------

def _signoffs_sentence(problem, book, supervisors):
    """Why the number of signatures can't be changed to what was typed, next to the field."""
    reason, limit = problem
    if reason == "too_many":
        return _("本小区现在有 %(n)s 位监督委员，签字人数不能多于 %(n)s。", n=len(supervisors))
    if reason == "below_floor":
        return _("本小区有 %(n)s 位监督委员，签字人数不能少于 %(m)s 位：一个人签字说了不算。", n=len(supervisors), m=limit)
    return _("减少签字人数要由街道（平台）工作人员来改，委员会不能自己降低；现在是 %(n)s 位。可以增加。",
             n=book.signoffs_required)


def _book_snapshot(book):
    return {"opening_fen": book.opening_fen, "started_on": book.started_on.isoformat(), "cadence": book.cadence,
            "signoffs_required": book.signoffs_required,
            "signoffs_since": book.signoffs_since.isoformat() if book.signoffs_since else None,
            "disclosure_days": book.disclosure_days, "source": book.source}


@admin_bp.route("/settings", methods=["GET", "POST"])
@chair_required
def settings():
    """Opening balance and start date (until the first period is closed), cadence, signatures, source."""
    book = g.book
    supervisors = service.supervisors(g.compound)
    fixed = db.session.scalar(select(Period.id).where(Period.compound_id == g.compound.id).limit(1)) is not None
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
    if form.validate_on_submit():
        wanted = form.signoffs_required.data
        if wanted != book.signoffs_required:
            problem = service.signoffs_problem(book.signoffs_required, wanted, len(supervisors),
                                               current_user.is_platform_admin)
            if problem is not None:
                form.signoffs_required.errors.append(_signoffs_sentence(problem, book, supervisors))
        if not fixed and form.started_on.data is not None:
            earliest = db.session.scalar(select(func.min(Entry.occurred_on)).where(Entry.compound_id == g.compound.id))
            if earliest is not None and form.started_on.data > earliest:
                form.started_on.errors.append(
                    _("已有 %(day)s 的记录，开始日期不能晚于它。", day=cn_date(earliest)))
        if not form.errors:
            before = _book_snapshot(book)
            if not fixed:
                book.opening_fen = form.opening.fen
                if form.started_on.data is not None:
                    book.started_on = form.started_on.data
            book.cadence = Cadence(form.cadence.data)
            book.disclosure_days = form.disclosure_days.data
            book.source = form.source.data.strip()
            if wanted != book.signoffs_required:
                service.change_signoffs(g.compound, current_user, book, wanted)
            record_change(g.compound, current_user, AREA, "settings", book, before, _book_snapshot(book))
            db.session.commit()
            flash(_("设置已保存。"), "success")
            return redirect(url_for(".settings"))
    status = 400 if request.method == "POST" else 200
    return render_template("ledger/admin_settings.html", form=form, book=book, fixed=fixed,
                           supervisors=supervisors, cadences=CADENCE_LABELS), status


# --- closing and signing periods --------------------------------------------------------------------------

@admin_bp.route("/periods/close", methods=["GET", "POST"])
@editor_required
def close():
    """Close the next period: its figures by category, then the counted balance, which must match."""
    start, end = service.next_period(g.compound)
    form = CountedForm()
    problem = None
    if form.validate_on_submit():
        try:
            period = service.submit(g.compound, current_user, form.actual.fen)
            db.session.commit()
        except service.LedgerRefused as refused:
            db.session.rollback()
            if refused.reason == "mismatch":
                form.actual.errors.append(_mismatch_sentence(refused.detail))
            else:
                problem = refusal_sentence(refused)
        else:
            flash(_("%(period)s 已结账，交给监督委员签字。", period=_period_words(period)), "success")
            return redirect(url_for(".period", period_id=period.id))
    figures = service.figures(g.compound, start, end)
    status = 200 if request.method == "GET" else 409 if problem else 400
    return render_template("ledger/admin_close.html", form=form, start=start, end=end, figures=figures,
                           drafts=service.drafts_in(g.compound, start, end), ended=end < service.today(),
                           problem=problem), status


def _mismatch_sentence(detail):
    difference = detail["difference"]
    direction = _("实际比账面多") if difference > 0 else _("实际比账面少")
    return _("差额 %(diff)s（%(direction)s）：账面结余应为 %(expected)s，您填的是 %(actual)s。请核对现金和银行余额，"
             "或检查有没有漏记、错记。什么都还没有保存。", diff=format_yuan(abs(difference)), direction=direction,
             expected=format_yuan(detail["expected"]), actual=format_yuan(detail["actual"]))


def _period(period_id):
    return get_or_404_in_compound(Period, period_id)


def _period_page(period, refuse_form=None, counted_form=None, status=200):
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries, more = service.entries_in(g.compound, period.starts_on, period.ends_on, page, PER_PAGE)
    figures = service.figures(g.compound, period.starts_on, period.ends_on)
    earlier = [s for s in period.signoffs if s.round != period.round or not s.signed]
    sign_refusal = None
    if _is_supervisor():
        try:
            service.may_sign(g.compound, current_user, period)
        except service.LedgerRefused as refused:
            sign_refusal = refusal_sentence(refused) if refused.reason != "not_submitted" else None
    changed = (figures.opening, figures.income, figures.expense) != (period.opening_fen, period.income_fen,
                                                                     period.expense_fen)
    report, _checked_at = evidence.cached_check(g.compound)
    returned_by = service.entry_by_number(g.compound, period.returned_entry) if period.returned_entry else None
    return render_template(
        "ledger/admin_period.html", period=period, figures=figures, entries=entries, page=page, more=more,
        current=service.current_signoffs(period), earlier=earlier, required=period.signoffs_required,
        supervisor=_is_supervisor(), sign_refusal=sign_refusal, changed=changed,
        verdict=report.verdict(period.id), intact=evidence.chain_intact(report), seen=period.seen(),
        returned_by=returned_by,
        refuse_form=refuse_form or RefuseForm(formdata=None), counted_form=counted_form or CountedForm(formdata=None),
        submitter=_names([period.submitted_by]).get(period.submitted_by, "")), status


@admin_bp.route("/periods/<int:period_id>")
def period(period_id):
    """A closed period: figures, counted balance, entries, status and the supervisors' decisions."""
    return _period_page(_period(period_id))


SEEN_NUMBERS = ("round", "opening_fen", "income_fen", "expense_fen", "closing_fen", "head_number")


def _seen():
    """What the supervisor's page showed (the sign and return forms carry it), or None if any of it is missing."""
    try:
        seen = {name: int(request.form[f"seen_{name}"]) for name in SEEN_NUMBERS}
    except (KeyError, ValueError):
        return None
    seen["head_hash"] = request.form.get("seen_head_hash", "")
    return seen


def _decide(period_id, signed):
    period = _period(period_id)
    seen = _seen()
    form = RefuseForm() if not signed else None
    if seen is None or (form is not None and not form.validate_on_submit()):
        try:  # who may not decide at all hears that first, not "write a reason"
            service.may_sign(g.compound, current_user, period)
        except service.LedgerRefused as refused:
            return _refused(refusal_sentence(refused), REFUSAL_STATUS.get(refused.reason, 409),
                            url_for(".period", period_id=period.id))
        if seen is None:  # a form that did not carry what was shown: there is nothing to hold the signature to
            return _refused(refusal_sentence(service.LedgerRefused("figures_changed")), 409,
                            url_for(".period", period_id=period.id))
        return _period_page(period, refuse_form=form, status=400)
    try:
        service.decide(g.compound, current_user, period, signed, form.reason.data if form else "", seen=seen)
        db.session.commit()
    except service.LedgerRefused as refused:
        db.session.rollback()
        return _refused(refusal_sentence(refused), REFUSAL_STATUS.get(refused.reason, 409),
                        url_for(".period", period_id=period.id))
    if not signed:
        flash(_("已退回，委员会会看到您写的原因。"), "success")
    elif period.status == PeriodStatus.published:
        flash(_("已签字。签字人数已够，%(period)s 的账已公示，公示到 %(day)s。", period=_period_words(period),
                day=cn_date(period.disclosure_ends_on)), "success")
    else:
        flash(_("已签字。还需要其他监督委员签字。"), "success")
    return redirect(url_for(".period", period_id=period.id))


@admin_bp.route("/periods/<int:period_id>/sign", methods=["POST"])
def sign(period_id):
    """A supervisor signs the period's current submission (the service checks who may)."""
    return _decide(period_id, True)


@admin_bp.route("/periods/<int:period_id>/refuse", methods=["POST"])
def refuse(period_id):
    """A supervisor returns the period with a reason."""
    return _decide(period_id, False)


@admin_bp.route("/periods/<int:period_id>/resubmit", methods=["POST"])
@editor_required
def resubmit(period_id):
    """After a return: count again and submit the corrected period."""
    period = _period(period_id)
    form = CountedForm()
    if not form.validate_on_submit():
        return _period_page(period, counted_form=form, status=400)
    try:
        service.submit(g.compound, current_user, form.actual.fen, period)
        db.session.commit()
    except service.LedgerRefused as refused:
        db.session.rollback()
        if refused.reason == "mismatch":
            form.actual.errors.append(_mismatch_sentence(refused.detail))
            return _period_page(period, counted_form=form, status=400)
        return _refused(refusal_sentence(refused), 409, url_for(".period", period_id=period.id))
    flash(_("已重新提交，等待监督委员签字。"), "success")
    return redirect(url_for(".period", period_id=period.id))


# --- questions and budgets --------------------------------------------------------------------------------

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
    if question.answered_at is not None:
        return _refused(_("这个问题已经答复过了。"), 409, back)
    form = AnswerForm(prefix=f"q{question.id}")
    if not form.answer.data and request.form.get("answer"):  # a plain form without the prefix
        form = AnswerForm()
    if not form.validate_on_submit():
        return _refused(" ".join(map(str, form.answer.errors)) or _("请写答复。"), 400, back)
    service.answer(g.compound, current_user, question, form.answer.data.strip())
    db.session.commit()
    flash(_("已答复，居民在这笔账下面可以看到。"), "success")
    return redirect(back)


def _decided_topics():
    """Consultation topics that were decided and passed: the resolutions money can be tied to."""
    from ..consult.models import Status as TopicStatus
    from ..consult.models import Topic
    topics = db.session.scalars(select(Topic).where(
        Topic.compound_id == g.compound.id, Topic.status.in_([TopicStatus.closed, TopicStatus.done]))
        .order_by(Topic.closes_at.desc())).all()
    return [t for t in topics if isinstance(t.result, dict) and t.result.get("passed") is True]


@admin_bp.route("/budgets")
def budgets():
    """Passed resolutions with their approved budget, what has been spent against each, and what is left."""
    rows = []
    for topic in _decided_topics():
        spent = service.spent_on(topic)
        left = topic.budget_fen - spent if topic.budget_fen is not None else None
        form = BudgetForm(formdata=None, prefix=f"t{topic.id}")
        form.budget.data = plain_yuan(topic.budget_fen) if topic.budget_fen is not None else ""
        rows.append({"topic": topic, "spent": spent, "left": left, "form": form})
    return render_template("ledger/admin_budgets.html", rows=rows)


@admin_bp.route("/budgets/<int:topic_id>", methods=["POST"])
@chair_required
def budget(topic_id):
    """Record the budget a resolution approved (the limit expenses tied to it are warned against)."""
    topic = next((t for t in _decided_topics() if t.id == topic_id), None)
    if topic is None:
        abort(404)
    form = BudgetForm(prefix=f"t{topic.id}")
    if not form.budget.data and request.form.get("budget"):
        form = BudgetForm()
    if not form.validate_on_submit():
        return _refused(" ".join(map(str, form.budget.errors)) or _("请填写金额。"), 400, url_for(".budgets"))
    before = {"budget_fen": topic.budget_fen}
    topic.budget_fen = form.budget.fen
    record_change(g.compound, current_user, AREA, "budget", topic, before,
                  {"budget_fen": topic.budget_fen, "title": topic.title})
    db.session.commit()
    flash(_("“%(title)s”的批准预算已记为 %(fen)s。", title=topic.title, fen=format_yuan(topic.budget_fen)), "success")
    return redirect(url_for(".budgets"))


# --- the district's view ----------------------------------------------------------------------------------

@platform_bp.route("/")
def district():
    """Every compound: last disclosed period, the next one due, overdue, and questions waiting over 10 days."""
    books = {b.compound_id for b in db.session.scalars(select(Book))}
    rows = []
    for compound in db.session.scalars(select(Compound).order_by(Compound.district, Compound.name)):
        if compound.id not in books:
            rows.append({"compound": compound, "cadence": None, "late_questions": 0})
            continue
        rows.append({"compound": compound, "cadence": service.cadence(compound),
                     "late_questions": len(service.overdue_questions(compound))})
    today = service.today()
    rows.sort(key=lambda r: (not (r["cadence"] and r["cadence"].overdue), r["cadence"] is None,
                             r["cadence"].due_on if r["cadence"] else today, r["compound"].name))
    return render_template("ledger/admin_platform.html", rows=rows, today=today)
