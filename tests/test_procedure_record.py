"""The procedure record (表决程序核验单): what a street-office official checks before certifying an owners'
decision — notice, window, extension, electorate, how the ballots came in, proxies, numbered paper ballots, the
result and when the resolution was posted — each marked met or not against the compound's profile, with no
household named."""
from datetime import datetime, timedelta, timezone

import time_machine
from bs4 import BeautifulSoup

import factories
from conftest import login_as
from kiosk.consult import service
from kiosk.consult.service import paper, proxies
from kiosk.extensions import db

BASE = "/admin/maple/topics"
DAY = timedelta(days=1)


def steps_of(response):
    """{step: (what happened, met?)} as the printed table shows them."""
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    rows = {}
    for row in soup.select(".procedure-table tbody tr"):
        label = row.th.get_text(" ", strip=True)
        cells = row.find_all("td")
        rows[label] = (" ".join(cells[0].get_text(" ").split()), cells[1].get_text(strip=True))
    return rows


def test_a_hangzhou_vote_with_proxies_and_paper_ballots_shows_every_step_and_the_late_resolution(app, client,
                                                                                               compound, chair):
    t0 = (datetime.now(timezone.utc) + timedelta(days=30)).replace(hour=1, minute=0, second=0, microsecond=0)
    compound.procedure_profile = "hangzhou"
    db.session.commit()
    homes = factories.households(compound, 6, building=lambda i: "3", room=lambda i: f"{501 + i}")
    with time_machine.travel(t0, tick=False):
        fields = dict(factories.TOPIC, secret=False, opens_at=t0 + 15 * DAY, closes_at=t0 + 20 * DAY)
        topic = service.save_topic(compound, chair, None, fields, [], now=t0)
        db.session.flush()
        service.publish(compound, chair, topic, now=t0)
        db.session.commit()
    with time_machine.travel(t0 + 16 * DAY, tick=False):
        paper.print_set(compound, chair, topic)
        proxy = proxies.record(compound, chair, topic, homes[0], "王建国", "3021", "")
        db.session.commit()
        proxies.cast_by_proxy(compound, chair, topic, proxy, ["yes"])
        for home in homes[1:5]:
            service.cast(compound, topic, home, ["yes"])
        service.extend(compound, chair, topic, t0 + 25 * DAY, "外地业主多，延长五天。", now=t0 + 19 * DAY)
        db.session.commit()
    with time_machine.travel(t0 + 30 * DAY, tick=False):  # closed five days ago, no resolution: 杭州 gives 3 days
        service.close_due(compound)
        db.session.commit()
        login_as(client, chair)
        page = client.get(f"{BASE}/{topic.id}/procedure-record")
        assert page.status_code == 200
        steps = steps_of(page)
    assert steps["依据的规则"][0] == "杭州市"
    assert steps["投票前通知"][1].startswith("✓") and "提前 15 日" in steps["投票前通知"][0]
    assert "杭州市物业管理条例第十九条" in steps["投票前通知"][0]
    assert steps["投票期限"][1].startswith("✓") and "共 5 日" in steps["投票期限"][0]
    assert steps["延长投票期限"][1].startswith("✓") and "外地业主多" in steps["延长投票期限"][0]
    assert "6 户" in steps["表决范围"][0]
    assert steps["参与户数"][0] == "5 / 6 户"
    assert "受托人已投 1" in steps["书面委托"][0]
    assert "印发 6 张" in steps["编号纸质表决票"][0]
    assert steps["决议公告"][1].startswith("✗") and "还没有发布" in steps["决议公告"][0]
    text = page.get_data(as_text=True)
    assert "3栋501" not in text and "王建国" not in text  # no household and no person is named


def test_under_the_national_default_a_short_notice_is_not_refused_but_the_record_shows_it(app, client, compound,
                                                                                       chair):
    """The national profile only reminds; the official's record still marks a one-hour notice as not met."""
    factories.households(compound, 3)
    topic = factories.open_topic(compound, chair)
    login_as(client, chair)
    steps = steps_of(client.get(f"{BASE}/{topic.id}/procedure-record"))
    assert steps["投票前通知"][1].startswith("✗") and "要求至少 15 日" in steps["投票前通知"][0]
    assert steps["表决结果"][0] == "投票还没有截止"


def test_while_a_secret_vote_is_open_the_record_breaks_nothing_down(app, client, compound, chair):
    homes = factories.households(compound, 8)
    topic = factories.open_topic(compound, chair, secret=True)
    service.cast(compound, topic, homes[0], ["yes"])
    login_as(client, chair)
    steps = steps_of(client.get(f"{BASE}/{topic.id}/procedure-record"))
    assert steps["参与户数"][0].startswith("0 / 8 户")  # as last released: nothing yet
    assert steps["投票方式"][0] == "无记名投票截止后公布各种方式的票数"


def test_a_draft_has_no_record(app, client, compound, chair):
    fields = dict(factories.TOPIC, opens_at=datetime.now(timezone.utc) + 20 * DAY,
                  closes_at=datetime.now(timezone.utc) + 30 * DAY)
    topic = service.save_topic(compound, chair, None, fields, [])
    db.session.commit()
    login_as(client, chair)
    assert client.get(f"{BASE}/{topic.id}/procedure-record").status_code == 404
