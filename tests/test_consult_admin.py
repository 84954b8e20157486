"""The committee's consultation pages: drafting each kind of topic, publishing, paper ballots at a meeting,
the result with every figure, secrecy in pages and exports, the resolution notice, follow-through, proposals."""
import csv
import io
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
import factories
from conftest import csrf_token, login_as, post_form
from factories import text_of
from openpyxl import load_workbook
from sqlalchemy import func, select

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.consult.models import Ballot, Elector, Opinion, Proposal, Topic
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.models import Household
from kiosk.notices.models import Notice

BASE = "/admin/maple/topics"
# 3栋501 100.00 m², 3栋502 50.50, 5栋101 49.50, 5栋102 80.00: 280.00 m², four owners.
ROLL = [("3", "501", 10000), ("3", "502", 5050), ("5", "101", 4950), ("5", "102", 8000)]


@pytest.fixture
def roll(compound):
    """Four households of four different owners."""
    return factories.households(compound, len(ROLL), building=lambda i: ROLL[i][0], room=lambda i: ROLL[i][1],
                                area=lambda i: ROLL[i][2], owner=lambda i: "owner-{}-{}".format(*ROLL[i]))


def topic_form(**overrides):
    """A valid new-topic form: a yes/no statutory ordinary matter, voting open now until 2099."""
    data = {"title": "是否同意把东侧空地改建为停车位", "background": "东侧空地闲置多年。", "kind": "yesno",
            "rule": "ordinary", "seats": "1", "options": "", "secret": "y", "visibility": "live",
            "allow_change": "y", "opens_at": "2026-01-01T09:00", "closes_at": "2099-01-01T20:00"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def create(client, **overrides):
    response = post_form(client, f"{BASE}/new", topic_form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(Topic).order_by(Topic.id.desc()))


def publish(client, topic):
    response = post_form(client, f"{BASE}/{topic.id}/publish", {}, token_from=f"{BASE}/{topic.id}")
    assert response.status_code == 302
    return response


def voting_topic(client, **overrides):
    """A published topic, named unless told: a named topic's figures move with each ballot (a secret one's in
    released batches: test_consult_secrecy.py)."""
    topic = create(client, **{"secret": None, **overrides})
    publish(client, topic)
    return topic


def paper(client, topic, building, room, *choices, **kwargs):
    return post_form(client, f"{BASE}/{topic.id}/paper", {"building": building, "room": room,
                                                          "choices": list(choices)},
                     token_from=f"{BASE}/{topic.id}", **kwargs)


def close(client, topic):
    """Let the clock pass the deadline; the next committee page closes and freezes the vote."""
    db.session.get(Topic, topic.id).closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"{BASE}/").status_code == 200
    db.session.expire_all()
    return db.session.get(Topic, topic.id)


def audit_actions(topic):
    return set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.area == "consult",
                                                                  AuditEntry.object_type == "topic",
                                                                  AuditEntry.object_id == topic.id)))


# --- drafting -----------------------------------------------------------------------------------------------

