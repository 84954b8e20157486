"""Card holders (issue 16): pages that never look at the household card come from the page cache for them too,
yet every household sees only its own vote, ballot and CSRF token, whatever the order, language or htmx."""
import gzip
import re
from datetime import timedelta

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


# --- the topic page as a page with holes (consult/topic_page.py): filled in per household, without Flask --------

def normalized(html):
    """A page with its CSRF tokens' signed time stamps taken out (the token's payload stays: it is the session's)."""
    return CSRF_RE.sub(lambda m: f'name="csrf_token" value="{m.group(1).split(".")[0]}"', html)


def text(response):
    """A response's page as text, gunzipped when it came compressed (as Flask compresses it, so does the cache)."""
    data = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        data = gzip.decompress(data)
    return data.decode()


def count_views(app):
    """Count the requests the topic view answers (the rest came from the page cache's shell); returns the list."""
    calls = []
    view = app.view_functions["consult.topic"]

    def counted(**kwargs):
        calls.append(kwargs)
        return view(**kwargs)

    app.view_functions["consult.topic"] = counted
    return calls


def household(app, address):
    building, entrance, room = re.match(r"(\d+)栋(\d+)单元(\d+)", address).groups()
    return db.session.scalar(db.select(Household).where(Household.building == building, Household.room == room))


@pytest.mark.parametrize("order", ["ab", "ba"])
def test_card_holders_after_the_first_are_filled_in_without_flask_and_get_what_flask_would_give(world, order):
    """The second round comes from the shell the first one left: the same bytes as Flask renders (tokens apart),
    the same headers, each household's own ballot, refusal and CSRF token, never the other's."""
    app, topics, phones = world
    tokens = {name: session_token(phone, topics["secret"]) for name, phone in phones.items()}
    calls = count_views(app)
    for lang in ("zh_CN", "en"):
        for phone in phones.values():
            phone.get(f"/lang/{lang}?next=/maple/")
        for topic_id in topics.values():
            for headers in ({}, HTMX, {"Accept-Encoding": "gzip"}):
                path = f"/maple/topics/{topic_id}"
                app.wsgi_app.shells.clear()
                flask_pages = {name: phones[name].get(path, headers=headers) for name in order}
                before = len(calls)
                for name in order:
                    filled = phones[name].get(path, headers=headers)
                    flask = flask_pages[name]
                    assert filled.status_code == 200
                    assert normalized(text(filled)) == normalized(text(flask))
                    assert sorted((k, v) for k, v in filled.headers.items() if k != "Content-Length") == \
                        sorted((k, v) for k, v in flask.headers.items() if k not in ("Content-Length", "Set-Cookie"))
                    assert filled.headers["Cache-Control"] == "no-store" and "Cookie" in filled.headers["Vary"]
                    other = tokens["b" if name == "a" else "a"]
                    assert tokens[name] in text(filled) or (name, topic_id) == ("b", topics["lift"])
                    assert other not in text(filled)
                assert len(calls) == before, "the second round was answered from the shell"


def test_a_filled_in_ballot_form_carries_a_token_the_vote_accepts(world):
    app, topics, phones = world
    path = f"/maple/topics/{topics['secret']}"
    phones["a"].get(path)  # leaves the shell
    calls = count_views(app)
    page = phones["b"].get(path).get_data(as_text=True)
    assert calls == [] and "为 5栋1单元101 投票" in page
    vote = phones["b"].post(f"{path}/vote", data={"csrf_token": CSRF_RE.search(page).group(1), "choice": "no"})
    assert vote.status_code == 303
    after = phones["b"].get(path).get_data(as_text=True)
    assert "您家当前的选择：<strong>不同意</strong>" in after  # a secret ballot bumps no version: read per request
    assert "您家当前的选择" not in phones["a"].get(path).get_data(as_text=True)


