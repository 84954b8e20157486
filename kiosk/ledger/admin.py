"""The committee's ledger pages (being written; the blueprint exists so the app starts)."""
from flask import Blueprint

from ..auth.access import require_committee
from ..compounds.context import bind_compound

admin_bp = bind_compound(Blueprint("ledger_admin", __name__, url_prefix="/admin/<compound>/ledger"))
admin_bp.before_request(require_committee)


def blueprints():
    return [admin_bp]
