"""integrity.check on its own (no Flask, no database): a small chain built here, then edited, rewritten,
cut and reordered, judged period by period."""
from datetime import date, datetime
from types import SimpleNamespace

from kiosk.ledger import chain, integrity

T = datetime(2026, 1, 1, 12, 0)


def chain_of(lines, recipe=2):
    """Entries (as the check reads them) for [(day, kind, fen)], hashed in order."""
    entries, previous = [], chain.GENESIS
    for number, (day, kind, fen) in enumerate(lines, start=1):
        entry = SimpleNamespace(compound_id=1, number=number, kind=kind, occurred_on=day, category_id=1,
                                amount_fen=fen, description=f"第 {number} 笔", counterparty="某公司",
                                counterparty_is_person=False, method="bank", topic_id=None, reverses_id=None,
                                posted_at=T, recipe=recipe, counterparty_nonce="", prev_hash=previous)
        entry.hash = previous = chain.entry_hash(previous, chain.fields_of(entry))
        entries.append(entry)
    return entries


def period(pid, start, end, head, entries, opening, status="published", signed=True, **figures):
    income = sum(e.amount_fen for e in entries if start <= e.occurred_on <= end and e.kind == "income")
    expense = sum(e.amount_fen for e in entries if start <= e.occurred_on <= end and e.kind == "expense")
    count = sum(1 for e in entries if start <= e.occurred_on <= end)
    head_hash = entries[head - 1].hash if head else chain.GENESIS
    values = dict(id=pid, starts_on=start, ends_on=end, status=status, head_number=head, head_hash=head_hash,
                  opening=opening, income=income, expense=expense, closing=opening + income - expense, count=count,
                  signed_heads=((head, head_hash),) if signed else ())
    values.update(figures)
    return integrity.PeriodFacts(**values)


LINES = [(date(2026, 1, 3), "income", 1000), (date(2026, 1, 9), "expense", 300), (date(2026, 2, 2), "income", 500),
         (date(2026, 2, 9), "expense", 200), (date(2026, 3, 1), "income", 700)]


def months(entries):
    jan = period(1, date(2026, 1, 1), date(2026, 1, 31), 3, entries, 0)  # head #3: February's, posted early
    feb = period(2, date(2026, 2, 1), date(2026, 2, 28), 4, entries, jan.closing)
    return [jan, feb]


def edited(entries, number, **values):
    changed = [SimpleNamespace(**vars(e)) for e in entries]
    for name, value in values.items():
        setattr(changed[number - 1], name, value)
    return changed


def verdicts(report):
    return {pid: v.problems for pid, v in report.periods.items()}


def test_an_intact_chain_checks_out_with_the_audit_logs_last_post():
    entries = chain_of(LINES)
    report = integrity.check(entries, months(entries), 0, witness=(5, entries[4].hash))
    assert report.ok and report.checked == 5 and report.head_number == 5 and verdicts(report) == {1: [], 2: []}


def test_recipe_one_entries_check_the_same_way():
    entries = chain_of(LINES, recipe=1)
    assert "v" not in chain.fields_of(entries[0])
    assert integrity.check(entries, months(entries), 0).ok


def test_an_edit_condemns_its_stretch_and_the_period_holding_the_entry():
    entries = chain_of(LINES)
    report = integrity.check(edited(entries, 3, amount_fen=1), months(entries), 0)
    assert report.bad == {3: "hash"}  # February's #3 lies in January's signed stretch
    assert verdicts(report) == {1: ["head"], 2: ["entry", "figures"]}


def test_a_rewrite_is_caught_in_its_stretch_and_later_stretches_still_check_out():
    entries = chain_of(LINES)
    periods = months(entries)
    rewritten = chain_of(LINES[:3] + [(date(2026, 2, 9), "expense", 1)] + LINES[4:])
    report = integrity.check(rewritten, periods, 0)
    assert not report.bad and report.rewritten == [(4, 4)]
    assert verdicts(report) == {1: [], 2: ["head", "rewritten", "figures"]}
    assert report.entry_ok(3) and not report.entry_ok(4) and report.entry_ok(5)


def test_lost_newest_entries_and_a_rewritten_newest_one_show_through_the_audit_log():
    entries = chain_of(LINES)
    lost = integrity.check(entries[:4], months(entries), 0, witness=(5, entries[4].hash))
    assert lost.lost == (5, 5) and not lost.ok and verdicts(lost) == {1: [], 2: []}
    tail = integrity.check(edited(entries, 5, hash="f" * 64), months(entries), 0, witness=(5, entries[4].hash))
    assert tail.tail_changed == 5 and not tail.ok


def test_a_missing_middle_entry_is_a_gap_and_its_period_no_longer_adds_up():
    entries = chain_of(LINES)
    report = integrity.check(entries[:1] + entries[2:], months(entries), 0)
    assert report.gaps == [(2, 2)] and verdicts(report) == {1: ["head", "figures"], 2: []}
    assert report.first() == ("missing", 2, None)


def test_heads_the_sign_offs_did_not_see_and_a_head_at_zero():
    entries = chain_of(LINES)
    jan, feb = months(entries)
    empty = period(0, date(2025, 12, 1), date(2025, 12, 31), 0, entries, 0)
    moved = integrity.PeriodFacts(**{**vars(feb), "signed_heads": ((4, "e" * 64),)})
    report = integrity.check(entries, [empty, jan, moved], 0)
    assert verdicts(report) == {0: [], 1: [], 2: ["signoff"]}


def test_an_opening_is_compared_only_with_a_closed_period_before_it():
    entries = chain_of(LINES)
    jan, feb = months(entries)
    returned = integrity.PeriodFacts(**{**vars(jan), "status": "returned", "closing": 12345})
    assert verdicts(integrity.check(entries, [returned, feb], 0)) == {2: []}
    stale = integrity.PeriodFacts(**{**vars(jan), "closing": 12345, "opening": 12345 - 700})
    assert verdicts(integrity.check(entries, [stale, feb], 0)) == {1: ["opening"], 2: ["opening"]}
