"""Committee meetings: scheduling and the notice to the 居委会, attendance and quorum, decisions passed by a
majority of ALL members, minutes confirmed by a majority from members' own accounts, the decision posted as a
public notice (tallies, no names), and the dashboard's flags when a decision is late or the committee has not met."""
from datetime import date

from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.meetings import rules, service
from kiosk.meetings.models import Meeting
from kiosk.notices.models import Notice
from kiosk.timefmt import local_date

from conftest import ago, ahead, login_as, post_form
from factories import text_of


def test_a_majority_is_more_than_half_of_all_members():
    """3 of 5 and 4 of 6 pass; 2 of 4 and 2 of 5 do not; nobody of nobody is not a majority."""
    assert [rules.majority(c, 5) for c in range(6)] == [False, False, False, True, True, True]
    assert [rules.majority(c, 6) for c in range(7)] == [False] * 4 + [True] * 3
    assert not rules.majority(2, 4) and not rules.majority(0, 0)
    assert [rules.needed(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [1, 2, 2, 3, 3, 4, 4]
    # Three of four present all agreeing is still only 3 of 5 members: passes; two of them is not enough.
    assert rules.passed(["yes", "yes", "yes", "no"], 5) and not rules.passed(["yes", "yes", "abstain"], 5)


def test_lateness_counts_calendar_days_after_the_deadline():
    held = date(2026, 12, 1)
    assert rules.post_deadline(held, 3) == date(2026, 12, 4)
    assert rules.days_late(held, 3, today=date(2026, 12, 4)) == 0
    assert rules.days_late(held, 3, today=date(2026, 12, 6)) == 2
    assert rules.days_late(held, 3, posted_on=date(2026, 12, 5), today=date(2026, 12, 30)) == 1
    assert rules.days_since_meeting_overdue(None, 60, held) is None
    assert rules.days_since_meeting_overdue(date(2026, 10, 1), 60, date(2026, 11, 30)) == 0
    assert rules.days_since_meeting_overdue(date(2026, 10, 1), 60, date(2026, 12, 10)) == 10


def five_members(compound, chair, make_user):
    """The chair and four more members: a committee of five (a supervisor too, who is not a member)."""
    others = [make_user(name, compound, role) for name, role in (("vice", Role.vice_chair), ("wang", Role.member),
                                                                  ("zhao", Role.member), ("sun", Role.member))]
    make_user("watcher", compound, Role.supervisor)
    return [chair] + others


def held_meeting(compound, chair, members, present, when=None, agenda=("更换 3 栋单元门禁", "聘请保洁公司")):
    """A meeting held `when` (default two hours ago) with `present` of `members` there."""
    meeting = service.schedule(compound, chair, None, when or ago(hours=2), "3 栋委员会办公室", list(agenda))
    service.record_attendance(compound, chair, meeting, {m.id for m in present})
    db.session.commit()
    return meeting


def test_a_meeting_from_agenda_to_posted_decision(app, client, compound, chair, make_user):
    """The chair schedules a meeting and prints its notice to the 居委会, records the day it was sent; four of five
    attend; an item with 3 yes passes, one with 2 yes does not (a majority of all five is 3); the minutes are
    final only when the third member confirms from their own account; the posted notice shows tallies, no names."""
    members = five_members(compound, chair, make_user)
    login_as(client, chair)
    response = post_form(client, "/admin/maple/meetings/new", {
        "held_at": ahead(days=3).strftime("%Y-%m-%dT%H:%M"), "place": "3 栋委员会办公室",
        "agenda": "更换 3 栋单元门禁\n\n聘请保洁公司\n"})
    assert response.status_code == 302
    meeting = db.session.scalar(select(Meeting))
    notice = text_of(client.get(f"/admin/maple/meetings/{meeting.id}/notice"))
    assert "东湖社区居民委员会" in notice and "1. 更换 3 栋单元门禁" not in notice  # an <ol>, read as text
    assert "更换 3 栋单元门禁" in notice and "聘请保洁公司" in notice
    sent_on = local_date().isoformat()
    post_form(client, f"/admin/maple/meetings/{meeting.id}/sent", {"sent_on": sent_on},
              token_from=f"/admin/maple/meetings/{meeting.id}")
    assert "送达居委会" in text_of(client.get(f"/admin/maple/meetings/{meeting.id}"))
    db.session.refresh(meeting)
    assert meeting.notice_sent_on is not None

    meeting.held_at = ago(hours=2)  # the day came
    db.session.commit()
    page = f"/admin/maple/meetings/{meeting.id}"
    post_form(client, f"{page}/attendance", {"present": [str(m.id) for m in members[:4]]}, token_from=page)
    db.session.refresh(meeting)
    assert meeting.members_total == 5 and len(meeting.present) == 4
    first, second = meeting.items
    votes = {f"vote-{first.id}-{m.id}": v for m, v in zip(members[:4], ["yes", "yes", "yes", "no"])}
    post_form(client, f"{page}/items/{first.id}", dict(votes, **{f"item{first.id}-decision": "同意更换，预算 8000 元"}),
              token_from=page)
    votes = {f"vote-{second.id}-{m.id}": v for m, v in zip(members[:4], ["yes", "yes", "no", "abstain"])}
    post_form(client, f"{page}/items/{second.id}", dict(votes, **{f"item{second.id}-decision": "暂缓聘请"}),
              token_from=page)
    shown = text_of(client.get(page))
    assert "通过：同意3，反对1，弃权0，未表态0；全体委员5人" in shown.replace(" ", "")
    assert "未通过：同意2，反对1，弃权1" in shown.replace(" ", "")

    post_form(client, f"{page}/minutes", {"minutes": "会议由周主任主持。"}, token_from=page)
    post_form(client, f"{page}/confirm", {}, token_from=page)
    for member in members[1:3]:
        other = app.test_client()
        login_as(other, member)
        if member is members[1]:
            response = post_form(other, f"{page}/post", {"title": "决定公告"}, token_from=page)
            assert "纪要要经全体委员过半数确认后" in text_of(other.get(page))
        post_form(other, f"{page}/confirm", {}, token_from=page)
    db.session.refresh(meeting)
    assert len(meeting.confirmations) == 3 and meeting.minutes_final_at is not None
    assert "纪要已生效" in text_of(client.get(page))

    post_form(client, f"{page}/post", {"title": "12月委员会会议决定公告"}, token_from=page)
    db.session.refresh(meeting)
    posted = db.session.get(Notice, meeting.decision_notice_id)
    public = text_of(client.get(f"/maple/n/{posted.id}"))
    assert "12月委员会会议决定公告" in public
    assert "同意 3 人，反对 1 人，弃权 0 人。结果：通过" in public
    assert "同意 2 人，反对 1 人，弃权 1 人。结果：未通过" in public
    assert "全体委员 5 人，出席 4 人" in public
    for member in members:
        assert member.display_name not in public


def test_no_decision_without_a_quorum(client, compound, chair, make_user):
    """Two of five present: the item is refused with a sentence, and nothing of it is saved."""
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:2])
    item = meeting.items[0]
    login_as(client, chair)
    page = f"/admin/maple/meetings/{meeting.id}"
    response = post_form(client, f"{page}/items/{item.id}", {f"item{item.id}-decision": "同意",
                                                             f"vote-{item.id}-{chair.id}": "yes"},
                         token_from=page, follow_redirects=True)
    assert "出席 2 人，未达到全体委员 5 人的半数以上（至少 3 人），不能作出决定" in text_of(response)
    db.session.refresh(item)
    assert item.decided_at is None and item.votes == []


