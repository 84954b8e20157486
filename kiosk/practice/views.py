"""The practice compound's pages: from a real compound's admin, make or open its practice compound; from the
practice compound, reset it (a confirm page, then POST)."""
import logging

from flask import Blueprint, abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.access import require_committee
from ..auth.models import User
from ..compounds.models import Compound
from ..compounds.context import bind_compound
from ..database import writing
from ..extensions import db
from . import service

log = logging.getLogger("kiosk.practice")

bp = bind_compound(Blueprint("practice_admin", __name__, url_prefix="/admin/<compound>/practice"))
bp.before_request(require_committee)


def blueprints():
    """The practice compound's admin pages."""
    return [bp]


@bp.route("/")
def index():
    """练习小区: on a real compound, what it is and the way in (the chair makes it the first time); on a practice
    compound, the way back and the reset button."""
    if g.compound.practice:
        return render_template("practice/index.html", practice=g.compound, real=service.real_of(g.compound),
                               may_create=False, may_reset=service.may_reset(g.compound, current_user),
                               form=FlaskForm())
    practice = service.practice_for(g.compound)
    if practice is not None and not service.mirrored(g.compound, practice):
        with writing():  # the whole committee, supervisors included, has its place before anyone opens it
            service.mirror(g.compound, practice)
    return render_template("practice/index.html", practice=practice, real=g.compound,
                           may_create=service.may_create(g.compound, current_user),
                           may_reset=practice is not None and service.may_reset(practice, current_user),
                           form=FlaskForm())


@bp.route("/create", methods=["POST"])
def create():
    """Make the real compound's practice compound (its chair or platform staff) and open it."""
    if g.compound.practice:
        abort(404)
    if not service.may_create(g.compound, current_user):
        abort(403)
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    real_id, actor_id = g.compound.id, current_user.id
    try:
        with service.all_or_nothing():
            practice = service.create(db.session.get(Compound, real_id), db.session.get(User, actor_id))
            slug = practice.slug
    except service.PracticeRefused:
        flash(_("练习小区已经建好了，直接进入即可。"), "info")
        return redirect(url_for(".index"))
    flash(_("练习小区已建好，里面是虚构的示范数据，随便练。"), "success")
    return redirect(url_for("notices_admin.index", compound=slug))


def _practice_or_404():
    """g.compound if it is a practice compound the current account may reset; a real compound is never one."""
    if not g.compound.practice:
        abort(404)
    if not service.may_reset(g.compound, current_user):
        abort(403)
    return g.compound


@bp.route("/reset", methods=["GET", "POST"])
def reset():
    """练习重置: the confirm step (GET: what will be thrown away), then (POST) delete everything in the practice
    compound and seed it again, in one transaction."""
    practice = _practice_or_404()
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template("practice/reset.html", practice=practice, real=service.real_of(practice),
                               form=form), 400 if form.is_submitted() else 200
    practice_id, actor_id = practice.id, current_user.id
    try:
        with service.all_or_nothing():
            files = service.reset(db.session.get(Compound, practice_id), db.session.get(User, actor_id))
    except Exception:  # nothing is half-reset: the whole transaction went back
        log.exception("practice reset of %s failed", g.compound.slug)
        flash(_("重置没有成功，练习小区的数据没有变。请稍后再试。"), "error")
        return redirect(url_for(".reset"))
    service.remove_files(files)
    flash(_("练习小区已重置，回到了最初的示范数据。"), "success")
    return redirect(url_for("notices_admin.index"))
