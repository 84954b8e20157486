"""The street office creates a compound starting from a model compound's setup (复制设置自): the books and their
categories, the procedure profile, the proxy limit and the notice templates come along; no household, card, ballot,
topic, entry, document, person, membership or account does (issue 17: "a test lists every table and asserts which
rows may be copied").

TABLES classifies every table of the schema. A table added later fails test_every_table_is_classified until
someone decides here whether a model compound's rows of it may be copied.
"""
from datetime import date

import pytest
from sqlalchemy import func, select

from kiosk.auth.models import Role, User
from kiosk.changes import AuditEntry
from kiosk.compounds.models import Compound
from kiosk.consult.service.proxies import set_limit
from kiosk.extensions import db
from kiosk.ledger.models import Book, Category
from kiosk.notices.models import NoticeTemplate
from kiosk.timefmt import local_date

from conftest import login_as, post_form
from factories import text_of

COPIED, NEVER, CREATED = "copied", "never", "created"
# Every table: "copied" (the model's rows of it are copied into the new compound, checked one by one below),
# "created" (rows the creation itself writes: the compound, its first chair's account and membership, the audit
# lines and version rows of the creation), or "never" (no row of it may appear for the new compound).
TABLES = {
    "ledger_book": COPIED,  # names, kinds, cadence, signatures, disclosure days, funding source; opening balance 0
    "ledger_category": COPIED,  # the categories in use, under the new books
    "notice_template": COPIED,  # title, body, category
    "proxy_limit": COPIED,  # a procedure setting: how many owners one proxy may represent
    "compound": CREATED,
    "user": CREATED,  # the new chair only: never a model's account
    "membership": CREATED,  # the new chair's only
    "audit_entry": CREATED,  # "create" and "copy_setup" in the new compound
    "change": CREATED,  # the version rows of those
    # Personal data: the roll, cards, ballots, proxies, opinions, proposals, questions, people, logins.
    "household": NEVER, "household_card": NEVER, "card_batch": NEVER, "card_failure": NEVER,
    "kiosk_code": NEVER, "kiosk_step": NEVER, "kiosk_guess": NEVER, "login_session": NEVER, "login_failure": NEVER,
    "roster_member": NEVER, "supervisor_change": NEVER, "proxy": NEVER, "paper_ballot": NEVER, "paper_entry": NEVER,
    "ballot": NEVER, "elector": NEVER, "opinion": NEVER, "proposal": NEVER, "eligibility": NEVER, "pickup": NEVER,
    # Financial data: entries, periods, sign-offs, receipts, transfers, questions on entries.
    "ledger_entry": NEVER, "ledger_period": NEVER, "ledger_signoff": NEVER, "ledger_receipt": NEVER,
    "ledger_transfer": NEVER, "ledger_question": NEVER,
    # The model's own life: its notices and broadcasts, topics (budgets too), meetings, documents, images, screens.
    "notice": NEVER, "broadcast": NEVER, "topic": NEVER, "topic_option": NEVER, "topic_update": NEVER,
    "topic_correction": NEVER, "distribution_event": NEVER, "meeting": NEVER, "meeting_item": NEVER,
    "meeting_attendance": NEVER, "meeting_vote": NEVER, "minutes_confirmation": NEVER, "document": NEVER,
    "document_version": NEVER, "document_page": NEVER, "document_entry": NEVER, "seal_use": NEVER, "image": NEVER,
    "screen": NEVER,  # screen settings are per device; devices and their keys are never copied
}


def test_every_table_is_classified(app):
    """A table nobody classified fails here: decide whether a model compound's rows of it may be copied."""
    tables = {table.name for table in db.metadata.sorted_tables}
    assert not tables - set(TABLES), f"classify these tables in TABLES: {sorted(tables - set(TABLES))}"
    assert not set(TABLES) - tables, f"TABLES names tables that no longer exist: {sorted(set(TABLES) - tables)}"


def dump():
    """Every row of every table, by primary key, with every column."""
    db.session.rollback()
    rows = {}
    for table in db.metadata.sorted_tables:
        key = [c.name for c in table.primary_key.columns]
        rows[table.name] = {tuple(r[k] for k in key): dict(r) for r in db.session.execute(select(table)).mappings()}
    db.session.rollback()
    return rows


def staff_client(app, make_user):
    staff = make_user("street-staff", platform_admin=True)
    client = app.test_client()
    login_as(client, staff)
    return client, staff


def create_form(model_id, **extra):
    form = {"name": "新桥小区", "slug": "xinqiao", "community": "东湖社区", "district": "湘江街道",
            "admin_name": "李新桥", "admin_username": "xinqiao-chair", "copy_from": str(model_id),
            "procedure_profile": ""}
    form.update(extra)
    return form


