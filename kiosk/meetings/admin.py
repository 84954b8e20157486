"""The committee's meeting pages: the list with the dashboard's flags, scheduling, the printable notice to the
居委会, the meeting page (attendance, each item's decision and votes, minutes, confirmations) and posting the
decision. Views parse, call the service and render; one error handler turns a refusal into a sentence."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from ..auth.access import editor_required, require_committee
from ..consult.procedure import profile_for
from ..compounds.context import bind_compound, get_or_404_in_compound
from ..database import utcnow
from ..extensions import db
from ..timefmt import format_day, from_local_naive, local_date, local_input
from . import rules, service
from .forms import DecisionForm, MeetingForm, MinutesForm, PostForm, SentForm, agenda_lines
from .models import AgendaItem, Meeting

bp = bind_compound(Blueprint("meetings_admin", __name__, url_prefix="/admin/<compound>/meetings"))
bp.before_request(require_committee)

VOTE_LABELS = {rules.YES: _l("同意"), rules.NO: _l("反对"), rules.ABSTAIN: _l("弃权")}


def _sentence(refused):
    """The sentence for a refused meeting action."""
    detail = refused.detail
    sentences = {
        "no_agenda": lambda: _("请至少写一项议程。"),
        "held": lambda: _("会议已经开过（已记录出席），时间、地点和议程不能再改。"),
        "future_sent": lambda: _("送达日期不能晚于今天。"),
        "not_yet": lambda: _("会议还没开始，开会时再记录出席。"),
        "no_attendance": lambda: _("请先记录出席情况。"),
        "no_quorum": lambda: _("出席 %(present)s 人，未达到全体委员 %(total)s 人的半数以上（至少 %(needed)s 人），不能作出决定。",
                               **detail),
        "not_present": lambda: _("只有出席的委员才能表决，请检查表决情况。"),
        "posted": lambda: _("会议决定已经公告，会议记录不能再改。"),
        "not_member": lambda: _("只有委员会委员本人可以确认会议纪要。"),
        "not_on_roster": lambda: _("只有开会时在任的委员才能确认这份纪要。"),
        "no_minutes": lambda: _("会议纪要还没有写。"),
        "confirmed": lambda: _("您已经确认过这份纪要。"),
        "not_final": lambda: _("会议纪要要经全体委员过半数确认后，才能公告决定。"),
    }
    return sentences.get(refused.reason, lambda: _("这件事现在不能做。"))()


@bp.errorhandler(service.MeetingRefused)
def _refused(error):
    """Nothing of a refused action is kept: back to the meeting's page, which says why."""
    db.session.rollback()
    flash(_sentence(error), "error")
    meeting_id = (request.view_args or {}).get("meeting_id")
    return redirect(url_for(".show", meeting_id=meeting_id) if meeting_id else url_for(".index"))


def load(meeting_id):
    """A meeting of this compound, else 404."""
    return get_or_404_in_compound(Meeting, meeting_id)


@bp.route("/")
def index():
    """Meetings, newest first, and what is overdue."""
    return render_template("meetings/index.html", meetings=service.meetings(g.compound),
                           lateness=lambda m: service.lateness(g.compound, m))


def _form_page(form, meeting, status=200):
    return render_template("meetings/form.html", form=form, meeting=meeting), status


def _save(form, meeting):
    """Schedule or reschedule from a valid form; return the meeting."""
    return service.schedule(g.compound, current_user, meeting, from_local_naive(form.held_at.data),
                            form.place.data.strip(), agenda_lines(form.agenda.data))


@bp.route("/new", methods=["GET", "POST"])
@editor_required
def create():
    """Schedule a meeting: time, place, agenda."""
    form = MeetingForm()
    if form.validate_on_submit():
        meeting = _save(form, None)
        db.session.commit()
        flash(_("会议已安排。请打印会议通知，送达居委会后在会议页记录送达日期。"), "success")
        return redirect(url_for(".show", meeting_id=meeting.id))
    return _form_page(form, None, 400 if request.method == "POST" else 200)


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@editor_required
def edit(meeting_id):
    """Change a planned meeting's time, place or agenda."""
    meeting = load(meeting_id)
    if meeting.held:
        raise service.MeetingRefused("held")
    form = MeetingForm(data={"held_at": local_input(meeting.held_at), "place": meeting.place,
                             "agenda": "\n".join(i.title for i in meeting.items)} if request.method == "GET" else None)
    if form.validate_on_submit():
        was_sent = meeting.notice_sent_on is not None
        _save(form, meeting)
        db.session.commit()
        if was_sent and meeting.notice_sent_on is None:
            flash(_("议程改了：请重新打印会议通知送达居委会，并记录新的送达日期。"), "info")
        else:
            flash(_("已保存。"), "success")
        return redirect(url_for(".show", meeting_id=meeting.id))
    return _form_page(form, meeting, 400 if request.method == "POST" else 200)


