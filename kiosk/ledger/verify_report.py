"""What `kiosk verify` prints for one compound: a summary line, then one line per closed period (English, for
the auditor at the console; residents read the same verdicts in Chinese on the verify page)."""

WHY = {
    "hash": "entry #{n} no longer matches (its amount, date or text was changed outside the application)",
    "link": "entry #{n} no longer matches (an entry was removed or reordered)",
    "missing": "{span} missing (deleted outside the application)",
    "rewritten": "{span} rewritten: recomputed, they no longer lead to the head the supervisors signed",
    "lost": "{span} gone: the audit log saw them posted (the newest entries were deleted)",
    "tail": "entry #{n} is not what was posted (the audit log recorded another hash)",
}
ORDER = ("entry", "missing", "rewritten", "head", "signoff", "figures", "opening")
PROBLEMS = {
    "entry": "{numbers} changed",
    "head": "its code no longer recomputes from the previous signed head",
    "rewritten": "entries it holds were rewritten since it was signed",
    "missing": "its head entry #{head} is gone",
    "figures": "its entries no longer add up to the figures submitted",
    "opening": "its opening balance is not the closing balance of the period before",
    "signoff": "its head is not the one its sign-offs recorded",
}


def _span(first, last):
    return f"entry #{first} is" if first == last else f"entries #{first}–#{last} are"


def _ranges(report):
    return {"missing": report.gaps, "rewritten": report.rewritten, "lost": [report.lost] if report.lost else []}


def summary(slug, report, periods):
    """The first line: OK with the counts and the head, or MISMATCH with the first problem."""
    signed = sum(1 for p in periods if p.status == "published")
    if report.ok:
        code = report.head_hash[:12].upper() if report.head_number else "-"
        return f"{slug}: OK: {report.checked} entries, chain head {code}, {signed} signed periods match"
    why, number, period_id = report.first()
    if why in WHY:
        span = next((_span(a, b) for a, b in _ranges(report).get(why, []) if a == number), "")
        return f"{slug}: MISMATCH: " + WHY[why].format(n=number, span=span)
    period = next(p for p in periods if p.id == period_id)
    return (f"{slug}: MISMATCH: signed period {period.starts_on.isoformat()}–{period.ends_on.isoformat()} no longer "
            f"matches what the supervisors signed ({PROBLEMS[why].format(numbers='', head=period.head_number)})")


def period_line(period, verdict):
    """One closed period: its dates, state, head and verdict with every reason."""
    state = "signed" if period.status == "published" else "submitted, not yet signed"
    head = f"head #{period.head_number} {period.head_hash[:12].upper()}"
    dates = f"{period.starts_on.isoformat()}–{period.ends_on.isoformat()}"
    if verdict.ok:
        return f"  {dates} ({state}, {head}): OK"
    numbers = ("entry " if len(verdict.numbers) == 1 else "entries ") + ", ".join(
        f"#{n}" for n in sorted(verdict.numbers))
    problems = sorted(verdict.problems, key=ORDER.index)
    reasons = "; ".join(PROBLEMS[p].format(numbers=numbers, head=period.head_number) for p in problems)
    return f"  {dates} ({state}, {head}): MISMATCH: {reasons}"


def lines(slug, report, periods):
    """Everything `kiosk verify` prints for one compound, closed periods oldest first."""
    closed = sorted((p for p in periods if p.status in ("submitted", "published")), key=lambda p: p.starts_on)
    return [summary(slug, report, periods)] + [period_line(p, report.verdict(p.id)) for p in closed]
