"""Consultations from the residents' side: topics, phone votes with the household card, visibility, secrecy,
opinions, proposals, the kiosk's one-time code, closing on time, and the frozen result."""
import re
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select

from kiosk.changes import AuditEntry
from kiosk.consult import service
from kiosk.consult.models import Ballot, Channel, KioskCode, Opinion, Proposal, Status, Topic
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.service import issue
from kiosk.households.models import Household
from kiosk.screen.models import Screen

import factories
from conftest import ahead, csrf_token


def roll(compound, n=6, area=10000):
    """n households, three to a building, each 100.00 m² unless told otherwise."""
    return factories.households(compound, n, building=lambda i: str(1 + i // 3), area=lambda i: area)


def open_topic(compound, chair, kind="yesno", rule="ordinary", options=(), seats=1, **fields):
    return factories.open_topic(compound, chair, options, **{"background": "充电桩**由物业**出资。", "kind": kind,
                                                             "rule": rule, "seats": seats, **fields})


def card_client(app, compound, chair, household):
    """A phone that scanned the household's card."""
    token = issue(compound, chair, [household])[0][1]
    db.session.commit()
    phone = app.test_client()
    assert phone.get(f"/h/{token}").status_code == 302
    return phone


def vote(phone, topic, *choices):
    token = csrf_token(phone)
    return phone.post(f"/maple/topics/{topic.id}/vote", data={"csrf_token": token, "choice": list(choices)})


def page_text(response):
    return " ".join(BeautifulSoup(response.get_data(as_text=True), "html.parser").get_text(" ").split())


def step_of(ballot_form):
    """The keypad step's nonce a kiosk ballot form carries."""
    field = BeautifulSoup(ballot_form.get_data(as_text=True), "html.parser").find("input", attrs={"name": "step"})
    return field["value"]


def current_ballots(topic):
    return db.session.scalars(select(Ballot).where(Ballot.topic_id == topic.id, Ballot.current.is_(True))).all()


def test_a_household_votes_from_its_phone_and_sees_the_live_tally(app, client, compound, chair):
    """A named topic's figures move with each ballot (a secret one's in batches: test_consult_secrecy.py)."""
    homes = roll(compound)
    topic = open_topic(compound, chair, secret=False)
    phone = card_client(app, compound, chair, homes[0])
    page = phone.get(f"/maple/topics/{topic.id}")
    assert "为 1栋101 投票" in page_text(page)
    answer = vote(phone, topic, "yes")
    assert answer.status_code == 303
    after = page_text(phone.get(f"/maple/topics/{topic.id}"))
    assert "本户已于" in after and "已投 1 / 6 户" in after
    # An anonymous visitor sees the same live count and no vote form.
    anonymous = page_text(client.get(f"/maple/topics/{topic.id}"))
    assert "已投 1 / 6 户" in anonymous and "请用手机扫描住户卡" in anonymous
    assert [b.channel for b in current_ballots(topic)] == [Channel.phone]


def test_changing_a_vote_keeps_history_and_one_current_ballot(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    phone = card_client(app, compound, chair, homes[0])
    vote(phone, topic, "yes")
    vote(phone, topic, "no")
    assert [b.choices for b in current_ballots(topic)] == [["no"]]
    assert db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.topic_id == topic.id)) == 2
    assert service.compute(topic).options[1].households == 1


def test_a_second_ballot_is_refused_when_changes_are_not_allowed(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, allow_change=False)
    phone = card_client(app, compound, chair, homes[0])
    vote(phone, topic, "yes")
    refused = vote(phone, topic, "no")
    assert refused.status_code == 303
    text = page_text(phone.get(f"/maple/topics/{topic.id}"))
    assert "这个议题不能改票" in text
    assert [b.choices for b in current_ballots(topic)] == [["yes"]]


def test_a_vote_after_close_is_refused_even_before_anyone_looked(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    phone = card_client(app, compound, chair, homes[0])
    topic.closes_at = utcnow() - timedelta(seconds=1)  # the clock passed the deadline; nobody has looked since
    db.session.commit()
    with pytest.raises(service.VoteRefused) as refused:
        service.cast(compound, topic, homes[1], ["yes"])
    assert refused.value.reason == "closed"
    vote(phone, topic, "yes")
    assert current_ballots(topic) == []
    db.session.expire_all()
    frozen = db.session.get(Topic, topic.id)
    assert frozen.status == Status.closed and len(frozen.fingerprint) == 64
    assert frozen.result["part_households"] == 0


def test_without_a_card_a_vote_gets_a_calm_page(client, compound, chair):
    roll(compound)
    topic = open_topic(compound, chair)
    token = csrf_token(client)
    answer = client.post(f"/maple/topics/{topic.id}/vote", data={"csrf_token": token, "choice": "yes"})
    assert answer.status_code == 403 and "请先扫描住户卡" in page_text(answer)
    assert current_ballots(topic) == []


def test_invalid_choices_are_refused_with_a_sentence(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, kind="election", options=["甲", "乙", "丙", "丁"], seats=2)
    phone = card_client(app, compound, chair, homes[0])
    vote(phone, topic, "1", "2", "3")
    assert "选多了" in page_text(phone.get(f"/maple/topics/{topic.id}"))
    vote(phone, topic, "nonsense")
    assert "请选一项" in page_text(phone.get(f"/maple/topics/{topic.id}"))
    assert current_ballots(topic) == []
    vote(phone, topic, "1", "3")
    assert [b.choices for b in current_ballots(topic)] == [["1", "3"]]


def test_after_close_visibility_shows_turnout_only_until_close(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, visibility="after_close", secret=False)
    phone = card_client(app, compound, chair, homes[0])
    vote(phone, topic, "yes")
    for viewer in (client, phone):
        text = page_text(viewer.get(f"/maple/topics/{topic.id}"))
        assert "已投 1 / 6 户" in text and "投票截止后公布计票结果" in text
        assert "同意 ✓" not in text and "1 人" not in text


def test_after_vote_visibility_shows_the_tally_to_a_household_that_voted(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, visibility="after_vote")
    phone = card_client(app, compound, chair, homes[0])
    assert "本户投票后可以看到计票情况" in page_text(phone.get(f"/maple/topics/{topic.id}"))
    vote(phone, topic, "yes")
    assert "参与表决人数" in page_text(phone.get(f"/maple/topics/{topic.id}"))
    assert "本户投票后可以看到计票情况" in page_text(client.get(f"/maple/topics/{topic.id}"))


def test_secret_topic_pages_show_a_households_choice_only_to_its_own_phone(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    phone = card_client(app, compound, chair, homes[0])
    vote(phone, topic, "no")
    mine = page_text(phone.get(f"/maple/topics/{topic.id}"))
    assert "本户已于" in mine and "您家当前的选择： 不同意" in mine
    assert "您家当前的选择" not in page_text(client.get(f"/maple/topics/{topic.id}"))
    # Not even a ballot row in the audit log: its time would tell when the household voted (snapshots.py).
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "ballot")).all() == []


def test_named_topic_tells_the_household_its_own_choice(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, secret=False)
    phone = card_client(app, compound, chair, homes[0])
    vote(phone, topic, "no")
    assert "您家当前的选择： 不同意" in page_text(phone.get(f"/maple/topics/{topic.id}"))
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "ballot"))
    assert audit.after["choices"] == ["不同意"]


