"""The setup checklist page (/admin/<compound>/setup), the starter kit to print (…/setup/kit), the posters'
"printed and put up" button, and the street office's progress of every compound (/admin/platform/setup)."""
from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from ..auth.access import editor_required, platform_required, require_committee
from ..compounds.context import bind_compound
from ..compounds.models import REAL, Compound
from ..extensions import db
from ..households import service as households
from ..households.models import Household, HouseholdCard, live_card
from ..qr import public_url, qr_svg
from . import guide
from .checklist import checklist, mark_posters

admin_bp = bind_compound(Blueprint("setup_admin", __name__, url_prefix="/admin/<compound>/setup"))
admin_bp.before_request(require_committee)
platform_bp = Blueprint("setup_platform", __name__, url_prefix="/admin/platform/setup")
platform_bp.before_request(platform_required)


def blueprints():
    """The compound's checklist and kit, and the district's progress."""
    return [admin_bp, platform_bp]


@admin_bp.route("/")
def index():
    """The compound's checklist: each step, its figures and where it is done."""
    return render_template("setup/index.html", checklist=checklist(g.compound))


@admin_bp.route("/posters", methods=["POST"])
@editor_required
def posters():
    """A committee member says the lift and stairwell posters are printed and up."""
    mark_posters(g.compound, current_user)
    db.session.commit()
    flash(_("已记下：海报已打印张贴。"), "success")
    return redirect(url_for("setup_admin.index"))


def _card_status(compound):
    """How many households still have no working card, and the print runs waiting to be confirmed handed out."""
    total = db.session.scalar(select(func.count()).select_from(Household).where(Household.compound_id == compound.id))
    with_card = db.session.scalar(select(func.count(func.distinct(HouseholdCard.household_id))).where(
        HouseholdCard.compound_id == compound.id, live_card()))
    return {"total": total or 0, "without": (total or 0) - (with_card or 0),
            "waiting": households.pending_batches(compound)}


@admin_bp.route("/kit")
def kit():
    """The starter kit on A4: the poster, the residents' one-page guide and the committee's quick guide from the
    manual. Cards are not in it: printing them issues new tokens, so the kit shows where the cards stand and a
    button to the card sheet instead of issuing any itself."""
    url = public_url(url_for("compounds.home"))
    buildings = db.session.scalar(select(func.count(func.distinct(Household.building))).where(
        Household.compound_id == g.compound.id)) or 0
    return render_template("setup/kit.html", url=url, qr=Markup(qr_svg(url, g.compound.name)), buildings=buildings,
                           cards=_card_status(g.compound), guide=guide.quick_guide())


@platform_bp.route("/")
def district():
    """Every compound's progress through the checklist, those furthest behind first, with the steps missing."""
    compounds = db.session.scalars(select(Compound).where(REAL).order_by(Compound.district, Compound.name)).all()
    rows = [(compound, checklist(compound)) for compound in compounds]
    rows.sort(key=lambda row: row[1].done_count)  # stable: the district's own order within one fraction
    return render_template("setup/district.html", rows=rows)
