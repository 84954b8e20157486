"""What residents see of the money: disclosed periods with charts and every entry, receipts, who signed,
the verification code, a verify page anyone can run, a check their own phone runs against the code on the
paper, and questions (质询) asked with the household card.

Only published (signed) periods show their entries; a period waiting for signatures shows that it is
waiting. A person paid by the compound appears as "个人", never by name. Every page that shows figures says
so when the check finds they no longer match what the supervisors signed.
"""
import json
import re

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..compounds.context import bind_compound
from ..database import utcnow
from ..extensions import db
from ..households import cards
from ..i18n import large_type
from ..qr import public_url, qr_svg
from ..timefmt import local_date
from . import evidence, kept, service
from .models import Entry, Kind, Period, PeriodStatus, Receipt

bp = bind_compound(Blueprint("ledger", __name__, url_prefix="/<compound>/ledger"))

PER_PAGE = 50
CHART_PERIODS = 12
QUESTION_MAX = 500
CODE = re.compile(r"[0-9A-F]{8,64}")  # a printed code is 12 hex digits; fewer than 8 would match by luck


def blueprints():
    return [bp]


@bp.before_request
def _choose_book():
    """The page's book: the one of the period it shows, else ?book=, else public income (old links)."""
    if request.endpoint == "ledger.period":  # a published period's book is known without loading it
        shown = kept.published_period(g.compound, request.view_args["period_id"])
        if shown is not None:
            service.adopt_kind(shown.book_kind)
            return
    service.adopt_from_view_args(g.compound, request.view_args)


bp.url_defaults(service.book_url_defaults)


def _period(period_id):
    period = db.session.get(Period, period_id, options=[joinedload(Period.book)])
    if period is None or period.compound_id != g.compound.id:
        abort(404)
    service.adopt_book(period)
    return period


