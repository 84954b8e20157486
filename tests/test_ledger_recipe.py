"""docs/ledger-hashing.md, implemented again here from the page alone (hashlib and json, nothing from kiosk), and
checked against what the server publishes: a resident's own checker reaches the code on the paper, names a
changed entry, and is not fooled by a rewrite the server's stored hashes agree with. The public JSON never
carries a person's name.

The ledger: January #1 (parking) and #2 (a repair paid to a person), and February's #3 posted before January
closed (so January's head, #3, covers it); then February's #4 and #5; both months signed."""
import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import select

from kiosk.auth.models import Role
from kiosk.extensions import db
from kiosk.ledger import service
from kiosk.ledger.models import Category

import factories
from ledger_tamper import rewrite, set_entry, tamper

GENESIS = "0" * 64
PERSON = "黄建军"


# --- the recipe, from the documentation ------------------------------------------------------------------

def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical(fields):
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(prev, fields):
    if fields.get("v", 1) >= 2:
        return sha256(prev + "\n" + sha256(canonical(fields)))
    return sha256(prev + "\n" + canonical(fields))


def check(segment, paper):
    """(reaches the paper code, first number checked by us, first entry whose content no longer gives its hash)."""
    prev, expected = segment["start"]["hash"], segment["start"]["number"] + 1
    trusted_from, changed = expected, None
    for entry in segment["entries"]:
        assert entry["number"] == expected, f"entry {expected} is missing"
        if "fields" in entry:
            digest = entry_hash(prev, entry["fields"])
            if digest != entry["hash"] and changed is None:
                changed = entry["number"]
        elif "digest" in entry:
            digest = sha256(prev + "\n" + entry["digest"])
        else:
            digest, trusted_from = entry["hash"], entry["number"] + 1
        prev, expected = digest, expected + 1
    return prev == paper, trusted_from, changed


# --- a ledger to check ------------------------------------------------------------------------------------



@pytest.fixture
def months(app, compound, chair, make_user):
    service.open_book(compound, started_on=date(2026, 1, 1))
    db.session.commit()
    sups = [make_user(f"sup{i}", compound, role=Role.supervisor) for i in range(3)]
    factories.posted_entry(compound, chair, "停车费", 860000, date(2026, 1, 3), counterparty="小区停车管理处")
    factories.posted_entry(compound, chair, "维修", 23000, date(2026, 1, 19), counterparty=PERSON, counterparty_is_person=True,
           description="3 栋楼道灯更换（人工）")
    factories.posted_entry(compound, chair, "停车费", 870000, date(2026, 2, 2), counterparty="小区停车管理处")
    january = factories.close_and_sign(compound, chair, sups, date(2026, 1, 1), date(2026, 1, 31))
    return compound, chair, sups, january


