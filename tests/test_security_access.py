"""Who may open which admin page: every route from the url_map, per role and per compound.

The routes come from app.url_map at collection time, so a new route is tested the day it is added;
a route whose URL this file cannot fill, or whose roles nobody decided, fails until someone does.
State-changing requests carry a valid CSRF token, so a refusal is the access check's, not CSRF's,
and every refusal is also checked to have changed nothing in the database.
"""
import pytest
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.extensions import db

from conftest import PASSWORD, csrf_token, login_as, post_form
from security_support import (  # noqa: F401  (app and world are fixtures)
    OBJECT_ARGS, ROUTE_APP, STATE_CHANGING, app, by_blueprint, fill, find_rule, form_body, is_admin_rule,
    redirect_path, request_as, rule_variants, seat_on_roster, state, without_practice, world,
)

OPEN_ADMIN_RULES = {"/admin/login"}  # the login form is for anonymous visitors by design


def protected_admin_rule(rule):
    return is_admin_rule(rule) and rule.rule not in OPEN_ADMIN_RULES


def compound_admin_rule(rule):
    return rule.rule.startswith("/admin/<compound>/")


def platform_rule(rule):
    return rule.rule.startswith("/admin/platform")


def compound_object_variants():
    """(rule, method, fixed, foreign): routes that look up an object inside a compound, admin and public,
    once per object argument (that one filled from maple, the rest from oak)."""
    params = []
    for param in rule_variants(lambda r: "compound" in r.arguments and bool(OBJECT_ARGS & r.arguments)):
        rule, method, fixed = param.values
        for foreign in sorted(OBJECT_ARGS & find_rule(rule).arguments):
            params.append(pytest.param(rule, method, fixed, foreign, id=f"{param.id} foreign={foreign}"))
    return params


def test_the_route_walk_sees_the_routes_we_know():
    """Guard against an empty or broken walk making the parametrised tests below vacuous."""
    endpoints = {rule.endpoint for rule in ROUTE_APP.url_map.iter_rules()}
    assert {"notices_admin.create", "notices_admin.edit", "notices_admin.change_status", "compound_admin.members",
            "compound_admin.remove_member", "platform.index", "auth.password", "auth.logout",
            "notices.show", "media.image"} <= endpoints
    assert len(rule_variants(protected_admin_rule)) >= 17
    assert len(compound_object_variants()) >= 5
    assert not any(r.rule.startswith("/admin/lang") for r in ROUTE_APP.url_map.iter_rules()), \
        "a language route under /admin would need an entry in OPEN_ADMIN_RULES"


@pytest.mark.parametrize("variants", by_blueprint(rule_variants(protected_admin_rule)))
def test_outsiders_are_refused(app, world, variants):
    """An anonymous visitor is sent to the login page. oak's chair asking for maple's admin pages finds
    they don't exist (404); platform pages are 403 to every committee account. Nothing changes."""
    anonymous, intruder = app.test_client(), app.test_client()
    login_as(intruder, world.intruder)
    wrong = []
    before = state()
    for param in variants:
        rule, method, fixed = param.values
        path = fill(rule, world.values, fixed)
        response = request_as(anonymous, method, path, world.values)
        if response.status_code != 302 or redirect_path(response) != "/admin/login":
            wrong.append(f"anonymous {param.id}: {response.status_code} {response.headers.get('Location')}")
        if compound_admin_rule(find_rule(rule)) or platform_rule(find_rule(rule)):
            expected = 403 if platform_rule(find_rule(rule)) else 404
            response = request_as(intruder, method, path, world.values)
            if response.status_code != expected or "枫叶" in response.get_data(as_text=True):
                wrong.append(f"oak's chair {param.id}: {response.status_code}, expected {expected}")
        if state() != before:
            wrong.append(f"{param.id}: a refused request changed something")
            before = state()
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("variants", by_blueprint(compound_object_variants()))
def test_other_compounds_object_under_own_compound_is_not_found(app, world, variants):
    """oak's chair puts one of maple's ids (notice, membership, image, screen, household...) in an /oak/ URL:
    404, whether the URL is an admin or a public one, and nothing changes."""
    client = app.test_client()
    login_as(client, world.intruder)
    wrong = []
    before = state()
    for param in variants:
        rule, method, fixed, foreign = param.values
        values = dict(world.oak_values, **{foreign: world.values[foreign]})
        response = request_as(client, method, fill(rule, values, fixed), values)
        body = response.get_data(as_text=True)
        if response.status_code != 404 or "枫叶" in body or "bystander" in body.lower():
            wrong.append(f"{param.id}: {response.status_code}")
        if state() != before:
            wrong.append(f"{param.id}: changed something")
            before = state()
    assert not wrong, "\n".join(wrong)


