"""service.compute(), the recount from the database, against the tally of the same ballots as objects.

compute() no longer loads a Voter and a Cast per household: the database sums the electorate and hands over
each current ballot joined with its household's area and owner group, and tally_voted() counts those rows.
These tests hold that it is still exactly tally()'s count (and the vote storm's independent recount): owners
of several units, developer units, changed votes, paper and proxy ballots, refused and rolled-back votes, a
scoped electorate, and every kind and rule on random data.
"""
import json
import random

import pytest
from sqlalchemy import select

from kiosk.consult import service
from kiosk.consult.models import Ballot, Channel, Elector, Topic
from kiosk.consult.service import proxies
from kiosk.consult.tally import KINDS, RULES, Cast, Voter, tally, tally_voted
from kiosk.extensions import db
from kiosk.households.models import Occupancy

import factories
from test_vote_storm import figures_of, recount


# --- tally_voted() is tally() ---------------------------------------------------------------------------------

def _random_case(rng, kind):
    """An electorate with shared owners and developer units, and casts: several per household, some for
    households not on the electorate, unknown keys, repeats, over-votes and blanks."""
    options = ("yes", "no", "abstain") if kind == "yesno" else tuple("abcde"[:rng.randint(2, 5)])
    voters = []
    for hid in range(1, rng.randint(1, 30) + 1):
        roll = rng.random()
        owner = "developer" if roll < 0.15 else rng.choice(["owner:a", "owner:b"]) if roll < 0.4 else f"unit-{hid}"
        voters.append(Voter(hid, rng.choice([0, 5000, 10000, rng.randint(4000, 18000)]), owner))
    casts, order = [], 0
    for _ in range(rng.randint(0, 40)):
        order += rng.choice([0, 1, 1, 2])  # equal orders too: the later cast in the list wins
        picked = rng.sample(options + ("zz",), rng.randint(0, 3))
        if rng.random() < 0.1:
            picked = picked + picked[:1]
        casts.append(Cast(rng.randint(1, 34), tuple(picked), order))
    return options, voters, casts


@pytest.mark.parametrize("kind", KINDS)
def test_tally_voted_from_rows_and_json_text_counts_exactly_what_tally_counts(kind):
    rng = random.Random(f"tally-voted-{kind}")
    for _ in range(300):
        options, voters, casts = _random_case(rng, kind)
        rule = rng.choice([r for r in RULES if kind == "yesno" or r in ("ordinary", "informal")])
        seats = rng.randint(1, 3)
        expected = tally(kind, rule, options, voters, casts, seats)
        area = {v.household_id: v.area_centi for v in voters}
        owner = {v.household_id: v.owner for v in voters}
        totals = (sum(area.values()), len(set(owner.values())), len(voters))
        rows = [(c.household_id, area[c.household_id], owner[c.household_id], json.dumps(list(c.choices)), c.order)
                for c in casts if c.household_id in area]
        assert tally_voted(kind, rule, options, totals, rows, seats, decode=json.loads) == expected


def test_tally_voted_still_refuses_a_bare_string_as_choices():
    with pytest.raises(TypeError):
        tally_voted("yesno", "informal", ("yes", "no"), (100, 1, 1), [(1, 100, "u1", "yes", 1)])


# --- compute() on the database ----------------------------------------------------------------------------------

def _as_objects(topic):
    """tally() of the topic from ORM rows, the way compute() worked before it read rows."""
    voters = [Voter(e.household_id, e.area_centi, e.owner)
              for e in db.session.scalars(select(Elector).where(Elector.topic_id == topic.id))]
    casts = [Cast(b.household_id, tuple(b.choices), b.id) for b in service.ballots(topic)]
    return tally(topic.kind, topic.rule, topic.option_keys(), voters, casts, topic.seats)


def _assert_recount(topic):
    db.session.expire_all()
    topic = db.session.get(Topic, topic.id)
    counted = service.compute(topic)
    assert counted == _as_objects(topic)
    assert figures_of(counted) == recount(topic.id)
    return counted


@pytest.fixture
def roll(compound):
    """Twelve households in two buildings: one buyer owns three units (two in building 1, one in 2), two
    units are the developer's; areas differ so that area and heads tell different stories."""
    homes = factories.households(compound, 12, building=lambda i: "1" if i < 6 else "2",
                                 area=lambda i: 6000 + 1731 * i, owner=lambda i: "buyer" if i in (0, 1, 7) else None)
    for home in homes[4:6]:
        home.occupancy = Occupancy.developer
    db.session.commit()
    return homes


def test_compute_equals_the_tally_of_the_ballots_through_changes_paper_proxies_and_refusals(compound, chair, roll):
    topic = factories.open_topic(compound, chair, secret=False)
    assert _assert_recount(topic).part_households == 0
    for n, home in enumerate(roll[:8]):
        service.cast(compound, topic, home, [("yes", "no", "abstain")[n % 3]])
    _assert_recount(topic)
    # The buyer's units disagree, then one changes its vote; a developer unit changes too.
    service.cast(compound, topic, roll[1], ["no"])
    service.cast(compound, topic, roll[4], ["yes"])
    counted = _assert_recount(topic)
    assert counted.conflicts >= 1
    # A paper ballot typed in by the committee, and a proxy's ballot.
    service.cast(compound, topic, roll[8], ["no"], Channel.paper, entered_by=chair)
    proxy = proxies.record(compound, chair, topic, roll[9], "李四", "1234")
    db.session.commit()
    proxies.cast_by_proxy(compound, chair, topic, proxy, ["yes"])
    db.session.commit()
    before = _assert_recount(topic)
    # A refused vote (no choice) and a ballot rolled back before commit change nothing.
    with pytest.raises(service.VoteRefused):
        service.cast(compound, topic, roll[10], [])
    db.session.add(Ballot(topic_id=topic.id, household_id=roll[11].id, choices=["yes"], channel=Channel.phone,
                          cast_at=topic.opens_at))
    db.session.flush()
    db.session.rollback()
    after = _assert_recount(topic)
    assert after == before and after.part_households == 10
    assert after.total_households == 12 and after.total_heads == 12 - 2 - 1  # the buyer's 3 and developer's 2


def test_compute_counts_only_the_scoped_electorate(compound, chair, roll):
    topic = factories.open_topic(compound, chair, secret=False, scope_buildings=["2"])
    for home in roll:
        try:
            service.cast(compound, topic, home, ["yes"])
        except service.VoteRefused as refused:
            assert refused.reason == "outside_scope" and home.building == "1"
    counted = _assert_recount(topic)
    assert (counted.total_households, counted.part_households) == (6, 6)
    assert counted.total_area_centi == sum(h.area_centi for h in roll if h.building == "2")
