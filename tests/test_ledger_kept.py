"""A published period's page is rendered once and kept (kiosk/ledger/kept.py) until the ledger, the audit reports,
the chain check, the day or the visitor's language say otherwise: what residents see after any change is what
a fresh render would show, and no compound or book ever gets another's body."""
import threading
from datetime import date, timedelta

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import event, select, text

from kiosk.auth.models import Role
from kiosk.changes import record_change
from kiosk.extensions import db
from kiosk.ledger import evidence, service
from kiosk.ledger.models import Category, Receipt

from ledger_tamper import tamper
from security_support import store_image
from test_ledger_public import page_text

START = date(2026, 1, 1)
FUND = "maintenance_fund"


@pytest.fixture(autouse=True)
def checks_kept(app):
    """As served: the chain check is reused for 5 minutes (tests elsewhere recompute it on every page), so
    the period's body is kept between visits."""
    app.config["VERIFY_CACHE_SECONDS"] = 300


def record(compound, actor, name, fen, day, book="public_income", **extra):
    """Post one entry of `name`'s category in `book`."""
    with service.using_book(book):
        cat = db.session.scalar(select(Category).where(Category.book_id == service.book(compound).id,
                                                       Category.name == name))
        entry = service.save_draft(compound, actor, None, {
            "kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
            "description": extra.pop("description", f"{name} {day:%m-%d}"), **extra})
        service.post(compound, actor, entry)
    db.session.commit()
    return entry


def publish(compound, chair, sups, book="public_income", signatures=2):
    """Close the book's next period at its computed balance and have `signatures` supervisors sign it."""
    with service.using_book(book):
        start, end = service.next_period(compound)
        figures = service.figures(compound, start, end)
        period = service.submit(compound, chair, figures.closing)
        db.session.commit()
        for sup in sups[:signatures]:
            service.decide(compound, sup, period, True)
            db.session.commit()
    return period


@pytest.fixture
def ledger(app, compound, chair, make_user):
    """A compound with both books open, two supervisors, and January of public income published."""
    service.open_book(compound, started_on=START)
    with service.using_book(FUND):
        service.open_book(compound, started_on=START)
    db.session.commit()
    sups = [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(2)]
    record(compound, chair, "停车费", 850000, date(2026, 1, 5), description="一月停车费")
    record(compound, chair, "垃圾清运", 150000, date(2026, 1, 20), description="一月垃圾清运")
    return compound, sups, publish(compound, chair, sups)


def statements(app):
    """A list that fills with every SQL statement sent while the block runs (event listener on the engine)."""
    sent = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_a_second_visit_is_served_from_the_kept_body(app, client, ledger):
    _, _, january = ledger
    first = client.get(f"/maple/ledger/{january.id}")
    sent = statements(app)
    again = client.get(f"/maple/ledger/{january.id}")
    assert again.get_data() == first.get_data() and "一月停车费" in page_text(again)
    assert not [s for s in sent if "ledger_entry" in s]  # neither the entries nor the sums read again


def test_a_new_entry_a_reversal_and_a_signature_show_at_once(client, ledger, chair):
    compound, sups, january = ledger
    assert "一月停车费" in page_text(client.get(f"/maple/ledger/{january.id}"))
    parking = record(compound, chair, "停车费", 4000, date(2026, 2, 3), description="二月停车费")
    service.reverse(compound, chair, parking, "金额记错", on=date(2026, 2, 4))
    db.session.commit()
    february = publish(compound, chair, sups, signatures=1)
    waiting = page_text(client.get(f"/maple/ledger/{february.id}"))
    assert "二月停车费" not in waiting  # one of two signatures: not disclosed yet
    service.decide(compound, sups[1], february, True)
    db.session.commit()
    shown = page_text(client.get(f"/maple/ledger/{february.id}"))
    assert "二月停车费" in shown and "冲销第 3 号：金额记错" in shown and "共 2 笔" in shown
    assert "每一笔（共 2 笔）" in page_text(client.get(f"/maple/ledger/{january.id}"))
    assert "全部 4 笔记录" in page_text(client.get("/maple/ledger/verify"))  # the check follows the ledger


