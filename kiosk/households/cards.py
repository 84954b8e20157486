"""Household cards: print and reissue them; a scanned card opens "our household" on the resident's phone.

A card's QR holds /h/<token>. Only the token's hash is stored, so a token is shown once, when the card is
printed; reprinting means reissuing. A print run's new cards wait until the committee confirms the sheet was
printed and handed out (inside WeChat nothing prints, and a building's cards must not die with nothing in
hand): only then do they work and the old cards stop. The phone remembers the household in a cookie holding
the token, checked on every visit, so a revoked card stops working there too.
"""
from datetime import timedelta

from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import bindparam, delete, func, select

from ..auth.access import editor_required, require_committee
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..compounds.models import Compound
from ..database import utcnow
from ..extensions import db
from ..qr import public_url, qr_svg
from . import sections, service
from .models import CardBatch, CardFailure, Household, HouseholdCard, address_columns, hash_token, live_card

admin_bp = bind_compound(Blueprint("cards_admin", __name__, url_prefix="/admin/<compound>/cards"))
admin_bp.before_request(require_committee)
card_bp = Blueprint("card", __name__)
home_bp = bind_compound(Blueprint("household", __name__, url_prefix="/<compound>"))

COOKIE = "kiosk_household"
GUESS_LIMIT = 30  # unknown card URLs per address per window
GUESS_WINDOW = timedelta(minutes=15)
WAITING_TOO_LONG = timedelta(days=3)  # a print run unconfirmed this long is flagged on the cards page


def blueprints():
    return [admin_bp, card_bp, home_bp]


def batch_label(batch):
    """What a print run holds, as the committee reads it: 全部住户, 3 栋, 还没有卡的住户, or one address."""
    kind, _sep, value = batch.description.partition(":")
    if kind == "all":
        return _("全部住户")
    if kind == "building":
        return _("%(b)s 栋", b=value)
    if kind == "missing":
        return _("还没有卡的住户")
    return value


def _sheet(batch, issued):
    """Render printable card sheets (8 per A4) for a print run's new tokens; never cached, never stored."""
    cards = [{"household": h, "qr": Markup(qr_svg(public_url(url_for("card.open", token=t)), h.address))}
             for h, t in issued]
    pages = [cards[i:i + 8] for i in range(0, len(cards), 8)]
    response = make_response(render_template("households/card_sheet.html", pages=pages, count=len(cards),
                                             batch=batch))
    response.headers["Cache-Control"] = "no-store"
    return response


@admin_bp.route("/")
def index():
    """Choose which households' cards to print: all, one building, or those without a card yet."""
    buildings = db.session.scalars(select(Household.building).where(Household.compound_id == g.compound.id)
                                   .distinct().order_by(Household.building)).all()
    with_card = db.session.scalar(select(func.count(func.distinct(HouseholdCard.household_id))).where(
        HouseholdCard.compound_id == g.compound.id, live_card()))
    total = db.session.scalar(select(func.count()).select_from(Household).where(
        Household.compound_id == g.compound.id))
    waiting = service.pending_batches(g.compound)
    old = utcnow() - WAITING_TOO_LONG
    return render_template("households/cards_index.html", buildings=buildings, with_card=with_card, total=total,
                           waiting=waiting, overdue={b.id for b in waiting if b.created_at < old},
                           batch_label=batch_label, waiting_days=WAITING_TOO_LONG.days)


@admin_bp.route("/print", methods=["POST"])
@editor_required
def print_sheet():
    """Make a print run of new cards for the chosen households and show the sheet to print (tokens are shown
    only now); the old cards keep working until the run is confirmed."""
    which = request.form.get("which", "missing")
    statement = select(Household).where(Household.compound_id == g.compound.id)
    description = which
    if which == "building":
        description = "building:" + request.form.get("building", "")
        statement = statement.where(Household.building == request.form.get("building", ""))
    elif which == "missing":
        live = select(HouseholdCard.household_id).where(live_card())
        statement = statement.where(Household.id.not_in(live))
    elif which != "all":
        abort(400)
    households = db.session.scalars(statement.order_by(*address_columns())).all()
    if not households:
        flash(_("没有需要打印的住户卡。"), "info")
        return redirect(url_for("cards_admin.index"))
    batch, issued = service.prepare(g.compound, current_user, households, description)
    db.session.commit()
    return _sheet(batch, issued)


@admin_bp.route("/<int:household_id>/reissue", methods=["POST"])
@editor_required
def reissue(household_id):
    """A new card for one household (worn out, or lost: 作废 stops a lost one at once); the old card works until
    the new one is confirmed handed out."""
    household = get_or_404_in_compound(Household, household_id)
    batch, issued = service.prepare(g.compound, current_user, [household], "household:" + household.address)
    db.session.commit()
    return _sheet(batch, issued)


