"""District broadcast: platform staff put one urgent notice on every compound's screens and phone pages."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateTimeLocalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..auth.access import platform_required
from ..compounds.models import REAL, Compound
from ..database import utcnow
from ..extensions import db
from ..timefmt import from_local_naive
from . import service
from .models import Broadcast, Category, Notice, Status

bp = Blueprint("broadcast", __name__, url_prefix="/admin/platform/broadcasts")
bp.before_request(platform_required)


class BroadcastForm(FlaskForm):
    """Title, body and until when the urgent notice shows."""

    title = StringField(_l("标题"), validators=[DataRequired(_l("请填写标题。")), Length(max=120)])
    body = TextAreaField(_l("正文"), validators=[Length(max=20000)])
    ends_at = DateTimeLocalField(_l("显示到"), format="%Y-%m-%dT%H:%M",
                                 validators=[DataRequired(_l("请填写结束时间，到时自动下架。"))])

    def validate_ends_at(self, field):
        """A broadcast must end in the future."""
        if field.data and from_local_naive(field.data) <= utcnow():
            raise ValidationError(_l("结束时间要晚于现在。"))


def send(actor, title, body, ends_at):
    """Create the broadcast and an urgent, published notice in every compound; the caller commits."""
    broadcast = Broadcast(title=title, body=body, ends_at=ends_at, author_id=actor.id)
    db.session.add(broadcast)
    db.session.flush()
    compounds = db.session.scalars(select(Compound).where(REAL).order_by(Compound.id)).all()
    for compound in compounds:
        service.save(compound, actor, None, {
            "title": title, "body": body, "category": Category.safety, "urgent": True, "pinned": True,
            "starts_at": None, "ends_at": ends_at, "broadcast_id": broadcast.id}, publish=True)
    return broadcast, len(compounds)


def withdraw(actor, broadcast):
    """Archive every notice of a broadcast; the caller commits."""
    broadcast.withdrawn_at = utcnow()
    notices = db.session.scalars(select(Notice).where(Notice.broadcast_id == broadcast.id,
                                                      Notice.status != Status.archived)).all()
    for notice in notices:
        service.set_status(db.session.get(Compound, notice.compound_id), actor, notice, "archive")


@bp.route("/", methods=["GET", "POST"])
def index():
    """Send an urgent notice to every compound, and list recent broadcasts."""
    form = BroadcastForm()
    if form.validate_on_submit():
        _broadcast, count = send(current_user, form.title.data.strip(), form.body.data or "",
                                 from_local_naive(form.ends_at.data))
        db.session.commit()
        flash(_("已发到 %(n)s 个小区的屏幕和手机页面。", n=count), "success")
        return redirect(url_for("broadcast.index"))
    broadcasts = db.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(20)).all()
    status = 400 if request.method == "POST" else 200
    return render_template("platform/broadcasts.html", form=form, broadcasts=broadcasts, now=utcnow()), status


@bp.route("/<int:broadcast_id>/withdraw", methods=["POST"])
def withdraw_view(broadcast_id):
    """Take a broadcast off every compound at once."""
    broadcast = db.get_or_404(Broadcast, broadcast_id)
    if broadcast.withdrawn_at is None:
        withdraw(current_user, broadcast)
        db.session.commit()
        flash(_("已从所有小区撤下。"), "success")
    return redirect(url_for("broadcast.index"))
