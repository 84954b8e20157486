"""A decided election of supervisors becomes the supervisory body: applied by platform staff, checked, recorded
and shown to residents with the topic it came from."""
import re

import pytest
from sqlalchemy import select

from kiosk.auth import supervision
from kiosk.auth.models import Membership, Role, SupervisorChange, User
from kiosk.changes import AuditEntry
from kiosk.consult import service as consult
from kiosk.consult.models import Ballot, Elector, Option, Status, Topic
from kiosk.extensions import db
from kiosk.households.models import Household, Occupancy

from conftest import PASSWORD, ago, ahead, login_as, post_form

PAGE = "/admin/maple/supervisors/election"


@pytest.fixture
def staff(make_user):
    return make_user("staff", platform_admin=True)


def client_for(app, user):
    client = app.test_client()
    login_as(client, user)
    return client


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def seated(compound, staff, name, username):
    """A supervisor the street office appointed."""
    user = supervision.appoint_new(compound, staff, username, name, PASSWORD)
    db.session.commit()
    return user


def election(compound, author, candidates, ballots, seats, title="第二届监督委员选举", kind="election",
             status=Status.closed, closed_hours_ago=1, forge=None):
    """A topic whose households (one per ballot) chose candidates by index; closed and counted unless told.

    Built as the database allows (migration 0007): a draft with its options and electorate, then published,
    then its ballots, then closed with its result in one step. `forge` rewrites the result as it is frozen."""
    topic = Topic(compound_id=compound.id, title=title, background="", kind=kind, rule="informal", seats=seats,
                  status=Status.draft, opens_at=ago(days=5), closes_at=ahead(days=1), created_by=author.id)
    keys = ["yes", "no", "abstain"] if kind == "yesno" else [f"c{i}" for i in range(len(candidates))]
    topic.options = [Option(key=key, label=label, position=i) for i, (key, label) in enumerate(zip(keys, candidates))]
    db.session.add(topic)
    db.session.flush()
    households = []
    for i in range(len(ballots)):
        household = Household(compound_id=compound.id, building=str(topic.id), entrance="1", room=f"{i + 1}01",
                              area_centi=8000 + i, occupancy=Occupancy.occupied)
        db.session.add(household)
        db.session.flush()
        db.session.add(Elector(topic_id=topic.id, household_id=household.id, area_centi=household.area_centi,
                               owner=f"unit-{household.id}", building=household.building))
        households.append(household)
    db.session.flush()
    topic.status, topic.published_at = Status.published, ago(days=6)
    db.session.flush()
    for household, chosen in zip(households, ballots):
        db.session.add(Ballot(topic_id=topic.id, household_id=household.id, choices=[keys[c] for c in chosen],
                              cast_at=ago(days=2)))
    db.session.flush()
    if status != Status.published:
        result = consult.compute(topic).as_record()
        topic.status, topic.closes_at, topic.closed_at = status, ago(hours=closed_hours_ago), ago(hours=closed_hours_ago)
        topic.result = forge(result) if forge else result
        topic.fingerprint = consult.fingerprint(topic)
    db.session.commit()
    return topic


CANDIDATES = ["刘桂兰", "张德明", "杨淑芬", "吴长顺"]
# Five households, three seats: 刘 5, 张 4, 杨 3, 吴 2.
BALLOTS = [[0, 1, 2], [0, 1, 2], [0, 1, 3], [0, 1, 2], [0, 3]]


def apply(client, topic, winners=None, confirmed=True):
    data = {"winner": winners or []}
    if confirmed:
        data["confirmed"] = "y"
    return post_form(client, f"{PAGE}/{topic.id}", data, token_from=PAGE)


def winners_of(topic):
    return [topic.label_of(key) for key in topic.result["winners"]]


def sitting_names(compound):
    db.session.rollback()
    return sorted(m.user.display_name for m in supervision.sitting(compound))


