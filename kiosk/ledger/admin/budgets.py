"""Budgets of passed resolutions: what each approved, what has been spent against it, and what is left."""
from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ...auth.access import chair_required
from ...extensions import db
from ...money import format_yuan, plain_yuan
from .. import service
from ..forms import BudgetForm
from .base import admin_bp, refused


@admin_bp.route("/budgets")
def budgets():
    """Passed resolutions with their approved budget, what has been spent against each, and what is left."""
    rows = []
    for topic in service.decided_topics(g.compound):
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
    topic = next((t for t in service.decided_topics(g.compound) if t.id == topic_id), None)
    if topic is None:
        abort(404)
    form = BudgetForm(prefix=f"t{topic.id}")
    if not form.budget.data and request.form.get("budget"):
        form = BudgetForm()
    if not form.validate_on_submit():
        return refused(" ".join(map(str, form.budget.errors)) or _("请填写金额。"), 400, url_for(".budgets"))
    service.set_budget(g.compound, current_user, topic, form.budget.fen)
    db.session.commit()
    flash(_("“%(title)s”的批准预算已记为 %(fen)s。", title=topic.title, fen=format_yuan(topic.budget_fen)), "success")
    return redirect(url_for(".budgets"))
