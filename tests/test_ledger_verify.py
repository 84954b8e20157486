"""`kiosk verify` and the per-period verdicts behind it: the ledger's hash chain recomputed as an auditor (or a
suspicious supervisor) runs it against the database, on SQLite and on PostgreSQL. Each tamper is done the way an
insider with the database would (tests/ledger_tamper.py): guards off, rows changed directly.

The ledger: January (#1-#4, and February's #5 posted before January was closed, so it lies in January's signed
stretch), February (#6-#8) and March (#9-#11) signed; April's #12-#13 posted, not yet closed."""
from datetime import date

import pytest
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.ledger import evidence, service
from kiosk.ledger.models import Category, Period, PeriodStatus

from ledger_tamper import delete_entries, rewrite, set_entry, tamper

JANUARY = date(2026, 1, 1)


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


def close_and_sign(compound, chair, sups, start, end):
    period = service.submit(compound, chair, service.figures(compound, start, end).closing)
    service.decide(compound, sups[0], period, True)
    service.decide(compound, sups[1], period, True)
    db.session.commit()
    assert period.status == PeriodStatus.published
    return period


@pytest.fixture
def quarter(ledger, chair, make_user):
    """January to March signed by two of three supervisors; April posted, open."""
    sups = [make_user(f"sup{i}", ledger, role=Role.supervisor) for i in range(3)]
    for name, fen, day in [("停车费", 860000, 3), ("场地租金", 300000, 5), ("垃圾清运", 150000, 12),
                           ("消杀", 98050, 18)]:
        record(ledger, chair, name, fen, JANUARY.replace(day=day))
    record(ledger, chair, "停车费", 870000, date(2026, 2, 2))  # #5: February's, posted before January closed
    january = close_and_sign(ledger, chair, sups, JANUARY, date(2026, 1, 31))
    for name, fen, day in [("场地租金", 300000, 5), ("维修", 45000, 16), ("垃圾清运", 150000, 26)]:
        record(ledger, chair, name, fen, date(2026, 2, day))
    february = close_and_sign(ledger, chair, sups, date(2026, 2, 1), date(2026, 2, 28))
    for name, fen, day in [("停车费", 880000, 3), ("管道疏通", 58000, 15), ("垃圾清运", 160000, 26)]:
        record(ledger, chair, name, fen, date(2026, 3, day))
    march = close_and_sign(ledger, chair, sups, date(2026, 3, 1), date(2026, 3, 31))
    record(ledger, chair, "停车费", 900000, date(2026, 4, 3))
    record(ledger, chair, "场地租金", 300000, date(2026, 4, 5))
    assert (january.head_number, february.head_number, march.head_number) == (5, 8, 11)
    return {"jan": january.id, "feb": february.id, "mar": march.id}


def verify(runner, *args):
    db.session.rollback()  # outside a request the session writes (BEGIN IMMEDIATE): let go first
    result = runner.invoke(args=["verify", *args])
    db.session.rollback()
    return result


def verdicts(compound, periods):
    """{"jan": [problems], ...} of the fresh check."""
    report = evidence.check(compound)
    return {name: report.verdict(period_id).problems for name, period_id in periods.items()}


def test_an_untouched_ledger_verifies_period_by_period(quarter, ledger, runner):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    head = service.entry_by_number(ledger, 13).hash[:12].upper()
    assert f"maple: OK: 13 entries, chain head {head}, 3 signed periods match" in result.output
    assert "  2026-02-01–2026-02-28 (signed, head #8 " in result.output
    assert result.output.count("): OK") == 3
    one = verify(runner, "maple")
    assert one.exit_code == 0 and "maple: OK" in one.output


def test_an_unknown_compound_exits_2(ledger, runner):
    result = verify(runner, "no-such-place")
    assert result.exit_code == 2 and "no-such-place" in result.output


def test_a_compound_without_a_ledger_is_ok(make_compound, runner):
    make_compound("empty", "空小区")
    result = verify(runner, "empty")
    assert result.exit_code == 0 and "OK: 0 entries" in result.output


def test_an_edited_amount_condemns_only_its_period(quarter, ledger, runner, make_compound):
    make_compound("other", "别的小区")  # other compounds still report, and still verify OK
    tamper(set_entry(7, amount_fen=15000))  # February's repair
    assert verdicts(ledger, quarter) == {"jan": [], "feb": ["head", "entry", "figures"], "mar": []}
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert ("maple: MISMATCH: entry #7 no longer matches (its amount, date or text was changed outside the "
            "application)") in result.output
    assert "2026-01-01–2026-01-31 (signed, head #5 " in result.output
    lines = {line.split(" (")[0].strip(): line for line in result.output.splitlines()}
    assert lines["2026-01-01–2026-01-31"].endswith("): OK") and lines["2026-03-01–2026-03-31"].endswith("): OK")
    assert "MISMATCH: entry #7 changed; its code no longer recomputes" in lines["2026-02-01–2026-02-28"]
    assert "other: OK: 0 entries" in result.output