def test_an_elections_winners_become_the_supervisory_body_in_the_open(app, compound, chair, staff):
    liu = seated(compound, staff, "刘桂兰", "liu")
    seated(compound, staff, "吴长顺", "wu")
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3)
    assert winners_of(topic) == ["刘桂兰", "张德明", "杨淑芬"]
    client = client_for(app, staff)
    page = text_of(client.get(PAGE))
    assert "第二届监督委员选举" in page and "当选：刘桂兰、张德明、杨淑芬" in page
    response = apply(client, topic, ["刘桂兰", "张德明", "杨淑芬"])
    assert response.status_code == 200
    assert "刘桂兰：用户名 liu（连任，沿用原账号）" in text_of(response)
    passwords = dict(re.findall(r"用户名 (maple-jd\d)，一次性密码：<strong class=\"password\">([a-z0-9-]+)<",
                                response.get_data(as_text=True)))
    assert sorted(passwords) == ["maple-jd1", "maple-jd2"]
    for username, password in passwords.items():
        assert db.session.scalar(select(User).where(User.username == username)).check_password(password)
    assert sitting_names(compound) == sorted(["刘桂兰", "张德明", "杨淑芬"])
    assert liu.id in {m.user_id for m in supervision.sitting(compound)}  # re-elected: the same account
    records = db.session.scalars(select(SupervisorChange).where(SupervisorChange.topic_id == topic.id)).all()
    assert sorted((r.name, r.action, r.source) for r in records) == [
        ("刘桂兰", "appoint", "election"), ("吴长顺", "remove", "election"), ("张德明", "appoint", "election"),
        ("杨淑芬", "appoint", "election")]
    roster = app.test_client().get("/maple/committee")
    html, words = roster.get_data(as_text=True), text_of(roster)
    assert f'href="/maple/topics/{topic.id}"' in html
    assert "免去 吴长顺 · 选举结果 《第二届监督委员选举》" in words
    assert "杨淑芬 选举结果 《第二届监督委员选举》" in words
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.area == "supervisors")).all()
    assert {e.action for e in audit} == {"appoint", "remove"} and all(e.actor_id == staff.id for e in audit)


def test_the_committee_cannot_apply_an_election(app, compound, chair, staff, make_user):
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3)
    for role in (Role.chair, Role.vice_chair, Role.member, Role.supervisor):
        user = chair if role == Role.chair else make_user(f"x-{role}", compound, role)
        client = client_for(app, user)
        assert client.get(PAGE).status_code == 403
        response = post_form(client, f"{PAGE}/{topic.id}", {"winner": winners_of(topic), "confirmed": "y"},
                             token_from="/admin/password")
        assert response.status_code == 403
    assert not [name for name in sitting_names(compound) if name in CANDIDATES]
    assert db.session.scalar(select(SupervisorChange.id)) is None


def test_a_supervisor_the_records_do_not_know_gets_a_new_account_when_re_elected(app, compound, chair, staff,
                                                                                make_user):
    """An account made before appointments were recorded may be one the committee made (and knows the password
    of): re-elected, the person gets a new account from the staff member; the old one leaves."""
    legacy = make_user("old-liu", compound, Role.supervisor)
    legacy.display_name = "刘桂兰"
    db.session.commit()
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3)
    response = apply(client_for(app, staff), topic, winners_of(topic))
    assert response.status_code == 200 and "连任" not in text_of(response)
    db.session.rollback()
    assert legacy.id not in {m.user_id for m in supervision.sitting(compound)}
    assert sitting_names(compound) == sorted(["刘桂兰", "张德明", "杨淑芬"])


def refused(app, staff, topic, winners=None, confirmed=True):
    before = (sitting_names(staff_compound(topic)), db.session.scalar(select(SupervisorChange.id).order_by(
        SupervisorChange.id.desc()).limit(1)))
    response = apply(client_for(app, staff), topic, winners if winners is not None else winners_of_or_none(topic),
                     confirmed)
    after = (sitting_names(staff_compound(topic)), db.session.scalar(select(SupervisorChange.id).order_by(
        SupervisorChange.id.desc()).limit(1)))
    assert after == before, "a refused election changed the supervisory body"
    return response


def staff_compound(topic):
    from kiosk.compounds.models import Compound
    return db.session.get(Compound, topic.compound_id)


def winners_of_or_none(topic):
    return winners_of(topic) if topic.result else ["刘桂兰"]