# Which committee roles may use each compound admin route (platform staff may use all of them, and
# only platform staff the /admin/platform ones). A new route fails the matrix until it is listed here.
EDITORS = {Role.chair, Role.vice_chair, Role.member}
LEADERS = {Role.chair, Role.vice_chair}
EVERYONE = set(Role)
ALLOWED = {
    ("notices_admin.index", "GET"): EVERYONE,
    ("notices_admin.show", "GET"): EVERYONE,
    ("notices_admin.create", "GET"): EDITORS,
    ("notices_admin.create", "POST"): EDITORS,
    ("notices_admin.edit", "GET"): EDITORS,
    ("notices_admin.edit", "POST"): EDITORS,
    ("notices_admin.change_status", "POST"): EDITORS,
    # Notice templates: for the members who write notices (admin only; residents never see them).
    ("notice_templates.index", "GET"): EDITORS,
    ("notice_templates.index", "POST"): EDITORS,
    ("notice_templates.edit", "GET"): EDITORS,
    ("notice_templates.edit", "POST"): EDITORS,
    ("notice_templates.delete", "POST"): EDITORS,
    ("compound_admin.members", "GET"): LEADERS,
    ("compound_admin.members", "POST"): LEADERS,
    ("compound_admin.remove_member", "POST"): LEADERS,  # a supervisor's membership: platform staff only
    # Supervisors are appointed by platform staff, directly (members page) or by applying an election.
    ("supervisors_admin.election", "GET"): set(),
    ("supervisors_admin.apply_election", "POST"): set(),
    ("compound_admin.audit", "GET"): EVERYONE,  # supervisors above all may read the audit log
    ("screen_admin.index", "GET"): EVERYONE,
    ("screen_admin.show", "GET"): EVERYONE,
    ("screen_admin.poster", "GET"): EVERYONE,
    ("screen_admin.create", "GET"): EDITORS,
    ("screen_admin.create", "POST"): EDITORS,
    ("screen_admin.edit", "GET"): EDITORS,
    ("screen_admin.edit", "POST"): EDITORS,
    ("screen_admin.retire", "POST"): EDITORS,
    ("screen_admin.reload", "POST"): EDITORS,  # as editing a screen's settings
    ("screen_admin.reload_all", "POST"): EDITORS,
    ("households_admin.index", "GET"): EVERYONE,
    ("households_admin.show", "GET"): EVERYONE,
    ("households_admin.export_csv", "GET"): EVERYONE,
    ("households_admin.create", "GET"): EDITORS,
    ("households_admin.create", "POST"): EDITORS,
    ("households_admin.edit", "GET"): EDITORS,
    ("households_admin.edit", "POST"): EDITORS,
    ("households_admin.import_csv", "GET"): EDITORS,
    ("households_admin.import_csv", "POST"): EDITORS,
    ("households_admin.import_sample", "GET"): EDITORS,  # a made-up roll to try the import preview with
    ("cards_admin.index", "GET"): EVERYONE,
    ("cards_admin.print_sheet", "POST"): EDITORS,
    ("cards_admin.reissue", "POST"): EDITORS,
    ("cards_admin.revoke", "POST"): EDITORS,
    ("cards_admin.confirm", "POST"): EDITORS,
    ("cards_admin.cancel", "POST"): EDITORS,
    ("cards_admin.delivery", "GET"): EVERYONE,  # how cards were handed over: the committee's, supervisors too
    ("cards_admin.record_delivery", "POST"): EDITORS,
    ("roster_admin.index", "GET"): EVERYONE,
    ("roster_admin.create", "GET"): EDITORS,
    ("roster_admin.create", "POST"): EDITORS,
    ("roster_admin.edit", "GET"): EDITORS,
    ("roster_admin.edit", "POST"): EDITORS,
    ("roster_admin.end", "POST"): EDITORS,
    ("roster_admin.remove", "POST"): EDITORS,
    ("distribution_admin.index", "GET"): EVERYONE,
    ("distribution_admin.show", "GET"): EVERYONE,
    ("distribution_admin.progress", "GET"): EVERYONE,
    ("distribution_admin.household", "GET"): EVERYONE,
    ("distribution_admin.export", "GET"): EVERYONE,
    ("distribution_admin.create", "GET"): EDITORS,
    ("distribution_admin.create", "POST"): EDITORS,
    ("distribution_admin.edit", "GET"): EDITORS,
    ("distribution_admin.edit", "POST"): EDITORS,
    ("distribution_admin.pickup", "POST"): EDITORS,
    ("consult_admin.index", "GET"): EVERYONE,
    ("consult_admin.show", "GET"): EVERYONE,
    ("consult_admin.results", "GET"): EVERYONE,
    ("consult_admin.export_results", "GET"): EVERYONE,  # supervisors check results afterwards
    ("consult_admin.export_ballots", "GET"): EVERYONE,
    ("consult_admin.create", "GET"): EDITORS,
    ("consult_admin.create", "POST"): EDITORS,
    ("consult_admin.edit", "GET"): EDITORS,
    ("consult_admin.edit", "POST"): EDITORS,
    ("consult_admin.publish", "POST"): EDITORS,
    ("consult_admin.correct", "POST"): LEADERS,  # a correction note during a vote is the committee's word
    ("consult_admin.paper", "POST"): EDITORS,
    ("consult_admin.paper_ballots", "GET"): EVERYONE,  # supervisors watch the paper count
    ("consult_admin.paper_scan", "GET"): EVERYONE,
    ("consult_admin.print_ballots", "POST"): EDITORS,
    ("consult_admin.ballot_sheets", "GET"): EDITORS,  # addresses on paper: printed by those who deliver them
    ("consult_admin.receipts", "GET"): EDITORS,
    ("consult_admin.enter_paper", "POST"): EDITORS,
    ("consult_admin.resolve_paper", "POST"): LEADERS,  # the chair's third look decides a mismatch
    ("consult_admin.proxies", "GET"): EVERYONE,
    ("consult_admin.procedure_record_page", "GET"): EVERYONE,  # the street office and supervisors check the procedure
    ("consult_admin.record_proxy", "POST"): EDITORS,
    ("consult_admin.proxy_vote", "POST"): EDITORS,
    ("consult_admin.revoke_proxy", "POST"): EDITORS,
    ("consult_admin.proxy_limit", "POST"): LEADERS,
    ("consult_admin.hide_opinion", "POST"): EDITORS,
    ("consult_admin.resolution", "GET"): EDITORS,
    ("consult_admin.resolution", "POST"): EDITORS,
    ("consult_admin.update", "POST"): EDITORS,
    ("consult_admin.extend", "POST"): EDITORS,  # as publishing: the reason is shown to residents, audited
    ("consult_admin.export_platform", "GET"): EVERYONE,  # like the other result exports
    ("proposals_admin.index", "GET"): EVERYONE,
    ("proposals_admin.answer", "POST"): EDITORS,
    ("ledger_admin.index", "GET"): EVERYONE,
    ("ledger_admin.entry", "GET"): EVERYONE,
    ("ledger_admin.period", "GET"): EVERYONE,  # supervisors review periods
    ("ledger_admin.export_csv", "GET"): EVERYONE,
    ("ledger_admin.export_xlsx", "GET"): EVERYONE,
    ("ledger_admin.print_notice", "GET"): EVERYONE,
    ("ledger_admin.questions", "GET"): EVERYONE,
    ("ledger_admin.budgets", "GET"): EVERYONE,
    ("ledger_admin.categories", "GET"): EVERYONE,
    ("ledger_admin.categories", "POST"): EDITORS,
    ("ledger_admin.rename_category", "POST"): EDITORS,
    ("ledger_admin.archive_category", "POST"): EDITORS,
    ("ledger_admin.new_entry", "GET"): EDITORS,
    ("ledger_admin.new_entry", "POST"): EDITORS,
    ("ledger_admin.edit_entry", "GET"): EDITORS,
    ("ledger_admin.edit_entry", "POST"): EDITORS,
    ("ledger_admin.post_entry", "POST"): EDITORS,
    ("ledger_admin.delete_entry", "POST"): EDITORS,
    ("ledger_admin.reverse", "POST"): EDITORS,
    ("ledger_admin.receipt_visibility", "POST"): EDITORS,
    ("ledger_admin.answer", "POST"): EDITORS,
    ("ledger_admin.close", "GET"): EDITORS,
    ("ledger_admin.close", "POST"): EDITORS,
    ("ledger_admin.resubmit", "POST"): EDITORS,
    ("ledger_admin.sign", "POST"): {Role.supervisor},  # supervisors sign; the service also refuses the rest
    ("ledger_admin.refuse", "POST"): {Role.supervisor},
    ("ledger_admin.settings", "GET"): LEADERS,
    ("ledger_admin.settings", "POST"): LEADERS,
    ("ledger_admin.budget", "POST"): LEADERS,
    ("ledger_admin.transfers", "GET"): EVERYONE,  # supervisors check transfers between books
    ("ledger_admin.transfers", "POST"): EDITORS,
    ("ledger_admin.reverse_transfer", "POST"): EDITORS,
    ("ledger_admin.building_csv", "GET"): EVERYONE,
    ("ledger_admin.building_print", "GET"): EVERYONE,
    # Reminders: who has not voted is on the topic page for every committee account already; the phones of
    # non-voters leave the system, so only the leaders may take them (each export audited).
    ("consult_admin.reminders", "GET"): EVERYONE,
    ("consult_admin.reminder_sheet", "GET"): EVERYONE,
    ("consult_admin.reminder_slips", "GET"): EVERYONE,
    ("consult_admin.export_phones", "POST"): LEADERS,
    # Committee meetings: supervisors read everything (how each member voted too); members run the meeting;
    # confirming minutes is each member's own act (the service refuses anyone not on the meeting's roster).
    # The setup checklist and the starter kit: everyone on the committee reads them; posters are ticked by editors.
    ("setup_admin.index", "GET"): EVERYONE,
    ("setup_admin.kit", "GET"): EVERYONE,
    ("setup_admin.posters", "POST"): EDITORS,
    ("meetings_admin.index", "GET"): EVERYONE,
    ("meetings_admin.show", "GET"): EVERYONE,
    ("meetings_admin.notice", "GET"): EVERYONE,
    ("meetings_admin.create", "GET"): EDITORS,
    ("meetings_admin.create", "POST"): EDITORS,
    ("meetings_admin.edit", "GET"): EDITORS,
    ("meetings_admin.edit", "POST"): EDITORS,
    ("meetings_admin.sent", "POST"): EDITORS,
    ("meetings_admin.attendance", "POST"): EDITORS,
    ("meetings_admin.decide", "POST"): EDITORS,
    ("meetings_admin.minutes", "POST"): EDITORS,
    ("meetings_admin.confirm", "POST"): EDITORS,
    ("meetings_admin.post", "POST"): EDITORS,
    # The document library: every committee account reads it (supervisors audit it); members upload, publish,
    # link a contract's entries and keep the seal log.
    ("documents_admin.index", "GET"): EVERYONE,
    ("documents_admin.show", "GET"): EVERYONE,
    ("documents_admin.seal", "GET"): EVERYONE,
    ("documents_admin.export", "GET"): EVERYONE,
    ("documents_admin.create", "GET"): EDITORS,
    ("documents_admin.create", "POST"): EDITORS,
    ("documents_admin.add_version", "POST"): EDITORS,
    ("documents_admin.publish", "POST"): EDITORS,
    ("documents_admin.link_entry", "POST"): EDITORS,
    ("documents_admin.seal", "POST"): EDITORS,
    ("documents_admin.void_seal", "POST"): EDITORS,
    # The practice compound (issue 17): every member may open it; the chair makes it; those who post reset it
    # (on maple's practice compound: a real compound is never reset).
    ("practice_admin.index", "GET"): EVERYONE,
    ("practice_admin.create", "POST"): {Role.chair},
    ("practice_admin.reset", "GET"): EDITORS,
    ("practice_admin.reset", "POST"): EDITORS,
}
# Weakest first: each refused role is tried before the state changes; the weakest allowed role then
# makes the change.
ROLE_ORDER = [Role.supervisor, Role.member, Role.vice_chair, Role.chair, "platform"]


