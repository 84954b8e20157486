"""What a browser is told and an attacker can try: headers, inline code, CSRF, cookies, XSS, error pages."""
import glob
import os
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kiosk.auth.models import Membership, Role, User
from kiosk.compounds.models import Compound
from kiosk.consult import kiosk_votes, service as consult_service
from kiosk.consult.models import Opinion, Proposal, Topic
from kiosk.distribution.models import DistributionEvent
from kiosk.extensions import db
from kiosk.households.cards import COOKIE as CARD_COOKIE, card_household
from kiosk.households.models import Household, HouseholdCard, hash_token, new_token
from kiosk.ledger.models import Category as LedgerCategory, Entry, Period, Question, Transfer
from kiosk.notices.models import Broadcast, Notice
from kiosk.roster.models import RosterMember
from kiosk.screen.models import Screen

from conftest import PASSWORD, ago, ahead, csrf_token, login_as, make_app, post_form
from kiosk.timefmt import local_date, now_local
from security_support import (  # noqa: F401  (app and world are fixtures)
    CSRF_EXPIRED, ROUTE_APP, STATE_CHANGING, ByEndpoint, app, back_links, by_blueprint, fill, find_rule, form_body,
    htmx_config, markup_problems, rule_variants, security_header_problems, shown_fields, soup_of, state,
    traceback_signs,
    without_practice, world,
)

HTMX = {"HX-Request": "true"}
STATIC_VALUES = {"filename": "css/base.css", "state": "on"}

# What a resident's phone does for its household: only a phone that scanned the household card (and so
# carries its cookie) may; any other visitor gets a calm 403 that says to scan the card, with a way back.
HOUSEHOLD_ENDPOINTS = {"consult.my_code", "consult.propose", "consult.vote", "consult.opinion", "ledger.ask",
                       "consult.revoke_proxy"}
# The lobby screen's voting: a one-time code from a resident's phone stands for the household at the keypad,
# and the keypad step's nonce in the ballot form.
KIOSK_CODE_ENDPOINTS = {"consult_kiosk.kiosk_start", "consult_kiosk.kiosk_cast"}
# Only the compound's supervisors sign or return a period (the service refuses everyone else, platform staff too).
SUPERVISOR_ENDPOINTS = {"ledger_admin.sign", "ledger_admin.refuse"}
# Confirming a meeting's minutes is a committee member's own act (platform staff are not on any roster): the
# world's bystander was at its held meeting and has not confirmed yet.
MEMBER_ENDPOINTS = {"meetings_admin.confirm"}
NEED_CARD = "请先扫描住户卡上的二维码"


def carry_card(client, token):
    """The phone has scanned a household card (GET /h/<token> sets this cookie)."""
    client.set_cookie(CARD_COOKIE, token)
    return client


def viewers(app, world):
    """Clients for the kinds of visitor: a passer-by without a household card, a resident whose phone
    carries maple's card, maple's chair, platform staff."""
    anonymous, resident, chair, platform = app.test_client(), app.test_client(), app.test_client(), app.test_client()
    carry_card(resident, world.token)
    login_as(chair, world.chair)
    login_as(platform, world.platform)
    return {"anonymous": anonymous, "resident": resident, "chair": chair, "platform": platform}


def page_problems(response, label):
    """Security-header problems of any response, and inline-code problems of HTML ones."""
    problems = [f"{label}: {p}" for p in security_header_problems(response)]
    if response.mimetype == "text/html":
        html = response.get_data(as_text=True)
        problems += [f"{label}: {p}" for p in markup_problems(html)]
        if "<html" in html and not 300 <= response.status_code < 400:  # redirects carry Werkzeug's stub
            config = htmx_config(html)
            if config.get("includeIndicatorStyles") is not False:
                problems.append(f"{label}: htmx would inject an inline <style> (includeIndicatorStyles)")
            if not (isinstance(config.get("timeout"), int) and config["timeout"] > 0):
                problems.append(f"{label}: htmx requests have no timeout: {config.get('timeout')!r}")
    return problems


# --- headers and inline code on every response -------------------------------------------------------

# Headers and markup do not depend on the database engine: this walk runs on SQLite only.
@pytest.mark.sqlite_only
@pytest.mark.parametrize("variants", by_blueprint(rule_variants(lambda r: True, methods=("GET",))))
def test_every_page_has_security_headers_and_no_inline_code(app, world, variants):
    """Every GET route, as a passer-by, a resident with a household card, a chair and platform staff, as a
    page and as an htmx request. The household's own pages turn away a phone without the card calmly."""
    problems, clients = [], viewers(app, world)
    for param in variants:
        rule, method, fixed = param.values
        path = fill(rule, dict(world.values, **STATIC_VALUES), fixed)
        household_page = find_rule(rule).endpoint in HOUSEHOLD_ENDPOINTS
        statuses = set()
        for who, client in clients.items():
            for headers in ({}, HTMX):
                response = client.get(path, headers=headers)
                statuses.add(response.status_code)
                label = f"{who} {path} {headers or ''} -> {response.status_code}"
                problems += page_problems(response, label)
                if who == "anonymous" and household_page:
                    problems += [f"{label}: {p}" for p in calm_page_problems(response, 403, NEED_CARD)]
                elif who == "anonymous" and response.status_code == 403:
                    problems.append(f"{label}: refused to a visitor without a household card")
                elif who == "resident" and household_page and response.status_code != 200:
                    problems.append(f"{label}: the phone with the household card was refused")
        if not statuses & {200, 204, 302}:
            problems.append(f"{path} never answered normally: {statuses}")
    assert not problems, "\n".join(problems)


def _boom(*args, **kwargs):
    raise RuntimeError("kaboom in /srv/kiosk/secret_settings.py line 42")


