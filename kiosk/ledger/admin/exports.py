"""The committee's exports of a period (CSV, XLSX) and the printed disclosure notice (公示表): no person's name, amounts in digits and 大写, text never run as a formula, a warning when
the check finds the period no longer matches, and a QR that lets a phone check the period against the paper.
"""
from flask import abort, g, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ... import exports
from ...extensions import db
from ...qr import public_url, qr_svg
from .. import evidence, public, service
from ..models import BookKind, Entry, PeriodStatus
from .base import REVIEW_OPINION, admin_bp
from .periods import _period
from .sentences import period_words


def _all_entries(period):
    return db.session.scalars(select(Entry).options(joinedload(Entry.category), joinedload(Entry.topic)).where(
        Entry.book_id == period.book_id, Entry.posted.is_(True), Entry.occurred_on >= period.starts_on,
        Entry.occurred_on <= period.ends_on).order_by(Entry.occurred_on, Entry.number)).all()


def _export_warning(period):
    """The sentence an export carries when the check finds the period no longer matches, else ""."""
    report, _checked_at = evidence.cached_check(g.compound)
    if report.verdict(period.id).ok:
        return ""
    return _("本期账目与提交（或签字公示）时不一致，可能在系统之外被改动过；以上明细是数据库里现在的记录。")


def period_rows(period):
    """The period as a table: a header, every posted entry (no person's name), a blank line, the totals, and the
    warning when the check finds the period no longer matches. The CSV and the workbook write the same rows."""
    header = [_("编号"), _("日期"), _("收支"), _("类别"), _("金额"), _("摘要"), _("对方"), _("方式"), _("关联决议")]
    rows = [[exports.bold(title) for title in header]]
    for entry in _all_entries(period):
        rows.append([entry.number, entry.occurred_on.isoformat(), str(entry.kind_label), entry.category.name,
                     exports.yuan(entry.amount_fen), entry.description, entry.public_counterparty,
                     str(entry.method_label), entry.topic.title if entry.topic else ""])
    rows.append([])
    totals = [(_("期初余额"), period.opening_fen), (_("本期收入"), period.income_fen),
              (_("本期支出"), period.expense_fen), (_("期末余额"), period.closing_fen)]
    rows += [[exports.bold(label), None, None, None, exports.yuan(fen)] for label, fen in totals]
    warning = _export_warning(period)
    if warning:
        rows.append([_("注意"), exports.Cell(warning, bold=True, color="B00020")])
    return rows


def _export_name(period, ext):
    if g.book.kind != BookKind.public_income:  # another book's file says which book it is
        return _("%(compound)s-%(book)s-%(period)s-收支明细.%(ext)s", compound=g.compound.name, book=g.book.label,
                 period=period_words(period), ext=ext)
    return _("%(compound)s-%(period)s-收支明细.%(ext)s", compound=g.compound.name,
             period=period_words(period), ext=ext)


def _ascii_name(period, ext):
    book = "" if g.book.kind == BookKind.public_income else f"{g.book.kind}-"
    return f"ledger-{book}{period.starts_on:%Y-%m}.{ext}"


@admin_bp.route("/periods/<int:period_id>.csv")
def export_csv(period_id):
    """The period's entries as CSV (UTF-8 with BOM for Excel), then its totals; no person's name."""
    period = _period(period_id)
    return exports.csv_response(period_rows(period), _ascii_name(period, "csv"), _export_name(period, "csv"))


@admin_bp.route("/periods/<int:period_id>.xlsx")
def export_xlsx(period_id):
    """The same as an Excel workbook; amounts are numbers in yuan (from integer fen, exactly)."""
    period = _period(period_id)
    return exports.xlsx_response(_("收支明细"), period_rows(period), _ascii_name(period, "xlsx"),
                                 _export_name(period, "xlsx"), widths=(8, 12, 8, 12, 14, 40, 20, 10, 30))


@admin_bp.route("/periods/<int:period_id>/print")
def print_notice(period_id):
    """The A4 disclosure notice (公示表): every line in digits and 大写, source, review, dates, code and QR."""
    period = _period(period_id)
    figures = service.figures(g.compound, period.starts_on, period.ends_on)
    published = period.status == PeriodStatus.published
    signers = service.signers(period) if published else []
    url = public_url(url_for("ledger.period", period_id=period.id))
    # The QR carries the head number and hash the supervisors signed: a phone checks the chain against the
    # paper itself, whatever the server says later.
    target = public.check_url(period) if published else url
    return render_template("ledger/admin_print.html", period=period, figures=figures, signers=signers,
                           book=g.book, opinion=REVIEW_OPINION, url=url, published=published,
                           warning=_export_warning(period),
                           qr=Markup(qr_svg(target, title=_("扫码核对本期明细"))))


def statement_rows(building, entries, opening_note=True):
    """A building's statement in the maintenance fund as a table: every posted entry charged to or credited for
    it (deposits, spending with the resolution that decided it; no person's name), then its totals."""
    header = [_("编号"), _("日期"), _("收支"), _("类别"), _("金额"), _("摘要"), _("对方"), _("依据的决议")]
    rows = [[exports.bold(title) for title in header]]
    income = expense = 0
    for entry in entries:
        rows.append([entry.number, entry.occurred_on.isoformat(), str(entry.kind_label), entry.category.name,
                     exports.yuan(entry.amount_fen), entry.description, entry.public_counterparty,
                     entry.topic.title if entry.topic else ""])
        if entry.kind == "income":
            income += entry.amount_fen
        else:
            expense += entry.amount_fen
    rows.append([])
    rows += [[exports.bold(label), None, None, None, exports.yuan(fen)]
             for label, fen in ((_("缴存及转入"), income), (_("支出"), expense), (_("结余"), income - expense))]
    return rows


def _statement(building):
    """A building of the roll's entries in the maintenance fund (whatever book the page was on), else 404."""
    if building not in service.fund_buildings(g.compound):
        abort(404)
    return service.building_entries(g.compound, building)


@admin_bp.route("/buildings/<building>.csv")
def building_csv(building):
    """A building's maintenance-fund statement as CSV: its deposits, its spending and the resolution behind each."""
    with service.using_book(BookKind.maintenance_fund):
        entries = _statement(building)
        return exports.csv_response(statement_rows(building, entries), "maintenance-fund-building.csv",
                                    _("%(compound)s-%(b)s栋-维修资金明细.csv", compound=g.compound.name, b=building))


@admin_bp.route("/buildings/<building>/print")
def building_print(building):
    """A building's maintenance-fund statement on A4, to post in its lobby."""
    with service.using_book(BookKind.maintenance_fund):
        entries = _statement(building)
        line = next(x for x in service.building_lines(g.compound) if x.building == building)
        return render_template("ledger/admin_building_print.html", building=building, entries=entries, line=line,
                               book=service.book(g.compound))
