"""The hash chain over posted entries: what is hashed, and how a chain is checked.

Each posted entry's hash is sha256 over its own fields and the previous entry's hash, so changing any posted
amount, date, category or text (or removing or reordering entries) changes every hash after it. A signed
period stores the head hash; it is printed on the paper notice, so even a rewrite that recomputes every hash
no longer matches what the supervisors signed.
"""
import hashlib
import json
from dataclasses import dataclass

GENESIS = "0" * 64


def entry_hash(prev_hash, fields):
    """The hash of one entry given the previous hash and its canonical fields (a dict of JSON values)."""
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def fields_of(entry):
    """The fields that are sealed: everything that says what happened with the money, and when it was posted."""
    return {
        "compound": entry.compound_id, "number": entry.number, "kind": entry.kind,
        "occurred_on": entry.occurred_on.isoformat(), "category": entry.category_id,
        "amount_fen": entry.amount_fen, "description": entry.description, "counterparty": entry.counterparty,
        "person": bool(entry.counterparty_is_person), "method": entry.method, "topic": entry.topic_id,
        "reverses": entry.reverses_id,
        "posted_at": entry.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.posted_at else None,
    }


@dataclass
class Check:
    """The outcome of checking a chain: ok, or the first entry (by number) that no longer matches, and why."""

    ok: bool
    checked: int
    bad_number: int | None = None
    why: str = ""  # "hash" (the entry's fields changed), "link" (order or a removed entry), "head" (period)
    bad_period: int | None = None


def verify(entries, heads=()):
    """Recompute the chain over posted `entries` in number order; `heads` is [(period_id, head_number,
    head_hash)] of signed periods, each compared with the recomputed hash at its head."""
    expected = {number: (period_id, head) for period_id, number, head in heads}
    previous = GENESIS
    checked = 0
    last_number = 0
    recomputed_at = {}
    for entry in entries:
        checked += 1
        if entry.number != last_number + 1 or entry.prev_hash != previous:
            return Check(False, checked, entry.number, "link")
        digest = entry_hash(previous, fields_of(entry))
        if digest != entry.hash:
            return Check(False, checked, entry.number, "hash")
        recomputed_at[entry.number] = digest
        previous, last_number = digest, entry.number
    for number, (period_id, head) in sorted(expected.items()):
        if number and recomputed_at.get(number) != head:
            return Check(False, checked, number, "head", period_id)
    return Check(True, checked)