def show_page(meeting, status=200, **forms):
    """The meeting's page: its state, attendance, items with votes, minutes and confirmations."""
    item_forms = forms.pop("item_forms", {})
    tallies = {item.id: service.item_tally(meeting, item) for item in meeting.items}
    votes = {item.id: {v.user_id: v.vote for v in item.votes} for item in meeting.items}
    confirmed = {c.user_id for c in meeting.confirmations}
    page = {
        "meeting": meeting, "tallies": tallies, "votes": votes, "vote_labels": VOTE_LABELS,
        "sent_form": forms.get("sent_form") or SentForm(data={"sent_on": local_date()}),
        "minutes_form": forms.get("minutes_form") or MinutesForm(data={"minutes": meeting.minutes}),
        "post_form": forms.get("post_form") or PostForm(data={"title": _(
            "%(day)s委员会会议决定公告", day=format_day(local_date(meeting.held_at)))}),
        "item_forms": {item.id: item_forms.get(item.id) or DecisionForm(prefix=f"item{item.id}",
                                                                        data={"decision": item.decision})
                       for item in meeting.items},
        "members": service.committee(g.compound), "confirmed": confirmed,
        "needed": rules.needed(meeting.members_total or 0), "role_label": service.role_label,
        "can_confirm": (service.is_member(g.compound, current_user) and current_user.id not in confirmed
                        and any(a.user_id == current_user.id for a in meeting.attendance)),
        "late": service.lateness(g.compound, meeting), "deadline": service.deadline(g.compound, meeting),
        "post_days": profile_for(g.compound).decision_post_days,
        "quorate": meeting.held and rules.quorum(len(meeting.present), meeting.members_total),
        "started": meeting.held_at <= utcnow(),
    }
    return render_template("meetings/show.html", **page), status


@bp.route("/<int:meeting_id>")
def show(meeting_id):
    """One meeting, for every committee account (supervisors read how members voted too)."""
    return show_page(load(meeting_id))


@bp.route("/<int:meeting_id>/notice")
def notice(meeting_id):
    """The printable notice of the agenda to the 居委会."""
    return render_template("meetings/notice_print.html", meeting=load(meeting_id), printed_on=local_date())


@bp.route("/<int:meeting_id>/sent", methods=["POST"])
@editor_required
def sent(meeting_id):
    """Record the day the notice reached the 居委会."""
    meeting = load(meeting_id)
    form = SentForm()
    if not form.validate_on_submit():
        return show_page(meeting, 400, sent_form=form)
    service.mark_notice_sent(g.compound, current_user, meeting, form.sent_on.data)
    db.session.commit()
    flash(_("已记录送达日期。"), "success")
    return redirect(url_for(".show", meeting_id=meeting.id))


def _ids(values):
    """The integer ids among submitted values (anything else ignored)."""
    return {int(v) for v in values if v.isascii() and v.isdigit() and len(v) < 12}


@bp.route("/<int:meeting_id>/attendance", methods=["POST"])
@editor_required
def attendance(meeting_id):
    """Record who was present (every committee member is on the roll)."""
    meeting = load(meeting_id)
    service.record_attendance(g.compound, current_user, meeting, _ids(request.form.getlist("present")))
    db.session.commit()
    flash(_("已记录出席情况。"), "success")
    return redirect(url_for(".show", meeting_id=meeting.id) + "#attendance")


@bp.route("/<int:meeting_id>/items/<int:agenda_id>", methods=["POST"])
@editor_required
def decide(meeting_id, agenda_id):
    """Record an item's decision and how each present member voted."""
    meeting = load(meeting_id)
    item = db.session.get(AgendaItem, agenda_id)
    if item is None or item.meeting_id != meeting.id:
        abort(404)
    form = DecisionForm(prefix=f"item{item.id}")
    if not form.validate_on_submit():
        return show_page(meeting, 400, item_forms={item.id: form})
    votes = {}
    for row in meeting.attendance:
        vote = request.form.get(f"vote-{item.id}-{row.user_id}", "")
        if vote:
            votes[row.user_id] = vote
    service.decide(g.compound, current_user, meeting, item, form.decision.data.strip(), votes)
    db.session.commit()
    flash(_("已记录这项决定。"), "success")
    return redirect(url_for(".show", meeting_id=meeting.id) + f"#item-{item.id}")


@bp.route("/<int:meeting_id>/minutes", methods=["POST"])
@editor_required
def minutes(meeting_id):
    """Write or correct the minutes (a correction voids earlier confirmations)."""
    meeting = load(meeting_id)
    form = MinutesForm()
    if not form.validate_on_submit():
        return show_page(meeting, 400, minutes_form=form)
    had = len(meeting.confirmations)
    service.save_minutes(g.compound, current_user, meeting, form.minutes.data.strip())
    db.session.commit()
    flash(_("纪要已修改，之前的 %(n)s 个确认已作废，请委员重新确认。", n=had) if had and not meeting.confirmations
          else _("纪要已保存。请各位委员在自己的手机上确认。"), "success")
    return redirect(url_for(".show", meeting_id=meeting.id) + "#minutes")


@bp.route("/<int:meeting_id>/confirm", methods=["POST"])
@editor_required
def confirm(meeting_id):
    """The signed-in member confirms the minutes."""
    meeting = load(meeting_id)
    service.confirm(g.compound, current_user, meeting)
    db.session.commit()
    flash(_("已确认。纪要经全体委员过半数确认后生效。") if meeting.minutes_final_at is None
          else _("已确认。纪要已经过半数委员确认，现在可以公告会议决定。"), "success")
    return redirect(url_for(".show", meeting_id=meeting.id) + "#minutes")


@bp.route("/<int:meeting_id>/post", methods=["POST"])
@editor_required
def post(meeting_id):
    """Publish the decisions as a public notice (tallies, no names)."""
    meeting = load(meeting_id)
    form = PostForm()
    if not form.validate_on_submit():
        return show_page(meeting, 400, post_form=form)
    service.post_decision(g.compound, current_user, meeting, form.title.data.strip())
    db.session.commit()
    flash(_("会议决定已公告，居民在手机和大屏上都能看到。"), "success")
    return redirect(url_for(".show", meeting_id=meeting.id))
