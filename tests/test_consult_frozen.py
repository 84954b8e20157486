"""Issue 11, items 6, 8 and "decided votes can't be changed": a topic's wording is fixed from publication (a
mistake gets a dated, signed correction note), a decided topic's ballots, electorate and result are fixed in
the database itself, anyone can see a fresh recount agree with the published result, and a household's
opinions and proposals are limited."""
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select, text as sql
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.consult import kiosk_votes, service
from kiosk.consult.models import Ballot, Elector, Opinion, Proposal, Topic, TopicCorrection
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.cards import COOKIE
from kiosk.households.service import issue
from kiosk.households.models import Household
from kiosk.notices.models import Notice
from kiosk.screen.models import Screen

import factories
from conftest import csrf_token, login_as, post_form

BASE = "/admin/maple/topics"
REFUSED = (IntegrityError, DBAPIError)  # SQLite's RAISE(ABORT) and PostgreSQL's RAISE EXCEPTION


def roll(compound, n=6):
    return factories.households(compound, n, area=lambda i: 9000 + i)


def open_topic(compound, chair, **fields):
    return factories.open_topic(compound, chair, ["建", "不建"], **{
        "title": "是否在东侧空地建电动车棚", "background": "车棚 40 个车位。", "kind": "single", "rule": "informal",
        **fields})


def decided_topic(compound, chair, homes):
    topic = open_topic(compound, chair)
    for household, choice in zip(homes, ["1", "1", "2"]):
        service.cast(compound, topic, household, [choice])
    topic.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert service.close_due(compound) == 1
    db.session.expire_all()
    return db.session.get(Topic, topic.id)


def text(response):
    return " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split())


def refused(statement, **params):
    """Run a raw statement as someone with database access would; the database refuses it."""
    with pytest.raises(REFUSED):
        db.session.execute(sql(statement), params)
        db.session.flush()
    db.session.rollback()


# --- the wording is fixed from publication -------------------------------------------------------------------------

def test_a_published_topics_wording_and_options_cannot_be_changed(app, compound, chair):
    roll(compound)
    topic = open_topic(compound, chair)
    with pytest.raises(ValueError):
        service.save_topic(compound, chair, topic, {"title": "是否拆除东侧车棚"}, ["拆", "不拆"])
    db.session.rollback()
    refused("UPDATE topic SET title = '是否拆除东侧车棚' WHERE id = :id", id=topic.id)
    refused("UPDATE topic SET background = '拆除' WHERE id = :id", id=topic.id)
    refused("UPDATE topic_option SET label = '拆除' WHERE topic_id = :id", id=topic.id)
    refused("INSERT INTO topic_option (topic_id, key, label, position) VALUES (:id, '9', '拆除', 9)", id=topic.id)
    refused("DELETE FROM topic_option WHERE topic_id = :id", id=topic.id)
    refused("UPDATE topic SET status = 'draft' WHERE id = :id", id=topic.id)
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    assert topic.title == "是否在东侧空地建电动车棚" and [o.label for o in topic.options] == ["建", "不建"]


def test_a_plain_member_cannot_reword_a_vote_in_progress(app, client, compound, chair, make_user):
    """The issue's case: a member changed 建 to 拆除 with 121 ballots kept."""
    homes = roll(compound)
    topic = open_topic(compound, chair)
    service.cast(compound, topic, homes[0], ["1"])
    member = make_user("member", compound, Role.member)
    login_as(client, member)
    answer = post_form(client, f"{BASE}/{topic.id}/edit", {"title": "是否拆除东侧车棚", "background": "拆除",
                                                          "kind": "single", "options": "拆除\n不拆除"},
                       token_from=f"{BASE}/{topic.id}")
    assert answer.status_code == 302
    assert post_form(client, f"{BASE}/{topic.id}/corrections", {"body": "应为拆除"},
                     token_from=f"{BASE}/{topic.id}").status_code == 403
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    assert topic.title == "是否在东侧空地建电动车棚" and [o.label for o in topic.options] == ["建", "不建"]
    assert db.session.scalar(select(func.count()).select_from(TopicCorrection)) == 0


