"""Public pages are served from memory, yet a committee change shows at once and nothing private is kept."""
import pytest

from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status

from conftest import login_as, make_app, post_form


@pytest.fixture
def cached_app(tmp_path, database_url):
    app = make_app(tmp_path, database_url, PAGE_CACHE_SECONDS=60)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def add_notice(compound, title):
    db.session.add(Notice(compound_id=compound.id, title=title, category="notice", status=Status.published,
                          published_at=utcnow()))
    db.session.commit()


def test_public_page_is_served_from_memory_until_the_compound_changes(cached_app, make_compound, make_user):
    compound = make_compound()
    resident, member = cached_app.test_client(), cached_app.test_client()
    add_notice(compound, "第一条")
    assert "第一条" in resident.get("/maple/").get_data(as_text=True)
    add_notice(compound, "悄悄加的")  # behind the app's back: no version bump, so the cached page stays
    assert "悄悄加的" not in resident.get("/maple/").get_data(as_text=True)
    login_as(member, make_user("chair", compound, "chair"))
    post_form(member, "/admin/maple/notices/new", {"title": "委员会发的", "category": "notice", "action": "publish"})
    page = resident.get("/maple/").get_data(as_text=True)
    assert "委员会发的" in page and "悄悄加的" in page


def test_logged_in_requests_bypass_the_cache(cached_app, make_compound, make_user):
    compound = make_compound()
    client = cached_app.test_client()
    client.get("/maple/")
    add_notice(compound, "委员才看得到最新")
    login_as(client, make_user("chair", compound, "chair"))
    assert "委员才看得到最新" in client.get("/maple/").get_data(as_text=True)


def test_language_and_large_type_get_their_own_cached_pages(cached_app, make_compound):
    make_compound()
    client = cached_app.test_client()
    assert 'class="phone"' in client.get("/maple/").get_data(as_text=True)
    client.get("/large/on?next=/maple/")
    assert 'class="phone large"' in client.get("/maple/").get_data(as_text=True)
    fragment = client.get("/maple/", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment


def test_errors_are_not_cached(cached_app, make_compound):
    compound = make_compound()
    client = cached_app.test_client()
    assert client.get("/maple/n/1").status_code == 404
    add_notice(compound, "刚发布")
    assert client.get("/maple/n/1").status_code == 200


def test_a_phone_with_its_household_card_is_never_served_or_stored_in_the_cache(cached_app, make_compound,
                                                                                 make_user):
    """Topic pages are cached for passers-by, but a phone that remembers its household sees its own ballot
    form, and what it sees is never handed to anyone else."""
    from datetime import timedelta

    from kiosk.consult import service
    from kiosk.households.cards import issue
    from kiosk.households.models import Household

    compound = make_compound()
    chair = make_user("chair", compound, "chair")
    home = Household(compound_id=compound.id, building="3", entrance="", room="502", area_centi=8800)
    db.session.add(home)
    db.session.flush()
    topic = service.save_topic(compound, chair, None, {
        "title": "加装充电桩", "background": "", "kind": "yesno", "rule": "ordinary", "seats": 1, "secret": True,
        "visibility": "live", "allow_change": True, "opens_at": utcnow() - timedelta(hours=1),
        "closes_at": utcnow() + timedelta(days=1)}, [])
    db.session.flush()
    service.publish(compound, chair, topic)
    token = issue(compound, chair, [home])[0][1]
    db.session.commit()
    passer_by, phone = cached_app.test_client(), cached_app.test_client()
    path = f"/maple/topics/{topic.id}"
    assert "请用手机扫描住户卡" in passer_by.get(path).get_data(as_text=True)  # now in the cache
    phone.get(f"/h/{token}")
    assert "为 3栋502 投票" in phone.get(path).get_data(as_text=True)
    assert "3栋502" not in passer_by.get(path).get_data(as_text=True)