def test_phones_whose_session_ended_are_filled_in_each_with_its_own_new_token_that_the_vote_accepts(world):
    """The session cookie ends with the browser, the card cookie lasts two years: at a meeting most phones bring
    only their card. Each is filled in from the shell (not rendered), with a new CSRF token of its own in a
    session cookie set as Flask sets it, and its ballot form then votes."""
    from kiosk.consult.models import Ballot

    app, topics, phones = world
    path = f"/maple/topics/{topics['secret']}"
    arriving = {}
    for name, phone in phones.items():
        arriving[name] = app.test_client()
        arriving[name].set_cookie("kiosk_household", phone.get_cookie("kiosk_household").value)
    flask_made = app.test_client()  # a phone Flask answers, for the cookie's attributes
    flask_made.set_cookie("kiosk_household", phones["a"].get_cookie("kiosk_household").value)
    app.wsgi_app.shells.clear()
    by_flask = flask_made.get(path).headers["Set-Cookie"]
    calls = count_views(app)
    pages = {name: phone.get(path) for name, phone in arriving.items()}
    assert calls == [], "filled in from the shell, not rendered"
    forms = {}
    for name, page in pages.items():
        assert page.status_code == 200 and "Cookie" in page.headers["Vary"]
        cookie = page.headers["Set-Cookie"]
        assert cookie.startswith("kiosk_session=") and cookie.split(";")[1:] == by_flask.split(";")[1:]
        forms[name] = CSRF_RE.search(page.get_data(as_text=True)).group(1)
    assert "为 3栋1单元502 投票" in text(pages["a"]) and "为 5栋1单元101 投票" in text(pages["b"])
    assert forms["a"].split(".")[0] != forms["b"].split(".")[0], "each phone its own token"
    for name, choice in (("a", "abstain"), ("b", "no")):
        vote = arriving[name].post(f"{path}/vote", data={"csrf_token": forms[name], "choice": choice})
        assert vote.status_code == 303, name
    with app.app_context():
        current = db.session.scalars(db.select(Ballot.choices).where(Ballot.topic_id == topics["secret"],
                                                                     Ballot.current.is_(True))).all()
    assert sorted(c[0] for c in current) == ["abstain", "no"]
    # A form token from one phone's page is refused for the other (its session holds its own).
    refused = arriving["a"].post(f"{path}/vote", data={"csrf_token": forms["b"], "choice": "yes"})
    assert refused.status_code == 400


def test_the_page_a_vote_leads_to_is_filled_in_with_its_message_as_flask_renders_it_and_shown_once(world):
    """The ballot's "已投票" waits in the session for the page the vote redirects to. That page is filled in from
    the shell (every voter's next page: rendering it cost ~17 times a fill) with the message shown as Flask shows
    it, taken out of the session as Flask takes it, and never shown to anyone else."""
    app, topics, phones = world
    path = f"/maple/topics/{topics['secret']}"
    vote = phones["b"].post(f"{path}/vote", data={"csrf_token": csrf_token(phones["b"], path), "choice": "no"})
    assert vote.status_code == 303
    twin = app.test_client()  # the same phone's cookies, to see what Flask renders for this very session
    for name in ("kiosk_household", "kiosk_session"):
        twin.set_cookie(name, phones["b"].get_cookie(name).value)
    app.wsgi_app.shells.clear()
    by_flask = twin.get(path)
    calls = count_views(app)
    filled = phones["b"].get(path)
    assert calls == [], "filled in from the shell the twin's request left"
    assert "已投票，" in text(filled) and normalized(text(filled)) == normalized(text(by_flask))
    assert sorted((k, v) for k, v in filled.headers.items() if k not in ("Content-Length", "Set-Cookie")) == \
        sorted((k, v) for k, v in by_flask.headers.items() if k not in ("Content-Length", "Set-Cookie"))
    signer = app.session_interface.get_signing_serializer(app)
    sessions = [signer.loads(r.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]) for r in (filled, by_flask)]
    # The same session, to the key: Flask-Login's "_fresh" mark is not added either (no template loads the visitor
    # unless it shows them)
    assert sessions[0] == sessions[1] and "_flashes" not in sessions[0] and sessions[0]["csrf_token"]
    assert filled.headers["Set-Cookie"].split(";")[1:] == by_flask.headers["Set-Cookie"].split(";")[1:]
    again = phones["b"].get(path)
    assert "已投票，" not in text(again) and "Set-Cookie" not in again.headers and calls == []
    assert "已投票，" not in text(phones["a"].get(path))