ERROR_AND_SPECIAL_REQUESTS = {
    "404 public": lambda c, w, a: c.get("/maple/n/999999"),
    "404 unknown compound": lambda c, w, a: c.get("/nosuch/"),
    "404 admin": lambda c, w, a: (login_as(c, w.chair), c.get("/admin/maple/notices/999999"))[1],
    "403": lambda c, w, a: (login_as(c, w.chair), c.get("/admin/platform/"))[1],
    "405": lambda c, w, a: c.get("/admin/logout"),
    "400 CSRF": lambda c, w, a: c.post("/admin/login", data={"username": "x", "password": "y"}),
    "400 CSRF htmx": lambda c, w, a: (login_as(c, w.chair), c.post(
        f"/admin/maple/notices/{w.notice.id}/archive", headers=HTMX))[1],
    "413": lambda c, w, a: c.post("/admin/login", data=b"x", content_type="multipart/form-data; boundary=x",
                                  environ_overrides={"CONTENT_LENGTH": str(100 * 1024 * 1024)}),
    "500 public": lambda c, w, a: (a.view_functions.__setitem__("compounds.home", _boom), c.get("/maple/"))[1],
    "500 admin": lambda c, w, a: (a.view_functions.__setitem__("notices_admin.index", _boom), login_as(c, w.chair),
                                  c.get("/admin/maple/notices/"))[2],
    "htmx status change fragment": lambda c, w, a: (login_as(c, w.chair), c.post(
        f"/admin/maple/notices/{w.notice.id}/unpublish", headers=dict(HTMX, **{"X-CSRFToken": csrf_token(c)})))[1],
    "htmx library": lambda c, w, a: c.get(soup_of(c.get("/")).find("script", src=re.compile("htmx"))["src"]),
    "admin script": lambda c, w, a: c.get("/static/js/admin.js"),
    "image": lambda c, w, a: c.get(f"/maple/media/{w.image.filename}"),
    "redirect": lambda c, w, a: c.get("/admin/"),
    "unchanged pulse": lambda c, w, a: c.get(f"/maple/pulse?v={db.session.get(Compound, w.maple.id).version}"),
}


@pytest.mark.sqlite_only  # headers do not depend on the database engine
@pytest.mark.parametrize("kind", ERROR_AND_SPECIAL_REQUESTS)
def test_errors_fragments_static_and_redirects_have_security_headers(app, world, monkeypatch, kind):
    monkeypatch.setattr(app, "view_functions", dict(app.view_functions))
    response = ERROR_AND_SPECIAL_REQUESTS[kind](app.test_client(), world, app)
    expected = {"404": 404, "403": 403, "405": 405, "400": 400, "413": 413, "500": 500}.get(kind.split()[0])
    if expected:
        assert response.status_code == expected
    else:
        assert response.status_code < 400, f"{kind}: {response.status_code}"
    if kind == "unchanged pulse":
        assert response.headers.get("HX-Reswap") == "none"  # the answer from below Flask, not the view
    problems = page_problems(response, kind)
    assert not problems, "\n".join(problems)


def test_admin_pages_are_not_cached(client, world):
    """One-time passwords and drafts must not stay in a shared or back-button cache."""
    login_as(client, world.chair)
    for path in ("/admin/maple/notices/", "/admin/maple/members", "/admin/login", "/admin/maple/notices/999999"):
        assert "no-store" in client.get(path).headers.get("Cache-Control", ""), path


def test_htmx_is_configured_against_inline_styles_and_hanging_requests(client, world):
    html = client.get("/maple/").get_data(as_text=True)
    config = htmx_config(html)
    assert config["includeIndicatorStyles"] is False
    assert isinstance(config["timeout"], int) and 0 < config["timeout"] <= 60_000
    assert config.get("allowEval") is False  # hx-on and friends would need 'unsafe-eval'


def test_shipped_scripts_do_not_need_unsafe_eval():
    """Our own JavaScript must run under script-src 'self' without 'unsafe-eval'."""
    static = ROUTE_APP.static_folder
    scripts = glob.glob(os.path.join(static, "js", "*.js"))
    assert scripts
    for path in scripts:
        text = open(path, encoding="utf-8").read()
        assert not re.search(r"\beval\s*\(|new\s+Function\s*\(|setTimeout\s*\(\s*['\"]", text), path


# --- CSRF on every state change ------------------------------------------------------------------------

def other_cookies(response):
    """Cookies a response sets besides the session's (a preference, a household card being forgotten)."""
    return [c for c in response.headers.getlist("Set-Cookie") if not c.startswith("kiosk_session=")]


def calm_page_problems(response, code, message):
    """What keeps a refusal from being a calm page: the wrong status, no sentence, a traceback, no way back."""
    body = response.get_data(as_text=True)
    problems = [] if response.status_code == code else [f"status {response.status_code}, expected {code}"]
    if message not in body:
        problems.append(f"no {message!r}")
    problems += [f"traceback sign {sign!r}" for sign in traceback_signs(body)]
    if not back_links(response):
        problems.append("no way back")
    return problems


def assert_calm_page(response, code, message):
    problems = calm_page_problems(response, code, message)
    assert not problems, problems


def accepted(endpoint, response, before):
    """Whether a request with the token did what it asks (the kiosk's keypad changes nothing: it shows the
    ballot for the code's household; a roll upload shows its preview)."""
    if endpoint == "consult_kiosk.kiosk_start":
        return soup_of(response).find("form", class_="kiosk-ballot") is not None
    if endpoint == "households_admin.import_csv":  # an upload answers its preview; the confirm button saves
        return soup_of(response).find("input", attrs={"name": "token"}) is not None
    return state() != before or bool(other_cookies(response))


def csrf_client(app, world, make_user, endpoint):
    """A client that may do what the route does but for the CSRF token, and the form fields it then needs.
    Platform staff may do everything on the admin pages; a household's request needs the phone with its
    card; the kiosk a fresh one-time code; signing a period a supervisor of maple who recorded nothing in it;
    confirming minutes a member who was at the meeting."""
    client = app.test_client()
    extra = {}
    if endpoint in SUPERVISOR_ENDPOINTS:
        login_as(client, make_user("csrf-supervisor", world.maple, Role.supervisor))
    elif endpoint in MEMBER_ENDPOINTS:
        login_as(client, world.bystander)
    else:
        login_as(client, world.platform)
    if endpoint in HOUSEHOLD_ENDPOINTS:
        carry_card(client, world.token)
    if endpoint in KIOSK_CODE_ENDPOINTS:
        code = kiosk_votes.issue_code(world.maple, world.household)
        db.session.commit()
        if endpoint == "consult_kiosk.kiosk_cast":  # the ballot form carries the keypad step's nonce
            extra["step"] = kiosk_votes.enter(world.maple, world.screen, world.consult.voting, code,
                                              card_household).nonce
        else:
            extra["code"] = code
    if endpoint == "consult.propose":
        extra["kind"] = "suggestion"  # EVERY_FORM_FIELD's kind is a topic's
    if endpoint == "practice_admin.create":
        without_practice(world)  # maple's practice compound is made by this route
    return client, extra