def allowed_roles(rule, method):
    if platform_rule(find_rule(rule)):
        return {"platform"}
    endpoint = find_rule(rule).endpoint
    assert (endpoint, method) in ALLOWED, f"decide which roles may {method} {rule} (ALLOWED above)"
    return ALLOWED[(endpoint, method)] | {"platform"}


def role_clients(app, world, make_user, endpoint=None):
    clients, users = {}, []
    for role in ROLE_ORDER:
        clients[role] = app.test_client()
        if role == "platform":
            login_as(clients[role], world.platform)
            continue
        users.append(make_user(f"r-{role}", world.maple, role))
        login_as(clients[role], users[-1])
    if endpoint in ON_THE_ROSTER:  # the action is only for members of the committee at that meeting
        seat_on_roster(world.values[ON_THE_ROSTER[endpoint]].pick(endpoint), users)
    mirror_practice(world, remove=endpoint == "practice_admin.create")
    return clients


def mirror_practice(world, remove=False):
    """Give maple's practice compound maple's committee (as opening it would, so reading its pages writes
    nothing); or take it away, for the route that makes it."""
    from kiosk.compounds.models import Compound
    from kiosk.practice import service as practice

    if remove:
        without_practice(world)
        return
    practice.mirror(world.maple, db.session.scalar(select(Compound).where(Compound.practice_of == world.maple.id)))
    db.session.commit()


