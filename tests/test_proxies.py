"""Written proxies (书面委托): the committee records one with the signed form, the owner sees it and can revoke it
from the phone until the proxy votes, the proxy's ballot is recorded as such, the limit per proxy holds, the
result counts proxy ballots, and the proxy's name never reaches a public page."""
import io

import pytest
import time_machine
from sqlalchemy import func, select

import factories
from conftest import ahead, login_as, post_form
from factories import text_of
from kiosk.auth.models import Role
from kiosk.consult import service as consult
from kiosk.consult.models import Ballot, Channel
from kiosk.consult.paper_models import Proxy, ProxyState
from kiosk.consult.service import proxies
from kiosk.extensions import db
from kiosk.households.service import issue
from kiosk.uploads import Image

BASE = "/admin/maple/topics"


@pytest.fixture
def homes(compound):
    return factories.households(compound, 8, building=lambda i: "3", room=lambda i: f"{101 + i}")


def phone_of(app, compound, chair, household):
    """A phone that scanned the household's card."""
    token = issue(compound, chair, [household])[0][1]
    db.session.commit()
    phone = app.test_client()
    assert phone.get(f"/h/{token}").status_code == 302
    return phone


def record_form(room, name="王某", **extra):
    return {"building": "3", "room": room, "name": name, **extra}


def test_committee_records_a_proxy_with_its_signed_form_seen_by_the_committee_only(app, client, compound, chair,
                                                                                      homes):
    topic = factories.open_topic(compound, chair, secret=False)
    login_as(client, chair)
    response = post_form(client, f"{BASE}/{topic.id}/proxies/new",
                         record_form("101", id_last4="123x", phone="13900001111",
                                     scan=(io.BytesIO(factories.jpeg()), "weituo.jpg", "image/jpeg")),
                         token_from=f"{BASE}/{topic.id}/proxies", content_type="multipart/form-data")
    assert response.status_code == 302, text_of(response)[:400]
    proxy = db.session.scalar(select(Proxy))
    assert (proxy.name, proxy.id_last4, proxy.phone, proxy.state) == ("王某", "123X", "13900001111", "standing")
    page = text_of(client.get(f"{BASE}/{topic.id}/proxies"))
    assert "3栋101 → 王某" in page and "委托书照片" in page
    scan = db.session.get(Image, proxy.scan_image_id)
    assert client.get(f"/maple/media/{scan.filename}").status_code == 200
    assert app.test_client().get(f"/maple/media/{scan.filename}").status_code == 404  # not for residents


def test_owner_sees_the_proxy_and_revokes_it_then_votes_themselves(app, client, compound, chair, homes):
    """您已书面委托 王某 代为表决 [撤销委托]; after revoking, the owner votes; the committee can no longer enter
    the proxy's ballot."""
    topic = factories.open_topic(compound, chair, secret=True)
    proxy = proxies.record(compound, chair, topic, homes[0], "王某")
    db.session.commit()
    phone = phone_of(app, compound, chair, homes[0])
    page = text_of(phone.get(f"/maple/topics/{topic.id}"))
    assert "您已书面委托 王某 代为表决" in page and "撤销委托" in page
    assert 'name="choice"' not in phone.get(f"/maple/topics/{topic.id}").get_data(as_text=True)
    response = post_form(phone, f"/maple/topics/{topic.id}/proxy/revoke", {}, token_from=f"/maple/topics/{topic.id}")
    assert response.status_code == 303
    page = phone.get(f"/maple/topics/{topic.id}")
    assert "已撤销对 王某 的委托" in text_of(page) and 'name="choice"' in page.get_data(as_text=True)
    db.session.refresh(proxy)
    assert proxy.state == ProxyState.revoked and proxy.revoked_by_owner
    response = post_form(phone, f"/maple/topics/{topic.id}/vote", {"choice": "yes"}, token_from=f"/maple/topics/{topic.id}")
    assert response.status_code == 303
    with pytest.raises(consult.VoteRefused) as refused:
        proxies.cast_by_proxy(compound, chair, topic, proxy, ["no"])
    assert refused.value.reason == "proxy_revoked"


