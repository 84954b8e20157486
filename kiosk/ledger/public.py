"""What residents see of the money: disclosed periods with charts and every entry, receipts, who signed,
the verification code, a verify page anyone can run, and questions (质询) asked with the household card.

Only published (signed) periods show their entries; a period waiting for signatures shows that it is
waiting. A person paid by the compound appears as "个人", never by name.
"""
import threading
import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from ..compounds.context import bind_compound
from ..database import utcnow
from ..extensions import db
from ..households import cards
from ..qr import public_url, qr_svg
from . import chain, service
from .models import Entry, Kind, Period, PeriodStatus, Receipt

bp = bind_compound(Blueprint("ledger", __name__, url_prefix="/<compound>/ledger"))

PER_PAGE = 50
CHART_PERIODS = 12
QUESTION_MAX = 500


def blueprints():
    return [bp]


def _period(period_id):
    period = db.session.get(Period, period_id)
    if period is None or period.compound_id != g.compound.id:
        abort(404)
    return period


def _bars(values):
    """Each value as a width in permille of the largest (integers only)."""
    top = max([v for v in values if v > 0] or [1])
    return [max(0, v) * 1000 // top for v in values]


def month_chart(published):
    """Income and expense of the last periods, oldest first, with bar widths."""
    shown = list(reversed(published[:CHART_PERIODS]))
    widths = _bars([p.income_fen for p in shown] + [p.expense_fen for p in shown])
    return [{"period": p, "income_w": widths[i], "expense_w": widths[len(shown) + i]} for i, p in enumerate(shown)]


def category_chart(figures, kind=Kind.expense):
    rows = [(name, fen) for k, name, fen in figures.by_category if k == kind]
    widths = _bars([fen for _, fen in rows])
    return [{"name": name, "fen": fen, "width": w} for (name, fen), w in zip(rows, widths)]


@bp.route("/")
def index():
    """The ledger at a glance: the latest disclosure, charts, every disclosed period, and what is due."""
    published = service.periods(g.compound, published_only=True)
    latest = published[0] if published else None
    figures = service.figures(g.compound, latest.starts_on, latest.ends_on) if latest else None
    return render_template("ledger/index.html", latest=latest, figures=figures, published=published,
                           months=month_chart(published),
                           categories=category_chart(figures) if figures else [],
                           cadence=service.cadence(g.compound),
                           waiting=[p for p in service.periods(g.compound) if p.status != PeriodStatus.published])


def _page_check(entries):
    """Entries on this page whose stored hash no longer matches their own fields (edited behind our back)."""
    return [e.number for e in entries if chain.entry_hash(e.prev_hash, chain.fields_of(e)) != e.hash]


@bp.route("/<int:period_id>")
def period(period_id):
    """One disclosed period: figures by category, every entry (50 a page), receipts, signatures, the code."""
    period = _period(period_id)
    if period.status != PeriodStatus.published:
        return render_template("ledger/waiting.html", period=period), 200
    page = max(1, request.args.get("page", 1, type=int) or 1)
    entries, more = service.entries_in(g.compound, period.starts_on, period.ends_on, page, PER_PAGE)
    figures = service.figures(g.compound, period.starts_on, period.ends_on)
    changed = _page_check(entries)
    matches = (figures.income, figures.expense, figures.opening) == (period.income_fen, period.expense_fen,
                                                                     period.opening_fen)
    response = make_response(render_template(
        "ledger/period.html", period=period, figures=figures, entries=entries, page=page, more=more,
        changed=changed, matches=matches, categories=category_chart(figures),
        incomes=category_chart(figures, Kind.income), signers=service.signers(period),
        receipts=_public_receipts(entries),
        qr=Markup(qr_svg(public_url(url_for(".verify", code=period.code)), title=_("核对")))))
    return response


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
    response = make_response(render_template(
        "ledger/entry.html", entry=entry, reversal=service.reversal_of(entry),
        receipts=[r for r in entry.receipts if r.public], questions=service.questions_for(entry),
        household=household, overdue=service.is_overdue, question_max=QUESTION_MAX,
        changed=chain.entry_hash(entry.prev_hash, chain.fields_of(entry)) != entry.hash, now=utcnow()))
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


_verify_lock = threading.Lock()


def cached_check(compound):
    """The compound's chain check, recomputed when the ledger changed or the cached one is older than
    VERIFY_CACHE_SECONDS; one request computes while the others wait for its answer instead of each
    recomputing 100,000 hashes."""
    ttl = current_app.config["VERIFY_CACHE_SECONDS"]
    cache = current_app.extensions.setdefault("kiosk_verify_cache", {})
    with _verify_lock:
        found = cache.get(compound.id)
        if found and found[0] == compound.version and time.monotonic() - found[1] < ttl:
            return found[2], found[3]
        check = service.verify(compound)
        checked_at = utcnow()
        cache[compound.id] = (compound.version, time.monotonic(), check, checked_at)
        return check, checked_at


@bp.route("/verify")
def verify():
    """Anyone can recompute the chain; with ?code= from a printed notice, also check that period."""
    check, checked_at = cached_check(g.compound)
    code = (request.args.get("code") or "").strip().upper()[:20]
    period = None
    if code:
        period = db.session.scalar(select(Period).where(Period.compound_id == g.compound.id,
                                                        Period.status == PeriodStatus.published,
                                                        Period.head_hash.startswith(code.lower())))
    bad_entry = service.entry_by_number(g.compound, check.bad_number) if check.bad_number else None
    bad_period = db.session.get(Period, check.bad_period) if check.bad_period else None
    head = db.session.scalar(select(Entry.hash).where(Entry.compound_id == g.compound.id, Entry.posted.is_(True))
                             .order_by(Entry.number.desc()).limit(1))
    response = make_response(render_template("ledger/verify.html", check=check, code=code, period=period,
                                             bad_entry=bad_entry, bad_period=bad_period, head=head or "",
                                             checked_at=checked_at))
    response.headers["Cache-Control"] = "no-store"
    return response