# Routes whose allowed roles act only as members of a meeting's roster: {endpoint: the URL argument naming it}.
ON_THE_ROSTER = {"meetings_admin.confirm": "meeting_id"}


def test_role_matrix_pages(app, world, make_user):
    """Every compound admin and platform page (GET), for every role: allowed ones open, others are 403."""
    clients = role_clients(app, world, make_user)
    wrong, checked = [], 0
    before = state()
    for param in rule_variants(lambda r: compound_admin_rule(r) or platform_rule(r), methods=("GET",)):
        rule, method, fixed = param.values
        path = fill(rule, world.values, fixed)
        allowed = allowed_roles(rule, method)
        for role, client in clients.items():
            response = client.get(path)
            body = response.get_data().decode("utf-8", "replace")  # an XLSX export is binary
            checked += 1
            opened = response.status_code in (200, 302) and redirect_path(response) != "/admin/login"
            if role in allowed and not opened:
                wrong.append(f"{role} may GET {path} but got {response.status_code}")
            elif role not in allowed and (response.status_code != 403 or "您没有权限做这件事" not in body):
                wrong.append(f"{role} may not GET {path} but got {response.status_code}")
    assert not wrong, "\n".join(wrong)
    assert checked >= 5 * 20
    assert state() == before


@pytest.mark.parametrize(("rule", "method", "fixed"),
                         rule_variants(lambda r: compound_admin_rule(r) or platform_rule(r), methods=STATE_CHANGING))