def _bars(values, top=None):
    """Each value as a width in permille of `top`, else of the largest (integers only)."""
    top = top or max([v for v in values if v > 0] or [1])
    return [max(0, v) * 1000 // top for v in values]


def month_chart(published):
    """Income and expense of the last periods, oldest first, with bar widths."""
    shown = list(reversed(published[:CHART_PERIODS]))
    widths = _bars([p.income_fen for p in shown] + [p.expense_fen for p in shown])
    return [{"period": p, "income_w": widths[i], "expense_w": widths[len(shown) + i]} for i, p in enumerate(shown)]


def category_chart(figures, kind=Kind.expense, top=None):
    """One kind's categories with bar widths; `top` puts them on the scale of a chart they share."""
    rows = [(name, fen) for k, name, fen in figures.by_category if k == kind]
    widths = _bars([fen for _, fen in rows], top)
    return [{"name": name, "fen": fen, "width": w} for (name, fen), w in zip(rows, widths)]


def check_url(period):
    """The phone check of a period, with its head number and hash as the printed QR carries them."""
    return public_url(url_for("ledger.check", period_id=period.id, n=period.head_number, h=period.head_hash))


@bp.route("/")
def index():
    """The ledger at a glance: the latest disclosure, charts, every disclosed period with its verdict, what is
    due, and how many supervisors must sign."""
    published = service.periods(g.compound, published_only=True)
    latest = published[0] if published else None
    figures = service.figures(g.compound, latest.starts_on, latest.ends_on) if latest else None
    report, _checked_at = evidence.cached_check(g.compound)
    return render_template("ledger/index.html", latest=latest, figures=figures, published=published,
                           months=month_chart(published), cards=service.overview(g.compound),
                           kind=service.current_kind(),
                           categories=category_chart(figures) if figures else [],
                           cadence=service.cadence(g.compound), book=service.book(g.compound), report=report,
                           buildings=service.building_lines(g.compound, until=latest.ends_on if latest else None)
                           if service.is_fund(g.compound) else [],
                           waiting=[p for p in service.periods(g.compound) if p.status != PeriodStatus.published])


@bp.route("/<int:period_id>")
def period(period_id):
    """One disclosed period: figures by category, every entry (50 a page), receipts, signatures, the code;
    and, when the check finds it changed since it was signed, which entries and that the breakdown is not
    what was signed. The body is rendered once per state of the ledger (kept.py), the page around it each time,
    from what kept.py keeps of the period (the period itself is loaded only to render the body)."""
    shown = kept.published_period(g.compound, period_id)
    if shown is None:
        shown = _period(period_id)
        if shown.status != PeriodStatus.published:
            return render_template("ledger/waiting.html", period=shown), 200
    page = max(1, request.args.get("page", 1, type=int) or 1)
    report, checked_at = evidence.cached_check(g.compound)
    key = ("period", g.compound.id, shown.id, page, kept.state(g.compound), checked_at, local_date(),
           str(get_locale()), large_type(), request.host_url)
    body = kept.kept_body(key)
    if body is None:  # rendered again, from the period as the database holds it now
        period = _period(period_id)
        shown = kept.loaded_period(g.compound, period)
        if shown is None:
            return render_template("ledger/waiting.html", period=period), 200
        body = kept.body(key, lambda: _period_body(period, page, report))
    return render_template("ledger/period.html", period=shown, body=Markup(body))


def _period_body(period, page, report):
    """The body of a published period's page (everything but the layout around it), as text."""
    entries, more = service.entries_in(g.compound, period.starts_on, period.ends_on, page, PER_PAGE)
    figures = service.figures(g.compound, period.starts_on, period.ends_on)
    verdict = report.verdict(period.id)
    breakdown_matches = (figures.income, figures.expense) == (period.income_fen, period.expense_fen)
    top = max([fen for _, _, fen in figures.by_category if fen > 0] or [1])  # income and expense share one scale
    return render_template(
        "ledger/_period_body.html", period=period, figures=figures, entries=entries, page=page, more=more,
        verdict=verdict, changed=[e.number for e in entries if not report.entry_ok(e.number)],
        breakdown_matches=breakdown_matches, categories=category_chart(figures, Kind.expense, top),
        incomes=category_chart(figures, Kind.income, top), signers=service.signers(period),
        receipts=_public_receipts(entries),
        qr=Markup(qr_svg(public_url(url_for(".check", period_id=period.id)), title=_("核对"))))


@bp.route("/buildings/<building>")
def building(building):
    """One building's maintenance-fund statement as disclosed: its deposits and transfers in, its spending with
    the resolution that decided each, and its balance, up to the end of the last published period."""
    with service.using_book(service.BookKind.maintenance_fund):
        if building not in service.fund_buildings(g.compound):
            abort(404)
        published = service.periods(g.compound, published_only=True)
        until = published[0].ends_on if published else None
        entries = service.building_entries(g.compound, building, until) if until else []
        lines = service.building_lines(g.compound, until) if until else []
        line = next((x for x in lines if x.building == building), service.BuildingLine(building, 0, 0))
        return render_template("ledger/building.html", building=building, entries=entries, line=line, until=until)


def shows_receipt(image):
    """Whether the image is a public receipt of a posted entry (residents may see it)."""
    return db.session.scalar(select(Receipt.id).join(Entry, Entry.id == Receipt.entry_id).where(
        Receipt.image_id == image.id, Receipt.public.is_(True), Entry.posted.is_(True)).limit(1)) is not None


def _public_receipts(entries):
    """{entry id: [Receipt]} of the public receipts of these entries, in one query."""
    ids = [e.id for e in entries]
    found = {}
    if ids:
        for receipt in db.session.scalars(select(Receipt).where(Receipt.entry_id.in_(ids), Receipt.public.is_(True))
                                          .order_by(Receipt.id)):
            found.setdefault(receipt.entry_id, []).append(receipt)
    return found


def _entry(number):
    entry = service.entry_by_number(g.compound, number)
    if entry is None or not entry.posted:
        abort(404)
    return entry


@bp.route("/entries/<int:number>")
def entry(number):
    """One posted entry: what, when, how much, to whom (never a person's name), receipts, reversal, questions."""
    entry = _entry(number)
    household = cards.current_household()
    report, _checked_at = evidence.cached_check(g.compound)
    response = make_response(render_template(
        "ledger/entry.html", entry=entry, reversal=service.reversal_of(entry),
        receipts=[r for r in entry.receipts if r.public], questions=service.questions_for(entry),
        household=household, overdue=service.is_overdue, question_max=QUESTION_MAX,
        changed=not report.entry_ok(entry.number), now=utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/entries/<int:number>/ask", methods=["POST"])
def ask(number):
    """A household asks about an entry; the committee answers publicly (within 10 days, by custom)."""
    entry = _entry(number)
    household = cards.current_household()
    if household is None:
        return render_template("ledger/need_card.html", entry=entry), 403
    body = (request.form.get("body") or "").strip()
    if not body or len(body) > QUESTION_MAX:
        flash(_("问题请写 1 到 %(n)s 个字。", n=QUESTION_MAX), "error")
        return redirect(url_for(".entry", number=entry.number, _anchor="ask"), 303)
    service.ask(g.compound, household, entry, body)
    db.session.commit()
    flash(_("问题已提交。委员会会在这里公开答复，一般在 10 天内。"), "success")
    return redirect(url_for(".entry", number=entry.number, _anchor="questions"), 303)


def _by_code(code):
    """The published period whose head hash starts with a typed code (hex only: no LIKE wildcards)."""
    if not CODE.fullmatch(code):
        return None
    found = db.session.scalar(select(Period).where(
        Period.compound_id == g.compound.id, Period.status == PeriodStatus.published,
        Period.head_hash.startswith(code.lower(), autoescape=True)).order_by(Period.starts_on).limit(1))
    if found is not None:  # a printed code names its book too
        service.adopt_book(found)
    return found


@bp.route("/verify")
def verify():
    """Anyone can have the server recompute the chain: a verdict per disclosed period; with ?code= from a
    printed notice, that period's verdict."""
    code = (request.args.get("code") or "").strip().upper()[:64]
    period = _by_code(code) if code else None  # first: a printed code picks its book, the check is that book's
    report, checked_at = evidence.cached_check(g.compound)
    published = service.periods(g.compound, published_only=True)
    response = make_response(render_template("ledger/verify.html", report=report, code=code, period=period,
                                             published=published, checked_at=checked_at))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/check/<int:period_id>")
def check(period_id):
    """The check a resident's phone runs itself (static/js/ledger-check.js): it fetches the period's stretch of
    the chain, recomputes it and compares the result with the code on the paper (the QR's n and h)."""
    period = _period(period_id)
    if period.status != PeriodStatus.published:
        return render_template("ledger/waiting.html", period=period), 200
    response = make_response(render_template("ledger/check.html", period=period))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:period_id>/chain.json")
def chain_json(period_id):
    """A published period's stretch of the chain, for phones and anyone's own checker (docs/ledger-hashing.md)."""
    period = evidence.published_period(g.compound, period_id)
    if period is None:
        abort(404)
    # Characters as they are (not \u escapes): what is hashed is UTF-8 text, and anyone can read the file.
    response = make_response(json.dumps(evidence.segment(g.compound, period), ensure_ascii=False))
    response.content_type = "application/json; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/head.json")
def head_json():
    """The chain's newest entry, and the stored hash at ?n= (phones compare it with the head they remember)."""
    number = request.args.get("n", type=int)
    response = jsonify(evidence.head(g.compound, number if number and number > 0 else None))
    response.headers["Cache-Control"] = "no-store"
    return response
