"""Closing a period against the counted balance, and the supervisors' page for signing or returning it."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.access import editor_required
from ...auth.accounts import display_names
from ...compounds.context import get_or_404_in_compound
from ...extensions import db
from ...timefmt import format_day, local_date
from .. import evidence, service
from ..forms import CountedForm, RefuseForm
from ..models import Period, PeriodStatus
from .base import PER_PAGE, admin_bp, is_supervisor
from .sentences import period_words, refusal_sentence

SEEN_NUMBERS = ("round", "opening_fen", "income_fen", "expense_fen", "closing_fen", "head_number")


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
                form.actual.errors.append(refusal_sentence(refused))
            else:
                problem = refusal_sentence(refused)  # shown on the closing page, above its figures
        else:
            flash(_("%(period)s 已结账，交给监督委员签字。", period=period_words(period)), "success")
            return redirect(url_for(".period", period_id=period.id))
    figures = service.figures(g.compound, start, end)
    status = 200 if request.method == "GET" else 409 if problem else 400
    return render_template("ledger/admin_close.html", form=form, start=start, end=end, figures=figures,
                           drafts=service.drafts_in(g.compound, start, end), ended=end < local_date(),
                           problem=problem), status


def _period(period_id):
    return get_or_404_in_compound(Period, period_id)


def _period_page(period, refuse_form=None, counted_form=None, status=200):
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries, more = service.entries_in(g.compound, period.starts_on, period.ends_on, page, PER_PAGE)
    figures = service.figures(g.compound, period.starts_on, period.ends_on)
    earlier = [s for s in period.signoffs if s.round != period.round or not s.signed]
    sign_refusal = None
    if is_supervisor():
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
        supervisor=is_supervisor(), sign_refusal=sign_refusal, changed=changed,
        verdict=report.verdict(period.id), intact=evidence.chain_intact(report), seen=period.seen(),
        returned_by=returned_by,
        refuse_form=refuse_form or RefuseForm(formdata=None), counted_form=counted_form or CountedForm(formdata=None),
        submitter=display_names([period.submitted_by]).get(period.submitted_by, "")), status


@admin_bp.route("/periods/<int:period_id>")
def period(period_id):
    """A closed period: figures, counted balance, entries, status and the supervisors' decisions."""
    return _period_page(_period(period_id))


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
        service.may_sign(g.compound, current_user, period)  # who may not decide at all hears that first
        if seen is None:  # a form that did not carry what was shown: there is nothing to hold the signature to
            raise service.LedgerRefused("figures_changed")
        return _period_page(period, refuse_form=form, status=400)
    service.decide(g.compound, current_user, period, signed, form.reason.data if form else "", seen=seen)
    db.session.commit()
    if not signed:
        flash(_("已退回，委员会会看到您写的原因。"), "success")
    elif period.status == PeriodStatus.published:
        flash(_("已签字。签字人数已够，%(period)s 的账已公示，公示到 %(day)s。", period=period_words(period),
                day=format_day(period.disclosure_ends_on)), "success")
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
        if refused.reason != "mismatch":
            raise
        db.session.rollback()
        form.actual.errors.append(refusal_sentence(refused))
        return _period_page(period, counted_form=form, status=400)
    flash(_("已重新提交，等待监督委员签字。"), "success")
    return redirect(url_for(".period", period_id=period.id))