def mangled(token):
    """The token with one character of its signature changed. Not the last characters: a token that already
    ends in "xx", or whose last base64 character differs only in the padding bits the decoder drops (about 1 in
    1000 tokens), would come back unchanged, and the walk over every route hit that now and then."""
    at = len(token) - 5
    return token[:at] + ("A" if token[at] != "A" else "B") + token[at + 1:]


@pytest.mark.parametrize(("rule", "method", "fixed"), rule_variants(lambda r: True, methods=STATE_CHANGING))
def test_state_change_needs_the_csrf_token(app, world, make_user, rule, method, fixed):
    """Without the token (form or htmx), or with another session's: 400, calm, nothing changed.
    With the token in X-CSRFToken, as htmx sends it: accepted. The client may otherwise do what the route
    does (see csrf_client), so a refusal here can only be the CSRF check's."""
    path = fill(rule, world.values, fixed)
    endpoint = find_rule(rule).endpoint
    client, extra = csrf_client(app, world, make_user, endpoint)
    stranger = app.test_client()
    own_token, strangers_token = csrf_token(client), csrf_token(stranger)
    before = state()
    attempts = {
        "form without token": {},
        "htmx without X-CSRFToken": {"headers": HTMX},
        "another session's token": {"data": form_body(world.values, csrf_token=strangers_token, **extra)},
        "another session's token in X-CSRFToken": {"headers": dict(HTMX, **{"X-CSRFToken": strangers_token})},
        "token mangled": {"headers": dict(HTMX, **{"X-CSRFToken": mangled(own_token)})},
    }
    for name, kwargs in attempts.items():
        response = client.open(path, method=method, **{"data": form_body(world.values, **extra), **kwargs})
        assert response.status_code == 400, f"{name}: {response.status_code}"
        assert_calm_page(response, 400, CSRF_EXPIRED)
        assert state() == before, f"{name} changed something"
        assert not other_cookies(response), f"{name} set {other_cookies(response)}"
    response = client.open(path, method=method, data=form_body(world.values, **extra),
                           headers=dict(HTMX, **{"X-CSRFToken": csrf_token(client)}))
    assert response.status_code in (200, 302, 303), response.status_code
    assert CSRF_EXPIRED not in response.get_data(as_text=True)
    assert accepted(endpoint, response, before), "the request with the token was accepted but did nothing"


@pytest.mark.parametrize(("rule", "method", "fixed"),
                         rule_variants(lambda r: r.endpoint in HOUSEHOLD_ENDPOINTS, methods=("GET",) + STATE_CHANGING))
def test_household_routes_without_the_card_are_a_calm_403(app, world, rule, method, fixed):
    """A phone that never scanned the card (or carries another compound's) is told to scan it, calmly,
    with a way back; with a valid CSRF token, so the refusal is the card check's. Nothing changes."""
    path = fill(rule, world.values, fixed)
    for who, card in (("no card", None), ("oak's card", oak_card(world))):
        client = app.test_client()
        if card:
            carry_card(client, card)
        before = state()
        data = form_body(world.values, csrf_token=csrf_token(client)) if method != "GET" else None
        response = client.open(path, method=method, data=data)
        assert_calm_page(response, 403, NEED_CARD)
        assert not page_problems(response, who), page_problems(response, who)
        assert state() == before, f"{who}: changed something"
        assert not other_cookies(response), f"{who}: set {other_cookies(response)}"


def oak_card(world):
    """A live card of oak's household (the world keeps only maple's token)."""
    token = new_token()
    household = db.session.scalar(select(Household).where(Household.compound_id == world.oak.id))
    db.session.add(HouseholdCard(compound_id=world.oak.id, household_id=household.id, token_hash=hash_token(token)))
    db.session.commit()
    return token


def test_the_household_routes_are_the_ones_we_know():
    """Guard against a renamed endpoint making the household and kiosk handling above silently unused."""
    endpoints = {rule.endpoint for rule in ROUTE_APP.url_map.iter_rules()}
    assert HOUSEHOLD_ENDPOINTS | KIOSK_CODE_ENDPOINTS | SUPERVISOR_ENDPOINTS <= endpoints


def test_csrf_over_https_needs_a_same_origin_referer(app, world):
    """On HTTPS Flask-WTF also checks the Referer, which our Referrer-Policy keeps for same-origin posts."""
    client = app.test_client()
    login_as(client, world.chair)
    path = f"/admin/maple/notices/{world.notice.id}/archive"
    token = csrf_token(client)
    headers = {"X-CSRFToken": token}
    before = state()
    for referer in (None, "https://evil.example/admin/maple/notices/", "http://localhost/admin/maple/notices/"):
        extra = {"Referer": referer} if referer else {}
        response = client.post(path, headers=dict(headers, **extra), base_url="https://localhost")
        assert response.status_code == 400, referer
        assert state() == before
    response = client.post(path, headers=dict(headers, Referer="https://localhost/admin/maple/notices/"),
                           base_url="https://localhost")
    assert response.status_code == 302
    assert state() != before


# --- cookies -----------------------------------------------------------------------------------------------

def cookie_attributes(response, name):
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(name + "="):
            return {part.split("=", 1)[0].strip().lower(): (part.split("=", 1) + [""])[1].strip()
                    for part in header.split(";")[1:]}
    raise AssertionError(f"no {name} cookie set: {response.headers.getlist('Set-Cookie')}")


def test_session_cookie_is_httponly_lax_and_not_secure_over_plain_http(client, compound):
    attrs = cookie_attributes(client.get("/admin/login"), "kiosk_session")
    assert "httponly" in attrs
    assert attrs.get("samesite", "").lower() == "lax"
    assert "secure" not in attrs  # a LAN server on plain http must still be able to log in