def test_a_correction_is_appended_signed_dated_audited_and_shown_where_households_vote(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    lobby = Screen(compound_id=compound.id, name="大厅", key="lobby-key-frozen")
    db.session.add(lobby)
    db.session.commit()
    login_as(client, chair)
    empty = post_form(client, f"{BASE}/{topic.id}/corrections", {"body": ""}, token_from=f"{BASE}/{topic.id}")
    assert empty.status_code == 400 and "请写明更正了什么" in text(empty)
    answer = post_form(client, f"{BASE}/{topic.id}/corrections", {"body": "背景说明里的 40 个车位应为 36 个。"},
                       token_from=f"{BASE}/{topic.id}")
    assert answer.status_code == 302
    correction = db.session.scalar(select(TopicCorrection))
    assert correction.created_by == chair.id
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "correct"))
    assert audit.actor_id == chair.id and audit.after == {"correction": "背景说明里的 40 个车位应为 36 个。"}
    # Above the ballot on the phone...
    phone = app.test_client()
    phone.set_cookie(COOKIE, issue(compound, chair, [homes[0]])[0][1])
    db.session.commit()
    page = text(phone.get(f"/maple/topics/{topic.id}"))
    assert page.index("40 个车位应为 36 个") < page.index("请选一项")
    assert "Chair" in page.split("更正说明", 1)[1][:80]
    # ...on the lobby screen's ballot...
    base = f"/maple/kiosk/{lobby.key}/vote/{topic.id}"
    kiosk = app.test_client()
    code = kiosk_votes.issue_code(compound, homes[1])
    db.session.commit()
    ballot = text(kiosk.post(base, data={"csrf_token": csrf_token(kiosk, base), "code": code}))
    assert ballot.index("40 个车位应为 36 个") < ballot.index("请选一项")
    # ...and on the printed resolution.
    service.cast(compound, topic, homes[0], ["1"])
    topic.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    printed = text(client.get(f"/maple/topics/{topic.id}/print"))
    assert "40 个车位应为 36 个" in printed
    # Never edited, never removed, and none once the vote is decided.
    refused("UPDATE topic_correction SET body = '没有更正' WHERE id = :id", id=correction.id)
    refused("DELETE FROM topic_correction WHERE id = :id", id=correction.id)
    late = post_form(client, f"{BASE}/{topic.id}/corrections", {"body": "再改一处"}, token_from=f"{BASE}/{topic.id}",
                     follow_redirects=True)
    assert "投票已截止，议题不能再更正" in text(late)
    assert db.session.scalar(select(func.count()).select_from(TopicCorrection)) == 1


# --- a decided vote stays decided -------------------------------------------------------------------------------------

def test_the_database_refuses_to_change_a_decided_topics_ballots_electorate_and_result(app, compound, chair):
    homes = roll(compound)
    topic = decided_topic(compound, chair, homes)
    ballot = db.session.scalar(select(Ballot).where(Ballot.topic_id == topic.id))
    refused("UPDATE ballot SET choices = :c WHERE id = :id", c='["2"]', id=ballot.id)
    refused("UPDATE ballot SET current = false WHERE id = :id", id=ballot.id)
    refused("DELETE FROM ballot WHERE id = :id", id=ballot.id)
    refused("INSERT INTO ballot (topic_id, household_id, choices, channel, cast_at, current) "
            "VALUES (:t, :h, '[\"2\"]', 'paper', :at, true)", t=topic.id, h=homes[4].id, at=utcnow())
    refused("UPDATE elector SET area_centi = 1 WHERE topic_id = :id", id=topic.id)
    refused("DELETE FROM elector WHERE topic_id = :id", id=topic.id)
    late = Household(compound_id=compound.id, building="9", entrance="", room="901", area_centi=9000)
    db.session.add(late)
    db.session.commit()
    refused("INSERT INTO elector (topic_id, household_id, area_centi, owner, building) "
            "VALUES (:t, :h, 1, 'x', '9')", t=topic.id, h=late.id)
    refused("UPDATE topic SET result = :r WHERE id = :id", r='{"passed": true}', id=topic.id)
    refused("UPDATE topic SET fingerprint = :f WHERE id = :id", f="0" * 64, id=topic.id)
    refused("UPDATE topic SET status = 'published' WHERE id = :id", id=topic.id)
    refused("UPDATE topic SET closes_at = :at WHERE id = :id", at=utcnow() + timedelta(days=1), id=topic.id)
    refused("DELETE FROM topic WHERE id = :id", id=topic.id)
    with pytest.raises(service.VoteRefused):
        service.cast(compound, topic, homes[5], ["2"])
    db.session.rollback()
    # Follow-through still goes on: the resolution notice (once) and "done".
    service.publish_resolution(compound, chair, topic, "决议公告", "正文")
    service.post_update(compound, chair, topic, "已开工。", True, "落实情况")
    db.session.commit()
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    assert topic.status == "done" and topic.result == service.compute(topic).as_record()


def test_a_resolution_notice_is_linked_once_even_when_two_phones_publish_at_once(app, compound, chair):
    homes = roll(compound)
    topic = decided_topic(compound, chair, homes)
    service.publish_resolution(compound, chair, topic, "决议公告", "正文")
    db.session.commit()
    first = topic.resolution_notice_id
    set_committed_value(topic, "resolution_notice_id", None)  # the second phone loaded the page before the first
    with pytest.raises(service.VoteRefused):
        service.publish_resolution(compound, chair, topic, "决议公告（又一次）", "正文")
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).resolution_notice_id == first
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


