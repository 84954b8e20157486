"""Per-period verdicts over the hash chain: which disclosed figures still match what the supervisors signed.

Pure (no Flask, no database): give it the posted entries in number order, the periods, the book's opening
balance and the audit log's last recorded post. One pass over the chain:

- every entry is checked on its own (its hash over its fields and its stored link; numbers without gaps);
- every signed segment is recomputed from the previous *signed* head hash through the entries numbered after
  it up to its head, and compared with that head. So an edit condemns the segment it sits in, and a rewrite
  that recomputed every later hash is caught where it happened, while later segments still check out from
  their own signed start;
- every closed period's figures are summed again from its entries (by date) and compared with what was
  submitted, its opening with the period before's closing, and its head with the heads its sign-offs saw;
- the audit log's last post (append-only in the database) shows when the newest entries were deleted or
  rewritten after the last signed head, where no signature covers them yet.
"""
from bisect import bisect_right
from dataclasses import dataclass, field

from . import chain

PUBLISHED = "published"
LOCKED = ("submitted", "published")


@dataclass(frozen=True)
class PeriodFacts:
    """A period as the check needs it (figures as submitted, the head it recorded, the heads signed)."""

    id: int
    starts_on: object
    ends_on: object
    status: str
    head_number: int
    head_hash: str
    opening: int
    income: int
    expense: int
    closing: int
    count: int
    signed_heads: tuple = ()  # (head_number, head_hash) each current sign-off recorded, where it did


@dataclass
class PeriodVerdict:
    """Whether a period's figures and code still match, and if not, why (codes) and which entries."""

    problems: list = field(default_factory=list)  # "entry", "head", "rewritten", "missing", "figures", ...
    numbers: list = field(default_factory=list)  # entries of the period that no longer match

    @property
    def ok(self):
        return not self.problems

    def add(self, problem, number=None):
        if problem not in self.problems:
            self.problems.append(problem)
        if number is not None and number not in self.numbers:
            self.numbers.append(number)


@dataclass
class Report:
    """The outcome of one check of a compound's chain."""

    checked: int = 0
    head_number: int = 0
    head_hash: str = chain.GENESIS
    bad: dict = field(default_factory=dict)  # entry number -> "hash" (fields changed) or "link" (order, removal)
    gaps: list = field(default_factory=list)  # (first, last) numbers missing inside the chain
    rewritten: list = field(default_factory=list)  # (first, last) ranges whose recomputation misses a head
    periods: dict = field(default_factory=dict)  # period id -> PeriodVerdict (closed periods)
    lost: tuple | None = None  # (first, last): posted (says the audit log) but no longer in the chain
    tail_changed: int | None = None  # the newest audited entry's hash is not what was posted

    @property
    def ok(self):
        return not (self.bad or self.gaps or self.rewritten or self.lost or self.tail_changed
                    or any(not v.ok for v in self.periods.values()))

    def verdict(self, period_id):
        """The verdict of one period (an unchecked one, e.g. returned, counts as matching)."""
        return self.periods.get(period_id) or PeriodVerdict()

    def entry_ok(self, number):
        """Whether one entry still matches: not changed itself, and not inside a rewritten stretch."""
        return number not in self.bad and not any(a <= number <= b for a, b in self.rewritten + self.gaps)

    def bad_periods(self):
        return [period_id for period_id, verdict in self.periods.items() if not verdict.ok]

    def first(self):
        """The first problem, as (why, entry number, period id or None), for one-line summaries."""
        found = [(number, why, None) for number, why in self.bad.items()]
        found += [(first, "missing", None) for first, _last in self.gaps]
        found += [(first, "rewritten", None) for first, _last in self.rewritten]
        if self.lost:
            found.append((self.lost[0], "lost", None))
        if self.tail_changed:
            found.append((self.tail_changed, "tail", None))
        if found:
            number, why, _ = min(found)
            return why, number, None
        for period_id, verdict in self.periods.items():
            if not verdict.ok:
                return verdict.problems[0], (verdict.numbers or [None])[0], period_id
        return None