def test_role_matrix_changes(app, world, make_user, rule, method, fixed):
    """Supervisors review but do not post, edit or change status; only leaders manage accounts;
    no committee role reaches the platform pages (403). Refused roles change nothing; the weakest
    allowed role's request does change something."""
    allowed = allowed_roles(rule, method)
    path = fill(rule, world.values, fixed)
    clients = role_clients(app, world, make_user, find_rule(rule).endpoint)
    for role, client in clients.items():
        if role not in allowed:
            before = state()
            response = request_as(client, method, path, world.values)
            assert response.status_code == 403, f"{role}: {response.status_code}"
            assert "您没有权限做这件事" in response.get_data(as_text=True)
            assert state() == before, f"{role} was refused but something changed"
        else:
            before = state()
            response = request_as(client, method, path, world.values)
            assert response.status_code in (200, 302), f"{role}: {response.status_code}"
            assert redirect_path(response) != "/admin/login"
            assert state() != before, f"{role} is allowed, but the change did nothing"
            break  # the state has changed: stronger roles would be testing a different situation


def test_every_state_change_is_a_post():
    """The tests above and the CSRF tests send POST; another verb would need them extended."""
    for rule in ROUTE_APP.url_map.iter_rules():
        assert not (set(STATE_CHANGING) - {"POST"}) & rule.methods, rule.rule


