"""Procedure profiles (issue 14 A): the city presets with their sources, the notice and the voting window enforced
on statutory topics at save and at publish, extraordinary meetings, the once-only extension residents see, the
official platform's default and export, late resolutions on the dashboard, and who picks the profile."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from bs4 import BeautifulSoup
from sqlalchemy import func, select

import factories
from conftest import login_as, post_form
from factories import text_of
from kiosk.changes import AuditEntry
from kiosk.consult import service
from kiosk.consult.models import Status, Topic
from kiosk.consult.procedure import NATIONAL, PRESETS, PROFILES, explain, profile_for
from kiosk.extensions import db
from kiosk.screen.models import Screen
from kiosk.timefmt import local_input

BASE = "/admin/maple/topics"
DAY = timedelta(days=1)


def start_of_test():
    """A whole hour (01:00 UTC, 09:00 in Shanghai) a month from now: the clock is frozen there, so "now" in the
    service and in the form are the same minute."""
    now = datetime.now(timezone.utc)
    return (now + timedelta(days=30)).replace(hour=1, minute=0, second=0, microsecond=0)


@pytest.fixture
def t0():
    return start_of_test()


@pytest.fixture
def words(app):
    """A request context, for the sentences (their language is the request's); for tests that write nothing
    (a request context would make writes go through the request's transaction handling)."""
    with app.test_request_context():
        yield


def said(app, refused):
    """The sentence a refusal gives, as the committee reads it."""
    with app.test_request_context():
        return explain(refused), str(PROFILES[refused.detail["profile"]].cite(
            "extraordinary_notice_days" if refused.detail.get("extraordinary") else
            "notice_days" if refused.reason == "notice_short" else "window"))


def follow(compound, key):
    """Make the compound follow a profile."""
    compound.procedure_profile = key
    db.session.commit()


def draft(compound, chair, opens, closes, rule="ordinary", extraordinary=False, now=None):
    """A draft topic saved through the service (which applies the profile), committed."""
    fields = dict(factories.TOPIC, rule=rule, extraordinary=extraordinary, opens_at=opens, closes_at=closes)
    topic = service.save_topic(compound, chair, None, fields, [], now=now)
    db.session.commit()
    return topic


def refusal(call):
    """The VoteRefused a call raises (nothing of it is kept)."""
    with pytest.raises(service.VoteRefused) as refused:
        call()
    db.session.rollback()
    return refused.value


def form(opens, closes, **overrides):
    """A new-topic form body: a statutory yes/no topic with these local times."""
    data = {"title": "是否更换 3 栋电梯", "background": "电梯已运行 22 年。", "kind": "yesno", "rule": "ordinary",
            "seats": "1", "options": "", "secret": "y", "visibility": "live", "allow_change": "y",
            "opens_at": local_input(opens).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": local_input(closes).strftime("%Y-%m-%dT%H:%M")}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def error_next_to(html, field):
    """The error sentence shown under a form field."""
    node = BeautifulSoup(html, "html.parser").find(id=f"{field}-error")
    return node.get_text(" ", strip=True) if node else ""


# --- the presets -----------------------------------------------------------------------------------------

def test_every_preset_cites_a_source_for_every_rule(app, words):
    """A street-office official can check each figure: every rule of every profile names its source, and the
    figures we could not check say so."""
    rules = ("notice_days", "extraordinary_notice_days", "window", "extension", "decision_post_days",
             "official_platform", "committee_meeting_days")
    assert {p.key for p in PRESETS} == {"beijing", "shanghai", "hangzhou", "shenzhen"}
    for profile in PROFILES.values():
        for rule in rules:
            assert str(profile.cite(rule)), (profile.key, rule)
    assert "北京市物业管理条例第三十五条" in str(PROFILES["beijing"].cite("window"))
    assert "第三十七条" in str(PROFILES["beijing"].cite("decision_post_days"))
    assert "请核对原文" in str(PROFILES["shanghai"].cite("window"))
    assert all(p.notice_days == 15 and p.extraordinary_notice_days == 7 and p.decision_post_days == 3
               for p in PRESETS)
    assert str(PROFILES["beijing"].official_platform) and str(PROFILES["shanghai"].official_platform)
    assert not PROFILES["hangzhou"].official_platform


# --- notice and window, at the boundaries, per preset -------------------------------------------------------

@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_exactly_the_notice_passes_and_an_hour_less_fails(app, compound, chair, key, t0):
    """15 days' notice exactly is enough; 14 days 23 hours is refused, citing the article."""
    follow(compound, key)
    profile = PROFILES[key]
    with time_machine.travel(t0, tick=False):
        ok = draft(compound, chair, t0 + 15 * DAY, t0 + 22 * DAY)
        assert ok.status == Status.draft
        short = refusal(lambda: draft(compound, chair, t0 + 14 * DAY + timedelta(hours=23), t0 + 22 * DAY))
        assert short.reason == "notice_short" and short.detail["field"] == "opens_at"
        sentence, source = said(app, short)
        assert source == str(profile.cite("notice_days")) and sentence.startswith(source + "：")
        assert "须提前15日" in sentence
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 1


@pytest.mark.parametrize(("key", "days", "passes"), [
    (p.key, days, passes) for p in PRESETS
    for days, passes in ((p.window_min_days, True), (p.window_max_days, True),
                         (p.window_min_days - 1, False), (p.window_max_days + 1, False))])
def test_voting_window_between_the_presets_limits(app, compound, chair, key, days, passes, t0):
    """A window of 5 or 60 days passes; 4 or 61 days is refused, next to the deadline, citing the article."""
    follow(compound, key)
    opens = t0 + 16 * DAY
    with time_machine.travel(t0, tick=False):
        if passes:
            assert draft(compound, chair, opens, opens + days * DAY).closes_at == opens + days * DAY
        else:
            refused = refusal(lambda: draft(compound, chair, opens, opens + days * DAY))
            assert refused.reason in ("window_short", "window_long") and refused.detail["field"] == "closes_at"
            sentence, source = said(app, refused)
            assert source and sentence.startswith(source + "：")


def test_the_presets_are_five_to_sixty_days(app):
    """The figures the boundary tests above walk (as the issue reads the sources)."""
    assert {(p.window_min_days, p.window_max_days) for p in PRESETS} == {(5, 60)}


@pytest.mark.parametrize("key", [p.key for p in PRESETS])
def test_an_extraordinary_meeting_needs_seven_days(app, compound, chair, key, t0):
    """临时会议: 7 days' notice passes, 6 days 23 hours is refused with the extraordinary meeting's sentence."""
    follow(compound, key)
    with time_machine.travel(t0, tick=False):
        assert draft(compound, chair, t0 + 7 * DAY, t0 + 14 * DAY, extraordinary=True).extraordinary
        refused = refusal(lambda: draft(compound, chair, t0 + 7 * DAY - timedelta(hours=1), t0 + 14 * DAY,
                                        extraordinary=True))
        assert "临时会议须提前7日" in said(app, refused)[0]


@pytest.mark.parametrize("rule", ["informal", "consensus"])
def test_consultations_that_are_not_owners_decisions_are_not_bound(app, compound, chair, rule, t0):
    """意见征集 and 协商一致 may open in an hour and last a day, in a city preset."""
    follow(compound, "beijing")
    with time_machine.travel(t0, tick=False):
        assert draft(compound, chair, t0 + timedelta(hours=1), t0 + 2 * DAY, rule=rule).rule == rule


def test_the_national_default_shows_its_figures_but_does_not_refuse(app, compound, chair, t0):
    """Compounds the street office has not given a city preset keep working as before (a vote may open now)."""
    assert profile_for(compound) is NATIONAL and not NATIONAL.enforced
    with time_machine.travel(t0, tick=False):
        assert draft(compound, chair, t0 + timedelta(hours=1), t0 + 90 * DAY).status == Status.draft


def test_under_the_national_default_a_short_notice_is_a_reminder_not_a_refusal(app, client, compound, chair, t0):
    """The form saves a statutory topic opening in three days and reminds the committee of art. 14's 15 days."""
    with time_machine.travel(t0, tick=False):
        login_as(client, chair)
        response = post_form(client, f"{BASE}/new", form(t0 + 3 * DAY, t0 + 10 * DAY), follow_redirects=True)
        page = text_of(response)
        assert "提醒：物业管理条例 第十四条要求业主共同决定事项提前15日通知全体业主" in page
        assert "系统只提示、不拦截" in page
        assert db.session.scalar(select(func.count()).select_from(Topic)) == 1
        response = post_form(client, f"{BASE}/new", form(t0 + 16 * DAY, t0 + 23 * DAY), follow_redirects=True)
        assert "提醒：" not in text_of(response)


def test_publishing_later_than_the_draft_was_saved_is_checked_again(app, client, compound, chair, t0):
    """A draft saved with exactly 15 days' notice and published an hour later would give 14 days 23 hours: the
    publish button is refused with the article, and the topic stays a draft."""
    follow(compound, "beijing")
    factories.households(compound, 3)
    with time_machine.travel(t0, tick=False):
        topic = draft(compound, chair, t0 + 15 * DAY, t0 + 22 * DAY)
    with time_machine.travel(t0 + timedelta(hours=1), tick=False):
        login_as(client, chair)
        response = post_form(client, f"{BASE}/{topic.id}/publish", {}, token_from=f"{BASE}/{topic.id}",
                             follow_redirects=True)
        page = text_of(response)
        assert "北京市物业管理条例第三十五条：须提前15日通知全体业主" in page
        assert db.session.get(Topic, topic.id).status == Status.draft
    with time_machine.travel(t0, tick=False):
        assert service.publish(compound, chair, db.session.get(Topic, topic.id)) == 3


# --- the topic form ----------------------------------------------------------------------------------------

def test_the_form_says_which_rule_refused_next_to_the_field(app, client, compound, chair, t0):
    """A 4-day window in Beijing: the form comes back with the article next to the deadline; nothing is saved."""
    follow(compound, "hangzhou")
    with time_machine.travel(t0, tick=False):
        login_as(client, chair)
        opens = t0 + 16 * DAY
        response = post_form(client, f"{BASE}/new", form(opens, opens + 4 * DAY))
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert error_next_to(html, "closes_at") == "杭州市物业管理条例第二十条：投票期限不少于5日。"
        response = post_form(client, f"{BASE}/new", form(t0 + 14 * DAY, t0 + 21 * DAY))
        assert "杭州市物业管理条例第十九条：须提前15日通知全体业主" in error_next_to(response.get_data(as_text=True),
                                                                                  "opens_at")
        assert db.session.scalar(select(func.count()).select_from(Topic)) == 0
        # The form's suggested times already respect the profile.
        page = client.get(f"{BASE}/new").get_data(as_text=True)
        assert "意见征集和协商一致的议题不受法定通知期限制" in text_of(client.get(f"{BASE}/new"))
        soup = BeautifulSoup(page, "html.parser")
        values = {name: soup.find("input", {"name": name})["value"] for name in ("title", "opens_at", "closes_at")
                  if soup.find("input", {"name": name}).has_attr("value")}
        response = post_form(client, f"{BASE}/new", form(t0, t0, opens_at=values["opens_at"],
                                                         closes_at=values["closes_at"]))
        assert response.status_code == 302, error_next_to(response.get_data(as_text=True), "opens_at")


def test_an_extraordinary_meeting_is_chosen_on_the_form(app, client, compound, chair, t0):
    """Ticking 临时会议 makes 7 days' notice enough."""
    follow(compound, "beijing")
    with time_machine.travel(t0, tick=False):
        login_as(client, chair)
        body = form(t0 + 8 * DAY, t0 + 15 * DAY)
        assert post_form(client, f"{BASE}/new", body).status_code == 400
        assert post_form(client, f"{BASE}/new", dict(body, extraordinary="y")).status_code == 302
        topic = db.session.scalar(select(Topic))
        assert topic.extraordinary
        assert "临时会议" in text_of(client.get(f"{BASE}/{topic.id}"))


# --- the official platform ---------------------------------------------------------------------------------

def test_where_the_city_has_a_platform_new_topics_default_to_a_poll_and_say_why(app, client, compound, chair, t0):
    """Beijing: the form starts on 意见征集 with the sentence; choosing a statutory rule is allowed, with a warning."""
    follow(compound, "beijing")
    with time_machine.travel(t0, tick=False):
        login_as(client, chair)
        page = client.get(f"{BASE}/new").get_data(as_text=True)
        checked = BeautifulSoup(page, "html.parser").find("input", {"name": "rule", "checked": True})
        assert checked["value"] == "informal"
        assert ("本市规定业主共同决定须通过“北京业主”APP（北京市住房和城乡建设委员会）表决；本系统的投票作为意见征集，"
                "结果可导出录入平台。") in text_of(client.get(f"{BASE}/new"))
        response = post_form(client, f"{BASE}/new", form(t0 + 16 * DAY, t0 + 23 * DAY), follow_redirects=True)
        assert "本系统的结果不能代替平台表决" in text_of(response)


def test_no_platform_no_default_change(app, client, compound, chair, t0):
    """Hangzhou names no platform: a new topic starts on the statutory ordinary rule, no platform sentence."""
    follow(compound, "hangzhou")
    login_as(client, chair)
    page = client.get(f"{BASE}/new").get_data(as_text=True)
    assert BeautifulSoup(page, "html.parser").find("input", {"name": "rule", "checked": True})["value"] == "ordinary"
    shown = text_of(client.get(f"{BASE}/new"))
    assert "录入平台" not in shown
    assert "法定表决事项按“杭州市”：投票开始前须提前15日通知全体业主（临时会议7日）。 投票期限5至60日。" in shown


def closed_topic(compound, chair, t0, secret):
    """A Beijing topic published at t0, voted by two households of three (phone and paper), closed."""
    follow(compound, "beijing")
    homes = factories.households(compound, 3, area=lambda i: 8000 + i * 1000)
    with time_machine.travel(t0, tick=False):
        topic = draft(compound, chair, t0 + 15 * DAY, t0 + 20 * DAY, rule="informal")
        topic.secret = secret
        service.publish(compound, chair, topic)
        db.session.commit()
    with time_machine.travel(t0 + 16 * DAY, tick=False):
        service.cast(compound, topic, homes[0], ["yes"])
        service.cast(compound, topic, homes[2], ["no"], channel="paper", entered_by=chair)
    with time_machine.travel(t0 + 21 * DAY, tick=False):
        service.keep_time(compound)
        db.session.commit()
    return topic, homes


@pytest.mark.parametrize("secret", [False, True])
def test_a_closed_topic_exports_for_the_platform(app, client, compound, chair, t0, secret):
    """Per household: address, area, voted, and for a named vote its choice and channel; then the totals. A
    secret vote's choices never leave the system."""
    topic, homes = closed_topic(compound, chair, t0, secret)
    with time_machine.travel(t0 + 21 * DAY, tick=False):
        login_as(client, chair)
        assert "导出供录入平台（CSV）" in text_of(client.get(f"{BASE}/{topic.id}"))
        response = client.get(f"{BASE}/{topic.id}/platform.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    by_address = {row[0]: row for row in rows if len(row) == 5}
    first, second, third = (by_address[h.address] for h in homes)
    assert first[1:3] == ["80.00", "是"] and second[2] == "否" and third[2] == "是"
    if secret:
        assert first[3] == third[3] == "无记名投票：只列是否投票，不列选择和方式" and first[4] == ""
    else:
        assert (first[3], first[4]) == ("同意", "手机") and (third[3], third[4]) == ("不同意", "纸质票（委员代录）")
    totals = {row[0]: row[1:] for row in rows if row and row[0] in ("同意", "不同意", "参与户数", "总户数")}
    assert totals["同意"][0] == "1" and totals["不同意"][0] == "1"
    assert totals["参与户数"][0] == "2" and totals["总户数"][0] == "3"


def test_the_platform_export_waits_for_the_close(app, client, compound, chair, t0):
    """While the vote is open there is no platform file (a secret vote's figures move in batches until then)."""
    follow(compound, "beijing")
    factories.households(compound, 2)
    topic = factories.open_topic(compound, chair, rule="informal")
    login_as(client, chair)
    assert "导出供录入平台" not in text_of(client.get(f"{BASE}/{topic.id}"))
    assert client.get(f"{BASE}/{topic.id}/platform.csv").status_code == 404
    service.keep_time(compound, now=topic.closes_at)
    db.session.commit()
    assert client.get(f"{BASE}/{topic.id}/platform.csv").status_code == 200


# --- extension ---------------------------------------------------------------------------------------------

def voting_in_beijing(compound, chair, t0):
    """A Beijing statutory topic published at t0: voting opens t0+15d, closes t0+22d."""
    follow(compound, "beijing")
    factories.households(compound, 3)
    with time_machine.travel(t0, tick=False):
        topic = draft(compound, chair, t0 + 15 * DAY, t0 + 22 * DAY)
        service.publish(compound, chair, topic)
        db.session.commit()
    return topic


def extend(client, topic, closes, reason="参与的面积还没有达到三分之二，延长一周方便外出的业主投票"):
    return post_form(client, f"{BASE}/{topic.id}/extend",
                     {"closes_at": local_input(closes).strftime("%Y-%m-%dT%H:%M"), "reason": reason},
                     token_from=f"{BASE}/{topic.id}")


def test_a_window_extended_once_with_a_reason_residents_read(app, client, compound, chair, t0):
    """Before the close, once, with a reason: the phone page and the lobby screen say 投票期限已延长至… 原因：…;
    the audit log has it; a second extension is refused with the article."""
    topic = voting_in_beijing(compound, chair, t0)
    screen = Screen(compound_id=compound.id, name="大堂屏")
    db.session.add(screen)
    db.session.commit()
    new_close = t0 + 29 * DAY
    with time_machine.travel(t0 + 16 * DAY, tick=False):
        login_as(client, chair)
        assert extend(client, topic, new_close).status_code == 302
        topic = db.session.get(Topic, topic.id)
        assert topic.closes_at == new_close and topic.extended_from == t0 + 22 * DAY
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "extend"))
        assert audit.actor_id == chair.id and audit.after["reason"].startswith("参与的面积")
        phone = text_of(client.get(f"/maple/topics/{topic.id}"))
        assert "投票期限已延长至" in phone and "原因：参与的面积还没有达到三分之二" in phone
        slide = text_of(client.get(f"/maple/screen/{screen.key}/slides/consult"))
        assert "投票期限已延长至" in slide and "原因：参与的面积还没有达到三分之二" in slide
        detail = text_of(client.get(f"/maple/screen/{screen.key}/item/consult/{topic.id}"))
        assert "原因：参与的面积还没有达到三分之二" in detail
        again = extend(client, topic, new_close + DAY)
        assert again.status_code == 400
        assert "北京市物业管理条例第三十五条" in error_next_to(again.get_data(as_text=True), "closes_at")
        assert "只能延长一次" in error_next_to(again.get_data(as_text=True), "closes_at")
        assert db.session.get(Topic, topic.id).closes_at == new_close


def test_an_extension_is_refused_after_the_close_without_a_reason_or_past_the_maximum(app, client, compound,
                                                                                       chair, t0):
    """Each refusal is a sentence next to the field, and nothing changes."""
    topic = voting_in_beijing(compound, chair, t0)
    with time_machine.travel(t0 + 16 * DAY, tick=False):
        login_as(client, chair)
        no_reason = extend(client, topic, t0 + 25 * DAY, reason="")
        assert no_reason.status_code == 400
        assert "请写明延长的原因" in error_next_to(no_reason.get_data(as_text=True), "reason")
        too_long = extend(client, topic, t0 + 15 * DAY + 61 * DAY)
        assert "投票期限不超过60日" in error_next_to(too_long.get_data(as_text=True), "closes_at")
        earlier = extend(client, topic, t0 + 21 * DAY)
        assert "新的截止时间要晚于现在的截止时间" in error_next_to(earlier.get_data(as_text=True), "closes_at")
    with time_machine.travel(t0 + 22 * DAY + timedelta(minutes=1), tick=False):
        login_as(client, chair)
        late = extend(client, topic, t0 + 30 * DAY)
        assert "投票已经截止，不能再延长" in error_next_to(late.get_data(as_text=True), "closes_at")
    topic = db.session.get(Topic, topic.id)
    assert topic.closes_at == t0 + 22 * DAY and topic.extended_at is None
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "extend")) == 0


