"""The committee's screen pages: register, edit, retire, and print a poster for the compound."""
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from ..auth.access import editor_required, require_committee
from ..changes import record_change
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..extensions import db
from ..qr import public_url, qr_svg
from . import AREA
from .forms import ScreenForm
from .models import Orientation, Screen

bp = bind_compound(Blueprint("screen_admin", __name__, url_prefix="/admin/<compound>"))
bp.before_request(require_committee)


def screen_url(screen):
    """The absolute address to open on the lobby device."""
    return public_url(url_for("screen.show", key=screen.key))


@bp.route("/screens/")
def index():
    """List the compound's screens with their last contact and an offline flag."""
    screens = db.session.scalars(select(Screen).where(Screen.compound_id == g.compound.id, Screen.retired.is_(False))
                                 .order_by(Screen.name)).all()
    return render_template("screen/admin_index.html", screens=screens, screen_url=screen_url,
                           poll_seconds=current_app.config["POLL_SECONDS"])


def _apply(form, screen):
    screen.name = form.name.data.strip()
    screen.place = (form.place.data or "").strip()
    screen.orientation = Orientation(form.orientation.data)
    screen.dwell_seconds = form.dwell_seconds.data
    screen.idle_seconds = form.idle_seconds.data
    screen.night_start = form.night_start.data
    screen.night_end = form.night_end.data


@bp.route("/screens/new", methods=["GET", "POST"])
@editor_required
def create():
    """Register a screen and show where to open it."""
    form = ScreenForm()
    if form.validate_on_submit():
        screen = Screen(compound_id=g.compound.id)
        _apply(form, screen)
        db.session.add(screen)
        record_change(g.compound, current_user, AREA, "create", screen, None, screen.snapshot())
        db.session.commit()
        flash(_("屏幕已登记。在大堂的屏幕上打开下面的网址或扫码。"), "success")
        return redirect(url_for("screen_admin.show", screen_id=screen.id))
    return render_template("screen/form.html", form=form, screen=None), 400 if request.method == "POST" else 200


@bp.route("/screens/<int:screen_id>")
def show(screen_id):
    """One screen: its address, a QR to open it on the device, and its settings."""
    screen = get_or_404_in_compound(Screen, screen_id)
    if screen.retired:
        return redirect(url_for("screen_admin.index"))
    url = screen_url(screen)
    return render_template("screen/admin_show.html", screen=screen, url=url, qr=Markup(qr_svg(url, screen.name)),
                           poll_seconds=current_app.config["POLL_SECONDS"])


@bp.route("/screens/<int:screen_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(screen_id):
    """Change a screen's settings; the device picks them up on its next reload."""
    screen = get_or_404_in_compound(Screen, screen_id)
    form = ScreenForm(obj=screen) if request.method == "GET" else ScreenForm()
    if request.method == "GET":
        form.orientation.data = screen.orientation.value
    if form.validate_on_submit():
        before = screen.snapshot()
        _apply(form, screen)
        record_change(g.compound, current_user, AREA, "edit", screen, before, screen.snapshot())
        db.session.commit()
        flash(_("已保存。"), "success")
        return redirect(url_for("screen_admin.show", screen_id=screen.id))
    return render_template("screen/form.html", form=form, screen=screen), 400 if request.method == "POST" else 200


@bp.route("/screens/<int:screen_id>/retire", methods=["POST"])
@editor_required
def retire(screen_id):
    """Stop a screen: its address no longer shows the loop."""
    screen = get_or_404_in_compound(Screen, screen_id)
    before = screen.snapshot()
    screen.retired = True
    record_change(g.compound, current_user, AREA, "retire", screen, before, screen.snapshot())
    db.session.commit()
    flash(_("屏幕已停用。"), "success")
    return redirect(url_for("screen_admin.index"))


@bp.route("/poster")
def poster():
    """An A4 poster for the lift or stairwell: the compound's name and a large QR to its phone home."""
    url = public_url(url_for("compounds.home"))
    return render_template("screen/poster.html", url=url, qr=Markup(qr_svg(url, g.compound.name)))
