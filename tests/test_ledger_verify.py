"""`kiosk verify`: the ledger's hash chain recomputed from the command line, as an auditor (or a suspicious
supervisor) runs it against the database, on SQLite and on PostgreSQL. Each tamper here is done the way an
insider with the database would: the application's session lets go, the trigger that keeps posted entries
fixed is switched off, and the rows are changed directly."""
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.ledger import chain, service
from kiosk.ledger.models import Category, Entry, PeriodStatus

JANUARY = date(2026, 1, 1)
ENTRY = Entry.__table__


@pytest.fixture
def ledger(app, compound, chair):
    service.open_book(compound, started_on=JANUARY)
    db.session.commit()
    return compound


def record(compound, actor, name, fen, day):
    cat = db.session.scalar(select(Category).where(Category.compound_id == compound.id, Category.name == name))
    entry = service.save_draft(compound, actor, None, {
        "kind": cat.kind, "occurred_on": day, "category_id": cat.id, "amount_fen": fen,
        "description": f"{name} {day:%m-%d}", "counterparty": "小区停车管理处"})
    service.post(compound, actor, entry)
    db.session.commit()
    return entry


@pytest.fixture
def signed_january(ledger, chair, make_user):
    """Five entries in January, closed and signed by two of three supervisors (head: entry #5)."""
    sups = [make_user(f"sup{i}", ledger, role=Role.supervisor) for i in range(3)]
    lines = [("停车费", 860000, 3), ("场地租金", 300000, 5), ("垃圾清运", 150000, 12), ("消杀", 98050, 18),
             ("维修", 45000, 26)]
    for name, fen, day in lines:
        record(ledger, chair, name, fen, JANUARY.replace(day=day))
    period = service.submit(ledger, chair, service.figures(ledger, JANUARY, date(2026, 1, 31)).closing)
    service.decide(ledger, sups[0], period, True)
    service.decide(ledger, sups[1], period, True)
    db.session.commit()
    assert period.status == PeriodStatus.published and period.head_number == 5
    return ledger


def verify(runner, *args):
    db.session.rollback()  # outside a request the session writes (BEGIN IMMEDIATE): let go first
    result = runner.invoke(args=["verify", *args])
    db.session.rollback()
    return result


def tamper(*statements):
    """Change the database behind the application's back, with the posted-entry trigger switched off.

    SQLite: each test has its own copy of the database, so the triggers are simply dropped. PostgreSQL: the
    schema is shared by the whole session, so the trigger is switched on again in the same transaction
    (ALTER TABLE is transactional there); otherwise later tests would find posted entries editable."""
    db.session.rollback()
    with db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.execute(text("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_posted_fixed"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS ledger_entry_posted_no_update"))
            connection.execute(text("DROP TRIGGER IF EXISTS ledger_entry_posted_no_delete"))
        for statement in statements:
            statement(connection)
        if postgres:
            connection.execute(text("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_posted_fixed"))
    db.session.expire_all()


def set_amount(number, fen):
    return lambda connection: connection.execute(
        ENTRY.update().where(ENTRY.c.number == number).values(amount_fen=fen))


def test_an_untouched_ledger_verifies(signed_january, runner, chair):
    record(signed_january, chair, "停车费", 910000, date(2026, 2, 3))  # February: posted, not yet signed
    result = verify(runner)
    assert result.exit_code == 0, result.output
    head = service.entry_by_number(signed_january, 6).hash[:12].upper()
    assert f"maple: OK: 6 entries, chain head {head}, 1 signed periods match" in result.output
    one = verify(runner, "maple")
    assert one.exit_code == 0 and "maple: OK" in one.output


def test_an_unknown_compound_exits_2(ledger, runner):
    result = verify(runner, "no-such-place")
    assert result.exit_code == 2 and "no-such-place" in result.output


def test_a_compound_without_a_ledger_is_ok(make_compound, runner):
    make_compound("empty", "空小区")
    result = verify(runner, "empty")
    assert result.exit_code == 0 and "OK: 0 entries" in result.output


def test_an_amount_changed_in_the_database_is_named(signed_january, runner, make_compound):
    make_compound("other", "别的小区")  # other compounds still report, and still verify OK
    tamper(set_amount(3, 15000))
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert ("maple: MISMATCH: entry #3 no longer matches (its amount, date or text was changed outside the "
            "application)") in result.output
    assert "other: OK: 0 entries" in result.output
    check = service.verify(signed_january)
    assert not check.ok and check.bad_number == 3 and check.why == "hash"


def test_a_rewrite_that_recomputes_every_later_hash_is_caught_by_the_signed_head(signed_january, runner):
    def rewrite(connection):
        connection.execute(ENTRY.update().where(ENTRY.c.number == 3).values(amount_fen=15000))
        rows = connection.execute(select(ENTRY).where(ENTRY.c.posted.is_(True)).order_by(ENTRY.c.number)).all()
        previous = chain.GENESIS
        for row in rows:
            digest = chain.entry_hash(previous, chain.fields_of(SimpleNamespace(**row._mapping)))
            connection.execute(ENTRY.update().where(ENTRY.c.id == row.id).values(prev_hash=previous, hash=digest))
            previous = digest

    tamper(rewrite)
    check = service.verify(signed_january)
    assert not check.ok and check.why == "head" and check.bad_number == 5  # the chain itself is consistent again
    result = verify(runner, "maple")
    assert result.exit_code == 1, result.output
    assert "MISMATCH: signed period 2026-01-01–2026-01-31 no longer matches what the supervisors signed" \
        in result.output


def test_deleting_the_last_signed_entry_is_caught(signed_january, runner):
    tamper(lambda connection: connection.execute(ENTRY.delete().where(ENTRY.c.number == 5)))
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert "signed period 2026-01-01–2026-01-31 no longer matches" in result.output


def test_deleting_an_entry_in_the_middle_is_named(signed_january, runner):
    tamper(lambda connection: connection.execute(ENTRY.delete().where(ENTRY.c.number == 2)))
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert "MISMATCH: entry #3 no longer matches (an entry was removed or reordered)" in result.output