def projected(rows, compound_id, columns):
    """The rows of one compound, as sorted tuples of the given columns."""
    return sorted(tuple(r[c] for c in columns) for r in rows if r["compound_id"] == compound_id)


def test_copying_the_demo_compound_copies_its_setup_and_no_personal_or_financial_row(app, make_user):
    """桂香园 (the demo: a year of three books, topics, households, cards, documents, meetings) is copied: per table,
    the new compound's rows are exactly the copyable ones, and nothing else in the database changed."""
    from kiosk.demo import load_demo

    load_demo()
    model = db.session.scalar(select(Compound).where(Compound.slug == "guixiang"))
    client, staff = staff_client(app, make_user)
    set_limit(model, staff, 4)  # the model's own proxy limit, a procedure setting
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Book).where(Book.compound_id == model.id)) == 3
    before = dump()

    response = post_form(client, "/admin/platform/", create_form(model.id))
    assert response.status_code == 200, text_of(response)
    assert "已复制 桂香园小区 的设置" in text_of(response)
    after = dump()
    new = db.session.scalar(select(Compound).where(Compound.slug == "xinqiao"))

    for name, rows in before.items():  # nothing that was there changed: the model is as it was
        changed = [key for key, row in rows.items() if after[name].get(key) != row]
        assert not changed, f"{name}: rows changed by the copy: {changed[:5]}"
    added = {name: [after[name][key] for key in after[name].keys() - before[name].keys()] for name in after}

    for name, kind in TABLES.items():
        if kind == NEVER:
            assert not added[name], f"{name} is never copied, yet {len(added[name])} rows appeared"
    for name, rows in added.items():
        for row in rows:
            if "compound_id" in row:
                assert row["compound_id"] == new.id, f"{name}: a new row outside the new compound: {row}"

    # Created: the compound, its chair (a new account, nobody of the model's), the creation's audit lines.
    assert [r["slug"] for r in added["compound"]] == ["xinqiao"]
    assert [r["username"] for r in added["user"]] == ["xinqiao-chair"]
    chair = db.session.scalar(select(User).where(User.username == "xinqiao-chair"))
    assert [(r["user_id"], r["role"]) for r in added["membership"]] == [(chair.id, Role.chair)]
    assert sorted(r["action"] for r in added["audit_entry"]) == ["copy_setup", "create"]
    assert len(added["change"]) == 2

    # Copied: the books' settings, without their money; started this month.
    book_columns = ["kind", "name", "position", "cadence", "signoffs_required", "disclosure_days", "source"]
    books = added["ledger_book"]
    assert projected(books, new.id, book_columns) == projected(before["ledger_book"].values(), model.id,
                                                               book_columns)
    assert {r["opening_fen"] for r in books} == {0}
    assert {r["started_on"] for r in books} == {local_date().replace(day=1)}
    assert any(r["opening_fen"] for r in before["ledger_book"].values() if r["compound_id"] == model.id)
    # The categories in use, each under the new compound's book of the same kind.
    kind_of = {r["id"]: r["kind"] for r in after["ledger_book"].values()}
    category = lambda rows, cid: sorted((kind_of[r["book_id"]], r["kind"], r["name"], r["position"])  # noqa: E731
                                        for r in rows if r["compound_id"] == cid and not r["archived"])
    assert category(added["ledger_category"], new.id) == category(before["ledger_category"].values(), model.id)
    assert len(added["ledger_category"]) == len(category(added["ledger_category"], new.id)) > 10
    assert {r["book_id"] for r in added["ledger_category"]} == {r["id"] for r in books}
    # The notice templates: the model's, all of them (its three defaults and the one its committee wrote).
    template_columns = ["title", "body", "category"]
    assert projected(added["notice_template"], new.id, template_columns) == projected(
        before["notice_template"].values(), model.id, template_columns)
    assert "电梯年检停用通知" in {r["title"] for r in added["notice_template"]}
    # The procedure: the profile and the proxy limit (now set by the street office).
    assert new.procedure_profile == model.procedure_profile == "hangzhou"
    assert [(r["max_owners"], r["set_by"]) for r in added["proxy_limit"]] == [(4, staff.id)]

    # The new compound's audit log says where it came from and what came along, in numbers.
    copy = db.session.scalar(select(AuditEntry).where(AuditEntry.compound_id == new.id,
                                                      AuditEntry.action == "copy_setup"))
    assert copy.after["copied_from"] == "桂香园小区 (/guixiang/)"
    assert (copy.after["ledger_books"], copy.after["ledger_categories"], copy.after["notice_templates"]) == (
        3, len(added["ledger_category"]), len(added["notice_template"]))
    assert copy.actor_id == staff.id and copy.object_id == model.id
    log = text_of(client.get("/admin/xinqiao/audit"))
    assert "复制示范小区的设置" in log and "复制自" in log and "桂香园小区 (/guixiang/)" in log
    # The new compound's public pages show none of the model's life.
    for path in ("/xinqiao/", "/xinqiao/ledger/", "/admin/xinqiao/notices/templates/"):
        response = client.get(path)
        assert response.status_code == 200 and "桂香园小区" not in text_of(response).replace("桂香园小区自治管理委员会", "")


