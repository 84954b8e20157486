"""Every rule and write of committee meetings: scheduling, the notice to the 居委会, attendance, decisions with
each member's vote, minutes and their confirmation, and the decision's public notice. Each write records the
change in the same transaction; a refusal is a MeetingRefused and nothing of it is kept (the view rolls back)."""
from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import EDITOR_ROLES, ROLE_LABELS, Membership, Role, User
from ..changes import record_change
from ..consult.procedure import profile_for
from ..database import utcnow
from ..extensions import db
from ..notices import service as notices
from ..notices.models import Category
from ..refusals import Refused
from ..timefmt import format_datetime, format_day, local_date
from . import AREA, rules
from .models import AgendaItem, Attendance, Meeting, MemberVote, MinutesConfirmation

ROLE_ORDER = {Role.chair: 0, Role.vice_chair: 1, Role.member: 2}
MAX_ITEMS = 20


class MeetingRefused(Refused):
    """A meeting action the rules forbid; `reason` is a code the view turns into a sentence."""


def committee(compound):
    """The committee's members now (chair, vice-chairs, members; supervisors are not members): (user, role)."""
    rows = db.session.execute(select(User, Membership.role).join(Membership, Membership.user_id == User.id)
                              .where(Membership.compound_id == compound.id,
                                     Membership.role.in_(list(EDITOR_ROLES)))).all()
    return sorted(rows, key=lambda r: (ROLE_ORDER[r[1]], r[0].display_name))


def is_member(compound, user):
    """Whether the account is on the committee now (supervisors and platform staff are not)."""
    role = db.session.scalar(select(Membership.role).where(Membership.compound_id == compound.id,
                                                           Membership.user_id == user.id))
    return role in EDITOR_ROLES


def _changed(compound, actor, action, meeting, before):
    record_change(compound, actor, AREA, action, meeting, before, meeting.snapshot())


def _reset_confirmations(compound, actor, meeting, why):
    """A change to what the minutes record voids the confirmations given so far (audited, with how many)."""
    if not meeting.confirmations and meeting.minutes_final_at is None:
        return
    before = meeting.snapshot()
    meeting.confirmations.clear()
    meeting.minutes_final_at = None
    db.session.flush()
    record_change(compound, actor, AREA, "minutes_reset", meeting, before, dict(meeting.snapshot(), why=why))


def _check_open(meeting):
    """Lock the meeting's row and read it afresh, then refuse once its decision is posted. Two members confirming
    at the same moment are taken one after the other, so the one who makes the majority sees every confirmation
    before theirs (on SQLite, write transactions are serialised by BEGIN IMMEDIATE already)."""
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
    db.session.refresh(meeting)
    if meeting.decision_notice_id is not None:
        raise MeetingRefused("posted")


def schedule(compound, actor, meeting, held_at, place, agenda):
    """Create a meeting, or change a planned one's time, place and agenda (until attendance is taken). A changed
    agenda after the notice went to the 居委会 must be sent again, so the sent date is cleared."""
    agenda = [line for line in agenda if line][:MAX_ITEMS]
    if not agenda:
        raise MeetingRefused("no_agenda")
    creating = meeting is None
    if creating:
        meeting = Meeting(compound_id=compound.id, created_by=actor.id)
        db.session.add(meeting)
        before = None
    else:
        if meeting.held:
            raise MeetingRefused("held")
        before = meeting.snapshot()
    old = [i.title for i in meeting.items]
    meeting.held_at, meeting.place = held_at, place
    if old != agenda:
        meeting.items = [AgendaItem(position=n, title=title) for n, title in enumerate(agenda)]
        if meeting.notice_sent_on is not None:
            meeting.notice_sent_on, meeting.notice_sent_by = None, None
    db.session.flush()
    record_change(compound, actor, AREA, "create" if creating else "edit", meeting, before, meeting.snapshot())
    return meeting


def mark_notice_sent(compound, actor, meeting, sent_on):
    """Record the day the agenda notice went to the 居委会."""
    if meeting.held:
        raise MeetingRefused("held")
    if sent_on > local_date():
        raise MeetingRefused("future_sent")
    before = meeting.snapshot()
    meeting.notice_sent_on, meeting.notice_sent_by = sent_on, actor.id
    _changed(compound, actor, "notice_sent", meeting, before)