@admin_bp.route("/batches/<int:batch_id>/confirm", methods=["POST"])
@editor_required
def confirm(batch_id):
    """已打印并分发: the run's cards start working and the households' old cards stop."""
    return _settle(batch_id, service.confirm,
                   lambda batch: _("已确认：%(n)s 张新住户卡生效，这些住户的旧卡已作废。", n=batch.count))


@admin_bp.route("/batches/<int:batch_id>/cancel", methods=["POST"])
@editor_required
def cancel(batch_id):
    """The sheet was not printed: the run's cards never work, the old cards stay."""
    return _settle(batch_id, service.cancel, lambda batch: _("已取消这批住户卡：新卡不会生效，旧卡照常使用。"))


def _settle(batch_id, action, done):
    """Confirm or cancel a print run once; a second press (another phone, a double tap) is told it is settled."""
    batch = get_or_404_in_compound(CardBatch, batch_id)
    try:
        action(g.compound, current_user, batch)
    except service.HouseholdRefused:
        db.session.rollback()
        flash(_("这批住户卡已经确认或取消过了。"), "info")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(done(batch), "success")
    return redirect(url_for(".index"))


@admin_bp.route("/<int:household_id>/revoke", methods=["POST"])
@editor_required
def revoke(household_id):
    """Stop a household's card without printing a new one."""
    household = get_or_404_in_compound(Household, household_id)
    service.revoke(g.compound, current_user, household)
    db.session.commit()
    flash(_("%(address)s 的住户卡已作废，旧卡立即失效。", address=household.address), "success")
    return redirect(url_for("households_admin.show", household_id=household.id))


# One statement for the household (not the card, then its household): every card holder's request asks.
# Built once: building it (clauses, cache key) cost as much as running it.
_CARD_HOUSEHOLD = (select(Household).join(HouseholdCard, HouseholdCard.household_id == Household.id)
                   .where(HouseholdCard.token_hash == bindparam("token_hash"), live_card()))


def card_household(token):
    """Return the household of a live card token, or None."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(_CARD_HOUSEHOLD, {"token_hash": hash_token(token)})


def _too_many_guesses(address):
    since = utcnow() - GUESS_WINDOW
    return db.session.scalar(select(func.count()).select_from(CardFailure).where(
        CardFailure.address == address, CardFailure.at >= since)) >= GUESS_LIMIT


def _refuse(address):
    """The same calm answer for unknown, revoked and guessed cards: nothing says which it was."""
    from ..database import writing

    with writing():
        db.session.add(CardFailure(address=address))
        db.session.execute(delete(CardFailure).where(CardFailure.at < utcnow() - timedelta(days=1)))
    return render_template("households/card_refused.html"), 404


@card_bp.route("/h/<token>")
def open(token):  # noqa: A001 - the view's name is what the URL does
    """A scanned card: committee members go to the pickup page, residents' phones remember the household."""
    address = request.remote_addr or "unknown"
    if _too_many_guesses(address):
        return render_template("households/card_refused.html", throttled=True), 429
    household = card_household(token)
    if household is None:
        return _refuse(address)
    compound = db.session.get(Compound, household.compound_id)
    if current_user.is_authenticated and (current_user.is_platform_admin or current_user.role_in(compound)):
        return redirect(url_for("distribution_admin.household", compound=compound.slug, household_id=household.id))
    # Move on to a URL without the token, so it stays out of the address bar, history and Referer.
    response = redirect(url_for("household.mine", compound=compound.slug))
    response.set_cookie(COOKIE, token, max_age=2 * 365 * 24 * 3600, httponly=True, samesite="Lax",
                        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def current_household():
    """The household this phone remembers for g.compound, or None (looked up once per request: a page asks
    for it from several places)."""
    token = request.cookies.get(COOKIE)
    known = g.get("_card_household")
    if known is not None and known[0] == token:
        return known[1]
    household = card_household(token)
    if household is not None and household.compound_id != g.compound.id:
        household = None
    g._card_household = (token, household)
    return household


@home_bp.route("/my")
def mine():
    """Our household: its address (no personal data), what it can collect, and its history."""
    household = current_household()
    response = make_response(render_template(
        "households/mine.html", household=household,
        sections=sections.for_household(household) if household else [],
        remembered=COOKIE in request.cookies))
    response.headers["Cache-Control"] = "no-store"
    return response


@home_bp.route("/my/forget", methods=["POST"])
def forget():
    """Forget this phone's household."""
    response = redirect(url_for("compounds.home"))
    response.delete_cookie(COOKIE, httponly=True, samesite="Lax")
    flash(_("这部手机已不再记住您家。需要时再扫一次住户卡即可。"), "success")
    return response