def test_a_new_compound_without_a_model_gets_the_three_default_templates(app, make_user, compound):
    """不复制 (the default): the new compound has no books yet, the national rules, and the three templates."""
    client, _staff = staff_client(app, make_user)
    response = post_form(client, "/admin/platform/", create_form("", procedure_profile=""))
    assert response.status_code == 200
    new = db.session.scalar(select(Compound).where(Compound.slug == "xinqiao"))
    assert new.procedure_profile == "national"
    titles = set(db.session.scalars(select(NoticeTemplate.title).where(NoticeTemplate.compound_id == new.id)))
    assert titles == {"停水停电通知", "议事会通知", "公示期提醒"}
    assert db.session.scalar(select(func.count()).select_from(Book).where(Book.compound_id == new.id)) == 0
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "copy_setup")) is None


def test_a_chosen_procedure_profile_wins_over_the_models(app, make_user, compound):
    """Copying a Hangzhou compound but choosing Beijing's rules gives Beijing's rules; the rest is copied."""
    from kiosk.ledger.service.base import open_book

    compound.procedure_profile = "hangzhou"
    open_book(compound, date(2025, 1, 1))
    db.session.commit()
    client, _staff = staff_client(app, make_user)
    post_form(client, "/admin/platform/", create_form(compound.id, procedure_profile="beijing"))
    new = db.session.scalar(select(Compound).where(Compound.slug == "xinqiao"))
    assert new.procedure_profile == "beijing"
    assert db.session.scalar(select(func.count()).select_from(Category).where(Category.compound_id == new.id)) == 11
    # The model (made by hand, without templates) passes none on; the new compound still gets the three defaults.
    assert db.session.scalar(select(func.count()).select_from(NoticeTemplate)
                             .where(NoticeTemplate.compound_id == new.id)) == 3


@pytest.mark.parametrize("wanted", ["999999", "abc", "-1"])
def test_an_unknown_model_is_an_error_next_to_the_field_and_nothing_is_made(app, make_user, compound, wanted):
    """A model that does not exist (deleted, a hand-made request): the form says so beside 复制设置自, 400, and
    neither the compound nor its chair's account is made."""
    client, _staff = staff_client(app, make_user)
    users = db.session.scalar(select(func.count()).select_from(User))
    response = post_form(client, "/admin/platform/", create_form(wanted))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="copy_from-error"' in page and "找不到这个小区" in page
    assert db.session.scalar(select(Compound).where(Compound.slug == "xinqiao")) is None
    assert db.session.scalar(select(func.count()).select_from(User)) == users


def test_the_create_form_offers_every_compound_to_copy_and_no_copy_first(app, make_user, compound, make_compound):
    make_compound("oak", "橡树小区")
    client, _staff = staff_client(app, make_user)
    page = client.get("/admin/platform/").get_data(as_text=True)
    select_html = page[page.index('<select id="copy_from"'):]
    select_html = select_html[:select_html.index("</select>")]
    assert select_html.index("不复制") < select_html.index("橡树小区") and "枫叶小区" in select_html
    assert "复制设置自" in page


def test_a_failure_halfway_through_the_copy_leaves_nothing(app, make_user, compound, monkeypatch):
    """The copy and the creation are one transaction: a failure after the books were copied leaves no compound,
    no account, no book and no template behind."""
    from kiosk.ledger.service.base import open_book
    from kiosk.platform import service

    open_book(compound, date(2025, 1, 1))
    db.session.commit()
    staff = make_user("street-staff", platform_admin=True)
    counts = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}

    def broken(_compound):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "add_defaults", broken)
    with pytest.raises(RuntimeError):
        service.create_compound(staff, "新桥小区", "xinqiao", "", "", "李新桥", "xinqiao-chair", "pw-123456789012",
                                "", compound)
    db.session.rollback()
    assert {t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in db.metadata.sorted_tables} == counts