def test_proxy_ballot_is_recorded_as_such_and_the_owner_can_no_longer_revoke_or_vote(app, client, compound, chair,
                                                                                      homes):
    topic = factories.open_topic(compound, chair, secret=False)
    proxy = proxies.record(compound, chair, topic, homes[1], "李某")
    db.session.commit()
    login_as(client, chair)
    response = post_form(client, f"{BASE}/{topic.id}/proxies/{proxy.id}/vote", {"choices": "no"},
                         token_from=f"{BASE}/{topic.id}/proxies")
    assert response.status_code == 302
    db.session.refresh(proxy)
    ballot = db.session.get(Ballot, proxy.ballot_id)
    assert (proxy.state, ballot.choices, ballot.channel, ballot.entered_by) == ("voted", ["no"], "paper", chair.id)
    phone = phone_of(app, compound, chair, homes[1])
    page = text_of(phone.get(f"/maple/topics/{topic.id}"))
    assert "您书面委托的 李某 已经代为表决" in page and "撤销委托" not in page
    response = post_form(phone, f"/maple/topics/{topic.id}/proxy/revoke", {}, token_from=f"/maple/topics/{topic.id}")
    assert "委托不能再撤销" in text_of(phone.get(f"/maple/topics/{topic.id}"))
    post_form(phone, f"/maple/topics/{topic.id}/vote", {"choice": "yes"}, token_from=f"/maple/topics/{topic.id}")
    assert "以受托人的票为准，不能再投" in text_of(phone.get(f"/maple/topics/{topic.id}"))
    assert db.session.get(Ballot, proxy.ballot_id).current
    committee_page = text_of(client.get(f"{BASE}/{topic.id}"))
    assert "其中书面委托代为表决 1 户" in committee_page
    assert "3栋102 纸质票（委员代录）" in committee_page and "书面委托，受托人代投 不同意" in committee_page


def test_owner_voting_themselves_revokes_the_standing_proxy(app, compound, chair, homes):
    """The stated rule: the owner's own ballot (here at the lobby screen's channel, or the phone) wins over a
    proxy that has not voted; the proxy's ballot is then refused."""
    topic = factories.open_topic(compound, chair, secret=False)
    proxy = proxies.record(compound, chair, topic, homes[2], "赵某")
    db.session.commit()
    consult.cast(compound, topic, homes[2], ["yes"], Channel.phone)
    with pytest.raises(consult.VoteRefused) as refused:
        proxies.cast_by_proxy(compound, chair, topic, proxy, ["no"])
    assert refused.value.reason == "owner_voted"
    assert [b.choices for b in consult.ballots(topic)] == [["yes"]]


def test_one_proxy_may_represent_at_most_the_limit(app, client, compound, chair, homes):
    """Five owners by default; the sixth is refused next to the name, with the figure; the chair may change it."""
    topic = factories.open_topic(compound, chair)
    login_as(client, chair)
    for room in ("101", "102", "103", "104", "105"):
        assert post_form(client, f"{BASE}/{topic.id}/proxies/new", record_form(room, name="孙某"), token_from=f"{BASE}/{topic.id}/proxies").status_code == 302
    response = post_form(client, f"{BASE}/{topic.id}/proxies/new", record_form("106", name="孙某"), token_from=f"{BASE}/{topic.id}/proxies")
    assert response.status_code == 409
    assert "这位受托人在本议题已代表 5 户，本小区规定每位受托人最多代表 5 户" in text_of(response)
    assert db.session.scalar(select(func.count()).select_from(Proxy)) == 5
    assert post_form(client, f"{BASE}/{topic.id}/proxies/limit", {"max_owners": "6"},
                     token_from=f"{BASE}/{topic.id}/proxies").status_code == 302
    assert post_form(client, f"{BASE}/{topic.id}/proxies/new", record_form("106", name="孙某"), token_from=f"{BASE}/{topic.id}/proxies").status_code == 302
    response = post_form(client, f"{BASE}/{topic.id}/proxies/new", record_form("106", name="周某"), token_from=f"{BASE}/{topic.id}/proxies")
    assert response.status_code == 409 and "已经有一份有效的委托" in text_of(response)


def test_a_member_cannot_change_the_limit(app, client, compound, chair, homes, make_user):
    topic = factories.open_topic(compound, chair)
    login_as(client, make_user("member", compound, Role.member))
    response = post_form(client, f"{BASE}/{topic.id}/proxies/limit", {"max_owners": "40"},
                         token_from=f"{BASE}/{topic.id}/proxies")
    assert response.status_code == 403
    assert proxies.limit_for(compound) == 5


def test_public_pages_show_proxy_counts_never_names(app, client, compound, chair, homes):
    """After the close, the public result says how many ballots came by proxy; no page a resident or the screen
    can open names the proxy."""
    topic = factories.open_topic(compound, chair, secret=False, closes_at=ahead(hours=1))
    proxy = proxies.record(compound, chair, topic, homes[3], "钱某某")
    db.session.commit()
    proxies.cast_by_proxy(compound, chair, topic, proxy, ["yes"])
    consult.cast(compound, topic, homes[4], ["no"], Channel.phone)
    with time_machine.travel(ahead(hours=2), tick=True):
        consult.keep_time(compound)
        db.session.commit()
        for path in (f"/maple/topics/{topic.id}", "/maple/topics", f"/maple/topics/{topic.id}/print", "/maple/"):
            body = client.get(path, follow_redirects=True).get_data(as_text=True)
            assert "钱某某" not in body, path
        assert "其中书面委托代为表决 1 户" in text_of(client.get(f"/maple/topics/{topic.id}"))
        assert "书面委托代为表决 1 户" in text_of(client.get(f"/maple/topics/{topic.id}/print"))
