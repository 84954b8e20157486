"""The committee roster (委员名单): the committee keeps it, residents read it on the phone and the lobby screen."""
from collections import Counter
from datetime import timedelta

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, DateField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from ..auth import supervision
from ..auth.access import editor_required, require_committee
from ..auth.models import Role
from ..auth.names import name_key
from ..changes import record_change
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..compounds.forms import ROLE_LABELS
from ..database import utcnow
from ..extensions import db
from ..htmx import render
from ..screen.registry import Slide, register_slide
from ..timefmt import to_local
from ..uploads import KEEP, ImageRejected, image_choice
from .models import RosterMember

AREA = "roster"
ROLE_ORDER = {Role.chair: 0, Role.vice_chair: 1, Role.member: 2, Role.supervisor: 3}

admin_bp = bind_compound(Blueprint("roster_admin", __name__, url_prefix="/admin/<compound>/roster"))
admin_bp.before_request(require_committee)
bp = bind_compound(Blueprint("roster", __name__, url_prefix="/<compound>"))


def local_today(now=None):
    """Return today's date in the configured time zone."""
    return to_local(now or utcnow()).date()


def in_role_order(members):
    """Return members chair first, then vice-chair, members, supervisors; by name within a role."""
    return sorted(members, key=lambda m: (ROLE_ORDER[m.role], m.name, m.id))


def split_by_day(members, today):
    """Return (current, upcoming, past) on a day; a term includes its first and its last day."""
    current = [m for m in members if m.term_start <= today <= m.term_end]
    upcoming = [m for m in members if m.term_start > today]
    past = [m for m in members if m.term_end < today]
    return in_role_order(current), in_role_order(upcoming), past


def by_term(members):
    """Return [((start, end), members in role order)], the latest term first."""
    terms = {}
    for member in members:
        terms.setdefault((member.term_start, member.term_end), []).append(member)
    return [(term, in_role_order(terms[term])) for term in sorted(terms, reverse=True)]


def shared_term(members):
    """Return the (start, end) most of these members share, shown once instead of on every card; or None."""
    if not members:
        return None
    return Counter((m.term_start, m.term_end) for m in members).most_common(1)[0][0]


def _members(compound):
    return db.session.scalars(select(RosterMember).where(RosterMember.compound_id == compound.id)).all()


def current_members(compound, today):
    """Return the members in office on a day, in role order."""
    return split_by_day(_members(compound), today)[0]


@admin_bp.app_template_filter("plain_date")
def plain_date(value):
    """Format a calendar date: 2024年6月1日 (1 Jun 2024 in English)."""
    if str(get_locale()).startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"


def _one_line(value):
    return value.strip() if isinstance(value, str) else value


