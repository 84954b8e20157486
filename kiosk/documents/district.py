"""The street office's view of every compound's document library: which postings are running or ended, and which
compounds lack a standing document (管理规约, 议事规则) residents can read."""
from flask import Blueprint, render_template
from sqlalchemy import select

from ..auth.access import platform_required
from ..compounds.models import REAL, Compound
from ..extensions import db

bp = Blueprint("documents_platform", __name__, url_prefix="/admin/platform/documents")
bp.before_request(platform_required)


@bp.route("/")
def district():
    """Every compound, one row each, with its posting status (documents/_district_cell.html)."""
    compounds = db.session.scalars(select(Compound).where(REAL).order_by(Compound.district, Compound.name)).all()
    return render_template("documents/district.html", compounds=compounds)