def test_committee_drafts_each_kind_of_topic(committee_client):
    yesno = create(committee_client, options="被忽略\n的行")
    assert [o.label for o in yesno.options] == ["同意", "不同意", "弃权"]
    assert yesno.status == "draft" and yesno.secret and yesno.allow_change
    single = create(committee_client, title="停车费标准", kind="single", rule="informal",
                    options="每月 100 元\n每月 150 元\n每月 200 元")
    assert [o.label for o in single.options] == ["每月 100 元", "每月 150 元", "每月 200 元"] and single.seats == 1
    multi = create(committee_client, title="公共收益用在哪", kind="multi", rule="informal", seats="2",
                   options="监控\n门禁\n灭蚊", secret=None)
    assert multi.seats == 2 and not multi.secret
    election = create(committee_client, title="选举监督委员", kind="election", rule="ordinary", seats="2",
                      options="张三\n李四\n王五", allow_change=None)
    assert election.seats == 2 and not election.allow_change and len(election.options) == 3
    page = committee_client.get(f"{BASE}/{election.id}")
    assert page.status_code == 200 and "选举监督委员" in text_of(page) and "发布（开始讨论）" in text_of(page)
    index = text_of(committee_client.get(f"{BASE}/"))
    assert "草稿（4）" in index and "公共收益用在哪" in index


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"kind": "single", "rule": "consensus", "options": "甲\n乙"}, "rule", "协商一致只适用于同意/不同意/弃权的议题"),
    ({"kind": "multi", "rule": "special", "options": "甲\n乙"}, "rule", "法定特别事项只适用于同意/不同意/弃权的议题"),
    ({"kind": "single", "rule": "informal", "options": "只有一个"}, "options", "至少要有两个选项"),
    ({"kind": "election", "seats": "3", "options": "张三\n李四"}, "options", "不能少于应选名额"),
    ({"opens_at": "2099-01-02T09:00"}, "closes_at", "截止时间要晚于开始投票的时间"),
    ({"opens_at": "2020-01-01T09:00", "closes_at": "2020-02-01T09:00"}, "closes_at", "截止时间已经过了"),
    ({"title": ""}, "title", "请填写议题"),
    ({"seats": "0", "kind": "multi", "rule": "informal", "options": "甲\n乙"}, "seats", "请填 1 到 50 之间的数"),
])
def test_a_wrong_topic_is_refused_next_to_the_field_and_nothing_is_saved(committee_client, overrides, field, message):
    response = post_form(committee_client, f"{BASE}/new", topic_form(**overrides))
    assert response.status_code == 400
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    error = soup.find(id=f"{field}-error")
    assert error is not None and message in error.get_text(), soup.select(".error")
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 0


def test_after_publishing_nothing_households_vote_on_can_be_edited(committee_client, roll):
    """The wording is fixed from publication: the edit page sends the committee to the correction note instead,
    and a forged edit changes nothing (test_consult_frozen.py has the rest)."""
    topic = voting_topic(committee_client)
    page = committee_client.get(f"{BASE}/{topic.id}/edit", follow_redirects=True)
    assert "标题、背景说明和选项都不能再改" in text_of(page) and "添加更正说明" in text_of(page)
    response = post_form(committee_client, f"{BASE}/{topic.id}/edit", {"title": "改过的标题", "background": "新背景",
                                                                       "rule": "special"},
                         token_from=f"{BASE}/{topic.id}")
    assert response.status_code == 302
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    assert topic.title == "是否同意把东侧空地改建为停车位" and topic.rule == "ordinary"


# --- publishing and paper ballots ---------------------------------------------------------------------------

def test_publishing_freezes_the_electorate(committee_client, compound, roll):
    topic = create(committee_client)
    response = publish(committee_client, topic)
    assert "投票名单共 4 户" in text_of(committee_client.get(response.headers["Location"]))
    db.session.add(Household(compound_id=compound.id, building="9", room="901", area_centi=9000))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Elector).where(Elector.topic_id == topic.id)) == 4
    assert "publish" in audit_actions(topic)
    assert "已投 0 / 4 户" in text_of(committee_client.get(f"{BASE}/"))


def test_publishing_without_households_is_refused_calmly(committee_client):
    topic = create(committee_client)
    response = publish(committee_client, topic)
    assert "还没有录入住户，不能发布" in text_of(committee_client.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).status == "draft"


def test_paper_ballot_is_recorded_as_paper_with_who_entered_it(committee_client, chair, roll):
    topic = voting_topic(committee_client, allow_change=None)
    response = paper(committee_client, topic, "3栋", "501室", "yes", follow_redirects=True)
    assert "已录入纸质票：3栋501（由 Chair 录入）" in text_of(response)
    ballot = db.session.scalar(select(Ballot).where(Ballot.topic_id == topic.id))
    assert ballot.channel == "paper" and ballot.entered_by == chair.id and ballot.choices == ["yes"]
    assert "ballot" in audit_actions(topic)
    again = paper(committee_client, topic, "3", "501", "no")
    assert again.status_code == 409
    refusal = text_of(again)
    assert "3栋501 已于" in refusal and "通过纸质票（委员代录）投过票，本议题不允许改票" in refusal
    assert "由 Chair 录入" in refusal
    assert db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic.id)) == 1