def _unix_newlines(value):
    # Browsers send CRLF; count a line break as the one character the person typed.
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class RosterForm(FlaskForm):
    """One roster entry: name, role, term, a short public introduction and an optional photo."""

    name = StringField(_l("姓名"), filters=[_one_line], render_kw={"maxlength": 40}, validators=[
        DataRequired(_l("请填写姓名。")), Length(max=40, message=_l("姓名最多 40 个字。"))])
    role = RadioField(_l("职务"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
                      default=Role.member.value, validators=[DataRequired(_l("请选一个职务。"))])
    term_start = DateField(_l("任期开始"), invalid_value_message=_l("请按“年-月-日”填写日期，例如 2024-06-01。"),
                           validators=[InputRequired(_l("请填写任期开始的日期。"))])
    term_end = DateField(_l("任期结束"), invalid_value_message=_l("请按“年-月-日”填写日期，例如 2027-05-31。"),
                         validators=[InputRequired(_l("请填写任期结束的日期。"))],
                         description=_l("填任期的最后一天。提前卸任请用名单上的“今天起卸任”。"))
    intro = TextAreaField(_l("简短介绍（公开）"), filters=[_unix_newlines], render_kw={"maxlength": 500},
                          validators=[Length(max=500, message=_l("介绍最多 500 个字。"))],
                          description=_l("居民在手机和大堂屏幕上能看到，最多 500 字。不要写电话、住址等私人信息。"))
    photo = FileField(_l("照片（可选）"))
    remove_photo = BooleanField(_l("删除现有照片"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        mb = limit // (1024 * 1024)
        self.photo.description = _("JPEG、PNG、WebP 或 GIF，最大 %(mb)s MB。照片会公开显示。", mb=mb)
        self.photo.render_kw = {"accept": "image/jpeg,image/png,image/webp,image/gif", "data-max-bytes": limit,
                                "data-too-big": _("图片太大（最大 %(mb)s MB），请换一张小一点的。", mb=mb)}

    def validate_term_end(self, field):
        """A term ends after it starts."""
        if field.data and self.term_start.data and field.data <= self.term_start.data:
            raise ValidationError(_l("任期结束的日期要晚于开始的日期。"))


def save(compound, actor, member, fields):
    """Create or update a roster entry from cleaned fields."""
    creating = member is None
    before = None if creating else member.snapshot()
    if creating:
        member = RosterMember(compound_id=compound.id)
        db.session.add(member)
    for name, value in fields.items():
        setattr(member, name, value)
    record_change(compound, actor, AREA, "create" if creating else "edit", member, before, member.snapshot())
    return member


def end_term(compound, actor, member, today):
    """Make yesterday the last day of a current member's term, so from today they are listed as history."""
    before = member.snapshot()
    member.term_end = today - timedelta(days=1)
    record_change(compound, actor, AREA, "end_term", member, before, member.snapshot())


def delete(compound, actor, member):
    """Remove an entry made by mistake; the audit log keeps what it said."""
    record_change(compound, actor, AREA, "remove", member, member.snapshot(), None)
    db.session.delete(member)


def _admin_context(message=None, message_category="success"):
    current, upcoming, past = split_by_day(_members(g.compound), local_today())
    return {"current": current, "upcoming": upcoming, "past": by_term(past), "message": message,
            "message_category": message_category}


@admin_bp.route("/")
def index():
    """The roster: this term first in role order, then members yet to start, then past terms."""
    return render("households/roster_admin.html", "households/_roster_admin_list.html", **_admin_context())


def _fields(form):
    return {"name": form.name.data, "role": Role(form.role.data), "term_start": form.term_start.data,
            "term_end": form.term_end.data, "intro": form.intro.data or ""}


def _handle_form(form, member):
    """Validate and save; return a redirect on success or None to show the form again with its errors."""
    if not form.validate_on_submit():
        return None
    fields = _fields(form)
    try:
        photo = image_choice(form.photo, form.remove_photo, g.compound, current_user)
    except ImageRejected as problem:
        form.photo.errors.append(str(problem))
        db.session.rollback()
        return None
    if photo is not KEEP:
        fields["photo"] = photo
    member = save(g.compound, current_user, member, fields)
    db.session.commit()
    flash(_("已保存%(name)s的信息，居民现在就能看到。", name=member.name), "success")
    return redirect(url_for("roster_admin.index"))


@admin_bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Add a member to the roster."""
    form = RosterForm()
    term = shared_term(current_members(g.compound, local_today())) if request.method == "GET" else None
    if term:  # most entries belong to the term already listed
        form.term_start.data, form.term_end.data = term
    done = _handle_form(form, None)
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("households/roster_form.html", form=form, member=None), status


@admin_bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(member_id):
    """Correct a roster entry, past terms included."""
    member = get_or_404_in_compound(RosterMember, member_id)
    form = RosterForm(obj=member) if request.method == "GET" else RosterForm()
    if request.method == "GET":
        form.role.data = member.role.value
    done = _handle_form(form, member)
    if done is not None:
        return done
    status = 400 if request.method == "POST" else 200
    return render_template("households/roster_form.html", form=form, member=member), status


@admin_bp.route("/<int:member_id>/end-term", methods=["POST"])
@editor_required
def end(member_id):
    """Record that a current member leaves office today; they stay on the roster under past terms."""
    member = get_or_404_in_compound(RosterMember, member_id)
    today = local_today()
    if not member.term_start <= today <= member.term_end:
        message, category = _("%(name)s现在不在任期内，不用卸任。", name=member.name), "info"
    elif member.term_start >= today - timedelta(days=1):
        message, category = _("%(name)s的任期昨天或今天才开始，不能这样卸任。如果是录错了，请点“修改”后删除。",
                              name=member.name), "error"
    else:
        end_term(g.compound, current_user, member, today)
        db.session.commit()
        message, category = _("%(name)s已卸任，任期到 %(day)s，名字已移到往届。",
                              name=member.name, day=plain_date(member.term_end)), "success"
    if request.htmx:
        return render("households/roster_admin.html", "households/_roster_admin_list.html",
                      **_admin_context(message, category))
    flash(message, category)
    return redirect(url_for("roster_admin.index"))


@admin_bp.route("/<int:member_id>/delete", methods=["POST"])
@editor_required
def remove(member_id):
    """Delete an entry made by mistake (people who served stay as history: use end-term for them)."""
    member = get_or_404_in_compound(RosterMember, member_id)
    name = member.name
    delete(g.compound, current_user, member)
    db.session.commit()
    flash(_("已删除%(name)s这条记录。", name=name), "success")
    return redirect(url_for("roster_admin.index"))


def supervisor_notes(compound, members):
    """{roster entry id: (state, appointment)} for the supervisors among `members`: "appointed" (with the
    appointment that seated them, None if it predates the records) or "not_appointed" -- the roster is the
    committee's text, so a supervisor listed there who holds no appointment says so."""
    basis = supervision.basis(compound)
    seated = {m.name_key: m.user_id for m in supervision.sitting(compound)}
    notes = {}
    for member in members:
        if member.role == Role.supervisor:
            user_id = seated.get(name_key(member.name))
            notes[member.id] = ("appointed", basis.get(user_id)) if user_id else ("not_appointed", None)
    return notes


@bp.route("/committee")
def show():
    """The committee as residents see it: this term, members about to start, past terms, and the supervisory
    body with every change to it (date, and the street office's or an election's authority)."""
    current, upcoming, past = split_by_day(_members(g.compound), local_today())
    sitting = supervision.sitting(g.compound)
    return render_template("households/roster_public.html", current=current, upcoming=upcoming,
                           past=by_term(past), current_term=shared_term(current), upcoming_term=shared_term(upcoming),
                           notes=supervisor_notes(g.compound, current), sitting=sitting,
                           basis=supervision.basis(g.compound), changes=supervision.history(g.compound))


def _slide(compound, members):
    return Slide(area=AREA, item_id="current", title=_("本届自治委员会"), template="households/_roster_slide.html",
                 phone_path="committee", context={"members": members, "term": shared_term(members)})


def slides(compound, now):
    """One slide with the members in office today, or none when nobody is listed."""
    members = current_members(compound, local_today(now))
    return [_slide(compound, members)] if members else []


def detail(compound, item_id):
    """The full roster of the current term, large, for the screen's detail view."""
    if item_id != "current":
        return None
    members = current_members(compound, local_today())
    return _slide(compound, members) if members else None


def blueprints():
    """The committee's roster pages and the residents' page."""
    return [admin_bp, bp]


def register_slides():
    """Put the current committee on the lobby screen, after the notices."""
    register_slide(AREA, slides, detail, "households/_roster_slide_detail.html", order=70)
