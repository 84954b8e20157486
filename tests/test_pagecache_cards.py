"""Card holders (issue 16): pages that never look at the household card come from the page cache for them too,
yet every household sees only its own vote, ballot and CSRF token, whatever the order, language or htmx."""
import re

import pytest
from bs4 import BeautifulSoup

from kiosk.extensions import db
from kiosk.households.models import Household
from kiosk.households.service import issue
from kiosk.pagecache import HOUSEHOLD_UNREAD, PageCache

import factories
from conftest import CSRF_RE, csrf_token, make_app

HTMX = {"HX-Request": "true"}
ADDRESSES = {"zh_CN": ("3栋1单元502", "5栋1单元101"),
             "en": ("Bldg 3, Entrance 1, Room 502", "Bldg 5, Entrance 1, Room 101")}


@pytest.fixture
def cached_app(tmp_path, database_url):
    app = make_app(tmp_path, database_url, PAGE_CACHE_SECONDS=60)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def world(cached_app, make_compound, make_user):
    """Two households with cards: A in 3栋 voted 同意 on 3栋's lift (tallies shown to those who voted), B in 5栋
    is outside its scope; both may vote on a secret compound-wide topic. Returns (app, topics, phones)."""
    compound = make_compound()
    chair = make_user("chair", compound, "chair")
    a = Household(compound_id=compound.id, building="3", entrance="1", room="502", area_centi=8800)
    b = Household(compound_id=compound.id, building="5", entrance="1", room="101", area_centi=9100)
    db.session.add_all([a, b])
    db.session.commit()
    lift = factories.open_topic(compound, chair, title="3栋电梯更新改造", secret=False, visibility="after_vote",
                                scope_buildings=["3"], scope_entrance="")
    secret = factories.open_topic(compound, chair, title="东侧空地增设充电桩")
    tokens = dict(zip("ab", (t for _, t in issue(compound, chair, [a, b]))))
    db.session.commit()
    topics = {"lift": lift.id, "secret": secret.id}
    db.session.remove()  # no transaction of the test's own stays open while the app writes (SQLite)
    phones = {}
    for name, token in tokens.items():
        phone = cached_app.test_client()
        assert phone.get(f"/h/{token}").status_code == 302
        phones[name] = phone
    vote = phones["a"].post(f"/maple/topics/{topics['lift']}/vote", data={
        "csrf_token": csrf_token(phones["a"], f"/maple/topics/{topics['lift']}"), "choice": "yes"})
    assert vote.status_code == 303
    for phone in phones.values():  # the flash is read, the session settles to its CSRF token
        phone.get(f"/maple/topics/{topics['secret']}")
    return cached_app, topics, phones


def session_token(phone, topic_id):
    """The CSRF token this phone's session puts in its forms: the signed token's payload (its timestamp part
    changes every second)."""
    return CSRF_RE.search(phone.get(f"/maple/topics/{topic_id}").get_data(as_text=True)).group(1).split(".")[0]


def has_tallies(html):
    return BeautifulSoup(html, "html.parser").select("#results .bars") != []


@pytest.mark.parametrize("order", ["ab", "ba"])
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_two_card_holders_each_see_only_their_own_pages_from_a_warm_cache(world, order, lang):
    app, topics, phones = world
    passer_by = app.test_client()
    for client in (passer_by, *phones.values()):
        client.get(f"/lang/{lang}?next=/maple/")
    tokens = {name: session_token(phone, topics["secret"]) for name, phone in phones.items()}
    assert tokens["a"] != tokens["b"]
    lift, secret = topics["lift"], topics["secret"]
    paths = [(f"/maple/topics/{lift}", {}), (f"/maple/topics/{lift}", HTMX), (f"/maple/topics/{secret}", {}),
             (f"/maple/topics/{secret}", HTMX), (f"/maple/topics/{lift}/results", HTMX),
             (f"/maple/topics/{secret}/results", HTMX), ("/maple/", {}), ("/maple/", HTMX), ("/maple/ledger/", {})]
    for _round in range(2):  # the second round is answered from whatever the first one left in the cache
        for path, headers in paths:
            anonymous = passer_by.get(path, headers=headers)
            assert anonymous.status_code == 200
            for name in order:
                other = "b" if name == "a" else "a"
                page = phones[name].get(path, headers=headers)
                assert page.status_code == 200, (name, path)
                html = page.get_data(as_text=True)
                a_home, b_home = ADDRESSES[lang]
                own, theirs = (a_home, b_home) if name == "a" else (b_home, a_home)
                assert theirs not in html and tokens[other] not in html
                if "<html" in html:
                    assert ('<html lang="en"' in html) == (lang == "en")
                if path.endswith(f"/topics/{lift}") or path.endswith(f"/topics/{secret}"):
                    assert tokens[name] in html or (name == "b" and path.endswith(f"/topics/{lift}"))
                    if name == "a" or path.endswith(f"/topics/{secret}"):
                        assert own in html  # "为 3栋1单元502 投票": the household's own ballot form
                    else:
                        assert "vote-refused" in html and 'class="ballot"' not in html  # outside 3栋: refused
                    assert "private" in page.headers.get("Cache-Control", "") or \
                        "no-store" in page.headers.get("Cache-Control", "")
                    if path.endswith(f"/topics/{lift}"):  # the count, kept per version, after A's own vote only
                        assert has_tallies(html) == (name == "a")
                elif path.endswith(f"/topics/{lift}/results"):
                    # Tallies only after the household's own vote: A voted, B (and a passer-by) did not.
                    assert has_tallies(html) == (name == "a")
                    assert not has_tallies(anonymous.get_data(as_text=True))
                    assert "no-store" in page.headers["Cache-Control"]
                else:  # the same page for everyone: the passer-by's, byte for byte
                    assert html == anonymous.get_data(as_text=True)
                    assert own not in html