def record_attendance(compound, actor, meeting, present_ids):
    """Take (or correct) the roll: every committee member now, present or not. The committee's size then is what
    "a majority of all members" counts. Votes of members marked absent are dropped; confirmations are void."""
    _check_open(meeting)
    if meeting.held_at > utcnow():
        raise MeetingRefused("not_yet")
    if meeting.held and {a.user_id for a in meeting.present} == {a.user_id for a in meeting.attendance
                                                                  if a.user_id in present_ids}:
        return  # the same roll again: nothing changes, and the confirmations given stand
    before = meeting.snapshot()
    members = committee(compound)
    if meeting.held:
        roster = {a.user_id: a for a in meeting.attendance}
    else:
        roster = {}
        for n, (user, role) in enumerate(members):
            row = Attendance(user_id=user.id, name=user.display_name, role=str(role), position=n)
            meeting.attendance.append(row)
            roster[user.id] = row
        meeting.members_total = len(members)
        meeting.attendance_at = utcnow()
    for user_id, row in roster.items():
        row.present = user_id in present_ids
    absent = {uid for uid, row in roster.items() if not row.present}
    for item in meeting.items:
        item.votes = [v for v in item.votes if v.user_id not in absent]
    db.session.flush()
    _changed(compound, actor, "attendance", meeting, before)
    _reset_confirmations(compound, actor, meeting, "attendance")


def decide(compound, actor, meeting, item, decision, votes):
    """Record an item's decision text and each present member's vote ({user id: yes/no/abstain}; a present
    member left out has not voted). Refused without a quorum or for a vote of someone not present."""
    _check_open(meeting)
    if not meeting.held:
        raise MeetingRefused("no_attendance")
    present = {a.user_id for a in meeting.present}
    if not rules.quorum(len(present), meeting.members_total):
        raise MeetingRefused("no_quorum", present=len(present), total=meeting.members_total,
                             needed=rules.needed(meeting.members_total))
    if set(votes) - present or set(votes.values()) - set(rules.VOTES):
        raise MeetingRefused("not_present")
    before = meeting.snapshot()
    before["item"] = {"title": item.title, "decision": item.decision, "votes": {str(v.user_id): v.vote for v in item.votes}}
    item.decision = decision
    item.decided_at = utcnow()
    item.votes = [MemberVote(user_id=uid, vote=vote) for uid, vote in sorted(votes.items())]
    db.session.flush()
    after = dict(meeting.snapshot(), item={"title": item.title, "decision": decision,
                                           "votes": {str(u): v for u, v in sorted(votes.items())}})
    record_change(compound, actor, AREA, "decide", meeting, before, after)
    _reset_confirmations(compound, actor, meeting, "decision")


def save_minutes(compound, actor, meeting, text):
    """Write or correct the minutes. A change after anyone confirmed voids every confirmation (audited), so
    nobody's confirmation stands for words they did not read."""
    _check_open(meeting)
    if not meeting.held:
        raise MeetingRefused("no_attendance")
    if text == meeting.minutes:
        return
    before = meeting.snapshot()
    meeting.minutes = text
    _changed(compound, actor, "minutes", meeting, before)
    _reset_confirmations(compound, actor, meeting, "minutes")


def confirm(compound, user, meeting, now=None):
    """A committee member of the meeting's roster confirms the minutes from their own account; final once a
    majority of all members (as at the meeting) confirmed."""
    _check_open(meeting)
    if not is_member(compound, user):
        raise MeetingRefused("not_member")
    if all(a.user_id != user.id for a in meeting.attendance):
        # Only members of the committee as it stood at the meeting: accounts added afterwards (by the chair, who
        # adds accounts) must not make up a majority for minutes of a meeting they were never part of.
        raise MeetingRefused("not_on_roster")
    if not meeting.held or not meeting.minutes.strip():
        raise MeetingRefused("no_minutes")
    if any(c.user_id == user.id for c in meeting.confirmations):
        raise MeetingRefused("confirmed")
    before = meeting.snapshot()
    now = now or utcnow()
    meeting.confirmations.append(MinutesConfirmation(user_id=user.id, at=now))
    if meeting.minutes_final_at is None and rules.minutes_final(len(meeting.confirmations), meeting.members_total):
        meeting.minutes_final_at = now
    db.session.flush()
    _changed(compound, user, "confirm", meeting, before)


def item_tally(meeting, item):
    """An item's figures: yes/no/abstain, members who were present but did not vote, all members, passed."""
    counts = rules.tally(v.vote for v in item.votes)
    voted = len(item.votes)
    total = meeting.members_total or 0
    return {"yes": counts[rules.YES], "no": counts[rules.NO], "abstain": counts[rules.ABSTAIN],
            "silent": len(meeting.present) - voted, "total": total, "needed": rules.needed(total),
            "passed": rules.majority(counts[rules.YES], total)}