def test_a_proxy_tenant_card_and_revoked_card_show_only_to_their_own_household(world, make_user):
    from kiosk.compounds.models import Compound
    from kiosk.consult.models import Topic
    from kiosk.consult.service import proxies
    from kiosk.households import service as households

    app, topics, phones = world
    path = f"/maple/topics/{topics['secret']}"
    for phone in phones.values():
        phone.get(path)
    compound = db.session.scalar(db.select(Compound))
    chair = make_user("chair2", compound, "chair")
    chair_id = chair.id
    a, b = household(app, "3栋1单元502"), household(app, "5栋1单元101")
    proxies.record(compound, chair, db.session.get(Topic, topics["secret"]), a, "王秀英")
    households.record_delivery(compound, chair, b, "mailbox", "tenant")
    db.session.commit()
    db.session.remove()
    for _ in range(2):  # Flask, then the shell
        page_a, page_b = (phones[n].get(path).get_data(as_text=True) for n in "ab")
        assert "您已书面委托 王秀英 代为表决。" in page_a and 'action="/maple/topics/' in page_a
        assert "王秀英" not in page_b and "这张住户卡登记为租户持有" in page_b  # a statutory vote: owners only
        assert "这张住户卡登记为租户持有" not in page_a and 'class="ballot"' not in page_b
        assert "王秀英" not in app.test_client().get(path).get_data(as_text=True)
    from kiosk.auth.models import User

    compound = db.session.scalar(db.select(Compound))
    households.revoke(compound, db.session.get(User, chair_id), household(app, "3栋1单元502"))
    db.session.commit()
    db.session.remove()
    for _ in range(2):
        page = phones["a"].get(path).get_data(as_text=True)
        assert "请用手机扫描住户卡上的二维码" in page and "王秀英" not in page and "3栋1单元502" not in page


def test_a_vote_a_correction_and_the_close_show_at_once_in_a_filled_in_page(world, make_user):
    """The shell is kept per compound version and never past the topic's next phase boundary: another household's
    named vote, a committee correction and the vote's close all show on the next page from the shell."""
    import time_machine

    from kiosk import versions
    from kiosk.auth.models import User
    from kiosk.compounds.models import Compound
    from kiosk.consult import service
    from kiosk.consult.models import Topic

    app, topics, phones = world
    compound = db.session.scalar(db.select(Compound))
    chair_id = make_user("chair2", compound, "chair").id
    chair = db.session.get(User, chair_id)
    live = factories.open_topic(compound, chair, title="南门加装雨棚", secret=False, visibility="live")
    path = f"/maple/topics/{live.id}"
    closes_at = live.closes_at
    db.session.remove()
    calls = count_views(app)
    for name in "ab":
        phones[name].get(path)
    rendered = len(calls)
    before = results_text(phones["b"].get(path).get_data(as_text=True))
    assert len(calls) == rendered and "已投 0 / 2 户" in before  # this page came from the shell
    vote = phones["a"].post(f"{path}/vote", data={"csrf_token": csrf_token(phones["a"], path), "choice": "yes"})
    assert vote.status_code == 303
    after = results_text(phones["b"].get(path).get_data(as_text=True))
    assert "已投 1 / 2 户" in after
    compound = db.session.scalar(db.select(Compound))
    service.add_correction(compound, db.session.get(User, chair_id), db.session.get(Topic, live.id), "雨棚颜色改为灰色")
    db.session.commit()
    db.session.remove()
    versions.forget(versions.cache_of(app), "maple")  # written outside a request: seen within versions.TTL
    assert "雨棚颜色改为灰色" in phones["b"].get(path).get_data(as_text=True)
    phones["b"].get(path)  # a shell for this version is kept again
    with time_machine.travel(closes_at + timedelta(minutes=1), tick=True):
        closed = phones["b"].get(path).get_data(as_text=True)
        assert "表决结果" in closed and 'class="ballot"' not in closed and 'id="vote"' not in closed