def test_only_present_members_vote(client, compound, chair, make_user):
    """A vote in the name of an absent member is refused, and the whole item with it."""
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:3])
    item = meeting.items[0]
    login_as(client, chair)
    page = f"/admin/maple/meetings/{meeting.id}"
    response = post_form(client, f"{page}/items/{item.id}", {f"item{item.id}-decision": "同意",
                                                             f"vote-{item.id}-{members[4].id}": "yes"},
                         token_from=page, follow_redirects=True)
    assert "只有出席的委员才能表决" in text_of(response)
    db.session.refresh(item)
    assert item.decided_at is None


def test_editing_minutes_after_a_confirmation_resets_them_and_is_audited(app, client, compound, chair, make_user):
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:4])
    service.save_minutes(compound, chair, meeting, "初稿")
    for member in members[:3]:
        service.confirm(compound, member, meeting)
    db.session.commit()
    assert meeting.minutes_final_at is not None
    login_as(client, chair)
    page = f"/admin/maple/meetings/{meeting.id}"
    response = post_form(client, f"{page}/minutes", {"minutes": "改过的纪要"}, token_from=page, follow_redirects=True)
    assert "之前的 3 个确认已作废" in text_of(response)
    db.session.refresh(meeting)
    assert meeting.confirmations == [] and meeting.minutes_final_at is None
    reset = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "minutes_reset"))
    assert reset.actor_id == chair.id and reset.before["confirmations"] == 3 and reset.after["why"] == "minutes"
    audit = text_of(client.get("/admin/maple/audit"))
    assert "纪要确认作废" in audit and "确认纪要" in audit  # in words, for the supervisors who read it


def test_each_member_confirms_once_and_supervisors_cannot(app, client, compound, chair, make_user):
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:4])
    service.save_minutes(compound, chair, meeting, "纪要")
    db.session.commit()
    page = f"/admin/maple/meetings/{meeting.id}"
    login_as(client, chair)
    post_form(client, f"{page}/confirm", {}, token_from=page)
    response = post_form(client, f"{page}/confirm", {}, token_from=page, follow_redirects=True)
    assert "您已经确认过这份纪要" in text_of(response)
    supervisor = app.test_client()
    login_as(supervisor, make_user("sup2", compound, Role.supervisor))
    assert "我确认这份纪要" not in text_of(supervisor.get(page))
    assert post_form(supervisor, f"{page}/confirm", {}, token_from=page).status_code == 403
    db.session.refresh(meeting)
    assert len(meeting.confirmations) == 1