def test_a_poll_is_not_extended_under_the_statute(app, compound, chair):
    """意见征集 has no statutory window to extend."""
    factories.households(compound, 2)
    topic = factories.open_topic(compound, chair, rule="informal")
    refused = refusal(lambda: service.extend(compound, chair, topic, topic.closes_at + DAY, "原因"))
    assert refused.reason == "ext_not_statutory"


# --- the resolution's deadline ---------------------------------------------------------------------------

def test_the_dashboard_flags_a_resolution_posted_late_and_by_how_much(app, client, compound, chair, t0):
    """Beijing: the resolution is due 3 days after voting ended (not after the sweeper noticed, a day later here);
    on day 5 the topics page says it is 2 days late."""
    topic, _homes = closed_topic(compound, chair, t0, secret=False)
    closed_at = db.session.get(Topic, topic.id).closes_at
    assert db.session.get(Topic, topic.id).closed_at > closed_at
    with time_machine.travel(closed_at + 2 * DAY, tick=False):
        login_as(client, chair)
        assert "决议公告已超期" not in text_of(client.get(f"{BASE}/"))
    with time_machine.travel(closed_at + 5 * DAY, tick=False):
        login_as(client, chair)
        page = text_of(client.get(f"{BASE}/"))
        assert "1 个议题的决议公告超过了发布期限" in page
        assert "决议公告已超期 2 天" in page and "截止后3日内" in page
        assert "已超期 2 天" in text_of(client.get(f"{BASE}/{topic.id}"))


