"""Public pages are served from memory, yet a committee change shows at once and nothing private is kept."""
import re
from datetime import timedelta

import pytest

from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.notices.models import Notice, Status
from kiosk.pagecache import PageCache

from conftest import CSRF_RE, login_as, make_app, post_form, raw_get, serving


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
    from kiosk.households.service import issue
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


@pytest.fixture
def voting_household(cached_app, make_compound, make_user):
    """An open vote and a card for 3栋1单元502: (topic path, card token)."""
    from kiosk.consult import service
    from kiosk.households.service import issue
    from kiosk.households.models import Household

    compound = make_compound()
    chair = make_user("chair", compound, "chair")
    home = Household(compound_id=compound.id, building="3", entrance="1", room="502", area_centi=8800)
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
    path = f"/maple/topics/{topic.id}"
    db.session.remove()
    return path, token


def cookie_value(headers, name):
    """The value a Set-Cookie header gives the named cookie."""
    for line in headers.get("set-cookie", []):
        match = re.match(rf"{name}=([^;]*)", line)
        if match:
            return match.group(1)
    return None


def open_vote_on_phone(port, path, token):
    """Scan the card and open the vote until the session cookie settles (no more Set-Cookie): from then on
    the page is answered without setting a cookie, as it is for a phone that voted a minute ago.
    Return (session cookie, page)."""
    status, headers, _ = raw_get(port, f"/h/{token}")
    assert status == 302 and cookie_value(headers, "kiosk_household") == token
    session = None
    for _ in range(4):
        cookie = f"kiosk_household={token}" + (f"; kiosk_session={session}" if session else "")
        status, headers, page = raw_get(port, path, [("Cookie", cookie)])
        assert status == 200 and "为 3栋1单元502 投票" in page
        if session and cookie_value(headers, "kiosk_session") is None:
            return session, page
        session = cookie_value(headers, "kiosk_session") or session
    raise AssertionError("the session cookie kept changing")


# Cookie headers a phone (or someone who wants a household's page handed out) might send. Python's
# SimpleCookie gives up on the whole header for the first one; Werkzeug, and so Flask, still reads the rest.
TRICKY_COOKIES = [
    [("Cookie", 'pref={"a":1}; kiosk_household={T}; kiosk_session={S}')],
    [("Cookie", 'pref={"a":1}; kiosk_household={T}')],
    [("Cookie", 'kiosk_lang=zh_CN; x=a\\b"; kiosk_household={T}; kiosk_session={S}')],
    [("Cookie", "kiosk_lang=zh_CN"), ("Cookie", "kiosk_household={T}; kiosk_session={S}")],  # sent twice
    [("Cookie", "a=1"), ("Cookie", "kiosk_household={T}")],
    [("Cookie", "kiosk_household={T}; kiosk_household=someone-else; kiosk_session={S}")],
    [("Cookie", ' kiosk_household = "{T}" ;kiosk_session={S};;')],
    [("Cookie", "KIOSK_HOUSEHOLD=x; kiosk_household={T}; kiosk_session={S}")],
    [("Cookie", "kiosk_large=1; \x7f=1; kiosk_household={T}; kiosk_session={S}")],
]


@pytest.mark.parametrize("header_lines", TRICKY_COOKIES, ids=range(len(TRICKY_COOKIES)))
def test_a_households_page_is_never_handed_to_a_passer_by_whatever_its_cookie_header(cached_app, voting_household,
                                                                                      header_lines):
    """Through the real server: a phone with its card opens the vote with an odd Cookie header; someone
    without any cookie who opens the same page next never sees that household's ballot or CSRF token."""
    path, token = voting_household
    with serving(cached_app) as port:
        session, page = open_vote_on_phone(port, path, token)
        csrf = CSRF_RE.search(page).group(1)
        lines = [(name, value.replace("{T}", token).replace("{S}", session)) for name, value in header_lines]
        raw_get(port, path, lines)  # 200, or 400 where waitress refuses the header line itself
        for _ in range(2):
            status, headers, seen = raw_get(port, path)
            assert status == 200 and "请用手机扫描住户卡" in seen
            assert "3栋1单元502" not in seen and csrf not in seen