class StandInShell:
    """A page with holes as the page cache sees one: answers from the card cookie, or None (Flask must)."""

    def __init__(self, answers=True):
        self.answers, self.asked = answers, []

    def seconds_left(self):
        return None

    def answer(self, token, session):
        self.asked.append((token, dict(session)))
        return (f"<p>{token}</p>".encode(), None) if self.answers else None


def through_shells(app, shell):
    """A PageCache in front of a stand-in page that leaves `shell` and sets a cookie; returns (cache, ask, renders)."""
    from kiosk.pagecache import SHELL

    renders = []

    def page(environ, start_response):
        renders.append(environ.get("HTTP_COOKIE"))
        environ[SHELL] = shell
        start_response("200 OK", [("Content-Type", "text/html"), ("Set-Cookie", "kiosk_session=new"),
                                  ("Cache-Control", "no-store"), ("Content-Length", "9")])
        return [b"<p>app</p>"]

    cache = PageCache(page, app, 60, "kiosk_session")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/maple/", "QUERY_STRING": "", "HTTP_HOST": "x",
               "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}

    def ask(cookie):
        seen = {}
        body = b"".join(cache(dict(environ, HTTP_COOKIE=cookie), lambda status, headers, exc_info=None: seen.update(headers)))
        return body, seen

    return cache, ask, renders


def test_a_shell_answers_later_card_holders_without_the_app_and_never_replays_a_cookie(cached_app, make_compound):
    make_compound()
    db.session.remove()
    plain = signed_session(cached_app, {"csrf_token": "abc"})
    shell = StandInShell()
    cache, ask, renders = through_shells(cached_app, shell)
    # The first is rendered once, as a passer-by would ask for it (no card, no session), and filled in from the
    # page with holes that left.
    assert ask(f"kiosk_household=t1; kiosk_session={plain}")[0] == b"<p>t1</p>" and renders == [None]
    rendered = len(renders)
    body, headers = ask(f"kiosk_household=t2; kiosk_session={plain}")
    assert body == b"<p>t2</p>" and len(renders) == rendered
    assert "Set-Cookie" not in headers and headers["Content-Length"] == str(len(body))
    assert shell.asked == [("t1", {"csrf_token": "abc"}), ("t2", {"csrf_token": "abc"})]
    # A message waiting is the shell's to show (it takes it out of the session); anything else but a card with a
    # plain session goes to the app as before: a login, a malformed message, no card.
    message = {"_flashes": [("info", "x")]}
    assert ask(f"kiosk_household=t3; kiosk_session={signed_session(cached_app, message)}")[0] == b"<p>t3</p>"
    assert shell.asked[-1] == ("t3", message) and len(renders) == rendered
    for cookie in (f"kiosk_session={signed_session(cached_app, {'_user_id': '1'})}; kiosk_household=t3",
                   f"kiosk_household=t3; kiosk_session={signed_session(cached_app, {'_flashes': [('info', 1)]})}",
                   f"kiosk_household=t3; kiosk_session={signed_session(cached_app, {'_flashes': 'x'})}",
                   f"kiosk_session={plain}"):
        before = len(renders)
        assert ask(cookie)[0] == b"<p>app</p>" and len(renders) == before + 1, cookie


def test_a_shell_that_cannot_answer_sends_the_card_holder_to_the_app(cached_app, make_compound):
    make_compound()
    db.session.remove()
    cache, ask, renders = through_shells(cached_app, StandInShell(answers=False))
    for n in range(3):
        assert ask(f"kiosk_household=t{n}")[0] == b"<p>app</p>"
    assert len(cache.shells) == 1 and len([r for r in renders if "kiosk_household" in (r or "")]) == 3