def check(entries, periods, opening_fen, witness=None):
    """Check the chain. `entries`: posted rows in number order (the columns chain.fields_of reads, plus
    prev_hash and hash); `periods`: PeriodFacts; `witness`: (number, hash) of the audit log's last post."""
    periods = sorted(periods, key=lambda p: p.starts_on)
    starts = [p.starts_on for p in periods]
    report = Report(periods={p.id: PeriodVerdict() for p in periods if p.status in LOCKED})
    signed = {}
    for p in periods:
        if p.status == PUBLISHED:
            signed.setdefault(p.head_number, p.head_hash)
    heads_at = {}
    for index, p in enumerate(periods):
        if p.status in LOCKED:
            heads_at.setdefault(p.head_number, []).append(index)
    sums = [[0, 0, 0] for _ in periods]
    holders = {}  # entry number -> period index, for the entries found wrong
    seen_heads = {}  # period index -> (recomputed hash at its head, members, located, first number)

    def holder(day):
        index = bisect_right(starts, day) - 1
        return index if index >= 0 and day <= periods[index].ends_on else None

    state = {"running": chain.GENESIS, "members": set(), "located": False, "first": 1}
    for index in heads_at.get(0, []):
        seen_heads[index] = (chain.GENESIS, set(), False, 1)
    last_number, last_hash, witnessed = 0, chain.GENESIS, None
    for entry in entries:
        number = entry.number
        fields = chain.fields_of(entry)
        if number != last_number + 1:
            report.gaps.append((last_number + 1, number - 1))
            state["located"] = True
        elif entry.prev_hash != last_hash:
            report.bad[number] = "link"
        digest = chain.entry_hash(entry.prev_hash, fields)
        if digest != entry.hash:
            report.bad[number] = "hash"
        running = state["running"]
        state["running"] = digest if entry.prev_hash == running else chain.entry_hash(running, fields)
        index = holder(entry.occurred_on)
        if index is not None:
            total = sums[index]
            total[0 if entry.kind == "income" else 1] += entry.amount_fen
            total[2] += 1
            state["members"].add(index)
        if number in report.bad:
            state["located"] = True
            holders[number] = index
        for head_index in heads_at.get(number, ()):
            seen_heads[head_index] = (state["running"], set(state["members"]), state["located"], state["first"])
        if number in signed:
            state.update(running=signed[number], members=set(), located=False, first=number + 1)
        if witness and number == witness[0]:
            witnessed = entry.hash
        last_number, last_hash = number, entry.hash
        report.checked += 1
    report.head_number, report.head_hash = last_number, last_hash
    _judge_heads(report, periods, seen_heads)
    _judge_entries(report, periods, holders)
    _judge_figures(report, periods, sums, opening_fen)
    if witness:
        if witness[0] > last_number:
            report.lost = (last_number + 1, witness[0])
        elif witnessed is not None and witnessed != witness[1]:
            report.tail_changed = witness[0]
    return report


def _judge_heads(report, periods, seen_heads):
    """Each closed period's head: present, recomputed from the previous signed head, and as its signers saw it."""
    for index, p in enumerate(periods):
        if p.status not in LOCKED:
            continue
        verdict = report.periods[p.id]
        if any(tuple(seen) != (p.head_number, p.head_hash) for seen in p.signed_heads):
            verdict.add("signoff")
        if index not in seen_heads:
            verdict.add("missing")
            continue
        recomputed, members, located, first = seen_heads[index]
        if recomputed == p.head_hash:
            continue
        verdict.add("head")
        if not located:  # nothing found wrong on its own: the stretch was rewritten, hashes and all
            if (first, p.head_number) not in report.rewritten:
                report.rewritten.append((first, p.head_number))
            for member in members | {index}:
                if periods[member].status in LOCKED:
                    report.periods[periods[member].id].add("rewritten")


def _judge_entries(report, periods, holders):
    """A closed period holding (by date) an entry found wrong on its own."""
    for number, index in holders.items():
        if index is not None and periods[index].status in LOCKED:
            report.periods[periods[index].id].add("entry", number)


def _judge_figures(report, periods, sums, opening_fen):
    """Sums by date against the submitted figures; each opening against the closing before it (when that one
    is closed too)."""
    previous = None
    for index, p in enumerate(periods):
        if p.status in LOCKED:
            verdict = report.periods[p.id]
            income, expense, count = sums[index]
            if (income, expense, count) != (p.income, p.expense, p.count) or \
                    p.closing != p.opening + p.income - p.expense:
                verdict.add("figures")
            # A returned period before it is being corrected: its stored closing may be stale until resubmitted.
            if previous is None or previous.status in LOCKED:
                expected = opening_fen if previous is None else previous.closing
                if p.opening != expected:
                    verdict.add("opening")
        previous = p
