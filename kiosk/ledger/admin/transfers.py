"""Transfers between the compound's books: the form (from, to, amount, date, purpose), the list with both sides
of each, and reversing a transfer as a pair."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ...auth.access import can_edit, editor_required
from ...extensions import db
from ...money import format_yuan
from ...timefmt import local_date
from .. import service
from ..forms import ReverseForm, TransferForm
from ..models import BOOK_LABELS, BookKind, Transfer
from .base import admin_bp
from .sentences import field_errors, refusal_sentence


def _form():
    form = TransferForm()
    choices = [SelectChoice(kind.value, label) for kind, label in BOOK_LABELS.items()]
    form.from_book.choices, form.to_book.choices = choices, choices
    if request.method == "GET":
        form.from_book.data = BookKind.public_income.value
        form.to_book.data = BookKind.maintenance_fund.value
        form.occurred_on.data = local_date()
    return form


def _page(form, status=200):
    found = service.transfers(g.compound)
    return render_template("ledger/admin_transfers.html", form=form, transfers=found,
                           broken={t.id for t in service.broken_transfers(g.compound)},
                           reverse_form=ReverseForm(formdata=None),
                           reversed_ids={t.id for t in found if service.reversal_of(t.from_entry) is not None}), status


@admin_bp.route("/transfers", methods=["GET", "POST"])
def transfers():
    """Transfers so far, and (for editors) the form for a new one."""
    form = _form()
    if request.method == "GET":
        return _page(form)
    if not can_edit():
        abort(403)
    if form.validate_on_submit():
        try:
            found = service.transfer(g.compound, current_user, form.from_book.data, form.to_book.data, form.amount.fen,
                                     form.occurred_on.data, form.purpose.data or "")
            db.session.commit()
        except service.FieldsRefused as problems:
            db.session.rollback()
            field_errors(form, problems)
        else:
            flash(_("转账 第%(n)s号 已入账：两个账本各记了一笔，金额 %(fen)s。", n=found.number,
                    fen=format_yuan(found.amount_fen)), "success")
            return redirect(url_for(".transfers"))
    return _page(form, 400)


@admin_bp.route("/transfers/<int:transfer_id>/reverse", methods=["POST"])
@editor_required
def reverse_transfer(transfer_id):
    """Reverse a transfer: both sides, each in its book, together."""
    found = db.session.get(Transfer, transfer_id)
    if found is None or found.compound_id != g.compound.id:
        abort(404)
    form = ReverseForm()
    if not form.validate_on_submit():
        flash(" ".join(map(str, form.reason.errors)) or _("请写明为什么冲销。"), "error")
        return redirect(url_for(".transfers"))
    try:
        service.reverse_transfer(g.compound, current_user, found, form.reason.data.strip())
        db.session.commit()
    except service.LedgerRefused as problem:
        db.session.rollback()
        flash(refusal_sentence(problem), "error")
        return redirect(url_for(".transfers"))
    flash(_("转账 第%(n)s号 已整笔冲销。", n=found.number), "success")
    return redirect(url_for(".transfers"))