def test_an_old_shell_is_rendered_again_by_one_request_while_the_others_are_filled_in(cached_app, make_compound):
    make_compound()
    db.session.remove()
    cache, ask, renders = through_shells(cached_app, StandInShell())
    ask("kiosk_household=t1")
    key = next(iter(cache.shells))
    expires, *rest = cache.shells[key]
    cache.shells[key] = (expires - 120, *rest)  # older than PAGE_CACHE_SECONDS, the same compound version
    with cache._refreshing_shells:  # another thread is rendering it again
        assert ask("kiosk_household=t2")[0] == b"<p>t2</p>"
    before = len(renders)
    assert ask("kiosk_household=t3")[0] == b"<p>app</p>" and len(renders) == before + 1  # this one renders it
    assert cache.shells[key][0] > expires - 120 and ask("kiosk_household=t4")[0] == b"<p>t4</p>"


@pytest.mark.parametrize("rule", ["informal", "ordinary"])
def test_the_filled_in_refusal_is_the_services_for_every_card_and_electorate(cached_app, make_compound, make_user, rule):
    """topic_page reads the facts in one statement and decides as service.why_not does: tenant, unverified, outside
    the electorate, or may vote; a change of the rules there must show here (this test then fails)."""
    from kiosk.consult import service, topic_page
    from kiosk.households.models import HouseholdCard

    compound = make_compound()
    chair = make_user("chair", compound, "chair")
    home = Household(compound_id=compound.id, building="3", entrance="1", room="502", area_centi=8800)
    db.session.add(home)
    db.session.commit()
    topic = factories.open_topic(compound, chair, rule=rule, secret=False, require_verified=True)
    late = Household(compound_id=compound.id, building="5", entrance="", room="101", area_centi=9100)  # not an elector
    db.session.add(late)
    db.session.commit()
    tokens = {h.id: t for h, t in issue(compound, chair, [home, late])}
    db.session.commit()
    for household in (home, late):
        card = db.session.scalar(db.select(HouseholdCard).where(HouseholdCard.household_id == household.id,
                                                                HouseholdCard.revoked_at.is_(None)))
        for holder in ("owner", "tenant"):
            for delivery in (None, "mailbox", "in_person"):
                card.holder, card.delivery = holder, delivery
                db.session.flush()
                connection = db.session.connection()
                facts = topic_page.read_facts(connection.connection, connection.dialect, compound.id, topic.id,
                                              tokens[household.id])
                expected = service.why_not(topic, household)
                assert topic_page.rules_of(topic).refusal(facts) == (expected.reason if expected else None), \
                    (household.address, holder, delivery)