def test_supervisor_sees_no_edit_buttons(client, world, make_user):
    """The pages a supervisor may read don't offer the actions that would be refused."""
    login_as(client, make_user("watcher", world.maple, Role.supervisor))
    index = client.get("/admin/maple/notices/").get_data(as_text=True)
    assert "枫叶的公开通知" in index
    assert "/admin/maple/notices/new" not in index
    assert f"/admin/maple/notices/{world.notice.id}/edit" not in index
    assert f"/admin/maple/notices/{world.notice.id}/archive" not in index


def test_public_pages_show_only_this_compounds_public_notices(client, world):
    for path in ["/maple/n/{oak}", "/oak/n/{draft}", "/maple/n/{draft}", "/maple/media/{unknown}", "/nosuch/",
                 "/nosuch/n/{notice}", "/admin/nosuch/notices/"]:
        path = path.format(oak=world.oak_notice.id, draft=world.draft.id, notice=world.notice.id,
                           unknown="f" * 32 + ".jpg")
        response = client.get(path)
        assert response.status_code == 404, path
        assert "找不到这个页面" in response.get_data(as_text=True)


# --- the supervisory body: only platform staff (or an election they apply) change it -------------------------

def supervisory_body(target, own_signer):
    """Who can sign, as the database has it: every supervisor seat, the target supervisor's account (name,
    username, password, whether it is active or must change its password), every account of the compound
    named like the target, the public record of appointments, and every signature but own_signer's.

    Real compounds only: a practice compound (issue 17) mirrors the real committee, supervisors included, and
    its reset seeds periods they sign; none of that seats anyone or signs anything that counts."""
    from kiosk.auth.models import Membership, SupervisorChange, User
    from kiosk.compounds.models import REAL, Compound
    from kiosk.ledger.models import Period, Signoff
    from sqlalchemy import func, select

    db.session.rollback()
    real = select(Compound.id).where(REAL)
    seats = sorted(db.session.execute(select(Membership.compound_id, Membership.user_id, Membership.name_key)
                                      .where(Membership.role == Role.supervisor,
                                             Membership.compound_id.in_(real))).all())
    account = db.session.execute(select(User.username, User.display_name, User.password_hash, User.active,
                                        User.must_change_password).where(User.id == target.id)).one()
    key = db.session.scalar(select(Membership.name_key).where(Membership.user_id == target.id,
                                                              Membership.compound_id.in_(real)))
    alike = sorted(db.session.execute(select(Membership.user_id, Membership.role)
                                      .where(Membership.name_key == key, Membership.compound_id.in_(real))).all())
    records = db.session.scalar(select(func.count()).select_from(SupervisorChange))
    signers = sorted(db.session.scalars(select(Signoff.user_id).join(Period, Period.id == Signoff.period_id)
                                        .where(Signoff.user_id != own_signer.id, Period.compound_id.in_(real))))
    db.session.rollback()
    return seats, account, alike, records, signers


# What a committee member would send to seat, rename, re-key or remove a supervisor, or to sign as one: aimed at
# 刘桂兰 (a look-alike of her name, her membership), seating a supervisor of their own choosing, and turning a
# member account the chair made into a supervisor (its membership, its username).
SUPERVISOR_ATTACKS = [
    ("target", {"role": "supervisor", "display_name": "劉桂蘭", "username": "liu-fake", "name": "刘 桂 兰",
                "new": "a-brand-new-password-1", "confirm": "a-brand-new-password-1", "password": PASSWORD,
                "current": PASSWORD}),
    ("target", {"role": "supervisor", "display_name": "自己人", "username": "own-man", "winner": "自己人"}),
    ("own", {"role": "supervisor", "display_name": "Own-Member", "username": "own-member"}),
]