def test_two_committee_phones_publishing_at_once_publish_once(app, compound, chair):
    roll(compound)
    topic = service.save_topic(compound, chair, None, {
        "title": "是否修缮凉亭", "background": "", "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": True,
        "visibility": "live", "allow_change": True, "opens_at": utcnow() + timedelta(days=1),
        "closes_at": utcnow() + timedelta(days=3)}, [])
    db.session.commit()
    service.publish(compound, chair, topic)
    db.session.commit()
    set_committed_value(topic, "status", "draft")  # the second phone still shows the draft
    with pytest.raises(service.VoteRefused) as again:
        service.publish(compound, chair, topic)
    assert again.value.reason == "published"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Elector)) == 6


def test_the_public_page_shows_a_recount_that_agrees_and_warns_when_it_does_not(app, client, compound, chair,
                                                                                 database_url):
    homes = roll(compound)
    topic = decided_topic(compound, chair, homes)
    page = text(client.get(f"/maple/topics/{topic.id}"))
    assert "✓ 重新点票结果与公布结果一致" in page
    # Someone with the database's owner password turns the guard off and moves a ballot.
    ballot = db.session.scalar(select(Ballot).where(Ballot.topic_id == topic.id).order_by(Ballot.id))
    if database_url.startswith("sqlite"):
        db.session.execute(sql("DROP TRIGGER ballot_update_fixed"))
    else:
        db.session.execute(sql("ALTER TABLE ballot DISABLE TRIGGER ballot_fixed"))
    db.session.execute(sql("UPDATE ballot SET choices = :c WHERE id = :id"), {"c": '["2"]', "id": ballot.id})
    db.session.commit()
    page = text(client.get(f"/maple/topics/{topic.id}"))
    assert "⚠ 重新点票结果与公布结果不一致" in page and "✓ 重新点票" not in page
    printed = text(client.get(f"/maple/topics/{topic.id}/print"))
    assert "重新点票结果与公布结果不一致" in printed
    if not database_url.startswith("sqlite"):
        db.session.execute(sql("ALTER TABLE ballot ENABLE TRIGGER ballot_fixed"))
        db.session.commit()


def test_a_paper_ballot_after_the_close_is_refused(app, client, compound, chair):
    homes = roll(compound)
    topic = decided_topic(compound, chair, homes)
    login_as(client, chair)
    answer = post_form(client, f"{BASE}/{topic.id}/paper", {"building": "1", "room": "105", "choices": "2"},
                       token_from=f"{BASE}/{topic.id}", follow_redirects=True)
    assert "投票已于" in text(answer) and "截止，不能再录入" in text(answer)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 3


# --- opinions and proposals -------------------------------------------------------------------------------------------

def test_a_household_posts_a_few_opinions_not_unlimited(app, compound, chair):
    import time_machine

    homes = roll(compound)
    topic = open_topic(compound, chair, opens_at=utcnow() + timedelta(days=1), closes_at=utcnow() + timedelta(days=3))
    phone = app.test_client()
    phone.set_cookie(COOKIE, issue(compound, chair, [homes[0]])[0][1])
    db.session.commit()
    path = f"/maple/topics/{topic.id}/opinions"

    def post(body):
        return phone.post(path, data={"csrf_token": csrf_token(phone, f"/maple/topics/{topic.id}"), "body": body},
                          follow_redirects=True)

    with time_machine.travel(utcnow(), tick=False) as clock:
        assert "意见已发表" in text(post("第一条"))
        assert "意见已发表" in text(post("第二条"))
        assert "请过 10 分钟再发" in text(post("第三条"))
        for n in range(3, 6):
            clock.shift(timedelta(minutes=11))
            assert "意见已发表" in text(post(f"第 {n} 条"))
        clock.shift(timedelta(minutes=11))
        assert "本户在这个议题下已经发表了 5 条意见，不能再发了" in text(post("第六条"))
    mine = db.session.scalar(select(func.count()).select_from(Opinion).where(Opinion.household_id == homes[0].id))
    assert mine == service.OPINIONS_PER_TOPIC == 5


def test_a_household_sends_a_few_proposals_a_day(app, compound, chair):
    homes = roll(compound)
    phone = app.test_client()
    phone.set_cookie(COOKIE, issue(compound, chair, [homes[0]])[0][1])
    db.session.commit()
    for n in range(service.PROPOSALS_PER_DAY):
        assert phone.post("/maple/proposals/new", data={"csrf_token": csrf_token(phone, "/maple/proposals/new"),
                                                        "kind": "suggestion", "title": f"建议 {n}"}).status_code == 303
    answer = phone.post("/maple/proposals/new", data={"csrf_token": csrf_token(phone, "/maple/proposals/new"),
                                                      "kind": "suggestion", "title": "第四条"})
    assert answer.status_code == 429 and "请明天再提" in text(answer)
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 3