def test_the_filled_in_ballot_stands_as_the_service_refuses_a_household_vote_over_it(cached_app, make_compound,
                                                                                     make_user):
    """topic_page's one statement decides whether a household's current ballot must stand (the page then offers no
    ballot form) as service.proxies.guard_own_vote does for a vote: a proxy's ballot and a confirmed numbered paper
    ballot stand, a phone ballot does not, and neither does no ballot; a change of the rule there fails here."""
    from kiosk.consult import service as consult
    from kiosk.consult import topic_page
    from kiosk.consult.models import Ballot, Channel
    from kiosk.consult.service import paper, proxies
    from kiosk.consult.service.base import VoteRefused

    compound = make_compound()
    chair = make_user("chair", compound, "chair")
    jia, yi = make_user("jia", compound, "member"), make_user("yi", compound, "member")
    homes = {name: Household(compound_id=compound.id, building="3", entrance="1", room=room, area_centi=8800)
             for name, room in (("phone", "501"), ("proxy", "502"), ("paper", "503"), ("none", "504"))}
    db.session.add_all(homes.values())
    db.session.commit()
    topic = factories.open_topic(compound, chair, secret=False, allow_change=True)
    tokens = {h.id: t for h, t in issue(compound, chair, list(homes.values()))}
    db.session.commit()
    consult.cast(compound, topic, homes["phone"], ["yes"], Channel.phone)
    proxy = proxies.record(compound, chair, topic, homes["proxy"], "王秀英")
    db.session.commit()
    proxies.cast_by_proxy(compound, chair, topic, proxy, ["no"])
    paper.print_set(compound, chair, topic)
    db.session.commit()
    sheet = next(p for p in paper.papers(topic) if p.household_id == homes["paper"].id)
    assert paper.enter(compound, jia, topic, sheet, "first", ["abstain"]).outcome == "entered"
    assert paper.enter(compound, yi, topic, sheet, "confirm", ["abstain"]).outcome == "confirmed"
    db.session.commit()

    seen = {}
    for name, home in homes.items():
        connection = db.session.connection()
        facts = topic_page.read_facts(connection.connection, connection.dialect, compound.id, topic.id,
                                      tokens[home.id])
        current = db.session.scalar(db.select(Ballot.id).where(Ballot.topic_id == topic.id,
                                                               Ballot.household_id == home.id,
                                                               Ballot.current.is_(True)))
        try:
            proxies.guard_own_vote(current)
            refused = None
        except VoteRefused as refusal:
            refused = refusal.reason
        seen[name] = (facts.ballot_stands, refused)
    assert seen == {"phone": (False, None), "proxy": (True, "proxy_voted"), "paper": (True, "paper_final"),
                    "none": (False, None)}


@pytest.mark.parametrize("first", ["passer-by", "card holder"])
def test_passers_by_get_the_topic_page_from_the_shell_as_flask_renders_it(world, first):
    """A poster's QR code on an open vote: passers-by after the first are answered from the page with holes
    (whoever left it), with what Flask gives a passer-by: no household, no ballot form, no token, no cookie."""
    app, topics, phones = world
    calls = count_views(app)
    for lang in ("zh_CN", "en"):
        passer_by = app.test_client()
        for client in (passer_by, *phones.values()):
            client.get(f"/lang/{lang}?next=/maple/")
        for topic_id in topics.values():
            for headers in ({}, HTMX, {"Accept-Encoding": "gzip"}):
                path = f"/maple/topics/{topic_id}"
                app.wsgi_app.shells.clear()
                flask = passer_by.get(path, headers=headers)
                app.wsgi_app.shells.clear()
                (passer_by if first == "passer-by" else phones["a"]).get(path, headers=headers)
                before = len(calls)
                filled = passer_by.get(path, headers=headers)
                assert len(calls) == before, "answered from the shell"
                assert filled.status_code == 200 and "Set-Cookie" not in filled.headers
                assert text(filled) == text(flask)
                assert sorted((k, v) for k, v in filled.headers.items() if k != "Content-Length") == \
                    sorted((k, v) for k, v in flask.headers.items() if k != "Content-Length")
                html = text(filled)
                assert 'name="csrf_token"' not in html and 'class="ballot"' not in html
                assert not any(address in html for pair in ADDRESSES.values() for address in pair)


def test_a_vote_shows_to_passers_by_at_once_with_the_shell_kept(cached_app, make_compound, make_user):
    """A live tally: the passer-by's page kept as a shell is per compound version, so a ballot shows at once."""
    compound = make_compound()
    chair = make_user("chair", compound, "chair")
    home = Household(compound_id=compound.id, building="3", entrance="1", room="502", area_centi=8800)
    db.session.add(home)
    db.session.commit()
    topic = factories.open_topic(compound, chair, title="3栋电梯更新改造", secret=False, visibility="live")
    token = issue(compound, chair, [home])[0][1]
    db.session.commit()
    path = f"/maple/topics/{topic.id}"
    db.session.remove()
    phone, passer_by = cached_app.test_client(), cached_app.test_client()
    phone.get(f"/h/{token}")
    calls = count_views(cached_app)
    before = results_text(passer_by.get(path).get_data(as_text=True))
    assert results_text(passer_by.get(path).get_data(as_text=True)) == before and len(calls) == 1
    assert phone.post(f"{path}/vote", data={"csrf_token": csrf_token(phone, path), "choice": "no"}).status_code == 303
    after = results_text(passer_by.get(path).get_data(as_text=True))
    assert after != before and "1" in after


