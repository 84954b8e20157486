"""The hash chain over posted entries: what is sealed, and how one entry's hash is made.

Each posted entry's hash covers its own fields and the previous entry's hash, so changing any posted amount,
date, category or text (or removing or reordering entries) changes every hash after it. A signed period
keeps the head hash; it is printed on the paper notice, so even a rewrite that recomputes every hash no
longer matches what the supervisors signed. docs/ledger-hashing.md is the recipe for anyone's own checker.

Two recipes, told apart by the sealed field "v" (absent means 1):
- 1 (entries sealed before issue 11): the counterparty's name as typed, even a person's; the hash is
  sha256(previous hash + "\\n" + canonical fields).
- 2 (from then on): a person's name is sealed as a commitment, sha256(private nonce + name), and the
  public "counterparty" is "个人"; the hash is sha256(previous hash + "\\n" + sha256(canonical fields)), so a
  checker can step over an entry it may not see yet when it is given that entry's content digest.
Entries keep the recipe they were sealed with: their codes are printed on paper.
"""
import hashlib
import json
import secrets

GENESIS = "0" * 64
LEGACY = 1
CURRENT = 2
PUBLIC_INCOME = "public_income"  # the book every compound had first: its entries don't name their book
PERSON = "个人"  # what a person's name is sealed as (recipe 2), and all residents ever see of it


def canonical(fields):
    """The fields as the exact text that is hashed: JSON, keys sorted, no spaces, UTF-8 characters as they are."""
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def content_digest(fields):
    """sha256 of the canonical fields (recipe 2 chains this, not the fields themselves)."""
    return hashlib.sha256(canonical(fields).encode()).hexdigest()


def recipe_of(fields):
    """The recipe a set of sealed fields was made with."""
    return fields.get("v", LEGACY)


def link(prev_hash, digest):
    """Recipe 2's step: the next hash from the previous hash and an entry's content digest."""
    return hashlib.sha256(f"{prev_hash}\n{digest}".encode()).hexdigest()


def entry_hash(prev_hash, fields):
    """The hash of one entry given the previous hash and its sealed fields (a dict of JSON values)."""
    if recipe_of(fields) >= CURRENT:
        return link(prev_hash, content_digest(fields))
    return hashlib.sha256(f"{prev_hash}\n{canonical(fields)}".encode()).hexdigest()


def new_nonce():
    """A per-entry secret that keeps a person's sealed name from being guessed (kept private, never shown)."""
    return secrets.token_hex(16)


def counterparty_digest(nonce, name):
    """The commitment to a person's name that recipe 2 seals: sha256(nonce + name), hex."""
    return hashlib.sha256(f"{nonce}{name}".encode()).hexdigest()


def fields_of(entry):
    """The fields that are sealed: everything that says what happened with the money, and when it was posted."""
    fields = {
        "compound": entry.compound_id, "number": entry.number, "kind": entry.kind,
        "occurred_on": entry.occurred_on.isoformat(), "category": entry.category_id,
        "amount_fen": entry.amount_fen, "description": entry.description, "counterparty": entry.counterparty,
        "person": bool(entry.counterparty_is_person), "method": entry.method, "topic": entry.topic_id,
        "reverses": entry.reverses_id,
        "posted_at": entry.posted_at.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.posted_at else None,
    }
    # A second book's entries say which book they are in, and the maintenance fund's which building and
    # which transfer: absent from public income entries, so every hash made before there were books stands.
    book = getattr(entry, "book_kind", None)
    if book and book != PUBLIC_INCOME:
        fields["book"] = str(book)
    if getattr(entry, "building", None):
        fields["building"] = entry.building
    if getattr(entry, "transfer_number", None):
        fields["transfer"] = entry.transfer_number
    if (getattr(entry, "recipe", None) or LEGACY) >= CURRENT:
        fields["v"] = CURRENT
        fields["counterparty_digest"] = ""
        if entry.counterparty_is_person:
            fields["counterparty"] = PERSON
            fields["counterparty_digest"] = counterparty_digest(entry.counterparty_nonce or "", entry.counterparty)
    return fields


def public_fields(entry):
    """The sealed fields as anyone may see them, or None when they hold a person's name (recipe 1)."""
    fields = fields_of(entry)
    if recipe_of(fields) == LEGACY and fields["person"]:
        return None
    return fields
