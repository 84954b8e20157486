"""The committee's roll of households: list and search, add and edit, import and export as CSV."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import exports
from ..auth.access import editor_required, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from ..htmx import render
from . import csvio, service
from .forms import FIELD_LABELS, HouseholdForm, ImportForm
from .models import (DELIVERY_LABELS, HOLDER_LABELS, Household, HouseholdCard, Occupancy, address_columns,
                     live_card)

admin_bp = bind_compound(Blueprint("households_admin", __name__, url_prefix="/admin/<compound>/households"))
admin_bp.before_request(require_committee)

PER_PAGE = 50


def blueprints():
    return [admin_bp]


@admin_bp.route("/")
def index():
    """The roll, searchable by building and room; an htmx search gets only the list."""
    query = (request.args.get("q") or "").strip()
    page = max(request.args.get("page", 1, type=int), 1)
    statement = select(Household).where(Household.compound_id == g.compound.id)
    if query:
        like = f"%{query}%"
        statement = statement.where(or_(
            (Household.building + Household.entrance + Household.room).like(like),
            (Household.building + "-" + Household.room).like(like),
            Household.owner_key.like(like), Household.contact_name.like(like)))
    households = db.paginate(statement.order_by(*address_columns()), page=page, per_page=PER_PAGE, error_out=False)
    totals = db.session.execute(select(func.count(), func.coalesce(func.sum(Household.area_centi), 0))
                                .where(Household.compound_id == g.compound.id)).one()
    active_cards = set(db.session.scalars(select(HouseholdCard.household_id).where(
        HouseholdCard.compound_id == g.compound.id, live_card())))
    return render("households/roll_index.html", "households/_roll_list.html", households=households,
                  query=query, total=totals[0], total_area=f"{totals[1] // 100}.{totals[1] % 100:02d}",
                  active_cards=active_cards, buildings=service.cards_by_building(g.compound))


def _fields(form):
    """The household's fields from a validated form."""
    fields = {"building": form.building.data.strip(), "entrance": (form.entrance.data or "").strip(),
              "room": form.room.data.strip(), "area_centi": form.area_centi,
              "occupancy": Occupancy(form.occupancy.data)}
    for field in ("owner_key", "contact_name", "contact_phone", "note"):
        fields[field] = (getattr(form, field).data or "").strip()
    return fields


def _save(form, household):
    """Validate and save; return a redirect, or None to show the form again."""
    if not form.validate_on_submit():
        return None
    try:
        household = service.save(g.compound, current_user, household, _fields(form))
        db.session.commit()
    except service.HouseholdRefused:
        db.session.rollback()
        form.room.errors.append(_("这一户已经在名册里了。"))
        return None
    flash(_("已保存：%(address)s", address=household.address), "success")
    return redirect(url_for("households_admin.index", q=household.building + household.entrance + household.room))


@admin_bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Add one household."""
    form = HouseholdForm()
    done = _save(form, None)
    return done or (render_template("households/roll_form.html", form=form, household=None),
                    400 if request.method == "POST" else 200)


@admin_bp.route("/<int:household_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(household_id):
    """Correct a household's address, area, occupancy or contact."""
    household = get_or_404_in_compound(Household, household_id)
    form = HouseholdForm(obj=household) if request.method == "GET" else HouseholdForm()
    if request.method == "GET":
        form.area.data = household.area
        form.occupancy.data = household.occupancy.value
    done = _save(form, household)
    return done or (render_template("households/roll_form.html", form=form, household=household),
                    400 if request.method == "POST" else 200)


@admin_bp.route("/import", methods=["GET", "POST"])
@editor_required
def import_csv():
    """Import the roll from CSV: all rows or none, with every problem listed by row and column."""
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            form.file.errors.append(_("请选择一个 CSV 文件。"))
        else:
            rows, problems = csvio.parse_roll(upload.read(), FIELD_LABELS)
            if not problems:
                added, updated = service.import_rows(g.compound, current_user, rows)
                db.session.commit()
                flash(_("导入完成：新增 %(a)s 户，更新 %(u)s 户。名册里原有、文件里没有的住户保持不变。",
                        a=added, u=updated), "success")
                return redirect(url_for("households_admin.index"))
    status = 400 if request.method == "POST" else 200
    return render_template("households/roll_import.html", form=form, problems=problems), status


@admin_bp.route("/export.csv")
def export_csv():
    """The whole roll, contacts included (committee only), as a CSV that Excel opens correctly."""
    households = db.session.scalars(select(Household).where(Household.compound_id == g.compound.id)
                                    .order_by(*address_columns())).all()
    filename = f"{g.compound.slug}-households.csv"
    return exports.csv_response(csvio.roll_rows(households), filename, filename)


@admin_bp.route("/<int:household_id>")
def show(household_id):
    """One household as the committee sees it, with its card."""
    household = get_or_404_in_compound(Household, household_id)
    card = db.session.scalar(select(HouseholdCard).where(HouseholdCard.household_id == household.id,
                                                         live_card()))
    return render_template("households/roll_show.html", household=household, card=card,
                           deliveries=DELIVERY_LABELS, holders=HOLDER_LABELS)