def test_session_cookie_is_secure_over_https(client, chair):
    attrs = cookie_attributes(client.get("/admin/login", base_url="https://localhost"), "kiosk_session")
    assert {"httponly", "secure"} <= set(attrs) and attrs["samesite"].lower() == "lax"
    token = csrf_token(client, "/admin/login")
    response = client.post("/admin/login", base_url="https://localhost",
                           data={"username": "chair", "password": PASSWORD, "csrf_token": token},
                           headers={"Referer": "https://localhost/admin/login"})
    assert response.status_code == 302
    attrs = cookie_attributes(response, "kiosk_session")
    assert {"httponly", "secure"} <= set(attrs) and attrs["samesite"].lower() == "lax"


def test_session_cookie_is_secure_when_public_url_is_https(tmp_path, database_url):
    """Behind a TLS proxy that doesn't say so (TRUSTED_PROXIES=0), KIOSK_PUBLIC_URL=https://... still marks it."""
    app = make_app(tmp_path, database_url, PUBLIC_URL="https://kiosk.example.org")
    attrs = cookie_attributes(app.test_client().get("/admin/login"), "kiosk_session")
    assert "secure" in attrs and "httponly" in attrs


@pytest.mark.parametrize("path", ["/lang/en?next=/maple/", "/large/on?next=/maple/"])
def test_preference_cookies_are_httponly_lax_and_secure_on_https(client, compound, path):
    if not any(r.rule.startswith("/" + path.split("/")[1] + "/") for r in ROUTE_APP.url_map.iter_rules()):
        pytest.fail(f"{path}: route gone; update this test")
    name = {"lang": "kiosk_lang", "large": "kiosk_large"}[path.split("/")[1]]
    plain = cookie_attributes(client.get(path), name)
    assert "httponly" in plain and plain["samesite"].lower() == "lax" and "secure" not in plain
    secure = cookie_attributes(client.get(path, base_url="https://localhost"), name)
    assert "secure" in secure


# --- open redirects ------------------------------------------------------------------------------------

OFFSITE_NEXT = ["//evil.example/", "https://evil.example/", "/\\evil.example/", "\\\\evil.example/",
                "/\t/evil.example/", "/\n/evil.example/", " //evil.example/", "/%09/evil.example/x",
                "javascript:alert(1)"]