def test_paper_ballot_changes_the_vote_when_changes_are_allowed(committee_client, roll):
    topic = voting_topic(committee_client)
    paper(committee_client, topic, "3", "501", "yes")
    response = paper(committee_client, topic, "3", "501", "no", follow_redirects=True)
    assert "之前的票已作废" in text_of(response)
    current = db.session.scalars(select(Ballot).where(Ballot.topic_id == topic.id, Ballot.current.is_(True))).all()
    assert [b.choices for b in current] == [["no"]]


def test_paper_ballot_for_an_unknown_or_late_household_is_refused(committee_client, compound, roll):
    topic = voting_topic(committee_client)
    response = paper(committee_client, topic, "7", "701", "yes")
    assert response.status_code == 400 and "本小区没有 7栋701" in text_of(response)
    db.session.add(Household(compound_id=compound.id, building="9", room="901", area_centi=9000))
    db.session.commit()
    response = paper(committee_client, topic, "9", "901", "yes")
    assert response.status_code == 400 and "不在本议题的投票名单上" in text_of(response)
    response = paper(committee_client, topic, "3", "501")
    assert response.status_code == 400 and "请勾选选票上的选择" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_supervisor_reads_but_cannot_change(client, compound, make_user, roll, chair):
    login_as(client, chair)
    topic = voting_topic(client)
    draft = create(client, title="草稿议题")
    client.post("/admin/logout", data={"csrf_token": csrf_token(client)})
    supervisor = client.application.test_client()
    login_as(supervisor, make_user("watcher", compound, Role.supervisor))
    page = supervisor.get(f"{BASE}/{topic.id}")
    assert page.status_code == 200 and "录入纸质票" not in text_of(page)
    assert "发布（开始讨论）" not in text_of(supervisor.get(f"{BASE}/{draft.id}"))
    token = csrf_token(supervisor, f"{BASE}/{topic.id}")
    for path, data in [(f"{BASE}/new", topic_form()), (f"{BASE}/{draft.id}/publish", {}),
                       (f"{BASE}/{topic.id}/paper", {"building": "3", "room": "501", "choices": "yes"})]:
        assert supervisor.post(path, data=dict(data, csrf_token=token)).status_code == 403, path
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


# --- results --------------------------------------------------------------------------------------------------

def test_results_show_every_figure_of_a_passed_vote(committee_client, roll):
    topic = voting_topic(committee_client)
    paper(committee_client, topic, "3", "501", "yes")
    paper(committee_client, topic, "3", "502", "yes")
    paper(committee_client, topic, "5", "102", "no")
    page = text_of(committee_client.get(f"{BASE}/{topic.id}"))
    # Participation 230.50 of 280.00 m² (quorum: at least 186.67), 3 of 4 owners (at least 3).
    assert "参与面积（平方米） 230.50 280.00 82.3% 至少 186.67 ✓ 已达到" in page
    assert "参与业主人数 3 4 75.0% 至少 3 ✓ 已达到" in page
    # Approval: more than half of 230.50 m² is at least 115.26; more than half of 3 owners is at least 2.
    assert "面积至少 115.26 平方米，人数至少 2 人" in page
    assert "同意 150.50" in page
    assert "按现在的票数：表决通过。" in page


def test_results_say_why_a_vote_failed(committee_client, roll):
    topic = voting_topic(committee_client)
    paper(committee_client, topic, "3", "501", "yes")
    paper(committee_client, topic, "5", "101", "no")
    paper(committee_client, topic, "5", "102", "no")
    topic = close(committee_client, topic)
    page = text_of(committee_client.get(f"{BASE}/{topic.id}"))
    assert "表决结果（已冻结）" in page and "未通过。" in page
    assert "同意的面积没有超过参与面积的一半。" in page and "同意的业主人数没有超过参与人数的一半。" in page
    assert topic.fingerprint[:12] in page and topic.fingerprint in page
    assert "录入纸质票" not in page