# --- who picks the profile, and who reads it -----------------------------------------------------------------

def test_the_street_office_picks_the_profile_and_the_change_is_audited(app, client, compound, chair, make_user):
    """Platform staff create a compound with a preset, and change another's; each is in the compound's audit."""
    staff = make_user("street", platform_admin=True)
    login_as(client, staff)
    body = {"name": "银杏小区", "slug": "ginkgo", "community": "东屯渡社区", "district": "东屯渡街道",
            "admin_name": "王主任", "admin_username": "ginkgo-chair", "procedure_profile": "hangzhou"}
    assert post_form(client, "/admin/platform/", body).status_code == 200
    from kiosk.compounds.models import Compound
    ginkgo = db.session.scalar(select(Compound).where(Compound.slug == "ginkgo"))
    assert ginkgo.procedure_profile == "hangzhou"
    response = post_form(client, f"/admin/platform/{compound.id}/procedure", {"procedure_profile": "shanghai"})
    assert response.status_code == 302
    db.session.refresh(compound)
    assert compound.procedure_profile == "shanghai"
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.compound_id == compound.id,
                                                       AuditEntry.action == "procedure"))
    assert audit.before == {"procedure_profile": "national"} and audit.after == {"procedure_profile": "shanghai"}
    assert audit.actor_id == staff.id
    assert "上海市" in text_of(client.get("/admin/platform/"))
    bad = post_form(client, f"/admin/platform/{compound.id}/procedure", {"procedure_profile": "atlantis"})
    assert bad.status_code == 400
    db.session.refresh(compound)
    assert compound.procedure_profile == "shanghai"