def segment(client, period):
    response = client.get(f"/maple/ledger/{period.id}/chain.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert PERSON not in response.get_data(as_text=True)
    return response.get_json()


def test_a_residents_own_checker_reaches_the_paper_code_without_a_persons_name(client, months):
    compound, chair, sups, january = months
    paper = january.head_hash  # what the notice's QR carries
    data = segment(client, january)
    assert data["start"] == {"number": 0, "hash": GENESIS}
    assert [e["number"] for e in data["entries"]] == [1, 2, 3]
    person = data["entries"][1]["fields"]
    assert person["v"] == 2 and person["person"] is True and person["counterparty"] == "个人"
    assert len(person["counterparty_digest"]) == 64
    february_entry = data["entries"][2]  # dated in February, not yet disclosed: its digest only
    assert february_entry["sealed"] == "undisclosed" and "fields" not in february_entry
    assert check(data, paper) == (True, 1, None)
    assert not check(data, "0" * 64)[0]


def test_a_stretch_starts_before_the_previous_head_when_an_entry_was_posted_back_then(client, months):
    compound, chair, sups, january = months
    factories.posted_entry(compound, chair, "场地租金", 300000, date(2026, 2, 5))
    factories.posted_entry(compound, chair, "垃圾清运", 150000, date(2026, 2, 26))
    february = factories.close_and_sign(compound, chair, sups, date(2026, 2, 1), date(2026, 2, 28))
    data = segment(client, february)
    assert data["start"]["number"] == 2 and [e["number"] for e in data["entries"]] == [3, 4, 5]
    assert all(e["in_period"] for e in data["entries"])
    assert check(data, february.head_hash) == (True, 3, None)
    assert sum(e["fields"]["amount_fen"] for e in data["entries"] if e["fields"]["kind"] == "income") == \
        february.income_fen
    disclosed = segment(client, january)["entries"][2]  # February is published now: #3 is public in January's too
    assert disclosed["fields"]["number"] == 3 and not disclosed["in_period"]
    assert check(segment(client, january), january.head_hash) == (True, 1, None)


def test_an_edited_entry_is_named_and_a_rewrite_no_longer_reaches_the_paper(client, months):
    compound, chair, sups, january = months
    paper = january.head_hash
    tamper(set_entry(1, description="改过的摘要"))
    assert check(segment(client, january), paper) == (False, 1, 1)
    tamper(rewrite(1, heads=True, signoffs=True, audit=True, description="改过的摘要"))
    data = segment(client, january)
    assert data["period"]["head_hash"] != paper  # the server now claims the rewritten head...
    reached, _from, changed = check(data, paper)
    assert changed is None and not reached  # ...and its stored hashes agree, but the paper does not


def test_an_undisclosed_or_unpublished_period_has_no_public_stretch(client, months):
    compound, chair, sups, january = months
    february = service.submit(compound, chair, service.figures(compound, date(2026, 2, 1), date(2026, 2, 28)).closing)
    db.session.commit()
    assert client.get(f"/maple/ledger/{february.id}/chain.json").status_code == 404
    assert client.get("/maple/ledger/999/chain.json").status_code == 404


def test_the_head_a_phone_remembers(client, months):
    compound, chair, sups, january = months
    head = client.get("/maple/ledger/head.json?n=2").get_json()
    entry = service.entry_by_number(compound, 2)
    assert head["number"] == 3 and head["hash"] == service.entry_by_number(compound, 3).hash
    assert head["at"] == {"number": 2, "hash": entry.hash}
    assert "at" not in client.get("/maple/ledger/head.json").get_json()


def test_a_residents_own_checker_follows_the_maintenance_funds_own_chain(client, months):
    """A second book numbers from 1 and chains from the genesis hash; its sealed fields name the book, the
    building and the transfer; the same checker, written from the page, reaches its signed code."""
    from factories import households

    compound, chair, sups, january = months
    households(compound, 2, building=lambda i: "3")
    with service.using_book("maintenance_fund"):
        service.open_book(compound, started_on=date(2026, 1, 1))
        db.session.commit()
        deposit = db.session.scalar(select(Category).where(Category.book_id == service.book(compound).id,
                                                           Category.name == "业主续筹"))
        entry = service.save_draft(compound, chair, None, {
            "kind": "income", "occurred_on": date(2026, 1, 8), "category_id": deposit.id, "amount_fen": 500000,
            "description": "3栋续筹", "building": "3"})
        service.post(compound, chair, entry)
    service.transfer(compound, chair, "public_income", "maintenance_fund", 400000, date(2026, 2, 27), "转入")
    db.session.commit()
    with service.using_book("maintenance_fund"):
        half = service.submit(compound, chair, 900000)
        for sup in sups[:2]:
            service.decide(compound, sup, half, True)
        db.session.commit()
    data = segment(client, half)
    assert data["book"] == "maintenance_fund" and data["start"] == {"number": 0, "hash": GENESIS}
    first, second = (e["fields"] for e in data["entries"])
    assert (first["book"], first["building"], "transfer" not in first) == ("maintenance_fund", "3", True)
    assert (second["book"], second["transfer"], second["number"]) == ("maintenance_fund", 1, 2)
    assert check(data, half.head_hash) == (True, 1, None)
    assert "book" not in segment(client, january)["entries"][0]["fields"]  # public income seals as before