def test_an_edit_in_an_earlier_signed_stretch_condemns_that_stretch_and_the_entrys_own_period(quarter, ledger):
    """#5 is February's but lies in January's signed stretch: January's code no longer recomputes, February's
    figures changed; March, signed from February's head on, still checks out."""
    tamper(set_entry(5, description="改过的摘要"))
    assert verdicts(ledger, quarter) == {"jan": ["head"], "feb": ["entry"], "mar": []}


def test_a_rewrite_of_every_later_hash_is_caught_where_it_happened(quarter, ledger, runner):
    """Recomputing every hash after the edit hides it from the chain's own links, but not from the signed heads:
    February's stretch no longer leads to its signed head, while March recomputes fine from February's signed
    head onwards."""
    tamper(rewrite(7, description="改过的摘要"))
    report = evidence.check(ledger)
    assert not report.bad and report.rewritten == [(6, 8)]
    assert verdicts(ledger, quarter) == {"jan": [], "feb": ["head", "rewritten"], "mar": []}
    assert not report.entry_ok(7) and report.entry_ok(9) and report.entry_ok(5)
    result = verify(runner, "maple")
    assert result.exit_code == 1, result.output
    assert "MISMATCH: entries #6–#8 are rewritten" in result.output


def test_a_rewrite_of_the_stored_heads_too_is_caught_by_the_sign_offs(quarter, ledger):
    tamper(rewrite(7, heads=True, description="改过的摘要"))
    assert verdicts(ledger, quarter) == {"jan": [], "feb": ["signoff"], "mar": ["signoff"]}


def test_a_complete_rewrite_fools_the_server_but_not_the_figures(quarter, ledger):
    """Heads, sign-offs and the audit log rewritten too: the server's chain check is fooled (only the code on
    the paper, checked on a phone, can tell: tests/browser/test_ledger_phone_check.py), but an amount changed
    this way still no longer adds up to the figures the supervisors signed."""
    tamper(rewrite(7, heads=True, signoffs=True, audit=True, description="改过的摘要"))
    assert evidence.check(ledger).ok
    tamper(rewrite(7, heads=True, signoffs=True, audit=True, amount_fen=15000))
    assert verdicts(ledger, quarter) == {"jan": [], "feb": ["figures"], "mar": []}


def test_deleting_the_newest_entries_is_caught_by_the_audit_log(quarter, ledger, runner):
    """April's #12 and #13 are not covered by any signature; the append-only audit log saw them posted."""
    tamper(delete_entries(12, 13))
    report = evidence.check(ledger)
    assert report.lost == (12, 13) and not report.ok
    assert verdicts(ledger, quarter) == {"jan": [], "feb": [], "mar": []}
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert "maple: MISMATCH: entries #12–#13 are gone: the audit log saw them posted" in result.output


def test_deleting_the_newest_entries_down_into_a_signed_period_is_caught(quarter, ledger, runner):
    tamper(delete_entries(11, 12, 13))
    assert verdicts(ledger, quarter) == {"jan": [], "feb": [], "mar": ["missing", "figures"]}
    result = verify(runner)
    assert result.exit_code == 1 and "its head entry #11 is gone" in result.output


def test_deleting_an_entry_in_the_middle_is_named(quarter, ledger, runner):
    tamper(delete_entries(7))
    report = evidence.check(ledger)
    assert report.gaps == [(7, 7)]
    assert verdicts(ledger, quarter) == {"jan": [], "feb": ["head", "figures"], "mar": []}
    result = verify(runner)
    assert result.exit_code == 1, result.output
    assert "maple: MISMATCH: entry #7 is missing (deleted outside the application)" in result.output


def test_the_database_guards_periods_and_sign_offs(quarter, ledger, chair):
    """Published periods never change, submitted ones keep their figures (they may be returned or published),
    sign-offs are append-only: in the database itself, not only in the application."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    def refused(statement, match):
        with pytest.raises(DBAPIError, match=match):
            db.session.execute(text(statement))
            db.session.flush()
        db.session.rollback()

    refused(f"UPDATE ledger_period SET income_fen = 1 WHERE id = {quarter['feb']}", "never changed")
    refused(f"UPDATE ledger_period SET disclosure_ends_on = NULL WHERE id = {quarter['feb']}", "never changed")
    refused(f"DELETE FROM ledger_period WHERE id = {quarter['mar']}", "never deleted")
    refused("UPDATE ledger_signoff SET head_hash = 'x'", "append-only")
    refused("DELETE FROM ledger_signoff", "append-only")
    april = service.submit(ledger, chair, service.figures(ledger, date(2026, 4, 1), date(2026, 4, 30)).closing)
    db.session.commit()
    refused(f"UPDATE ledger_period SET opening_fen = 0 WHERE id = {april.id}", "keeps its figures")
    refused(f"UPDATE ledger_period SET head_hash = 'x' WHERE id = {april.id}", "keeps its figures")
    refused(f"DELETE FROM ledger_period WHERE id = {april.id}", "never deleted")
    db.session.execute(text(f"UPDATE ledger_period SET status = 'returned', returned_reason = '缺收据' "
                            f"WHERE id = {april.id}"))
    db.session.commit()
    assert db.session.get(Period, april.id).status == PeriodStatus.returned