def test_committee_cannot_change_the_profile(app, client, compound, chair):
    login_as(client, chair)
    response = post_form(client, f"/admin/platform/{compound.id}/procedure", {"procedure_profile": "beijing"},
                         token_from=f"{BASE}/")
    assert response.status_code == 403
    db.session.refresh(compound)
    assert compound.procedure_profile == "national"


def test_residents_read_every_rule_and_its_source(app, client, compound, chair):
    """The public 议事规则 page, linked from the topics list: each rule, its figure and its article."""
    follow(compound, "beijing")
    assert "/maple/rules" in client.get("/maple/topics").get_data(as_text=True)
    page = text_of(client.get("/maple/rules"))
    for expected in ("北京市", "投票开始前通知全体业主", "15 日", "5 日 至 60 日", "北京市物业管理条例第三十五条",
                     "3 日内", "北京市物业管理条例第三十七条", "“北京业主”APP", "至少每 60 日一次",
                     "北京市物业管理条例第四十五条", "意见征集和协商一致的议题不受法定通知期和投票期限限制"):
        assert expected in page, expected
    login_as(client, chair)
    assert "本小区议事规则：北京市" in text_of(client.get(f"{BASE}/"))


def test_the_demo_follows_hangzhou_with_an_extended_vote_and_a_late_resolution(app, client):
    """`kiosk demo`: the compound is on 杭州's profile (the street office's audited choice), residents read why a
    vote was extended, and the committee's topics page flags an overdue resolution."""
    from kiosk.compounds.models import Compound
    from kiosk.demo import PROCEDURE_DEMO_TITLE, SLUG, load_demo

    load_demo()
    load_demo()  # loading twice keeps one copy
    compound = db.session.scalar(select(Compound).where(Compound.slug == SLUG))
    assert compound.procedure_profile == "hangzhou"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.compound_id == compound.id, AuditEntry.action == "procedure")) == 1
    roof = db.session.scalars(select(Topic).where(Topic.title == PROCEDURE_DEMO_TITLE)).one()
    page = text_of(client.get(f"/{SLUG}/topics/{roof.id}"))
    assert "投票期限已延长至" in page and "原因：截至目前参与表决的面积和人数还没有达到三分之二" in page
    assert "杭州市物业管理条例第二十条" in text_of(client.get(f"/{SLUG}/rules"))
    from kiosk.auth.models import User
    chair = db.session.scalar(select(User).where(User.username == "demo-chair"))
    chair.must_change_password = False
    db.session.commit()
    login_as(client, chair)
    assert "决议公告已超期 2 天" in text_of(client.get(f"/admin/{SLUG}/topics/"))