def offsite(location):
    """Whether a browser following this Location would leave the site."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip().replace("\\", "/")
    return cleaned.startswith("//") or bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", cleaned))


@pytest.mark.parametrize("route", ["/lang/en", "/large/on"])
def test_preference_links_do_not_redirect_off_site(client, compound, route):
    for target in OFFSITE_NEXT:
        response = client.get(route, query_string={"next": target})
        assert response.status_code == 302, target
        assert not offsite(response.headers["Location"]), (target, response.headers["Location"])
    assert client.get(route, query_string={"next": "/maple/"}).headers["Location"].endswith("/maple/")


def test_login_does_not_redirect_off_site(client, chair):
    """A phishing link /admin/login?next=... must land on our own pages after a real login."""
    for target in ["/\t/evil.example/", "//evil.example/", "/\\evil.example/"]:
        with client.session_transaction() as session:
            session.clear()
        token = csrf_token(client, "/admin/login")
        response = client.post("/admin/login", query_string={"next": target},
                               data={"username": "chair", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        assert not offsite(response.headers["Location"]), response.headers["Location"]


def test_login_keeps_a_same_site_next(client, chair):
    token = csrf_token(client, "/admin/login")
    response = client.post("/admin/login?next=/admin/maple/members",
                           data={"username": "chair", "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"].endswith("/admin/maple/members")


# --- XSS -----------------------------------------------------------------------------------------------------

PAYLOADS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "{{7*7}}"]
XSS_SLUG = "xss-town"


def plant(app, payload):
    """Submit the payload through every form field a platform admin or committee member can fill."""
    staff = User(username="staff", display_name="街道工作人员", password_hash="x", is_platform_admin=True,
                 must_change_password=False)
    db.session.add(staff)
    db.session.commit()
    platform = app.test_client()
    login_as(platform, staff)
    response = post_form(platform, "/admin/platform/", {
        "name": payload, "slug": XSS_SLUG, "community": payload, "district": payload,
        "admin_name": payload, "admin_username": "xss-chair"})
    assert response.status_code == 200, response.status_code
    compound = db.session.scalar(select(Compound).where(Compound.slug == XSS_SLUG))
    assert compound is not None and compound.name == payload
    base = f"/admin/{XSS_SLUG}"
    body = f"{payload}\n\n[点我](javascript:alert(1))\n\n<img src=x onerror=alert(1)>\n\n<a href=\"{payload}\">x</a>"
    assert post_form(platform, f"{base}/notices/new", {"title": payload, "body": body, "category": "notice",
                                                        "action": "publish"}).status_code == 302
    # Display names are unique per compound (the chair already has the payload as theirs).
    assert post_form(platform, f"{base}/members", {"display_name": f"{payload}（委员）", "username": "xss-member",
                                                   "role": "member"}).status_code == 200
    assert post_form(platform, f"{base}/members", {"display_name": f"{payload}（监督）", "username": "xss-jd",
                                                   "role": "supervisor"}).status_code == 200
    assert post_form(platform, f"{base}/screens/new", {
        "name": payload, "place": payload, "orientation": "portrait", "dwell_seconds": "12",
        "idle_seconds": "60"}).status_code == 302
    assert post_form(platform, "/admin/platform/broadcasts/", {
        "title": payload, "body": payload, "ends_at": "2099-01-01T10:00"}).status_code == 302
    assert post_form(platform, f"{base}/households/new", {
        "building": "1", "entrance": "1", "room": "101", "area": "88.50", "occupancy": "owner_occupied",
        "owner_key": payload, "contact_name": payload, "contact_phone": "13800000000",
        "note": payload}).status_code == 302
    assert post_form(platform, f"{base}/roster/new", {
        "name": payload, "role": "chair", "term_start": "2024-06-01", "term_end": "2099-05-31",
        "intro": payload}).status_code == 302
    assert post_form(platform, f"{base}/events/new", {
        "name": payload, "item": payload, "starts_at": "2026-01-01T09:00", "ends_at": "2099-01-01T18:00",
        "scope": "all"}).status_code == 302
    db.session.rollback()
    chair = db.session.scalar(select(User).where(User.username == "xss-chair"))
    chair.must_change_password = False
    db.session.commit()
    notice = db.session.scalar(select(Notice).where(Notice.compound_id == compound.id, Notice.broadcast_id.is_(None)))
    screen = db.session.scalar(select(Screen).where(Screen.compound_id == compound.id))
    membership = next(m for m in chair.memberships)
    broadcast = db.session.scalar(select(Broadcast))
    household = db.session.scalar(select(Household).where(Household.compound_id == compound.id))
    token = new_token()
    db.session.add(HouseholdCard(compound_id=compound.id, household_id=household.id, token_hash=hash_token(token)))
    db.session.commit()
    values = {"compound": XSS_SLUG, "notice_id": notice.id, "membership_id": membership.id, "name": "x.jpg",
              "screen_id": screen.id, "key": screen.key, "item_id": notice.id, "area": "notices",
              "target": f"n/{notice.id}", "broadcast_id": broadcast.id, "code": "en", "household_id": household.id,
              "member_id": db.session.scalar(select(RosterMember.id)), "token": token,
              "event_id": db.session.scalar(select(DistributionEvent.id)), "compound_id": compound.id,
              **STATIC_VALUES}
    resident = carry_card(app.test_client(), token)
    consult_values, consult_alternates = plant_consultation(platform, resident, compound, payload, body)
    ledger_values, ledger_alternates = plant_ledger(platform, resident, compound, payload)
    meeting_values, meeting_alternates = plant_meeting(compound, chair, payload)
    values.update(consult_values, **ledger_values, **meeting_values)
    values.update(plant_paper(compound, chair, values["topic_id"].default, payload))
    values.update(plant_documents(compound, chair, payload, values["entry_id"]))
    values.update(plant_template(compound, chair, payload))
    return {"platform": platform, "chair": chair, "resident": resident, "notice": notice, "values": values,
            "alternates": dict(consult_alternates, **ledger_alternates, **meeting_alternates)}


def newest(model, compound, *where):
    db.session.rollback()  # see what the requests committed
    return db.session.scalars(select(model).where(model.compound_id == compound.id, *where)
                              .order_by(model.id.desc())).first()


def plant_consultation(platform, resident, compound, payload, body):
    """Two topics with the payload in the title, background and an option: one voting, with the resident's
    opinions (one hidden with the payload as the reason), one closed with its resolution notice and a
    follow-through update; a resident's proposal and the committee's answer. Returns (values, alternates)."""
    base, public = f"/admin/{XSS_SLUG}", f"/{XSS_SLUG}"
    now = now_local().replace(tzinfo=None)

    def stamp(moment):  # what an <input type=datetime-local> sends, in local time
        return moment.strftime("%Y-%m-%dT%H:%M")

    form = {"title": payload, "background": body, "kind": "single", "rule": "ordinary", "seats": "1",
            "options": f"{payload}\n另一个方案", "secret": "y", "visibility": "live", "allow_change": "y",
            "opens_at": stamp(now - timedelta(days=1)), "closes_at": stamp(now + timedelta(days=7))}
    topics = []
    for _ in range(2):
        assert post_form(platform, f"{base}/topics/new", form).status_code == 302
        topic = newest(Topic, compound)
        assert topic.title == payload and topic.options[0].label == payload
        assert post_form(platform, f"{base}/topics/{topic.id}/publish", {},
                         token_from=f"{base}/topics/{topic.id}").status_code == 302
        topics.append(topic.id)
    voting, closed = topics
    # A correction note on the voting topic, and a draft: only a draft's edit form shows its wording.
    assert post_form(platform, f"{base}/topics/{voting}/corrections", {"body": payload},
                     token_from=f"{base}/topics/{voting}").status_code == 302
    assert post_form(platform, f"{base}/topics/new", form).status_code == 302
    draft = newest(Topic, compound).id
    for _ in range(2):
        assert post_form(resident, f"{public}/topics/{voting}/opinions", {"body": payload},
                         token_from=f"{public}/topics/{voting}").status_code == 303
    db.session.rollback()
    opinions = db.session.scalars(select(Opinion.id).where(Opinion.topic_id == voting).order_by(Opinion.id)).all()
    assert len(opinions) == 2
    assert post_form(platform, f"{base}/topics/{voting}/opinions/{opinions[1]}/hide", {"reason": payload},
                     token_from=f"{base}/topics/{voting}").status_code == 302
    assert post_form(resident, f"{public}/proposals/new", {"kind": "suggestion", "title": payload,
                                                           "body": payload}).status_code == 303
    proposal = newest(Proposal, compound)
    assert proposal is not None and proposal.title == payload
    assert post_form(platform, f"{base}/proposals/{proposal.id}/answer", {"answer": payload, "outcome": "answered"},
                     token_from=f"{base}/proposals/").status_code == 302
    # Voting time is up: close it as the sweeper would, then the resolution notice and a follow-through.
    topic = db.session.get(Topic, closed)
    topic.opens_at, topic.closes_at = ago(days=2), ago(hours=1)
    db.session.commit()
    assert consult_service.close_due(db.session.get(Compound, compound.id)) == 1
    db.session.commit()
    assert post_form(platform, f"{base}/topics/{closed}/resolution", {"title": payload, "body": body}
                     ).status_code == 302
    assert post_form(platform, f"{base}/topics/{closed}/updates", {"body": payload},
                     token_from=f"{base}/topics/{closed}").status_code == 302
    db.session.rollback()
    assert db.session.get(Topic, closed).resolution_notice_id is not None
    values = {"topic_id": ByEndpoint(voting, {"consult.resolution_print": closed, "consult_admin.edit": draft}),
              "opinion_id": opinions[0],
              "proposal_id": proposal.id}
    return values, {"topic_id": [closed]}


def plant_ledger(platform, resident, compound, payload):
    """The payload as the book's source of funds, a category, an entry's description and counterparty, two
    residents' questions (one answered with it), a supervisor's reason for returning the period (which is
    then resubmitted, signed and disclosed) and a reversal's reason. Returns (values, alternates)."""
    base, public = f"/admin/{XSS_SLUG}/ledger", f"/{XSS_SLUG}/ledger"
    first = (local_date().replace(day=1) - timedelta(days=1)).replace(day=1)  # last month: closable
    assert platform.get(f"{base}/").status_code == 200  # opens the book
    assert post_form(platform, f"{base}/settings", {
        "opening": "1000.00", "started_on": first.isoformat(), "cadence": "monthly", "signoffs_required": "1",
        "disclosure_days": "15", "source": payload}).status_code == 302
    assert post_form(platform, f"{base}/categories", {"flow": "expense", "name": payload}).status_code == 302
    category = newest(LedgerCategory, compound, LedgerCategory.name == payload)
    assert category is not None
    assert post_form(platform, f"{base}/entries/new", {
        "occurred_on": first.isoformat(), "flow": "expense", "category_id": str(category.id), "amount": "12.50",
        "description": payload, "counterparty": payload, "method": "bank", "topic_id": "0",
        "action": "post"}).status_code == 302
    entry = newest(Entry, compound, Entry.posted.is_(True))
    assert entry is not None and entry.description == payload
    for _ in range(2):
        assert post_form(resident, f"{public}/entries/{entry.number}/ask", {"body": payload},
                         token_from=f"{public}/entries/{entry.number}").status_code == 303
    db.session.rollback()
    questions = db.session.scalars(select(Question.id).where(Question.entry_id == entry.id)
                                   .order_by(Question.id)).all()
    assert len(questions) == 2
    assert post_form(platform, f"{base}/questions/{questions[0]}/answer", {"answer": payload},
                     token_from=f"{base}/questions").status_code == 302
    assert post_form(platform, f"{base}/periods/close", {"actual": "987.50"}).status_code == 302
    period = newest(Period, compound)
    supervisor = User(username="xss-supervisor", display_name="监督委员", password_hash="x",
                      must_change_password=False)
    db.session.add(supervisor)
    db.session.flush()
    db.session.add(Membership(user_id=supervisor.id, compound_id=compound.id, role=Role.supervisor))
    db.session.commit()
    signer = platform.application.test_client()
    login_as(signer, supervisor)
    page = f"{base}/periods/{period.id}"
    assert post_form(signer, f"{page}/refuse", dict(shown_fields(signer, page, "refuse"), reason=payload),
                     token_from=page).status_code == 302
    assert post_form(platform, f"{page}/resubmit", {"actual": "987.50"}, token_from=page).status_code == 302
    assert post_form(signer, f"{page}/sign", shown_fields(signer, page), token_from=page).status_code == 302
    db.session.rollback()
    assert db.session.get(Period, period.id).status == "published"
    assert post_form(platform, f"{base}/entries/{entry.id}/reverse", {"reason": payload},
                     token_from=f"{base}/entries/{entry.id}").status_code == 302
    reversal = newest(Entry, compound, Entry.reverses_id == entry.id)
    assert reversal is not None
    # The maintenance fund: building 1's deposit, and a transfer into the fund, both carrying the payload.
    fund = f"{base}/entries/new?book=maintenance_fund"
    assert platform.get(f"{base}/?book=maintenance_fund").status_code == 200  # opens the fund's book
    deposit = newest(LedgerCategory, compound, LedgerCategory.name == "业主续筹")
    assert post_form(platform, fund, {
        "occurred_on": local_date().isoformat(), "flow": "income", "category_id": str(deposit.id),
        "amount": "50.00", "description": payload, "counterparty": payload, "method": "bank", "topic_id": "0",
        "building": "1", "action": "post"}).status_code == 302
    assert post_form(platform, f"{base}/transfers", {
        "from_book": "public_income", "to_book": "maintenance_fund", "amount": "100.00",
        "occurred_on": local_date().isoformat(), "purpose": payload}).status_code == 302
    transfer = newest(Transfer, compound)
    assert transfer is not None and payload in transfer.from_entry.description
    values = {"entry_id": entry.id, "number": entry.number, "period_id": period.id, "question_id": questions[1],
              "category_id": category.id, "transfer_id": transfer.id, "building": "1",
              "file_path": "README.md"}  # open data: its page is HTML (checked); its files are CSV, JSON, text
    return values, {"entry_id": [reversal.id], "number": [reversal.number]}


