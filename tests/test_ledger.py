"""The ledger's rules, as a supervisor with an accounting background would check them: posting numbers and
chains entries, posted entries are fixed, reversals, closing and the counted balance, N-of-M sign-off with
separation of duties, tamper evidence, questions and budgets."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from kiosk.auth.models import Role
from kiosk.changes import AuditEntry
from kiosk.extensions import db
from kiosk.ledger import evidence, service
from kiosk.ledger.models import Category, Entry, PeriodStatus

START = date(2026, 1, 1)


@pytest.fixture
def ledger(app, compound, chair):
    service.open_book(compound, started_on=START)
    db.session.commit()
    return compound


def category(compound, name):
    return db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == name))


def record(compound, actor, name, fen, day=date(2026, 1, 10), kind=None, post=True, **extra):
    cat = category(compound, name)
    fields = {"kind": kind or cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
              "description": extra.pop("description", f"{name} {day:%m-%d}"), **extra}
    entry = service.save_draft(compound, actor, None, fields)
    if post:
        service.post(compound, actor, entry)
    db.session.commit()
    return entry


def test_posting_numbers_entries_in_order_and_chains_them(ledger, chair):
    first = record(ledger, chair, "停车费", 120000)
    draft = record(ledger, chair, "消杀", 30000, post=False)
    second = record(ledger, chair, "垃圾清运", 45000)
    assert (first.number, draft.number, second.number) == (1, None, 2)
    assert second.prev_hash == first.hash and len(second.hash) == 64
    assert evidence.check(ledger).ok
    assert service.balance(ledger) == 120000 - 45000


def test_a_posted_entry_is_never_edited_or_deleted(ledger, chair):
    entry = record(ledger, chair, "停车费", 120000)
    with pytest.raises(service.LedgerRefused):
        service.save_draft(ledger, chair, entry, {"amount_fen": 1})
    with pytest.raises(service.LedgerRefused):
        service.delete_draft(ledger, chair, entry)
    db.session.rollback()
    with pytest.raises(Exception):  # the database itself refuses too
        db.session.execute(text("UPDATE ledger_entry SET amount_fen = 1 WHERE id = :id"), {"id": entry.id})
        db.session.flush()
    db.session.rollback()


def test_a_reversal_nets_out_and_a_second_reversal_is_refused(ledger, chair):
    entry = record(ledger, chair, "维修", 88000)
    reversal = service.reverse(ledger, chair, entry, "金额录错", on=date(2026, 1, 20))
    db.session.commit()
    assert reversal.amount_fen == -88000 and reversal.reverses_id == entry.id and reversal.number == 2
    assert service.balance(ledger) == 0
    with pytest.raises(service.LedgerRefused) as twice:
        service.reverse(ledger, chair, entry, "再冲一次")
    assert twice.value.reason == "reversed"
    with pytest.raises(service.LedgerRefused) as of_reversal:
        service.reverse(ledger, chair, reversal, "冲销的冲销")
    assert of_reversal.value.reason == "is_reversal"


def supervisors(make_user, compound, n=3):
    return [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(n)]


def test_closing_checks_the_counted_balance_and_two_of_three_supervisors_publish(ledger, chair, make_user):
    sups = supervisors(make_user, ledger)
    record(ledger, chair, "停车费", 120000)
    record(ledger, chair, "场地租金", 50000, day=date(2026, 1, 31))
    record(ledger, chair, "管道疏通", 30050, day=date(2026, 1, 15))
    record(ledger, chair, "停车费", 99900, day=date(2026, 2, 1))  # next month: not in January
    with pytest.raises(service.LedgerRefused) as mismatch:
        service.submit(ledger, chair, 139000)
    assert mismatch.value.detail == {"expected": 139950, "actual": 139000, "difference": -950}
    db.session.rollback()
    period = service.submit(ledger, chair, 139950)
    db.session.commit()
    assert (period.starts_on, period.ends_on) == (date(2026, 1, 1), date(2026, 1, 31))
    assert (period.opening_fen, period.income_fen, period.expense_fen, period.closing_fen) == (0, 170000, 30050,
                                                                                              139950)
    with pytest.raises(service.LedgerRefused) as chair_signs:
        service.decide(ledger, chair, period, True)
    assert chair_signs.value.reason == "not_supervisor"
    service.decide(ledger, sups[0], period, True)
    db.session.commit()
    assert period.status == PeriodStatus.submitted
    with pytest.raises(service.LedgerRefused):
        service.decide(ledger, sups[0], period, True)  # once per submission
    service.decide(ledger, sups[1], period, True)
    db.session.commit()
    assert period.status == PeriodStatus.published and period.disclosure_ends_on is not None
    with pytest.raises(service.LedgerRefused) as locked:
        record(ledger, chair, "消杀", 100, day=date(2026, 1, 5))
    assert locked.value.reason == "locked"


def test_a_supervisor_who_recorded_an_entry_cannot_sign_and_a_refusal_sends_it_back(ledger, chair, make_user):
    sups = supervisors(make_user, ledger)
    record(ledger, sups[2], "停车费", 1000)
    period = service.submit(ledger, chair, 1000)
    db.session.commit()
    with pytest.raises(service.LedgerRefused) as own:
        service.decide(ledger, sups[2], period, True)
    assert own.value.reason == "recorded"
    with pytest.raises(service.LedgerRefused) as no_reason:
        service.decide(ledger, sups[0], period, False, "  ")
    assert no_reason.value.reason == "reason_needed"
    service.decide(ledger, sups[0], period, False, "停车费缺收据")
    db.session.commit()
    assert period.status == PeriodStatus.returned and period.returned_reason == "停车费缺收据"
    again = service.submit(ledger, chair, 1000, period)
    db.session.commit()
    assert again.round == 2 and again.status == PeriodStatus.submitted
    service.decide(ledger, sups[0], period, True)
    service.decide(ledger, sups[1], period, True)
    db.session.commit()
    assert period.status == PeriodStatus.published
    actions = [a.action for a in db.session.scalars(select(AuditEntry).where(AuditEntry.area == "ledger"))]
    assert {"submit", "refuse", "resubmit", "sign", "sign_publish"} <= set(actions)


def test_verify_names_the_first_entry_changed_behind_the_applications_back(ledger, chair, app, database_url):
    entries = [record(ledger, chair, "停车费", 1000 * (i + 1)) for i in range(5)]
    assert evidence.check(ledger).ok
    target = entries[2].id
    db.session.rollback()  # the application's session lets go; the tamperer takes the database
    with db.engine.begin() as connection:  # someone with the database file, not the application
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER ledger_entry_posted_no_update"))
        else:
            connection.execute(text("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_posted_fixed"))
        connection.execute(text("UPDATE ledger_entry SET amount_fen = 100 WHERE id = :id"), {"id": target})
        if connection.dialect.name == "postgresql":  # the schema outlives this test: protect it again
            connection.execute(text("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_posted_fixed"))
    db.session.expire_all()
    check = evidence.check(ledger)
    assert not check.ok and check.bad == {3: "hash"} and check.first() == ("hash", 3, None)


def test_a_drafts_rules_hold_whoever_saves_it_not_only_the_form(ledger, chair, make_user):
    """The category, kind, date and budget rules are the service's: the CLI, the demo and a test meet them as the
    committee's form does, every problem at once, nothing saved."""
    from datetime import timedelta

    from kiosk.consult.models import Topic
    from kiosk.database import utcnow
    from kiosk.timefmt import local_date

    parking, repairs = category(ledger, "停车费"), category(ledger, "维修")
    with pytest.raises(service.FieldsRefused) as refused:
        service.save_draft(ledger, chair, None, {"kind": "expense", "occurred_on": local_date() + timedelta(days=1),
                                                 "category_id": parking.id, "amount_fen": 100, "description": "x"})
    assert {field: p.reason for field, p in refused.value.problems.items()} == {"category_id": "category_kind",
                                                                               "occurred_on": "future"}
    with pytest.raises(service.FieldsRefused) as early:
        service.save_draft(ledger, chair, None, {"kind": "expense", "occurred_on": date(2025, 12, 31),
                                                 "category_id": repairs.id, "amount_fen": 100, "description": "x"})
    assert early.value.reason == "before_start"
    topic = Topic(compound_id=ledger.id, title="换路灯", kind="yesno", rule="ordinary", status="closed",
                  opens_at=utcnow() - timedelta(days=9), closes_at=utcnow() - timedelta(days=2),
                  result={"passed": True}, budget_fen=10000)
    db.session.add(topic)
    db.session.commit()
    fields = {"kind": "expense", "occurred_on": date(2026, 1, 12), "category_id": repairs.id, "amount_fen": 12000,
              "description": "路灯", "topic_id": topic.id}
    with pytest.raises(service.FieldsRefused) as over:
        service.save_draft(ledger, chair, None, fields)
    assert over.value.reason == "over_budget" and over.value.detail["overspend"] == 2000
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Entry)) == 0
    assert service.save_draft(ledger, chair, None, fields, over_budget_ok=True).topic_id == topic.id


def test_the_books_settings_and_categories_keep_their_rules_outside_the_pages(ledger, chair, make_user):
    supervisors(make_user, ledger, n=2)
    record(ledger, chair, "停车费", 1000, day=date(2026, 1, 3))
    with pytest.raises(service.FieldsRefused) as refused:
        service.save_settings(ledger, chair, {"started_on": date(2026, 1, 5), "signoffs_required": 3})
    assert {field: p.reason for field, p in refused.value.problems.items()} == {
        "signoffs_required": "too_many", "started_on": "start_after_entries"}
    with pytest.raises(service.LedgerRefused) as used:
        service.rename_category(ledger, chair, category(ledger, "停车费"), "车位费")
    assert used.value.reason == "category_used"
    with pytest.raises(service.FieldsRefused) as taken:
        service.add_category(ledger, chair, "income", "广告费")
    assert taken.value.reason == "category_taken"