def test_the_electorate_is_frozen_when_the_topic_is_published(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    late = Household(compound_id=compound.id, building="9", entrance="", room="901", area_centi=9000)
    db.session.add(late)
    db.session.commit()
    with pytest.raises(service.VoteRefused) as refused:
        service.cast(compound, topic, late, ["yes"])
    assert refused.value.reason == "not_elector"
    assert service.compute(topic).total_households == len(homes)


def test_another_compounds_card_cannot_vote_here(app, compound, chair, make_compound, make_user):
    roll(compound)
    topic = open_topic(compound, chair)
    oak = make_compound("oak", "橡树小区")
    oak_home = Household(compound_id=oak.id, building="1", entrance="", room="101", area_centi=9000)
    db.session.add(oak_home)
    db.session.commit()
    oak_chair = make_user("oakchair", oak)
    phone = card_client(app, oak, oak_chair, oak_home)
    answer = vote(phone, topic, "yes")
    assert answer.status_code == 403
    assert current_ballots(topic) == []


def test_opinions_are_posted_without_address_and_hidden_with_a_public_reason(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, opens_at=ahead(days=1), closes_at=ahead(days=3))
    phone = card_client(app, compound, chair, homes[0])
    token = csrf_token(phone, f"/maple/topics/{topic.id}")
    phone.post(f"/maple/topics/{topic.id}/opinions", data={"csrf_token": token, "body": "建议装在 2 栋旁边"})
    text = page_text(client.get(f"/maple/topics/{topic.id}"))
    assert "建议装在 2 栋旁边" in text and "1栋101" not in text
    opinion = db.session.scalar(select(Opinion))
    service.hide_opinion(compound, chair, opinion, "含有人身攻击")
    db.session.commit()
    text = page_text(client.get(f"/maple/topics/{topic.id}"))
    assert "建议装在 2 栋旁边" not in text and "含有人身攻击" in text


def test_a_proposal_is_listed_publicly_without_who_sent_it(app, client, compound, chair):
    homes = roll(compound)
    phone = card_client(app, compound, chair, homes[2])
    token = csrf_token(phone, "/maple/proposals/new")
    bad = phone.post("/maple/proposals/new", data={"csrf_token": token, "kind": "request", "title": ""})
    assert bad.status_code == 400 and "请用 1 到 80 个字写个标题" in page_text(bad)
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == 0
    phone.post("/maple/proposals/new", data={"csrf_token": token, "kind": "request", "title": "3 栋楼道灯坏了",
                                             "body": "晚上很黑"})
    listed = page_text(client.get("/maple/proposals"))
    assert "3 栋楼道灯坏了" in listed and "已收到" in listed and "1栋103" not in listed


def test_kiosk_vote_with_a_one_time_code_forgets_the_household(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    screen = Screen(compound_id=compound.id, name="大厅", key="lobby-key-123")
    db.session.add(screen)
    db.session.commit()
    phone = card_client(app, compound, chair, homes[1])
    token = csrf_token(phone, "/maple/my/code")
    code_page = page_text(phone.post("/maple/my/code", data={"csrf_token": token}))
    code = "".join(re.search(r"(\d{3}) (\d{3})", code_page).groups())
    kiosk = app.test_client()
    base = f"/maple/kiosk/{screen.key}/vote/{topic.id}"
    token = csrf_token(kiosk, base)
    wrong = kiosk.post(base, data={"csrf_token": token, "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and "投票码不对" in page_text(wrong)
    ballot_form = kiosk.post(base, data={"csrf_token": token, "code": code})
    assert "为 1栋102 投票" in page_text(ballot_form)
    # The ballot form carries the keypad step's nonce, never the code; the code is used up at the keypad.
    assert code not in ballot_form.get_data(as_text=True)
    assert db.session.scalar(select(KioskCode.used_at)) is not None
    step = step_of(ballot_form)
    done = kiosk.post(base + "/cast", data={"csrf_token": token, "step": step, "choice": "yes"})
    text = page_text(done)
    assert "已投票，谢谢" in text and "1栋102" not in text and step not in done.get_data(as_text=True)
    assert [(b.household_id, b.channel) for b in current_ballots(topic)] == [(homes[1].id, Channel.kiosk)]
    again = kiosk.post(base + "/cast", data={"csrf_token": token, "step": step, "choice": "no"})
    assert again.status_code == 400 and "已经过期或用过了" in page_text(again)
    reused = kiosk.post(base, data={"csrf_token": token, "code": code})
    assert reused.status_code == 400 and "投票码不对或已过期" in page_text(reused)


def test_a_scanned_card_votes_at_the_kiosk_too(app, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    screen = Screen(compound_id=compound.id, name="大厅", key="lobby-key-123")
    db.session.add(screen)
    token = issue(compound, chair, [homes[4]])[0][1]
    db.session.commit()
    kiosk = app.test_client()
    base = f"/maple/kiosk/{screen.key}/vote/{topic.id}"
    csrf = csrf_token(kiosk, base)
    scanned = f"http://kiosk.example/h/{token}"
    ballot_form = kiosk.post(base, data={"csrf_token": csrf, "code": scanned})
    assert "为 2栋105 投票" in page_text(ballot_form)
    assert token not in ballot_form.get_data(as_text=True)  # the screen never holds the card after the keypad
    done = kiosk.post(base + "/cast", data={"csrf_token": csrf, "step": step_of(ballot_form), "choice": "no"})
    assert "已投票，谢谢" in page_text(done) and token not in done.get_data(as_text=True)
    assert [b.choices for b in current_ballots(topic)] == [["no"]]


def test_the_lobby_screen_shows_turnout_by_building_and_never_choices_by_household(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair, visibility="after_vote", secret=False)
    screen = Screen(compound_id=compound.id, name="大厅", key="lobby-key-123")
    db.session.add(screen)
    db.session.commit()
    service.cast(compound, topic, homes[0], ["yes"])
    loop = page_text(client.get(f"/maple/screen/{screen.key}"))
    assert topic.title in loop and "已投 1 / 6 户" in loop and "投票截止后公布计票结果" in loop
    detail = page_text(client.get(f"/maple/screen/{screen.key}/item/consult/{topic.id}"))
    assert "1 栋 1 / 3" in detail and "在大屏投票" in detail and "1栋101" not in detail


def test_the_frozen_result_equals_a_fresh_recount_and_the_resolution_prints(app, client, compound, chair):
    homes = roll(compound)
    topic = open_topic(compound, chair)
    for household, choice in zip(homes, ["yes", "yes", "yes", "yes", "no", "abstain"]):
        service.cast(compound, topic, household, [choice])
    topic.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert service.close_due(compound) == 1
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    assert topic.result == service.compute(topic).as_record()
    assert topic.result["passed"] is True
    assert topic.fingerprint == service.fingerprint(topic)
    with pytest.raises(service.VoteRefused):
        service.cast(compound, topic, homes[5], ["yes"])
    printed = page_text(client.get(f"/maple/topics/{topic.id}/print"))
    assert "表决通过" in printed and topic.fingerprint in printed and "600.00" in printed
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "close")).after["passed"] is True


def test_the_sweeper_closes_a_vote_on_time_and_tells_the_screens(app, compound, chair):
    from kiosk import sweeper

    homes = roll(compound)
    topic = open_topic(compound, chair)
    service.cast(compound, topic, homes[0], ["yes"])
    version = compound.version
    topic.closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()  # outside a request a session writes (BEGIN IMMEDIATE), so nothing is touched until the sweep
    assert sweeper.sweep(app) == 1
    assert sweeper.sweep(app) == 0  # frozen exactly once
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).status == Status.closed
    assert db.session.get(type(compound), compound.id).version > version


def test_the_demo_has_a_vote_in_progress_a_decided_topic_and_proposals(app, client):
    from kiosk.demo import load_demo

    load_demo()
    summary = load_demo()  # loading twice keeps one copy (and prints a new card)
    # The 3栋 lift vote with proxies and paper ballots has its own demo test (test_paper_ballots.py).
    topics = db.session.scalars(select(Topic).where(Topic.title != "3栋电梯更新改造").order_by(Topic.id)).all()
    assert len(topics) == 3
    decided, voting, discussed = topics
    assert decided.status == Status.done and decided.result["passed"] is True
    assert decided.result == service.compute(decided).as_record()
    assert decided.resolution_notice is not None and len(service.updates(decided)) == 2
    assert voting.phase() == "voting" and 0 < service.participation(voting)[0] < service.participation(voting)[1]
    assert discussed.phase() == "discussion" and len(service.opinions(discussed)) == 3
    home = page_text(client.get("/guixiang/"))
    assert voting.title in home and "协商议事" in home
    proposals = page_text(client.get("/guixiang/proposals"))
    assert "已答复" in proposals and "已转为议题" in proposals
    # The printed card's household has not voted yet, so a newcomer can.
    phone = app.test_client()
    phone.get(f"/h/{summary['card_token']}")
    page = page_text(phone.get(f"/guixiang/topics/{voting.id}"))
    assert f"为 {summary['card_address']} 投票" in page and "本户已于" not in page
    # The vote in progress is secret and live: a released snapshot, the sentence saying when figures move,
    # and a correction note above the ballot.
    assert voting.secret and voting.released_at is not None
    assert "每 3 分钟最多更新一次" in page and "以上是" in page
    assert page.index("36 个车位") < page.index("请选一项")