def test_a_receipt_made_committee_only_leaves_the_page_at_once(client, ledger, chair):
    compound, _, january = ledger
    entry = service.entry_by_number(compound, 1)
    receipt = Receipt(entry_id=entry.id, image_id=store_image(compound, "r" * 32 + ".jpg").id, public=True)
    db.session.add(receipt)
    db.session.commit()
    service.toggle_receipt(compound, chair, receipt)  # it was public; a change of the ledger all the same
    service.toggle_receipt(compound, chair, receipt)
    db.session.commit()
    assert "r" * 32 in client.get(f"/maple/ledger/{january.id}").get_data(as_text=True)
    service.toggle_receipt(compound, chair, receipt)  # it shows a person's ID card: committee only
    db.session.commit()
    assert "r" * 32 not in client.get(f"/maple/ledger/{january.id}").get_data(as_text=True)


def test_a_transfer_shows_in_both_books_and_neither_shows_the_others_entries(client, ledger, chair, make_user):
    compound, sups, january = ledger
    before = page_text(client.get(f"/maple/ledger/{january.id}"))
    record(compound, chair, "业主续筹", 300000, date(2026, 1, 8), book=FUND, description="一月业主续筹")
    service.transfer(compound, chair, "public_income", FUND, 200000, date(2026, 2, 27), "二月转入维修资金")
    db.session.commit()
    february = publish(compound, chair, sups)
    fund = publish(compound, chair, sups, book=FUND)  # January to June
    income_page = page_text(client.get(f"/maple/ledger/{february.id}"))
    fund_page = page_text(client.get(f"/maple/ledger/{fund.id}"))
    assert "二月转入维修资金" in income_page and "二月转入维修资金" in fund_page
    assert "一月业主续筹" in fund_page and "一月业主续筹" not in income_page
    assert "一月停车费" not in fund_page
    assert page_text(client.get(f"/maple/ledger/{january.id}")) == before


def test_no_compound_gets_anothers_kept_body(client, ledger, make_compound, make_user):
    compound, _, january = ledger
    other = make_compound("oak", "橡树小区")
    chair = make_user("oak-chair", other, role=Role.chair)
    service.open_book(other, started_on=START)
    db.session.commit()
    sups = [make_user(f"oak-sup{i}", other, role=Role.supervisor) for i in range(2)]
    record(other, chair, "场地租金", 120000, date(2026, 1, 9), description="橡树一月租金")
    oak_january = publish(other, chair, sups)
    maple = page_text(client.get(f"/maple/ledger/{january.id}"))
    oak = page_text(client.get(f"/oak/ledger/{oak_january.id}"))
    assert "一月停车费" in maple and "橡树一月租金" not in maple
    assert "橡树一月租金" in oak and "一月停车费" not in oak and "橡树小区" in oak
    assert client.get(f"/oak/ledger/{january.id}").status_code == 404
    assert client.get(f"/maple/ledger/{oak_january.id}").status_code == 404


def test_a_change_behind_the_apps_back_shows_with_the_next_check(app, client, ledger):
    _, _, january = ledger
    assert "不一致" not in page_text(client.get(f"/maple/ledger/{january.id}"))
    tamper(lambda c: c.execute(text("UPDATE ledger_entry SET amount_fen = 860000 WHERE number = 1")))
    app.config["VERIFY_CACHE_SECONDS"] = 0  # the kept check is now too old: the next page checks again
    shown = page_text(client.get(f"/maple/ledger/{january.id}"))
    assert "这一笔与签字时的记录不一致" in shown and "合计与签字时的数对不上" in shown