def test_only_platform_staff_change_the_supervisory_body(app, world, make_user):
    """Every state-changing admin route (the url_map's, so a new one is walked the day it is added), as each
    committee role of maple -- another supervisor too -- with bodies aimed at the supervisor 刘桂兰 (a supervisor
    role, a look-alike of her name, a new password, her membership's id) and at a member account the chair made
    (its membership, its username, role=supervisor). No request seats, renames or re-keys a supervisor, resets
    her password, adds a look-alike account, records an appointment, removes her, or signs anything (but the
    attacking supervisor's own signature)."""
    from kiosk.auth.models import Membership
    from sqlalchemy import select

    target = make_user("liu-sup", world.maple, Role.supervisor)
    target.display_name = "刘桂兰"
    db.session.commit()
    own = make_user("own-member", world.maple, Role.member)  # an account whose password the chair knows
    membership_of = lambda user: db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))  # noqa
    values = {"target": dict(world.values, membership_id=membership_of(target)),
              "own": dict(world.values, membership_id=membership_of(own))}
    attackers = {role: make_user(f"w-{role}", world.maple, role)
                 for role in (Role.chair, Role.vice_chair, Role.member, Role.supervisor)}
    before = supervisory_body(target, attackers[Role.supervisor])
    client, wrong, walked = app.test_client(), [], 0
    for param in rule_variants(is_admin_rule, methods=STATE_CHANGING):
        rule, method, fixed = param.values
        for (role, attacker), (aim, attack) in ((a, b) for a in attackers.items() for b in SUPERVISOR_ATTACKS):
            path = fill(rule, values[aim], fixed)
            login_as(client, attacker)  # afresh each time: a walked /admin/logout ends the login
            client.open(path, method=method, data=form_body(values[aim], csrf_token=csrf_token(
                client, "/admin/password"), **attack))
            walked += 1
            if supervisory_body(target, attackers[Role.supervisor]) != before:
                wrong.append(f"{role} {param.id} changed the supervisory body")
                before = supervisory_body(target, attackers[Role.supervisor])
    assert not wrong, "\n".join(wrong)
    assert walked >= 3 * 4 * 40


# --- a decided vote stays decided ---------------------------------------------------------------------------

def acts_on_a_topic(rule):
    """Routes that act on one topic: the committee's, the residents' phones' and the lobby screens'."""
    return "topic_id" in rule.arguments


def decision(topic_id):
    """Everything a decided topic's outcome rests on: wording, rules, times, result and fingerprint, options,
    electorate, ballots and correction notes (its follow-through, resolution notice and budget may still come)."""
    from kiosk.consult.models import Ballot, Elector, Option, Topic, TopicCorrection

    db.session.rollback()
    kept = [c for c in Topic.__table__.columns if c.name not in ("status", "done_at", "resolution_notice_id",
                                                                 "budget_fen")]
    rows = {"topic": db.session.execute(select(*kept).where(Topic.id == topic_id)).all()}
    for model in (Option, Elector, Ballot, TopicCorrection):
        rows[model.__tablename__] = sorted(repr(tuple(r)) for r in db.session.execute(
            select(*model.__table__.columns).where(model.topic_id == topic_id)).all())
    db.session.rollback()
    return rows


def deciders(app, world, make_user):
    """Everyone who could try: each committee role, platform staff, the household's phone with its card (it is
    on the electorate), and a lobby screen holding a live code and a keypad step taken while the vote was open."""
    from kiosk.consult import kiosk_votes
    from kiosk.consult.models import KioskStep
    from kiosk.database import utcnow
    from kiosk.households.cards import COOKIE

    clients = role_clients(app, world, make_user)
    phone = app.test_client()
    phone.set_cookie(COOKIE, world.token)
    clients["household's phone"] = phone
    nonce = "a-step-taken-while-the-vote-was-open-0123"
    db.session.add(KioskStep(compound_id=world.maple.id, screen_id=world.screen.id, topic_id=world.consult.closed.id,
                             household_id=world.household.id, nonce_hash=kiosk_votes._nonce_hash(nonce),
                             expires_at=utcnow() + kiosk_votes.STEP_LIFETIME))
    code = kiosk_votes.issue_code(world.maple, world.household)
    db.session.commit()
    clients["lobby screen"] = app.test_client()
    return clients, {"code": code, "step": nonce}