def test_election_tie_at_the_last_seat_is_flagged(committee_client, roll):
    topic = voting_topic(committee_client, title="选举监督委员", kind="election", rule="informal", seats="1",
                         options="张三\n李四\n王五")
    paper(committee_client, topic, "3", "501", "1")
    paper(committee_client, topic, "3", "502", "2")
    assert "第 1 席出现平票：张三、李四，需另行决定。" in text_of(committee_client.get(f"{BASE}/{topic.id}"))


def test_results_block_refreshes_itself_while_voting(committee_client, roll):
    topic = voting_topic(committee_client)
    soup = BeautifulSoup(committee_client.get(f"{BASE}/{topic.id}").get_data(as_text=True), "html.parser")
    block = soup.find(id="results")
    assert block["hx-get"] == f"{BASE}/{topic.id}/results" and block["hx-trigger"] == "every 5s"
    paper(committee_client, topic, "3", "501", "yes")
    fragment = committee_client.get(f"{BASE}/{topic.id}/results", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "已投 1 / 4 户" in text_of(fragment)
    assert committee_client.get(f"{BASE}/{topic.id}/results").status_code == 302


# --- secrecy and exports ----------------------------------------------------------------------------------------

def test_secret_topic_shows_who_voted_but_never_what(committee_client, roll):
    topic = voting_topic(committee_client, secret="y")
    paper(committee_client, topic, "3", "501", "no")
    close(committee_client, topic)
    soup = BeautifulSoup(committee_client.get(f"{BASE}/{topic.id}").get_data(as_text=True), "html.parser")
    roll_call = soup.find(id="roll").get_text(" ", strip=True)
    # Who voted, in address order; never what, and never when or how (test_consult_secrecy.py says why).
    assert "3栋501 已投" in roll_call and "3栋502 未投" in roll_call
    assert "纸质票" not in roll_call and "录入" not in roll_call and ":" not in roll_call
    assert "不同意" not in roll_call and "同意" not in roll_call
    assert committee_client.get(f"{BASE}/{topic.id}/ballots.csv").status_code == 404
    assert "导出记名投票名单" not in soup.get_text()
    results = committee_client.get(f"{BASE}/{topic.id}/results.csv").get_data(as_text=True)
    assert "3栋501" not in results
    book = load_workbook(io.BytesIO(committee_client.get(f"{BASE}/{topic.id}/results.xlsx").get_data()))
    cells = [str(c) for row in book.active.iter_rows(values_only=True) for c in row if c is not None]
    assert "3栋501" not in " ".join(cells)


def test_named_topic_exports_ballots_and_results(committee_client, roll):
    topic = voting_topic(committee_client, secret=None)
    paper(committee_client, topic, "3", "501", "yes")
    paper(committee_client, topic, "3", "502", "no")
    response = committee_client.get(f"{BASE}/{topic.id}/ballots.csv")
    assert response.status_code == 200 and response.data.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["地址", "选择", "投票方式", "投票时间", "录入人"]
    assert [r[:3] + r[4:] for r in rows[1:]] == [["3栋501", "同意", "纸质票（委员代录）", "Chair"],
                                                 ["3栋502", "不同意", "纸质票（委员代录）", "Chair"]]
    page = BeautifulSoup(committee_client.get(f"{BASE}/{topic.id}").get_data(as_text=True), "html.parser")
    assert "不同意" in page.find(id="roll").get_text()
    results = list(csv.reader(io.StringIO(
        committee_client.get(f"{BASE}/{topic.id}/results.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert results[1] == ["同意", "1", "1", "100.00", "否"]
    assert ["参与面积（平方米）", "150.50"] in results
    book = load_workbook(io.BytesIO(committee_client.get(f"{BASE}/{topic.id}/results.xlsx").get_data()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[1][:4] == ("同意", 1, 1, "100.00")


# --- resolution, follow-through, opinions ----------------------------------------------------------------------

def test_resolution_is_published_once_and_reaches_the_phone_home(committee_client, roll):
    topic = voting_topic(committee_client, title="停车位改建")
    for building, room in [("3", "501"), ("3", "502"), ("5", "102")]:
        paper(committee_client, topic, building, room, "yes")
    assert committee_client.get(f"{BASE}/{topic.id}/resolution").status_code == 302  # not before close
    topic = close(committee_client, topic)
    form = BeautifulSoup(committee_client.get(f"{BASE}/{topic.id}/resolution").get_data(as_text=True),
                         "html.parser")
    title = form.find("input", attrs={"name": "title"})["value"]
    body = form.find("textarea", attrs={"name": "body"}).get_text()
    assert title == "关于《停车位改建》的决议公告"
    assert "230.50" in body and "280.00" in body and "表决通过" in body and topic.fingerprint in body
    response = post_form(committee_client, f"{BASE}/{topic.id}/resolution", {"title": title, "body": body})
    assert response.status_code == 302
    assert "关于《停车位改建》的决议公告" in text_of(committee_client.get("/maple/"))
    assert "resolution" in audit_actions(topic) and "close" in audit_actions(topic)
    again = committee_client.get(f"{BASE}/{topic.id}/resolution", follow_redirects=True)
    assert "决议公告已经发布过了" in text_of(again)
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


def test_follow_through_is_posted_until_done(committee_client, roll):
    topic = close(committee_client, voting_topic(committee_client, title="修下水道"))
    response = post_form(committee_client, f"{BASE}/{topic.id}/updates", {"body": ""}, token_from=f"{BASE}/{topic.id}")
    assert response.status_code == 400 and "请写一写做了什么" in text_of(response)
    post_form(committee_client, f"{BASE}/{topic.id}/updates", {"body": "已签合同。"}, token_from=f"{BASE}/{topic.id}")
    post_form(committee_client, f"{BASE}/{topic.id}/updates", {"body": "已完工。", "done": "y"},
              token_from=f"{BASE}/{topic.id}")
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).status == "done"
    assert db.session.scalar(select(func.count()).select_from(Notice).where(Notice.title == "《修下水道》落实情况")) == 2
    assert "已落实（1）" in text_of(committee_client.get(f"{BASE}/"))


def test_hiding_an_opinion_needs_a_public_reason(committee_client, roll):
    topic = voting_topic(committee_client)
    opinion = Opinion(topic_id=topic.id, household_id=roll[0].id, body="我的电话 13800000000")
    db.session.add(opinion)
    db.session.commit()
    path = f"{BASE}/{topic.id}/opinions/{opinion.id}/hide"
    response = post_form(committee_client, path, {"reason": ""}, token_from=f"{BASE}/{topic.id}")
    assert response.status_code == 400 and "请写明隐藏的原因" in text_of(response)
    post_form(committee_client, path, {"reason": "含有电话号码"}, token_from=f"{BASE}/{topic.id}")
    db.session.expire_all()
    assert db.session.get(Opinion, opinion.id).hidden_reason == "含有电话号码"
    assert "hide_opinion" in audit_actions(topic)


# --- proposals -------------------------------------------------------------------------------------------------

def test_committee_answers_a_proposal_and_turns_one_into_a_topic(committee_client, compound, roll):
    first = Proposal(compound_id=compound.id, household_id=roll[0].id, title="楼道装灯", body="3 栋楼道太暗")
    second = Proposal(compound_id=compound.id, household_id=roll[2].id, title="空地改停车位", body="车太多")
    db.session.add_all([first, second])
    db.session.commit()
    page = text_of(committee_client.get("/admin/maple/proposals/"))
    assert "楼道装灯" in page and "3栋501" in page and "5栋101" in page
    response = post_form(committee_client, f"/admin/maple/proposals/{first.id}/answer",
                         {"answer": "下周安装。", "outcome": "closed"}, token_from="/admin/maple/proposals/")
    assert response.status_code == 302
    form = committee_client.get(f"{BASE}/new?from_proposal={second.id}").get_data(as_text=True)
    assert 'value="空地改停车位"' in form and "车太多" in form
    response = post_form(committee_client, f"{BASE}/new?from_proposal={second.id}",
                         topic_form(title="空地改停车位"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Proposal, first.id).status == "closed"
    assert db.session.get(Proposal, first.id).answer == "下周安装。"
    assert db.session.get(Proposal, second.id).topic_id is not None
    assert db.session.get(Proposal, second.id).status == "topic"