def test_dashboard_flags_a_late_decision_with_its_days(client, compound, chair, make_user):
    """Held five days ago, not posted, the national profile allows 3 days: the committee's first page says 2 days
    late; once posted the flag is gone (and the meeting page says it was 2 days late)."""
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:4], when=ago(days=5))
    login_as(client, chair)
    flags = text_of(client.get("/admin/maple/notices/"))
    assert "决定应在会后 3 天内公告，已超期 2 天" in flags
    service.save_minutes(compound, chair, meeting, "纪要")
    for member in members[:3]:
        service.confirm(compound, member, meeting)
    service.post_decision(compound, chair, meeting, "决定公告")
    db.session.commit()
    assert "已超期" not in text_of(client.get("/admin/maple/notices/"))
    assert "比规定晚了 2 天" in text_of(client.get(f"/admin/maple/meetings/{meeting.id}"))


def test_dashboard_flags_a_committee_that_has_not_met(client, compound, chair, make_user):
    members = five_members(compound, chair, make_user)
    login_as(client, chair)
    assert "还没有记录过委员会会议" in text_of(client.get("/admin/maple/meetings/"))
    meeting = held_meeting(compound, chair, members, members[:4], when=ago(days=70))
    service.save_minutes(compound, chair, meeting, "纪要")
    for member in members[:3]:
        service.confirm(compound, member, meeting)
    service.post_decision(compound, chair, meeting, "决定公告")
    db.session.commit()
    assert "已超过 60 天的间隔 10 天" in text_of(client.get("/admin/maple/notices/"))
    held_meeting(compound, chair, members, members[:4], when=ago(days=1))
    assert "间隔" not in text_of(client.get("/admin/maple/notices/"))


def test_a_changed_agenda_must_be_sent_again(client, compound, chair):
    meeting = service.schedule(compound, chair, None, ahead(days=5), "办公室", ["门禁"])
    service.mark_notice_sent(compound, chair, meeting, local_date())
    db.session.commit()
    login_as(client, chair)
    response = post_form(client, f"/admin/maple/meetings/{meeting.id}/edit", {
        "held_at": ahead(days=5).strftime("%Y-%m-%dT%H:%M"), "place": "办公室", "agenda": "门禁\n保洁"},
        follow_redirects=True)
    assert "请重新打印会议通知送达居委会" in text_of(response)
    db.session.refresh(meeting)
    assert meeting.notice_sent_on is None and [i.title for i in meeting.items] == ["门禁", "保洁"]


def test_a_bad_schedule_form_says_what_is_wrong(client, compound, chair):
    login_as(client, chair)
    response = post_form(client, "/admin/maple/meetings/new", {"held_at": "", "place": "", "agenda": ""},
                         token_from="/admin/maple/meetings/new")
    assert response.status_code == 400
    text = text_of(response)
    assert "请填写会议时间" in text and "请填写地点" in text and "请至少写一项议程" in text
    assert db.session.scalar(select(Meeting)) is None


def test_an_account_added_after_the_meeting_cannot_confirm_its_minutes(app, compound, chair, make_user):
    """The chair adds accounts; two added after the meeting must not make a majority of a meeting they were never
    part of: they are refused, and the minutes stay unconfirmed."""
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:4])
    service.save_minutes(compound, chair, meeting, "纪要")
    db.session.commit()
    page = f"/admin/maple/meetings/{meeting.id}"
    for name in ("late1", "late2"):
        client = app.test_client()
        login_as(client, make_user(name, compound, Role.member))
        assert "我确认这份纪要" not in text_of(client.get(page))
        response = post_form(client, f"{page}/confirm", {}, token_from=page, follow_redirects=True)
        assert "只有开会时在任的委员才能确认这份纪要" in text_of(response)
    db.session.refresh(meeting)
    assert meeting.confirmations == [] and meeting.minutes_final_at is None


def test_a_meeting_whose_day_passed_without_attendance_is_flagged(client, compound, chair):
    meeting = service.schedule(compound, chair, None, ago(days=2), "办公室", ["门禁"])
    db.session.commit()
    login_as(client, chair)
    flags = text_of(client.get("/admin/maple/meetings/"))
    assert "的委员会会议还没有记录出席情况" in flags
    assert f"/admin/maple/meetings/{meeting.id}" in client.get("/admin/maple/meetings/").get_data(as_text=True)


def test_correcting_attendance_voids_confirmations_but_the_same_roll_does_not(client, compound, chair, make_user):
    members = five_members(compound, chair, make_user)
    meeting = held_meeting(compound, chair, members, members[:4])
    service.save_minutes(compound, chair, meeting, "纪要")
    service.confirm(compound, chair, meeting)
    db.session.commit()
    login_as(client, chair)
    page = f"/admin/maple/meetings/{meeting.id}"
    post_form(client, f"{page}/attendance", {"present": [str(m.id) for m in members[:4]]}, token_from=page)
    db.session.refresh(meeting)
    assert len(meeting.confirmations) == 1
    post_form(client, f"{page}/attendance", {"present": [str(m.id) for m in members[:3]]}, token_from=page)
    db.session.refresh(meeting)
    assert meeting.confirmations == [] and len(meeting.present) == 3
