"""The committee's roll of households: list and search, add and edit, import (with a preview) and export."""
from flask import Blueprint, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import exports
from ..auth.access import editor_required, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from ..htmx import render
from . import csvio, rollfile, rollimport, rollmap, rollsample, service
from .forms import MEANING_LABELS, HouseholdForm, ImportForm
from .models import (DELIVERY_LABELS, HOLDER_LABELS, Household, HouseholdCard, Occupancy, address_columns,
                     format_address, live_card)

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
    """Import the roll from a spreadsheet: upload, a preview of how each column and row was understood (columns
    can be corrected and previewed again), then one confirmation that saves every readable row in one
    transaction."""
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(form, status=400 if request.method == "POST" else 200)
    upload = form.file.data
    token = request.form.get("token", "")
    meanings = None
    try:
        if upload and getattr(upload, "filename", ""):
            data = upload.read()
            grid = rollfile.read_grid(data)
            token = rollimport.keep(data, g.compound, current_user)
        elif token:
            grid = rollfile.read_grid(rollimport.load(token, g.compound, current_user))
            meanings = _posted_meanings()
        else:
            form.file.errors.append(_("请选择一个 Excel 或 CSV 文件。"))
            return _import_page(form, status=400)
    except rollfile.RollFileError as error:
        form.file.errors.append(_(error.why))
        return _import_page(form, status=400)
    except rollimport.ImportRefused as refused:
        form.file.errors.append(KEPT_REFUSED[refused.reason])
        return _import_page(form, status=400)
    reading = rollmap.understand(grid, meanings)
    good = [row for row in reading.rows if not row.why]
    if request.form.get("action") == "confirm" and good and not (reading.missing or reading.doubled):
        try:
            added, updated, unchanged = rollimport.import_rows(g.compound, current_user, [r.fields for r in good])
            db.session.commit()
        except IntegrityError:  # someone added one of these addresses by hand a moment ago: nothing was saved
            db.session.rollback()
            form.file.errors.append(_("名册刚刚被别人改过，这次什么也没有导入。请再按一次“确认导入”。"))
            return _import_page(form, status=409)
        rollimport.forget(token, g.compound, current_user)
        flash(_("导入完成：新增 %(a)s 户，更新 %(u)s 户，%(s)s 户没有变化，%(r)s 行没有导入。名册里原有、文件里没有的住户保持不变。",
                a=added, u=updated, s=unchanged, r=len(reading.rows) - len(good)), "success")
        return redirect(url_for("households_admin.index"))
    planned = rollimport.plan(g.compound, good)
    preview = {"reading": reading, "token": token, "planned": planned, "shown": planned[:rollmap.PREVIEW_ROWS],
               "refused": [(row, _refusal(row)) for row in reading.rows if row.why],
               "counts": {status: sum(p.status == status for p in planned) for status in ("new", "changed",
                                                                                         "unchanged")}}
    usable = bool(good) and not (reading.missing or reading.doubled)
    return _import_page(form, preview=preview, status=200 if usable else 400)


KEPT_REFUSED = {"expired": _l("这次上传的预览已经过期，请重新选择文件上传。"),
                "elsewhere": _l("这份预览不是在这个小区、由你上传的，请重新选择文件上传。")}


def _refusal(row):
    """Why a row is not imported, as a sentence in the reader's language (the area's own reason too)."""
    args = {name: (_(value) if name == "why" else value) for name, value in row.args.items()}
    return _(row.why, **args)


def _posted_meanings():
    """The meaning the committee chose for each column (col-0, col-1, ...), anything unknown read as ignored."""
    meanings = []
    while f"col-{len(meanings)}" in request.form and len(meanings) < rollfile.MAX_COLUMNS:
        meaning = request.form.get(f"col-{len(meanings)}")
        meanings.append(meaning if meaning in rollmap.MEANINGS else "ignore")
    return meanings or None


def _import_page(form, preview=None, status=200):
    """The import page: the upload form, and the preview when there is one (never cached: it holds contacts)."""
    response = make_response(render_template("households/roll_import.html", form=form, preview=preview,
                                             meanings=MEANING_LABELS, format_address=format_address), status)
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.route("/import/sample.xlsx")
@editor_required
def import_sample():
    """A made-up messy roll (title row, two-line merged header, a merged building, areas with units, a total row)
    to try the preview with."""
    if exports.in_wechat():
        return exports.wechat_page()
    response = make_response(rollsample.workbook_bytes())
    response.content_type = exports.XLSX_TYPE
    return exports.attachment(response, "sample-roll.xlsx", "示例花名册.xlsx")


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