def plant_paper(compound, chair, topic_id, payload):
    """On the voting topic: its numbered paper ballots printed, No. 1 entered once, and a written proxy whose
    person is named by the payload (committee-only pages show it). Returns the values of the paper routes."""
    from kiosk.consult.service import paper, proxies

    db.session.rollback()
    compound, chair = db.session.get(Compound, compound.id), db.session.get(User, chair.id)
    topic = db.session.get(Topic, topic_id)
    paper.print_set(compound, chair, topic)
    db.session.commit()
    first = paper.papers(topic)[0]
    paper.enter(compound, chair, topic, first, "first", [topic.options[0].key])
    proxy = proxies.record(compound, chair, topic, first.household, payload, "", "")
    db.session.commit()
    return {"paper_id": first.id, "proxy_id": proxy.id, "ballot_token": first.token}


def plant_documents(compound, chair, payload, entry_id):
    """A contract and an audit report with the payload in their title, auditor, term, a version's note and its page
    text, the contract linked to the planted ledger entry, and a seal-log line corrected with the payload."""
    from datetime import timedelta

    from kiosk.documents import service as documents, textpdf

    today = documents.today()
    pdf = textpdf.build([[payload]])
    contract = documents.create_document(compound, chair, "contract", payload)
    posted = documents.add_version(compound, chair, contract, [("a.pdf", pdf)], today, today + timedelta(days=20),
                                   note=payload)
    documents.publish(compound, chair, posted)
    documents.link_entry(compound, chair, contract, entry_id)
    audit = documents.create_document(compound, chair, "audit", payload, auditor=payload, covers_term=payload)
    documents.publish(compound, chair, documents.add_version(compound, chair, audit, [("a.pdf", pdf)], today,
                                                             today + timedelta(days=40), note=payload))
    line = documents.record_seal(compound, chair, today, payload, payload, "meeting")
    documents.void_seal(compound, chair, line, payload, today, payload, payload, "chair")
    db.session.commit()
    return {"document_id": contract.id, "version_id": posted.id, "seal_id": line.id}


