"""How each household card reached its household, recorded from a committee phone after printing: handed over
in person against the ID card and the property certificate (当面核验), put in the mailbox, or otherwise; and
whether the owner or a tenant holds it. Statutory votes can require verified cards and never take a tenant's
(consult/service/voting.py). Committee only: none of it is ever on a public page."""
from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.accounts import display_names
from ..auth.access import editor_required
from ..compounds.context import get_or_404_in_compound
from ..extensions import db
from . import service
from .cards import admin_bp
from .models import DELIVERY_LABELS, HOLDER_LABELS, Household, HouseholdCard, address_order


@admin_bp.route("/delivery")
def delivery():
    """One building's households with their card and how it was handed over; the counts per building on top."""
    buildings = service.cards_by_building(g.compound)
    names = [row[0] for row in buildings]
    building = request.args.get("building") or (names[0] if names else "")
    if names and building not in names:
        building = names[0]
    households = sorted(db.session.scalars(select(Household).where(
        Household.compound_id == g.compound.id, Household.building == building)).all(), key=address_order)
    cards = {}
    if households:
        for card in db.session.scalars(select(HouseholdCard).where(
                HouseholdCard.household_id.in_([h.id for h in households]), HouseholdCard.revoked_at.is_(None))
                .order_by(HouseholdCard.id)):
            cards[card.household_id] = card  # the newest card not revoked wins
    return render_template("households/card_delivery.html", buildings=buildings, building=building,
                           households=households, cards=cards, deliveries=DELIVERY_LABELS, holders=HOLDER_LABELS,
                           names=display_names(c.delivered_by for c in cards.values() if c.delivered_by))


@admin_bp.route("/<int:household_id>/delivery", methods=["POST"])
@editor_required
def record_delivery(household_id):
    """Record one card's delivery and holder; back to its building's list at that household."""
    household = get_or_404_in_compound(Household, household_id)
    back = url_for(".delivery", building=household.building) + f"#h{household.id}"
    try:
        service.record_delivery(g.compound, current_user, household, request.form.get("delivery", ""),
                                request.form.get("holder", ""))
    except service.HouseholdRefused as refused:
        db.session.rollback()
        if refused.reason == "no_card":
            flash(_("%(address)s 还没有住户卡，请先打印。", address=household.address), "error")
        else:
            flash(_("请选择住户卡是怎么送到的，以及持卡人是业主还是租户。"), "error")
        return redirect(back)
    db.session.commit()
    flash(_("已记录：%(address)s 的住户卡。", address=household.address), "success")
    return redirect(back)