def test_an_election_still_open_is_refused(app, compound, chair, staff):
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3, status=Status.published)
    assert "第二届监督委员选举" not in text_of(client_for(app, staff).get(PAGE))
    response = refused(app, staff, topic)  # the form is not even offered; a forged post is refused
    assert response.status_code == 409 and "这次选举还没有截止计票" in text_of(response)


def test_a_topic_that_is_not_an_election_is_refused(app, compound, chair, staff):
    topic = election(compound, chair, ["同意", "不同意", "弃权"], [[0], [0], [1]], seats=1, kind="yesno")
    response = refused(app, staff, topic, winners=["同意"])
    assert response.status_code == 409 and "这个议题不是选举" in text_of(response)


def test_a_tied_election_decides_nothing(app, compound, chair, staff):
    topic = election(compound, chair, CANDIDATES, [[0, 1], [0, 2], [0, 3]], seats=2)  # 张, 杨, 吴 tie for seat 2
    page = text_of(client_for(app, staff).get(PAGE))
    assert "这次选举没有选出结果" in page
    response = refused(app, staff, topic, winners=["刘桂兰"])
    assert response.status_code == 409 and "这次选举没有选出结果" in text_of(response)


def test_a_result_that_a_recount_contradicts_is_refused(app, compound, chair, staff):
    # 吴长顺 written in for 杨淑芬 as the result is frozen (afterwards the database refuses any change to it)
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3,
                     forge=lambda result: dict(result, winners=["c0", "c1", "c3"]))
    response = refused(app, staff, topic, winners=["刘桂兰", "张德明", "吴长顺"])
    assert response.status_code == 409 and "重新点票的当选名单与公布的结果不一致" in text_of(response)


def test_a_winner_on_the_committee_must_leave_it_first(app, compound, chair, staff):
    topic = election(compound, chair, ["Chair", "张德明"], [[0], [0], [1]], seats=1)
    response = refused(app, staff, topic, winners=["Chair"])
    assert response.status_code == 409 and "一个人不能既管钱又查账" in text_of(response)


def test_names_that_are_not_the_winners_are_refused(app, compound, chair, staff):
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3)
    response = refused(app, staff, topic, winners=["刘桂兰", "张德明", "吴长顺"])
    assert response.status_code == 409 and "您确认的名单与选举结果不一致" in text_of(response)


def test_the_staff_member_must_confirm_what_the_election_was_for(app, compound, chair, staff):
    topic = election(compound, chair, CANDIDATES, BALLOTS, seats=3)
    response = refused(app, staff, topic, confirmed=False)
    assert response.status_code == 400 and "请先核对并勾选" in text_of(response)


def test_an_election_takes_effect_once_and_an_older_one_never_after_a_newer(app, compound, chair, staff):
    older = election(compound, chair, CANDIDATES, BALLOTS, seats=3, title="上一届监督委员选举", closed_hours_ago=48)
    newer = election(compound, chair, ["赵一", "钱二", "孙三"], [[0, 1, 2]] * 3, seats=3, title="本届监督委员选举")
    assert apply(client_for(app, staff), newer, winners_of(newer)).status_code == 200
    assert sitting_names(compound) == sorted(["赵一", "钱二", "孙三"])
    again = refused(app, staff, newer)
    assert again.status_code == 409 and "这次选举的结果已经生效过了" in text_of(again)
    stale = refused(app, staff, older)
    assert stale.status_code == 409 and "不能再按这次较早的选举改回去" in text_of(stale)


def test_another_compounds_election_is_not_found(app, compound, chair, staff, make_compound, make_user):
    oak = make_compound("oak", "橡树小区")
    theirs = election(oak, make_user("oak-chair", oak, Role.chair), CANDIDATES, BALLOTS, seats=3)
    response = post_form(client_for(app, staff), f"{PAGE}/{theirs.id}", {"winner": winners_of(theirs),
                                                                         "confirmed": "y"}, token_from=PAGE)
    assert response.status_code == 404
    assert db.session.scalar(select(Membership.id).where(Membership.role == Role.supervisor)) is None