def test_the_exact_header_from_issue_11_still_reaches_the_household_but_not_the_cache(cached_app, voting_household):
    """Flask reads the card behind a malformed cookie (so the phone votes as itself), and marks the answer
    as that household's alone: it varies on Cookie and is not for shared caches."""
    path, token = voting_household
    with serving(cached_app) as port:
        session, _ = open_vote_on_phone(port, path, token)
        header = f'pref={{"a":1}}; kiosk_household={token}; kiosk_session={session}'
        status, headers, page = raw_get(port, path, [("Cookie", header)])
        assert status == 200 and "为 3栋1单元502 投票" in page
        assert "cookie" in headers["vary"][0].lower()
        assert re.search(r"no-store|private", headers["cache-control"][0])


def test_a_page_that_reads_the_household_cookie_says_so(cached_app, voting_household):
    """Flask marks any answer that looked at the household cookie: Vary: Cookie, and private when the
    phone had one (the ledger's and the vote's pages set no-store themselves; this covers the others)."""
    from flask import make_response

    from kiosk.households.cards import current_household
    from kiosk.pagecache import mark_identifying_reads

    path, token = voting_household
    with cached_app.test_request_context("/maple/", headers={"Cookie": f"kiosk_household={token}"}):
        from flask import g

        from kiosk.compounds.models import Compound

        g.compound = db.session.scalar(db.select(Compound))
        assert current_household() is not None
        response = mark_identifying_reads(make_response("page"))
        assert "Cookie" in response.vary and "private" in response.headers["Cache-Control"]
    with cached_app.test_request_context("/maple/"):
        response = mark_identifying_reads(make_response("page"))
        assert "Cookie" not in response.vary and "Cache-Control" not in response.headers


def run_through_cache(app, response_headers, request_cookie=""):
    """Ask a PageCache in front of a stand-in page twice; return how many times the page was rendered."""
    rendered = []

    def page(environ, start_response):
        rendered.append(1)
        start_response("200 OK", list(response_headers))
        return [b"<p>page</p>"]

    cache = PageCache(page, app, 60, "kiosk_session")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/maple/", "QUERY_STRING": "", "HTTP_HOST": "x",
               "wsgi.url_scheme": "http", "SERVER_NAME": "x", "SERVER_PORT": "80"}
    if request_cookie:
        environ["HTTP_COOKIE"] = request_cookie
    for _ in range(2):
        assert b"".join(cache(dict(environ), lambda *a: None)) == b"<p>page</p>"
    return len(rendered)


@pytest.mark.parametrize("headers, renders", [
    ([("Content-Type", "text/html")], 1),
    ([("Vary", "HX-Request, Cookie, Accept-Encoding")], 1),
    ([("Cache-Control", "max-age=0, s-maxage=10")], 1),
    ([("Cache-Control", "no-store")], 2),
    ([("Cache-Control", "private, max-age=300")], 2),
    ([("cache-control", "No-Cache")], 2),
    ([("Vary", "Accept-Language")], 2),
    ([("Vary", "*")], 2),
    ([("Vary", "HX-Request"), ("Set-Cookie", "kiosk_session=abc; HttpOnly")], 2),
])
def test_the_cache_keeps_only_what_the_response_allows_a_shared_cache_to_keep(cached_app, make_compound,
                                                                               headers, renders):
    make_compound()
    db.session.remove()
    assert run_through_cache(cached_app, headers) == renders


@pytest.mark.parametrize("cookie, renders", [
    ("", 1),
    ("kiosk_lang=en; kiosk_large=1", 1),
    (" ; ", 1),
    ("kiosk_lang=en; kiosk_lang=zh_CN", 2),  # which one does the app read? don't guess
    ("other=1", 2),
    ('pref={"a":1}', 2),
    ("kiosk_session=x", 2),
    ("Kiosk_Household=x", 2),
    ('"', 2),
])
def test_the_cache_serves_only_requests_whose_cookies_it_fully_understands(cached_app, make_compound, cookie,
                                                                           renders):
    make_compound()
    db.session.remove()
    assert run_through_cache(cached_app, [("Vary", "Cookie")], cookie) == renders
