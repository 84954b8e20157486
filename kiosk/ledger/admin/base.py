"""What every committee ledger page shares: the two blueprints, the book opened on the first visit, the helpers
templates use, and the one error handler that turns a refusal of the ledger's rules into its page."""
from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...auth.access import platform_required, require_committee
from ...auth.models import Role
from ...compounds.context import bind_compound
from ...database import writing
from ...extensions import db
from ...money import format_yuan, uppercase
from ...security import local_path
from ...timefmt import format_day
from .. import service
from ..models import BOOK_LABELS, KIND_LABELS, Book, Kind, PeriodStatus
from .sentences import REFUSAL_STATUS, period_label, refusal_sentence

admin_bp = bind_compound(Blueprint("ledger_admin", __name__, url_prefix="/admin/<compound>/ledger"))
admin_bp.before_request(require_committee)
platform_bp = Blueprint("ledger_platform", __name__, url_prefix="/admin/platform/ledger")
platform_bp.before_request(platform_required)

PER_PAGE = 50
REVIEW_OPINION = "经审核，账目清楚，同意公示"


def _template_helpers():
    return {"yuan": format_yuan, "daxie": uppercase, "cn_date": format_day, "period_label": period_label,
            "book_labels": BOOK_LABELS,
            "kind_label": lambda kind: KIND_LABELS[Kind(kind)], "Kind": Kind, "PeriodStatus": PeriodStatus}


admin_bp.context_processor(_template_helpers)
platform_bp.context_processor(_template_helpers)


@admin_bp.before_request
def _open_book():
    """The page's book (named with ?book=, or the one of the period, entry or category it shows; else public
    income); the first visit opens it with its default categories (the chair adjusts them in 设置)."""
    service.adopt_from_view_args(g.compound, request.view_args)
    kind = service.current_kind()
    if db.session.scalar(select(Book.id).where(Book.compound_id == g.compound.id, Book.kind == kind)) is None:
        with writing():
            service.open_book(g.compound)
    g.book = service.book(g.compound)
    g.books = service.books(g.compound)


admin_bp.url_defaults(service.book_url_defaults)


def is_supervisor():
    """Whether the account acting is one of the compound's supervisors."""
    return g.get("role") == Role.supervisor


def refused(message, status, back=None, title=None):
    """A refusal as a sentence on its own page, with the way back."""
    if status == 403:
        message = f"{message} {_('您没有权限做这件事。')}"
    return render_template("ledger/admin_refused.html", message=message, back=back or url_for(".index"),
                           title=title or _("没有办成")), status


def _back():
    """The page of what the refused request acted on: its entry, its period, its question or budget, else home."""
    args = request.view_args or {}
    if "entry_id" in args:
        return url_for(".entry", entry_id=args["entry_id"])
    if "period_id" in args:
        return url_for(".period", period_id=args["period_id"])
    if "question_id" in args:
        return local_path(request.form.get("next", ""), url_for(".questions"))
    if "category_id" in args:
        return url_for(".categories")
    if "topic_id" in args:
        return url_for(".budgets")
    return url_for(".index")


@admin_bp.errorhandler(service.LedgerRefused)
def _refusal(error):
    """Nothing of a refused action is kept; the page says why, in a sentence, and the way back."""
    db.session.rollback()
    return refused(refusal_sentence(error), REFUSAL_STATUS.get(error.reason, 409), _back())