def plant_template(compound, chair, payload):
    """A notice template with the payload as its title and body (the templates page, its edit form, the picker)."""
    from kiosk.notices.template_service import save_template

    template = save_template(compound, chair, None, payload, payload, "notice")
    db.session.commit()
    return {"template_id": template.id}


def plant_meeting(compound, chair, payload):
    """A held meeting with the payload as its place, an agenda item, a decision and the minutes, confirmed by the
    whole committee (the chair and the member planted above); and a planned one, whose edit form shows it.
    Returns (values, alternates)."""
    from kiosk.meetings import service as meetings

    db.session.rollback()
    compound, chair = db.session.get(Compound, compound.id), db.session.get(User, chair.id)
    held = meetings.schedule(compound, chair, None, ago(hours=3), payload, [payload, "另一项"])
    members = [user for user, _role in meetings.committee(compound)]
    meetings.record_attendance(compound, chair, held, {user.id for user in members})
    meetings.decide(compound, chair, held, held.items[0], payload, {user.id: "yes" for user in members})
    meetings.save_minutes(compound, chair, held, payload)
    for user in members:
        meetings.confirm(compound, user, held)
    planned = meetings.schedule(compound, chair, None, ahead(days=3), payload, [payload])
    db.session.commit()
    values = {"meeting_id": ByEndpoint(held.id, {"meetings_admin.edit": planned.id}), "agenda_id": held.items[0].id}
    return values, {"meeting_id": [planned.id]}


def shows_payload_escaped(html, payload):
    """The payload is visible as text, or sits whole in a form field's value."""
    soup = soup_of(html)
    if payload in soup.get_text():
        return True
    return any(tag.get("value") == payload or tag.string == payload for tag in soup.find_all(["input", "textarea"]))


def xss_problems(response, payload, label):
    html = response.get_data(as_text=True)
    problems = [f"{label}: {p}" for p in markup_problems(html)]
    if any(ch in payload for ch in '<>"') and payload in html:
        problems.append(f"{label}: payload appears unescaped")
    return problems


def value_sets(rule_text, values, alternates):
    """The values to fill a rule with: the planted ones, and once more per other object of a kind it names
    (the closed topic besides the voting one, the reversal besides the entry)."""
    sets = [values]
    for arg, others in alternates.items():
        if arg in find_rule(rule_text).arguments:
            sets += [dict(values, **{arg: other}) for other in others]
    return sets


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_show_only_as_text_on_every_page_and_fragment(app, payload):
    planted = plant(app, payload)
    chair = app.test_client()
    login_as(chair, planted["chair"])
    clients = {"resident": planted["resident"], "chair": chair, "platform": planted["platform"]}
    problems, shown = [], set()
    for param in rule_variants(lambda r: r.endpoint != "static", methods=("GET",)):
        rule, _, fixed = param.values
        # Each page as the one who sees the most of it: platform pages as staff, admin pages as the chair,
        # public pages as a resident whose phone carries the household card.
        who = "platform" if rule.startswith("/admin/platform") else "chair" if rule.startswith("/admin") else "resident"
        for values in value_sets(rule, planted["values"], planted["alternates"]):
            path = fill(rule, values, fixed)
            for headers in ({}, HTMX):
                response = clients[who].get(path, headers=headers)
                if response.mimetype not in ("text/html", "image/svg+xml"):
                    continue
                label = f"{who} GET {path} {'htmx' if headers else 'page'}"
                problems += xss_problems(response, payload, label)
                if shows_payload_escaped(response.get_data(as_text=True), payload):
                    shown.add((param.id, bool(headers)))
    # The htmx status change answers with the row fragment.
    response = chair.post(f"/admin/{XSS_SLUG}/notices/{planted['notice'].id}/unpublish",
                          headers=dict(HTMX, **{"X-CSRFToken": csrf_token(chair)}))
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    problems += xss_problems(response, payload, "htmx status change row")
    assert shows_payload_escaped(response.get_data(as_text=True), payload)
    assert not problems, "\n".join(problems)
    # ...and it was really on the pages that show these fields, not silently dropped.
    expected = {("GET /<compound>/", False), ("GET /<compound>/", True), ("GET /<compound>/n/<int:notice_id>", False),
                ("GET /admin/<compound>/notices/", False),
                ("GET /admin/<compound>/notices/<int:notice_id>/edit", False),
                ("GET /admin/<compound>/members", False), ("GET /admin/platform/", False),
                ("GET /admin/<compound>/audit", False), ("GET /admin/<compound>/screens/", False),
                ("GET /admin/platform/broadcasts/", False), ("GET /<compound>/committee", False),
                ("GET /admin/<compound>/households/<int:household_id>", False),
                ("GET /admin/<compound>/events/<int:event_id>", False),
                ("GET /<compound>/events/<int:event_id>", False),
                # consultations
                ("GET /<compound>/topics", False), ("GET /<compound>/topics/<int:topic_id>", False),
                ("GET /<compound>/topics/<int:topic_id>/print", False), ("GET /<compound>/proposals", False),
                ("GET /<compound>/kiosk/<key>/vote/<int:topic_id>", False),
                ("GET /admin/<compound>/topics/", False), ("GET /admin/<compound>/topics/<int:topic_id>", False),
                ("GET /admin/<compound>/topics/<int:topic_id>/edit", False),
                ("GET /admin/<compound>/proposals/", False),
                # the ledger
                ("GET /<compound>/ledger/", False), ("GET /<compound>/ledger/<int:period_id>", False),
                ("GET /<compound>/ledger/entries/<int:number>", False),
                ("GET /admin/<compound>/ledger/", False), ("GET /admin/<compound>/ledger/categories", False),
                ("GET /admin/<compound>/ledger/settings", False),
                ("GET /admin/<compound>/ledger/entries/<int:entry_id>", False),
                ("GET /admin/<compound>/ledger/periods/<int:period_id>", False),
                ("GET /admin/<compound>/ledger/periods/<int:period_id>/print", False),
                ("GET /admin/<compound>/ledger/questions", False),
                # committee meetings
                ("GET /admin/<compound>/meetings/<int:meeting_id>", False),
                # the document library
                ("GET /<compound>/docs/", False), ("GET /<compound>/docs/<int:document_id>", False),
                ("GET /<compound>/docs/<int:document_id>/v/<int:version_id>", False),
                ("GET /<compound>/docs/seal", False), ("GET /admin/<compound>/documents/", False),
                ("GET /admin/<compound>/documents/<int:document_id>", False),
                ("GET /admin/<compound>/documents/seal", False)}
    assert expected <= shown, sorted(expected - shown)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_urls_and_the_login_form_are_not_reflected_raw(app, world, payload):
    """Reflected XSS: what a link or a form can carry comes back escaped, if at all."""
    client = app.test_client()
    requests = [
        ("GET /<slug>/?c=", lambda: client.get("/maple/", query_string={"c": payload})),
        ("GET /<slug>/?c= htmx", lambda: client.get("/maple/", query_string={"c": payload}, headers=HTMX)),
        ("GET /admin/login?next=", lambda: client.get("/admin/login", query_string={"next": payload})),
        ("GET unknown path", lambda: client.get("/maple/n/" + payload)),
        ("GET unknown compound", lambda: client.get("/" + payload + "/")),
        ("POST login with the payload as username", lambda: post_form(
            client, "/admin/login", {"username": payload, "password": "wrong-password-1"})),
    ]
    for label, send in requests:
        response = send()
        if response.mimetype == "text/html":
            problems = xss_problems(response, payload, label)
            assert not problems, problems
        else:
            assert response.status_code in (301, 302, 308), label


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_usernames_are_refused(app, world, payload):
    """Usernames are plain ASCII identifiers: the member form refuses markup next to the field."""
    client = app.test_client()
    login_as(client, world.chair)
    before = state()
    response = post_form(client, "/admin/maple/members", {"display_name": "新委员", "username": payload,
                                                          "role": "member"})
    assert response.status_code == 400
    assert "用户名用 3–40 个字母" in response.get_data(as_text=True)
    assert not xss_problems(response, payload, "members form")
    assert state() == before


