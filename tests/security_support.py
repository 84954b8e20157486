"""Shared pieces of the security tests: isolated requests, two populated compounds, URL filling, page checks.

Import the `app` and `world` fixtures into a test module to use them:
``from security_support import app, world  # noqa: F401``.
"""
import io
from datetime import date, timedelta
import json
import re
import tempfile
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from PIL import Image as PILImage
from sqlalchemy import delete, select
from werkzeug.routing import AnyConverter, IntegerConverter, PathConverter, UnicodeConverter

from kiosk import create_app
from kiosk.auth.models import Membership, Role
from kiosk.compounds.models import Compound
from kiosk.consult import service as consult_service
from kiosk.consult.models import Ballot, Elector, Opinion, Option, Proposal, Status as TopicStatus, Topic
from kiosk.extensions import db
from kiosk.distribution.models import DistributionEvent, Eligibility
from kiosk.households.models import CardBatch, Household, HouseholdCard, Occupancy, hash_token, new_token
from kiosk.notices.models import Broadcast, Category, Notice, Status
from kiosk.roster.models import RosterMember
from kiosk.screen.models import Screen
from kiosk.uploads import Image, upload_dir

from conftest import SECRET, ago, ahead, csrf_token

CSRF_EXPIRED = "页面停留太久已过期"
TRACEBACK_SIGNS = ("Traceback", 'File "', "/work/", "site-packages", "Werkzeug Debugger")
# A Python file's name (app.py", views.py:12): not ".py" anywhere, which a signed token's base64 after one of its
# dots now and then spells (a CSRF token "….pyQ3…" failed the huge-numbers walk once in some thousand pages).
PY_FILE = re.compile(r"\w\.py(?![\w-])")


class IsolatedClient(FlaskClient):
    """A test client whose every request gets its own app context, as it does in production.

    conftest's `app` fixture keeps one app context pushed for the whole test, and Flask reuses it for
    requests: `g` -- and with it Flask-Login's cached current user -- would carry over from one request,
    and one client, to the next, so an anonymous client could be served as the last logged-in one.
    """

    def open(self, *args, **kwargs):
        # End the test's own transaction first: on SQLite it began IMMEDIATE and would hold the write
        # lock the request needs (requests no longer share the test's session).
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app):
    """conftest's app, with test clients that do not share `g` between requests."""
    app.test_client_class = IsolatedClient
    return app


# --- the routes, read once at collection time from a throwaway app (no database is opened) ---------