def test_a_card_holder_on_a_topic_page_nothing_is_kept_of_costs_one_render(world):
    """The first card holder's request renders the page once (as a passer-by would ask for it, which leaves the
    page with holes) and is filled in from it, not rendered a second time for the household."""
    app, topics, phones = world
    calls = count_views(app)
    path = f"/maple/topics/{topics['secret']}"
    for kept in (app.wsgi_app.shells, app.wsgi_app.personal, app.wsgi_app.entries):
        kept.clear()  # as after a ballot moved the compound's version: a new key
    page = phones["a"].get(path)
    assert page.status_code == 200 and len(calls) == 1
    assert ADDRESSES["zh_CN"][0] in page.get_data(as_text=True)


@pytest.mark.parametrize("cookie", ["", "kiosk_household=t1"])
def test_requests_arriving_together_for_a_page_nothing_is_kept_of_render_it_once(cached_app, make_compound, cookie):
    """Two hundred phones opening the vote at once: the first renders, the others wait for it and are answered
    from what it kept (the passer-by's page, or the page with holes filled in per card)."""
    import threading

    make_compound()
    db.session.remove()
    renders, started = [], threading.Event()
    shell = StandInShell()

    def page(environ, start_response):
        from kiosk.pagecache import SHELL

        renders.append(environ.get("HTTP_COOKIE", ""))
        started.set()
        threading.Event().wait(0.3)  # a render under load
        environ[SHELL] = shell
        start_response("200 OK", [("Content-Type", "text/html"), ("Cache-Control", "no-store")])
        return [b"<p>app</p>"]

    cache = PageCache(page, cached_app, 60, "kiosk_session")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/maple/", "QUERY_STRING": "", "HTTP_HOST": "x",
               "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    bodies = []

    def ask(n):
        headers = {"HTTP_COOKIE": cookie.replace("t1", f"t{n}")} if cookie else {}
        bodies.append(b"".join(cache(dict(environ, **headers), lambda *a: None)))

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    assert started.wait(5)
    others = [threading.Thread(target=ask, args=(n,)) for n in range(1, 6)]
    for thread in others:
        thread.start()
    for thread in (first, *others):
        thread.join(10)
    assert len(renders) == 1 and len(bodies) == 6
    if cookie:  # the first card holder is filled in too; the others each from their own card
        assert sorted(bodies) == sorted(f"<p>t{n}</p>".encode() for n in range(6))
    else:  # the stand-in shell answers a passer-by (no card) with its token None
        assert bodies.count(b"<p>None</p>") == 5


def test_a_page_that_keeps_nothing_is_rendered_by_each_passer_by_without_waiting(cached_app, make_compound):
    """Coalescing is for pages something can be kept of: one that sets a cookie is rendered by every request, and
    a request never waits for another one rendering it."""
    import threading

    make_compound()
    db.session.remove()
    renders = []

    def page(environ, start_response):
        renders.append(1)
        start_response("200 OK", [("Content-Type", "text/html"), ("Set-Cookie", "kiosk_session=new")])
        return [b"<p>form</p>"]

    cache = PageCache(page, cached_app, 60, "kiosk_session")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/maple/", "QUERY_STRING": "", "HTTP_HOST": "x",
               "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    assert b"".join(cache(dict(environ), lambda *a: None)) == b"<p>form</p>"
    key = next(iter(cache.unkept))
    stuck = threading.Event()  # as if another request were rendering it and never finished
    cache._pending[key] = stuck
    assert b"".join(cache(dict(environ), lambda *a: None)) == b"<p>form</p>" and len(renders) == 2
    assert not stuck.is_set() and cache._pending[key] is stuck  # it never waited on, nor finished, the other one