def decision_body(compound, meeting):
    """The public notice of a meeting's decisions: the meeting, attendance in numbers, each item with its tally
    and outcome. No member's name or vote: those stay in the committee's minutes."""
    lines = [_("%(compound)s自治管理委员会于 %(when)s 在%(place)s召开委员会会议。全体委员 %(total)s 人，出席 %(present)s 人，"
               "达到半数以上，会议有效。", compound=compound.name, when=format_datetime(meeting.held_at),
               place=meeting.place or _("委员会办公室"), total=meeting.members_total, present=len(meeting.present)),
             "", _("按规定，委员会的决定须经全体委员过半数（至少 %(n)s 人）同意。", n=rules.needed(meeting.members_total)), ""]
    for number, item in enumerate(meeting.items, start=1):
        fig = item_tally(meeting, item)
        lines += [f"## {number}. {item.title}", ""]
        if item.decided_at is None:
            lines += [_("本次会议未作决定。"), ""]
            continue
        if item.decision:
            lines += [item.decision, ""]
        lines += [_("表决：同意 %(yes)s 人，反对 %(no)s 人，弃权 %(abstain)s 人。结果：%(outcome)s。", yes=fig["yes"],
                    no=fig["no"], abstain=fig["abstain"], outcome=_("通过") if fig["passed"] else _("未通过")), ""]
    lines += [_("会议纪要已经 %(n)s 位委员确认。", n=len(meeting.confirmations)), "", _("特此公告。"), "",
              _("%(compound)s自治管理委员会", compound=compound.name), format_day(local_date())]
    return "\n".join(lines)


def post_decision(compound, actor, meeting, title):
    """Publish the meeting's decisions as a public notice, once the minutes are final."""
    _check_open(meeting)
    if meeting.minutes_final_at is None:
        raise MeetingRefused("not_final")
    before = meeting.snapshot()
    # A 公示 like the owners' resolutions, but not pinned: the committee meets often, and its decisions would
    # crowd the owners' resolutions off the top of the list.
    notice = notices.save(compound, actor, None, {"title": title, "body": decision_body(compound, meeting),
                                                  "category": Category.disclosure, "urgent": False,
                                                  "pinned": False}, publish=True)
    db.session.flush()
    meeting.decision_notice_id = notice.id
    meeting.decision_posted_at = notice.published_at
    _changed(compound, actor, "resolution", meeting, before)  # the audit log calls it 决议公告, as for topics
    return notice


def lateness(compound, meeting, today=None):
    """Days the decision is (or was) posted after the profile's deadline; None before the meeting was held."""
    if not meeting.held:
        return None
    days = profile_for(compound).decision_post_days
    posted = local_date(meeting.decision_posted_at) if meeting.decision_posted_at else None
    return rules.days_late(local_date(meeting.held_at), days, posted, today or local_date())


def deadline(compound, meeting):
    """The last day the meeting's decision may be posted."""
    return rules.post_deadline(local_date(meeting.held_at), profile_for(compound).decision_post_days)


def meetings(compound):
    """The compound's meetings, newest first."""
    return db.session.scalars(select(Meeting).where(Meeting.compound_id == compound.id)
                              .order_by(Meeting.held_at.desc(), Meeting.id.desc())).all()


def flags(compound, today=None):
    """What the committee dashboard must point out: meetings whose decision is late (and by how many days) and
    a committee that has not met within the profile's interval. Each flag is (sentence, meeting id or None)."""
    today = today or local_date()
    profile = profile_for(compound)
    found, last_held = [], None
    for meeting in meetings(compound):
        if not meeting.held:
            if local_date(meeting.held_at) < today:
                found.append((_("%(day)s的委员会会议还没有记录出席情况：开过会就请记录，没开成请改期。",
                                day=format_day(local_date(meeting.held_at))), meeting.id))
            continue
        last_held = max(last_held or local_date(meeting.held_at), local_date(meeting.held_at))
        if meeting.decision_notice_id is None:
            late = lateness(compound, meeting, today)
            if late:
                found.append((_("%(day)s的委员会会议，决定应在会后 %(limit)s 天内公告，已超期 %(late)s 天。",
                                day=format_day(local_date(meeting.held_at)), limit=profile.decision_post_days,
                                late=late), meeting.id))
    over = rules.days_since_meeting_overdue(last_held, profile.committee_meeting_days, today)
    if over is None:
        found.append((_("还没有记录过委员会会议。委员会至少每 %(days)s 天开一次会。",
                        days=profile.committee_meeting_days), None))
    elif over:
        found.append((_("上次委员会会议是 %(day)s，已超过 %(days)s 天的间隔 %(over)s 天，请尽快开会。",
                        day=format_day(last_held), days=profile.committee_meeting_days, over=over), None))
    return found


def role_label(role):
    """A member's role as people read it."""
    return ROLE_LABELS.get(Role(role), role)