def test_a_card_holder_with_a_message_waiting_gets_it_and_nobody_else_does(world):
    app, topics, phones = world
    passer_by = app.test_client()
    assert passer_by.get("/maple/").status_code == 200  # the page is in the cache
    with phones["a"].session_transaction() as session:
        session["_flashes"] = [("success", "这部手机的提示")]
    assert "这部手机的提示" in phones["a"].get("/maple/").get_data(as_text=True)
    assert "这部手机的提示" not in phones["a"].get("/maple/").get_data(as_text=True)  # shown once
    assert "这部手机的提示" not in phones["b"].get("/maple/").get_data(as_text=True)
    assert "这部手机的提示" not in passer_by.get("/maple/").get_data(as_text=True)


def test_a_secret_topics_figures_reach_a_card_holder_only_with_a_release(world):
    """The cached results block of a secret topic is the released snapshot for everyone: the household that
    just voted does not see its ballot in the figures before the batch is released (issue 11)."""
    app, topics, phones = world
    path = f"/maple/topics/{topics['secret']}/results"
    passer_by = app.test_client()
    before = passer_by.get(path, headers=HTMX).get_data(as_text=True)
    vote = phones["b"].post(f"/maple/topics/{topics['secret']}/vote", data={
        "csrf_token": csrf_token(phones["b"], f"/maple/topics/{topics['secret']}"), "choice": "yes"})
    assert vote.status_code == 303
    for client in (phones["b"], phones["a"], passer_by):
        seen = client.get(path, headers=HTMX).get_data(as_text=True)
        assert re.sub(r"\s+", " ", seen) == re.sub(r"\s+", " ", before)


def through_cache(app, cookie, reads_household=False, renders=3):
    """Ask a PageCache in front of a stand-in page: first as a passer-by, then `renders` times with `cookie`;
    return how many times the page was rendered for the card holder's requests."""
    seen = []

    def page(environ, start_response):
        seen.append(environ.get("HTTP_COOKIE", ""))
        if not reads_household:
            environ[HOUSEHOLD_UNREAD] = True
        start_response("200 OK", [("Vary", "Cookie")])
        return [b"<p>page</p>"]

    cache = PageCache(page, app, 60, "kiosk_session")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/maple/", "QUERY_STRING": "", "HTTP_HOST": "x",
               "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    assert b"".join(cache(dict(environ), lambda *a: None)) == b"<p>page</p>"
    seen.clear()
    for _ in range(renders):
        assert b"".join(cache(dict(environ, HTTP_COOKIE=cookie), lambda *a: None)) == b"<p>page</p>"
    return len(seen)


def signed_session(app, data):
    return app.session_interface.get_signing_serializer(app).dumps(data)


def test_only_a_plain_session_with_a_card_is_served_the_passer_bys_page(cached_app, make_compound):
    make_compound()
    db.session.remove()
    plain = signed_session(cached_app, {"csrf_token": "abc", "_fresh": False})
    assert through_cache(cached_app, f"kiosk_household=t; kiosk_session={plain}") == 0
    assert through_cache(cached_app, "kiosk_household=t") == 0
    assert through_cache(cached_app, f"kiosk_lang=en; kiosk_household=t; kiosk_session={plain}") == 1  # en: own
    # A page that looked at the card (or did not say it didn't) always goes to the app for a card holder.
    assert through_cache(cached_app, f"kiosk_household=t; kiosk_session={plain}", reads_household=True) == 3
    for data in ({"csrf_token": "abc", "_user_id": "k"}, {"_flashes": [("info", "x")]}, {"_fresh": True}):
        assert through_cache(cached_app, f"kiosk_household=t; kiosk_session={signed_session(cached_app, data)}") \
            == 3, data
    for cookie in (f"kiosk_session={plain}",  # no card: as before, a session alone is not for the cache
                   "kiosk_household=t; kiosk_session=forged.value.sig",
                   "kiosk_household=t; kiosk_household=u",
                   f"kiosk_household=t; kiosk_session={plain}; other=1",
                   f"kiosk_household=t; Kiosk_Household=u; kiosk_session={plain}"):
        assert through_cache(cached_app, cookie) == 3, cookie


def results_text(html):
    return " ".join(BeautifulSoup(html, "html.parser").select_one("#results").get_text(" ").split())


def test_a_changed_vote_shows_in_the_count_at_once_with_the_cache_on(world):
    """The results block is kept per compound version: a named ballot bumps the version, so the household that
    changed its vote (and everyone after it) sees the new count on the next page, not ten seconds later."""
    app, topics, phones = world
    path = f"/maple/topics/{topics['lift']}"
    before = results_text(phones["a"].get(path).get_data(as_text=True))
    assert before == results_text(phones["a"].get(path).get_data(as_text=True))
    changed = phones["a"].post(f"{path}/vote", data={"csrf_token": csrf_token(phones["a"], path), "choice": "no"})
    assert changed.status_code == 303
    after = phones["a"].get(path, headers=HTMX).get_data(as_text=True)
    assert results_text(after) != before
    assert results_text(phones["a"].get(f"{path}/results", headers=HTMX).get_data(as_text=True)) == \
        results_text(after)