def test_each_language_gets_its_own_body(client, ledger):
    _, _, january = ledger
    assert "每一笔" in page_text(client.get(f"/maple/ledger/{january.id}"))
    client.set_cookie("kiosk_lang", "en")
    english = page_text(client.get(f"/maple/ledger/{january.id}"))
    assert "每一笔" not in english and "Every entry" in english


def test_a_vote_or_a_notice_does_not_recompute_the_chain(app, client, ledger, chair):
    """Any change of the compound used to start a new check of 100,000 hashes on the next ledger page; only a
    change of the ledger does now."""
    compound, _, january = ledger
    calls = []
    real = evidence.check
    evidence.check = lambda c: calls.append(c.id) or real(c)
    try:
        client.get(f"/maple/ledger/{january.id}")
        record_change(compound, chair, "notices", "publish", compound)  # as a notice published: a new version
        db.session.commit()
        assert "一月停车费" in page_text(client.get(f"/maple/ledger/{january.id}"))
        assert calls == [compound.id]
    finally:
        evidence.check = real


def test_an_audit_report_published_for_the_period_shows_at_once(client, ledger, chair):
    from kiosk.documents import service as documents, textpdf

    compound, _, january = ledger
    assert "明镜会计师事务所" not in page_text(client.get(f"/maple/ledger/{january.id}"))
    audit = documents.create_document(compound, chair, "audit", "2026年一月审计报告", auditor="明镜会计师事务所",
                                      covers_from=date(2026, 1, 1), covers_until=date(2026, 1, 31))
    today = documents.today()
    pdf = textpdf.build([["审计报告", "一月收支"]])
    documents.publish(compound, chair, documents.add_version(compound, chair, audit, [("a.pdf", pdf)], today,
                                                             today + timedelta(days=30)))
    db.session.commit()
    assert "明镜会计师事务所" in page_text(client.get(f"/maple/ledger/{january.id}"))


def test_an_old_check_is_answered_while_one_background_thread_checks_again(app, client, ledger):
    """No page waits seconds for a recheck of an unchanged ledger: the old report answers until the new one is
    there, and then a change made behind the application's back shows."""
    _, _, january = ledger
    assert "不一致" not in page_text(client.get(f"/maple/ledger/{january.id}"))
    tamper(lambda c: c.execute(text("UPDATE ledger_entry SET amount_fen = 860000 WHERE number = 1")))
    cache = app.extensions["kiosk_verify_cache"]
    for key, (version, _at, report, checked_at) in list(cache.items()):
        cache[key] = (version, -1e9, report, checked_at)  # older than VERIFY_CACHE_SECONDS
    assert "不一致" not in page_text(client.get(f"/maple/ledger/{january.id}"))  # answered at once, as before
    for thread in threading.enumerate():
        if thread.name == "kiosk-ledger-recheck":
            thread.join(30)
    assert "这一笔与签字时的记录不一致" in page_text(client.get(f"/maple/ledger/{january.id}"))


def test_the_page_around_the_body_follows_a_period_changed_behind_the_apps_back(app, client, ledger):
    """What is kept of a published period for the page around its body (its book and dates, per process) is as
    current as the body: a change made behind the application's back shows with the next check, as the entries'
    do, and is not kept once the check has seen it."""
    january_id = ledger[2].id

    def title():
        html = client.get(f"/maple/ledger/{january_id}").get_data(as_text=True)
        return BeautifulSoup(html, "html.parser").title.get_text()

    assert "2026年1月1日" in title() and "2026年1月1日" in title()  # the second from what was kept
    tamper(lambda c: c.execute(text("UPDATE ledger_period SET starts_on = :day WHERE id = :id"),
                               {"day": date(2026, 1, 2), "id": january_id}))
    app.config["VERIFY_CACHE_SECONDS"] = 0  # the kept check is now too old: the next page checks again
    assert "2026年1月2日" in title()
    app.config["VERIFY_CACHE_SECONDS"] = 300
    assert "2026年1月2日" in title()