# --- error pages ------------------------------------------------------------------------------------------------

UNKNOWN = {"notice_id": 999999, "membership_id": 999999, "name": "0" * 32 + ".jpg", "screen_id": 999999,
           "key": "no-such-screen", "item_id": 999999, "broadcast_id": 999999, "household_id": 999999,
           "member_id": 999999, "event_id": 999999,
           "topic_id": 999999, "opinion_id": 999999, "proposal_id": 999999, "entry_id": 999999, "period_id": 999999,
           "question_id": 999999, "category_id": 999999, "receipt_id": 999999, "number": 999999,
           "meeting_id": 999999, "agenda_id": 999999}


def test_unknown_ids_are_a_calm_404(app, world):
    """Every route that names an object (from the url_map), with an id that does not exist, as platform staff:
    once per object it names, that one unknown and the others real (a kiosk's topic behind a real screen key)."""
    client = app.test_client()
    login_as(client, world.platform)
    checked = []
    before = state()
    for param in rule_variants(lambda r: bool(set(UNKNOWN) & r.arguments), methods=("GET", "POST")):
        rule, method, fixed = param.values
        for arg in sorted(set(UNKNOWN) & find_rule(rule).arguments):
            path = fill(rule, dict(world.values, **{arg: UNKNOWN[arg]}), fixed)
            data = form_body(world.values, csrf_token=csrf_token(client)) if method == "POST" else None
            response = client.open(path, method=method, data=data)
            assert response.status_code == 404, f"{param.id} unknown {arg}: {response.status_code}"
            assert_calm_page(response, 404, "找不到这个页面")
            checked.append(f"{param.id} unknown {arg}")
    assert state() == before, "a request for an unknown object changed something"
    assert len(checked) >= 10, checked


@pytest.mark.parametrize(("endpoint", "path"), [("compounds.home", "/maple/"),
                                                ("notices_admin.index", "/admin/maple/notices/")])
def test_unexpected_exception_is_a_calm_500(app, world, monkeypatch, endpoint, path):
    monkeypatch.setitem(app.view_functions, endpoint, _boom)
    client = app.test_client()
    login_as(client, world.chair)
    response = client.get(path)
    assert_calm_page(response, 500, "服务器出了点问题")
    assert "kaboom" not in response.get_data(as_text=True)


def test_wrong_method_is_a_calm_405(client):
    response = client.get("/admin/logout")
    assert_calm_page(response, 405, "这个网址不能这样打开")
    assert "POST" in response.headers["Allow"]


def test_healthz_says_ok_in_json(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.is_json and response.get_json()["status"] == "ok"
    assert response.headers["Cache-Control"] == "no-store"



@pytest.mark.sqlite_only  # the session cookie's signature, whatever the database
def test_a_new_secret_key_is_used_at_once_by_the_kept_session_serializer(app):
    """The session serializer is made once per set of keys (kiosk/security.py): after the key changes, a cookie
    signed with the old one is refused unless the old key is listed in SECRET_KEY_FALLBACKS."""
    from itsdangerous import BadSignature

    interface = app.session_interface
    old_cookie = interface.get_signing_serializer(app).dumps({"csrf_token": "abc"})
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)  # kept
    old = app.secret_key
    app.secret_key = "rotated-" + "k" * 56
    with pytest.raises(BadSignature):
        interface.get_signing_serializer(app).loads(old_cookie)
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert interface.get_signing_serializer(app).loads(old_cookie) == {"csrf_token": "abc"}
    new_cookie = interface.get_signing_serializer(app).dumps({"csrf_token": "def"})
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert interface.get_signing_serializer(app).loads(new_cookie) == {"csrf_token": "def"}