@pytest.mark.parametrize("variants", by_blueprint(rule_variants(acts_on_a_topic, methods=STATE_CHANGING)))
def test_a_decided_topic_refuses_changes_from_every_role(app, world, make_user, variants):
    """Once a vote is closed, no role changes what it decided: editing, publishing, correcting, a paper ballot,
    a phone's vote or opinion, a kiosk code or a keypad step from before the close, the resolution (once) and
    follow-through leave its wording, options, electorate, ballots, result and fingerprint as they were."""
    closed = world.consult.closed.id
    values = dict(world.values, topic_id=closed)
    clients, kiosk = deciders(app, world, make_user)
    before = decision(closed)
    assert before["ballot"] == [] and before["elector"] and before["topic"][0].result is not None
    wrong = []
    for param in variants:
        rule, method, fixed = param.values
        path = fill(rule, values, fixed)
        for who, client in clients.items():
            response = client.open(path, method=method,
                                   data=form_body(values, csrf_token=csrf_token(client), **kiosk))
            if response.status_code >= 500:
                wrong.append(f"{who} {param.id}: {response.status_code}")
            if decision(closed) != before:
                wrong.append(f"{who} {param.id}: changed the decided topic")
                before = decision(closed)
    assert not wrong, "\n".join(wrong)


def test_the_ledgers_order_signed_figures_and_signature_count_hold_for_every_role(app, world, make_user):
    """Issue 11's ledger rules, tried by every role on maple (a refusal changes nothing):
    - February, resubmitted, can't be signed before January (still waiting) is published;
    - a signature or a return that carries other figures than the current submission's is refused;
    - only platform staff lower the number of signatures, and never below 2 while there are 2 supervisors."""
    from kiosk.ledger import service as ledger_service
    from kiosk.ledger.models import Book, Period

    clients = role_clients(app, world, make_user)
    base = "/admin/maple/ledger"
    january, february = fill("/admin/<compound>/ledger/periods/<int:period_id>", world.values), \
        f"{base}/periods/{world.values['later_period_id']}"
    assert post_form(clients[Role.chair], f"{february}/resubmit", {"actual": "1000.00"},
                     token_from=february).status_code == 302
    feb_seen = {f"seen_{k}": str(v) for k, v in db.session.get(Period, world.values["later_period_id"]).seen().items()}
    stale = dict(world.values["signoff_seen"], seen_closing_fen="1")
    older_round = dict(world.values["signoff_seen"], seen_round="0")
    for role, client in clients.items():
        for path, seen, sentence in [(f"{february}/sign", feb_seen, "各期要按顺序签字"),
                                     (f"{january}/sign", stale, "您看到的是这一期早先的数字"),
                                     (f"{january}/refuse", dict(older_round, reason="不对"), "您看到的是这一期早先的数字")]:
            before = state()
            response = post_form(client, path, seen, token_from=january)
            body = response.get_data(as_text=True)
            if role == Role.supervisor:
                assert response.status_code == 409 and sentence in body, f"{role} {path}: {response.status_code}"
            else:
                assert response.status_code == 403 and "只有本小区的监督委员" in body, f"{role} {path}"
            assert state() == before, f"{role} {path} was refused but something changed"

    def set_signoffs(client, n):
        data = {"cadence": "monthly", "signoffs_required": str(n), "disclosure_days": "15", "source": "小区公共收益"}
        if db.session.scalar(select(Period.id).limit(1)) is None:
            data.update(opening="0", started_on="2026-01-01")
        return post_form(client, f"{base}/settings", data)

    for role in (Role.vice_chair, Role.chair):
        before = state()
        response = set_signoffs(clients[role], 1)
        assert response.status_code == 400 and "减少签字人数要由街道" in response.get_data(as_text=True), role
        assert state() == before
    assert set_signoffs(clients["platform"], 1).status_code == 302  # one supervisor in maple: one may sign
    db.session.rollback()
    # maple has two books (public income, the maintenance fund): the settings page changed public income's. Without
    # the kind, PostgreSQL's row order (which moves with updates) decided which book was read.
    assert db.session.scalar(select(Book.signoffs_required).where(
        Book.compound_id == world.maple.id, Book.kind == "public_income")) == 1
    make_user("second-supervisor", world.maple, Role.supervisor)
    assert set_signoffs(clients[Role.chair], 2).status_code == 302  # raising is the committee's own choice
    before = state()
    response = set_signoffs(clients["platform"], 1)
    assert response.status_code == 400 and "不能少于 2 位" in response.get_data(as_text=True)
    assert state() == before
    assert ledger_service.book(world.maple).signoffs_required == 2