def _route_app():
    folder = tempfile.mkdtemp(prefix="kiosk-routes-")
    return create_app({"TESTING": True, "SECRET_KEY": SECRET, "INSTANCE_PATH": folder,
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/unused.sqlite3"})


ROUTE_APP = _route_app()
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def rule_variants(predicate, methods=("GET",) + STATE_CHANGING):
    """pytest.param(rule, method, fixed) for each rule the predicate accepts, per method and per any() value."""
    params = []
    for rule in sorted(ROUTE_APP.url_map.iter_rules(), key=lambda r: r.rule):
        if not predicate(rule):
            continue
        choices = [{}]
        for arg, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                choices = [dict(c, **{arg: item}) for c in choices for item in sorted(converter.items)]
        for method in methods:
            if method not in rule.methods:
                continue
            for fixed in choices:
                label = rule.rule
                for arg, value in fixed.items():
                    label = re.sub(rf"<[^>]*:{arg}>", value, label)
                params.append(pytest.param(rule.rule, method, fixed, id=f"{method} {label}"))
    return params


def by_blueprint(params):
    """Group rule_variants() params by blueprint: one test per area, looping over its routes, so a new
    route is covered by its area's test and a new area gets a test of its own."""
    groups = {}
    for param in params:
        rule = param.values[0]
        groups.setdefault(find_rule(rule).endpoint.rsplit(".", 1)[0], []).append(param)
    return [pytest.param(group, id=name) for name, group in sorted(groups.items())]


def is_admin_rule(rule):
    return rule.rule.startswith("/admin")


def find_rule(rule_text):
    for rule in ROUTE_APP.url_map.iter_rules():
        if rule.rule == rule_text:
            return rule
    raise AssertionError(rule_text)


class ByEndpoint:
    """A URL value that depends on the route: routes acting on a topic need one in the state they act on
    (publish a draft, enter a ballot while voting, resolve a closed one). str() gives the default."""

    def __init__(self, default, by_endpoint):
        self.default, self.by_endpoint = default, dict(by_endpoint)

    def pick(self, endpoint):
        return self.by_endpoint.get(endpoint, self.default)

    def __str__(self):
        return str(self.default)


def fill(rule_text, values, fixed=None):
    """Build a path for a rule: converters filled from `values` by argument name, any() from `fixed`.

    Fails the test for an argument or converter it does not know, so a new kind of route gets a
    deliberate answer here instead of going untested.
    """
    rule = find_rule(rule_text)
    fixed = fixed or {}
    args = {}
    for arg, converter in rule._converters.items():
        if isinstance(converter, AnyConverter):
            if arg not in fixed:
                pytest.fail(f"{rule_text}: no value chosen for any() argument {arg!r}")
            args[arg] = fixed[arg]
        elif isinstance(converter, (IntegerConverter, UnicodeConverter, PathConverter)):
            if arg not in values:
                pytest.fail(f"{rule_text}: don't know how to fill <{arg}> ({type(converter).__name__}); "
                            "teach security_support.fill() and the world fixture about it")
            args[arg] = values[arg]
            if isinstance(args[arg], ByEndpoint):
                args[arg] = args[arg].pick(rule.endpoint)
        else:
            pytest.fail(f"{rule_text}: unknown converter {type(converter).__name__} for <{arg}>")
    path = rule_text
    for arg, value in args.items():
        path = re.sub(rf"<(?:[^>:]*:)?{arg}>", str(value), path)
    assert "<" not in path, path
    return path


# --- a world to attack: compound maple (the victim) and oak (the attacker's) -----------------------

def jpeg_bytes(size=(64, 48), color=(200, 80, 40), exif=None):
    out = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    PILImage.new("RGB", size, color).save(out, "JPEG", **kwargs)
    return out.getvalue()


def store_image(compound, name):
    """Put an Image row and its file in place, as save_image() would."""
    data = jpeg_bytes()
    (upload_dir() / name).write_bytes(data)
    image = Image(compound_id=compound.id, filename=name, content_type="image/jpeg", width=64, height=48,
                  size=len(data))
    db.session.add(image)
    db.session.flush()
    return image


def _populate(compound, author, letter, title):
    """One object of every kind a compound owns; return them (the URL values are read off them)."""
    image = store_image(compound, letter * 32 + ".jpg")
    draft_image = store_image(compound, chr(ord(letter) + 1) * 32 + ".jpg")
    notice = Notice(compound_id=compound.id, title=title, body="正文", category=Category.notice,
                    status=Status.published, published_at=ago(hours=1), image_id=image.id, author_id=author.id)
    draft = Notice(compound_id=compound.id, title=title + "（草稿）", body="草稿正文", category=Category.notice,
                   status=Status.draft, image_id=draft_image.id, author_id=author.id)
    screen = Screen(compound_id=compound.id, name=title + "的大堂屏")
    household = Household(compound_id=compound.id, building="1", entrance="1", room="101", area_centi=8635,
                          occupancy=Occupancy.owner_occupied, contact_name=title[:2] + "住户", contact_phone="13800000000")
    # A term around today (it was 2024-06-01–2027-05-31, and "end term" did nothing from 2027-06-01 on).
    member = RosterMember(compound_id=compound.id, name=title[:2] + "主任", role=Role.chair,
                          term_start=ago(days=730).date(), term_end=ahead(days=365).date())
    event = DistributionEvent(compound_id=compound.id, name=title[:2] + "冬至汤圆", item="汤圆两袋",
                              starts_at=ago(hours=1), ends_at=ahead(days=2), created_by=author.id)
    db.session.add_all([notice, draft, screen, household, member, event])
    db.session.flush()
    token = new_token()
    db.session.add_all([HouseholdCard(compound_id=compound.id, household_id=household.id, token_hash=hash_token(token),
                                      issued_by=author.id),
                        Eligibility(event_id=event.id, household_id=household.id)])
    # A print run waiting to be confirmed handed out (its card does not work yet).
    batch = CardBatch(compound_id=compound.id, description="missing", count=1, created_by=author.id)
    db.session.add(batch)
    db.session.flush()
    db.session.add(HouseholdCard(compound_id=compound.id, household_id=household.id, token_hash=hash_token(new_token()),
                                 issued_by=author.id, batch_id=batch.id, pending=True))
    db.session.flush()
    return SimpleNamespace(notice=notice, draft=draft, image=image, draft_image=draft_image, screen=screen,
                           household=household, member=member, event=event, token=token, batch=batch)


def _populate_consult(compound, author, household, title):
    """Topics in each state a consultation route acts on, an opinion and a resident's proposal."""
    def topic(name, status, opens, closes, secret=True):
        # Made as a draft with its options and electorate, then published: the database refuses options or
        # electors added to a published topic (migration 0007).
        made = Topic(compound_id=compound.id, title=title[:2] + name, background="背景", kind="yesno",
                     rule="ordinary", secret=secret, status=TopicStatus.draft, opens_at=opens, closes_at=closes,
                     created_by=author.id)
        made.options = [Option(key=k, label=label, position=i) for i, (k, label) in enumerate(consult_service.YES_NO)]
        db.session.add(made)
        db.session.flush()
        if status != TopicStatus.draft:
            db.session.add(Elector(topic_id=made.id, household_id=household.id, area_centi=household.area_centi,
                                   owner=f"unit-{household.id}", building=household.building))
            db.session.flush()
            made.status, made.published_at = status, ago(days=3)
        return made

    draft = topic("停车议题（草稿）", TopicStatus.draft, ahead(days=1), ahead(days=8))
    voting = topic("加装电梯议题", TopicStatus.published, ago(hours=1), ahead(days=2), secret=False)
    closed = topic("垃圾清运议题", TopicStatus.published, ago(days=2), ago(hours=1))
    db.session.flush()
    closed.status, closed.closed_at = TopicStatus.closed, ago(hours=1)
    closed.result = consult_service.compute(closed).as_record()
    closed.fingerprint = consult_service.fingerprint(closed)
    opinion = Opinion(topic_id=voting.id, household_id=household.id, body=title[:2] + "住户的看法")
    proposal = Proposal(compound_id=compound.id, household_id=household.id, title=title[:2] + "的提议", body="建议")
    db.session.add_all([opinion, proposal])
    db.session.flush()
    return SimpleNamespace(draft=draft, voting=voting, closed=closed, opinion=opinion, proposal=proposal)


def _consult_values(consult):
    topic = ByEndpoint(consult.voting.id, {
        "consult_admin.edit": consult.draft.id, "consult_admin.publish": consult.draft.id,
        "consult_admin.resolution": consult.closed.id, "consult_admin.update": consult.closed.id,
        "consult.resolution_print": consult.closed.id, "consult_admin.export_platform": consult.closed.id})
    return {"topic_id": topic, "opinion_id": consult.opinion.id, "proposal_id": consult.proposal.id}


def _populate_ledger(compound, author, household, letter, values):
    """A ledger in each state its routes act on: December published (empty), a posted entry (with a
    committee-only receipt and a resident's question) in January, January submitted, February returned, a
    draft, a passed resolution; and what January's sign form carries (the figures and head its supervisor is
    shown)."""
    from kiosk.consult.models import Status as TopicState
    from kiosk.ledger import service as ledger_service
    from kiosk.ledger.models import Category as LedgerCategory, Period, PeriodStatus, Receipt

    ledger_service.open_book(compound, started_on=date(2025, 12, 1))
    # December, published without a line: written by hand, as the world has no supervisors yet (the role
    # walk makes its own); it gives the public routes that serve only disclosed periods one to serve.
    december = Period(compound_id=compound.id, book_id=ledger_service.book(compound).id, starts_on=date(2025, 12, 1), ends_on=date(2025, 12, 31),
                      status=PeriodStatus.published, head_number=0, head_hash="0" * 64, submitted_by=author.id,
                      submitted_at=ago(days=300), published_at=ago(days=295), disclosure_ends_on=date(2026, 1, 20))
    db.session.add(december)

    def category(name):
        return db.session.scalar(select(LedgerCategory).where(LedgerCategory.compound_id == compound.id,
                                                              LedgerCategory.name == name))

    posted = ledger_service.save_draft(compound, author, None, {
        "kind": "income", "occurred_on": date(2026, 1, 10), "category_id": category("停车费").id,
        "amount_fen": 100000, "description": "1 月停车费"})
    ledger_service.post(compound, author, posted)
    draft = ledger_service.save_draft(compound, author, None, {
        "kind": "expense", "occurred_on": date(2026, 6, 10), "category_id": category("维修").id,
        "amount_fen": 2000, "description": "换灯泡"})
    receipt = Receipt(entry_id=posted.id, image_id=store_image(compound, letter * 32 + ".jpg").id, public=False)
    db.session.add(receipt)
    question = ledger_service.ask(compound, household, posted, "这笔停车费收了几个车位？")
    submitted = ledger_service.submit(compound, author, 100000)
    returned = ledger_service.submit(compound, author, 100000)
    returned.status, returned.returned_reason = PeriodStatus.returned, "缺收据"
    topic = Topic(compound_id=compound.id, title="端午节大礼包", background="背景", kind="yesno", rule="ordinary",
                  status=TopicState.draft, opens_at=ago(days=10), closes_at=ago(days=3), created_by=author.id)
    topic.options = [Option(key=k, label=label, position=i) for i, (k, label) in enumerate(consult_service.YES_NO)]
    db.session.add(topic)
    db.session.flush()  # options go in while a draft (migration 0007), then the topic is decided
    topic.status, topic.published_at, topic.closed_at = TopicState.closed, ago(days=12), ago(days=3)
    topic.result = dict(consult_service.compute(topic).as_record(), passed=True)
    db.session.flush()
    if isinstance(values.get("topic_id"), ByEndpoint):
        values["topic_id"].by_endpoint["ledger_admin.budget"] = topic.id
    # A second book (the maintenance fund) and a transfer into it, for the transfer and building routes.
    ledger_service.open_book(compound, started_on=date(2025, 12, 1), kind="maintenance_fund")
    transfer = ledger_service.transfer(compound, author, "public_income", "maintenance_fund", 50000,
                                       date(2026, 6, 11), "公共收益转入维修资金")
    return {"entry_id": ByEndpoint(posted.id, {"ledger_admin.edit_entry": draft.id, "ledger_admin.post_entry": draft.id,
                                               "ledger_admin.delete_entry": draft.id}),
            "period_id": ByEndpoint(submitted.id, {"ledger_admin.resubmit": returned.id,
                                                   "ledger.chain_json": december.id, "ledger.check": december.id}),
            # what the sign and return forms carry: the submission the supervisor was shown
            "signoff_seen": {f"seen_{name}": str(value) for name, value in submitted.seen().items()},
            "later_period_id": returned.id,
            "question_id": question.id, "category_id": category("维修").id, "receipt_id": receipt.id,
            "transfer_id": transfer.id, "building": household.building,
            "number": posted.number,  # the residents' entry page (numbers repeat across compounds: not an OBJECT_ARG)
            "file_path": "README.md"}  # one open-data file (issue 17): every compound has it, public by design


def _populate_supervisor_election(compound, author, household, values):
    """A closed, decided election of one supervisor (王监督 wins): what platform staff may apply to the
    supervisory body (/admin/<compound>/supervisors/election/<topic_id>)."""
    # A draft with its options and electorate, then published and voted: the database refuses options or
    # electors added to a published topic, and ballots of a closed one (migration 0007).
    topic = Topic(compound_id=compound.id, title="监督委员补选", background="背景", kind="election", rule="informal",
                  seats=1, status=TopicStatus.draft, opens_at=ago(days=3), closes_at=ago(hours=2),
                  created_by=author.id)
    topic.options = [Option(key="c1", label="王监督", position=0), Option(key="c2", label="李候选", position=1)]
    db.session.add(topic)
    db.session.flush()
    db.session.add(Elector(topic_id=topic.id, household_id=household.id, area_centi=household.area_centi,
                           owner=f"unit-{household.id}", building=household.building))
    db.session.flush()
    topic.status, topic.published_at = TopicStatus.published, ago(days=5)
    db.session.flush()
    db.session.add(Ballot(topic_id=topic.id, household_id=household.id, choices=["c1"], cast_at=ago(hours=3)))
    db.session.flush()
    topic.status, topic.closed_at = TopicStatus.closed, ago(hours=2)  # counted after its ballots, as close_due does
    topic.result = consult_service.compute(topic).as_record()
    topic.fingerprint = consult_service.fingerprint(topic)
    db.session.flush()
    values["topic_id"].by_endpoint["supervisors_admin.apply_election"] = topic.id
    return topic


def _populate_paper(compound, author, household, values):
    """A voting topic of two households with numbered paper ballots and proxies: No. 1 (the world's household)
    entered twice and mismatched, the other household's proxy standing (issue 14's paper and proxy routes)."""
    from kiosk.consult.paper_models import EntryStage, PaperBallot, PaperEntry, PaperState, Proxy

    other = Household(compound_id=compound.id, building="2", entrance="1", room="201", area_centi=9000,
                      occupancy=Occupancy.occupied)
    topic = Topic(compound_id=compound.id, title="3栋电梯更新改造", background="背景", kind="yesno", rule="ordinary",
                  secret=False, status=TopicStatus.draft, opens_at=ago(hours=1), closes_at=ahead(days=2),
                  created_by=author.id)
    topic.options = [Option(key=k, label=label, position=i) for i, (k, label) in enumerate(consult_service.YES_NO)]
    db.session.add_all([other, topic])
    db.session.flush()
    for home in (household, other):
        db.session.add(Elector(topic_id=topic.id, household_id=home.id, area_centi=home.area_centi,
                               owner=f"unit-{home.id}", building=home.building))
    db.session.flush()
    topic.status, topic.published_at = TopicStatus.published, ago(days=3)
    papers = [PaperBallot(compound_id=compound.id, topic_id=topic.id, household_id=home.id, number=number,
                          token=f"{compound.id:02d}{number:02d}" + "ab" * 14, printed_by=author.id)
              for number, home in ((1, household), (2, other))]
    db.session.add_all(papers)
    db.session.flush()
    papers[0].state = PaperState.mismatch
    db.session.add_all([PaperEntry(paper_id=papers[0].id, stage=EntryStage.first, choices=["yes"], entered_by=author.id),
                        PaperEntry(paper_id=papers[0].id, stage=EntryStage.confirm, choices=["no"],
                                   entered_by=author.id)])
    proxy = Proxy(compound_id=compound.id, topic_id=topic.id, household_id=other.id, name="受托人", recorded_by=author.id)
    # On the world's voting topic, its own household (the phone's card) has a proxy standing, which the phone may
    # revoke (recording one on this topic, for the same household, must stay possible).
    own = Proxy(compound_id=compound.id, topic_id=values["topic_id"].default, household_id=household.id,
                name="另一位受托人", recorded_by=author.id)
    db.session.add_all([proxy, own])
    db.session.flush()
    for endpoint in ("paper_ballots", "ballot_sheets", "receipts", "enter_paper", "resolve_paper", "proxies",
                     "record_proxy", "proxy_vote", "revoke_proxy", "proxy_limit"):
        values["topic_id"].by_endpoint[f"consult_admin.{endpoint}"] = topic.id
    values.update(paper_id=papers[0].id, proxy_id=proxy.id, ballot_token=papers[0].token)


def _populate_meetings(compound, chair, member):
    """Committee meetings in each state a meeting route acts on: planned (edit, record the notice sent), held with
    minutes not yet confirmed (attendance, decisions, minutes, confirm) and final but not yet posted (post)."""
    from kiosk.meetings import service as meetings

    planned = meetings.schedule(compound, chair, None, ahead(days=3), "委员会办公室", ["门禁"])
    held = meetings.schedule(compound, chair, None, ago(hours=3), "委员会办公室", ["保洁"])
    meetings.record_attendance(compound, chair, held, {chair.id, member.id})
    meetings.save_minutes(compound, chair, held, "纪要")
    final = meetings.schedule(compound, chair, None, ago(hours=2), "委员会办公室", ["绿化"])
    meetings.record_attendance(compound, chair, final, {chair.id, member.id})
    meetings.save_minutes(compound, chair, final, "纪要")
    meetings.confirm(compound, chair, final)
    meetings.confirm(compound, member, final)
    db.session.flush()
    return {"meeting_id": ByEndpoint(held.id, {"meetings_admin.edit": planned.id, "meetings_admin.sent": planned.id,
                                               "meetings_admin.post": final.id}),
            "agenda_id": held.items[0].id}


def _populate_documents(compound, chair, values):
    """A contract in the library with a posted version (page images residents may see) and a draft version (to
    publish), and a seal-log line (to void)."""
    from kiosk.documents import service as documents, textpdf

    contract = documents.create_document(compound, chair, "contract", compound.name[:2] + "保洁合同")
    pdf = textpdf.build([["保洁服务合同", "甲方：业主委员会"]])
    today = documents.today()
    posted = documents.add_version(compound, chair, contract, [("a.pdf", pdf)], today, today + timedelta(days=20))
    documents.publish(compound, chair, posted)
    draft = documents.add_version(compound, chair, contract, [("b.pdf", pdf)], today, today + timedelta(days=20))
    line = documents.record_seal(compound, chair, today, "保洁服务合同", "签约", "meeting")
    # An audit report in its posting period: a slide on the lobby screen.
    audit = documents.create_document(compound, chair, "audit", compound.name[:2] + "年度审计报告", auditor="某会计师事务所",
                                      covers_from=date(2025, 1, 1), covers_until=date(2025, 12, 31))
    documents.publish(compound, chair, documents.add_version(compound, chair, audit, [("c.pdf", pdf)], today,
                                                             today + timedelta(days=30)))
    db.session.flush()
    return {"document_id": contract.id, "version_id": ByEndpoint(posted.id, {"documents_admin.publish": draft.id}),
            "seal_id": line.id}


def _populate_templates(compound, chair):
    """A notice template of the committee's own (to edit or delete)."""
    from kiosk.notices.template_service import save_template

    mine = save_template(compound, chair, None, compound.name[:2] + "电梯年检通知", "【日期】电梯年检", "notice")
    db.session.flush()
    return {"template_id": mine.id}


def seat_on_roster(meeting_id, users):
    """Put accounts made after the world (the role walk's) on a held meeting's roster, as members at the meeting
    (only they may confirm its minutes)."""
    from kiosk.meetings.models import Attendance, Meeting

    meeting = db.session.get(Meeting, meeting_id)
    for user in users:
        meeting.attendance.append(Attendance(user_id=user.id, name=user.display_name, role="member",
                                             position=len(meeting.attendance)))
    meeting.members_total += len(users)
    db.session.commit()


def _values(compound, objects, membership_id):
    return {"compound": compound.slug, "notice_id": objects.notice.id, "membership_id": membership_id,
            "name": objects.image.filename, "screen_id": objects.screen.id, "key": objects.screen.key,
            "item_id": objects.notice.id, "area": "notices", "target": f"n/{objects.notice.id}",
            "household_id": objects.household.id, "member_id": objects.member.id, "event_id": objects.event.id,
            "token": objects.token, "code": "en", "batch_id": objects.batch.id,
            "compound_id": compound.id}  # platform staff's per-compound pages (the procedure profile)


@pytest.fixture
def world(app, compound, chair, make_compound, make_user):
    """maple (the victim): chair, a bystander member, a public notice with an image, a draft, a screen;
    oak: its own chair (the intruder) and the same kinds of objects; a platform account; a broadcast."""
    return build_world(compound, chair, make_compound, make_user)


def build_world(compound, chair, make_compound, make_user):
    """The `world` fixture's objects, in the current app context (the browser walk builds them on a live
    server too: tests/browser/test_every_page.py)."""
    oak = make_compound("oak", "橡树小区", "西湖社区", "岳麓街道")
    intruder = make_user("intruder", oak, Role.chair)
    bystander = make_user("bystander", compound, Role.member)
    platform = make_user("platform", platform_admin=True)
    mine = _populate(compound, chair, "a", "枫叶的公开通知")
    theirs = _populate(oak, intruder, "c", "橡树的通知")
    broadcast = Broadcast(title="街道停水通知", body="", ends_at=ahead(days=1), author_id=platform.id)
    db.session.add(broadcast)
    db.session.commit()
    member_of = lambda user: db.session.scalar(select(Membership.id).where(Membership.user_id == user.id))  # noqa
    my_consult = _populate_consult(compound, chair, mine.household, "枫叶的公开通知")
    their_consult = _populate_consult(oak, intruder, theirs.household, "橡树的通知")
    values = dict(_values(compound, mine, member_of(bystander)), broadcast_id=broadcast.id,
                  **_consult_values(my_consult))
    oak_values = dict(_values(oak, theirs, member_of(intruder)), broadcast_id=broadcast.id,
                      **_consult_values(their_consult))
    values.update(_populate_ledger(compound, chair, mine.household, "e", values))
    oak_values.update(_populate_ledger(oak, intruder, theirs.household, "9", oak_values))
    _populate_supervisor_election(compound, chair, mine.household, values)
    _populate_supervisor_election(oak, intruder, theirs.household, oak_values)
    _populate_paper(compound, chair, mine.household, values)
    _populate_paper(oak, intruder, theirs.household, oak_values)
    values.update(_populate_meetings(compound, chair, bystander))
    oak_values.update(_populate_meetings(oak, intruder, make_user("oak-member", oak, Role.member)))
    values.update(_populate_documents(compound, chair, values))
    oak_values.update(_populate_documents(oak, intruder, oak_values))
    values.update(_populate_templates(compound, chair))
    oak_values.update(_populate_templates(oak, intruder))
    # maple's practice compound (issue 17), bare: its reset pages act on it, never on maple itself.
    db.session.add(Compound(slug="maple-lianxi", name="枫叶小区（练习）", practice_of=compound.id))
    values["compound"] = ByEndpoint(compound.slug, {endpoint: "maple-lianxi" for endpoint in PRACTICE_ENDPOINTS})
    db.session.commit()
    return SimpleNamespace(maple=compound, oak=oak, chair=chair, intruder=intruder, bystander=bystander,
                           platform=platform, notice=mine.notice, draft=mine.draft, image=mine.image,
                           draft_image=mine.draft_image, screen=mine.screen, oak_notice=theirs.notice,
                           household=mine.household, event=mine.event, member=mine.member, token=mine.token,
                           broadcast=broadcast, values=values, oak_values=oak_values, consult=my_consult)


# Routes that act on a practice compound (the world's maple-lianxi) rather than on maple.
PRACTICE_ENDPOINTS = ("practice_admin.reset",)


def without_practice(world):
    """Take maple's practice compound away (its memberships and its row), for the route that makes one."""
    made = db.session.scalar(select(Compound).where(Compound.practice_of == world.maple.id))
    db.session.execute(delete(Membership).where(Membership.compound_id == made.id))
    db.session.delete(made)
    db.session.commit()

# URL arguments that name one object of a compound: another compound's value must be "not found".
OBJECT_ARGS = frozenset({"notice_id", "membership_id", "name", "screen_id", "key", "item_id", "household_id",
                         "member_id", "event_id", "topic_id", "opinion_id", "proposal_id", "batch_id",
                         "entry_id", "period_id", "question_id", "category_id", "receipt_id", "paper_id", "proxy_id",
                         "ballot_token", "meeting_id", "agenda_id", "transfer_id",
                         "document_id", "version_id", "seal_id", "template_id"})

# A form body that would make any of the app's forms valid: if an access check were missing, the
# request would go through and change something the state() fingerprint shows.
EVERY_FORM_FIELD = {
    "title": "攻击者的通知", "body": "正文", "category": "notice", "action": "publish",
    "starts_at": "2026-01-01T10:00", "ends_at": "2099-01-01T10:00",
    "display_name": "攻击者", "username": "mallory", "role": "chair",
    "name": "攻击者小区", "slug": "mallory-town", "community": "社区", "district": "街道",
    "admin_name": "攻击者", "admin_username": "mallory-chair",
    "place": "3 栋", "orientation": "portrait", "dwell_seconds": "12", "idle_seconds": "60",
    "building": "9", "entrance": "1", "room": "901", "area": "88.50", "occupancy": "owner_occupied",
    "which": "all", "item": "粽子一盒", "scope": "all", "term_start": "2024-06-01", "term_end": "2027-05-31",
    "intro": "",
    "kind": "yesno", "rule": "ordinary", "seats": "1", "visibility": "live", "options": "甲\n乙",
    "opens_at": "2026-01-01T10:00", "closes_at": "2099-01-01T10:00", "choices": "yes",
    "choice": "yes",
    "reason": "攻击者的理由", "answer": "攻击者的答复", "outcome": "answered",
    "current": "correct-horse-battery-9", "new": "a-brand-new-password-1", "confirm": "a-brand-new-password-1",
    "password": "wrong-password-000",
    "flow": "expense", "occurred_on": "2026-06-15", "amount": "12.50", "description": "攻击者的摘要",
    "actual": "1000.00", "budget": "9000.00", "cadence": "monthly", "signoffs_required": "2",
    "disclosure_days": "15", "source": "攻击者的资金来源",
    "from_book": "public_income", "to_book": "maintenance_fund", "purpose": "攻击者的转账",  # a transfer
    "held_at": "2026-01-01T10:00", "agenda": "攻击者的议程", "sent_on": "2026-01-01", "minutes": "攻击者的纪要",
    "decision": "攻击者的决定",
    "confirmed": "y", "winner": "王监督",  # applying the world's supervisors' election (platform staff only)
    "procedure_profile": "beijing",  # a compound's procedure profile (platform staff only)
    "delivery": "in_person", "holder": "owner",  # how a household card was handed over
    "ballot": "1", "stage": "first", "max_owners": "6",  # a numbered paper ballot's entry, the proxy limit
    # the document library: a new document, a version's posting period, a seal-log line
    "doc_kind": "contract", "posted_from": "2026-01-01", "posted_until": "2099-01-01",
    "used_on": "2026-01-01", "sealed": "攻击者的文件", "purpose": "攻击者的用途", "approved_by": "meeting",
}
ROLL_CSV = "楼栋,单元,室,面积\n8,1,801,90.50\n".encode()
ROLL_PREVIEW = re.compile(r'name="token" value="([^"]+)"')


def form_body(values=None, **extra):
    """EVERY_FORM_FIELD plus a fresh CSV upload and, where a form names a household, the compound's own."""
    data = dict(EVERY_FORM_FIELD, file=(io.BytesIO(ROLL_CSV), "roll.csv", "text/csv"))
    if values and "household_id" in values:
        data["household_id"] = str(values["household_id"])
    if values and "category_id" in values:  # the ledger's entry form names one of the compound's categories
        data["category_id"] = str(values["category_id"])
    if values and "agenda_id" in values:  # a meeting item's decision form is prefixed with the item's id
        data[f"item{values['agenda_id']}-decision"] = EVERY_FORM_FIELD["decision"]
    if values and "document_id" in values:  # a document version's upload: a fresh, ordinary PDF
        from kiosk.documents import textpdf

        data["files"] = (io.BytesIO(textpdf.build([["攻击者的文件"]])), "x.pdf", "application/pdf")
    if values and "entry_id" in values:  # a contract's ledger entry: the compound's posted one
        data["ledger_entry"] = str(values["entry_id"])
    if values and "signoff_seen" in values:  # a supervisor's decision names the submission it was shown
        data.update(values["signoff_seen"])
    data.update(extra)
    return data


# Columns a harmless read may touch (a login session's or a screen's last contact).
# A screen also reports its browser, whether live updates run there, the slide it shows and the data version
# its slides were built from with each contact.
VOLATILE_COLUMNS = {"last_seen", "last_seen_at", "engine", "live_updates", "slide_now", "data_version"}


def state():
    """A fingerprint of every row of every table (new tables included), but for last-contact times."""
    db.session.rollback()  # see what the requests committed
    fingerprint = {}
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if c.name not in VOLATILE_COLUMNS]
        rows = db.session.execute(select(*columns)).all()
        fingerprint[table.name] = sorted(repr(tuple(row)) for row in rows)
    db.session.rollback()
    return fingerprint


def request_as(client, method, path, values=None, **kwargs):
    """GET, or a state change with a valid CSRF token and a body any of the app's forms would accept."""
    if method == "GET":
        return client.get(path, **kwargs)
    response = client.open(path, method=method, data=form_body(values, csrf_token=csrf_token(client)), **kwargs)
    preview = ROLL_PREVIEW.search(response.get_data(as_text=True)) if path.endswith("/households/import") else None
    if preview and response.status_code == 200:  # the roll import saves on the preview's confirm button
        return client.post(path, data={"csrf_token": csrf_token(client), "token": preview.group(1),
                                       "action": "confirm"}, **kwargs)
    return response


def shown_fields(client, path, action="sign"):
    """The hidden fields a supervisor's sign (or return) form carries on a period page: what was shown."""
    form = soup_of(client.get(path)).find("form", action=f"{path}/{action}")
    assert form is not None, f"no {action} form on {path}"
    return {i["name"]: i["value"] for i in form.find_all("input", type="hidden") if i["name"].startswith("seen_")}


def redirect_path(response):
    return urlsplit(response.headers.get("Location", "")).path


# --- checks on rendered HTML -----------------------------------------------------------------------

def soup_of(response_or_html):
    html = response_or_html if isinstance(response_or_html, str) else response_or_html.get_data(as_text=True)
    return BeautifulSoup(html, "html.parser")


def markup_problems(html):
    """Return what in a page would need 'unsafe-inline' (or eval) under our CSP: inline code and styles."""
    soup = soup_of(html)
    problems = []
    for script in soup.find_all("script"):
        if not script.get("src"):
            problems.append(f"inline <script>: {str(script)[:80]}")
        elif script.string and script.string.strip():
            problems.append(f"<script src> with a body: {str(script)[:80]}")
    for style in soup.find_all("style"):
        problems.append(f"inline <style>: {str(style)[:80]}")
    for tag in soup.find_all(True):
        for attr in tag.attrs:
            if attr.lower() == "style":
                problems.append(f"style= on <{tag.name}>")
            elif attr.lower().startswith("on"):
                problems.append(f"{attr}= handler on <{tag.name}>")
            elif attr.lower().startswith(("hx-on", "data-hx-on")):
                problems.append(f"{attr}= (needs eval) on <{tag.name}>")
        for attr in ("href", "src", "action", "formaction"):
            value = tag.get(attr)
            if value and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(("javascript:", "vbscript:")):
                problems.append(f"{attr}={value!r} on <{tag.name}>")
    return problems


def htmx_config(html):
    meta = soup_of(html).find("meta", attrs={"name": "htmx-config"})
    assert meta is not None, "no <meta name=htmx-config>"
    return json.loads(meta["content"])


CSP_REQUIRED = {"script-src": "'self'", "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'"}


def csp_directives(response):
    policy = response.headers.get("Content-Security-Policy", "")
    directives = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return policy, directives


def security_header_problems(response):
    """Return what is missing or weak in a response's security headers."""
    problems = []
    policy, directives = csp_directives(response)
    for directive, source in CSP_REQUIRED.items():
        if source not in directives.get(directive, []):
            problems.append(f"CSP lacks {directive} {source}: {policy!r}")
    for weak in ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'"):
        if weak in policy:
            problems.append(f"CSP allows {weak}")
    scripts = directives.get("script-src", directives.get("default-src", []))
    if any(s in ("*", "data:", "http:", "https:", "blob:") for s in scripts):
        problems.append(f"script-src too wide: {scripts}")
    if response.headers.get("X-Content-Type-Options", "").lower() != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if response.headers.get("Referrer-Policy", "").lower() not in ("same-origin", "strict-origin-when-cross-origin"):
        problems.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')!r}")
    return problems


def traceback_signs(text):
    return [sign for sign in TRACEBACK_SIGNS if sign in text] + PY_FILE.findall(text)


def back_links(response):
    return [a["href"] for a in soup_of(response).find_all("a", href=True) if a["href"].startswith("/")]
