"""The vote tally (kiosk.consult.tally) against Civil Code art. 278: quorum of 2/3 by area and by owners,
approval by more than 1/2 (ordinary) or at least 3/4 (special) of the participants' area and owners.

Areas are in hundredths of m² (10000 = 100.00 m²). Figures in comments are worked out by hand.
"""
import io
import itertools
import json
import random
import tokenize
from fractions import Fraction
from pathlib import Path

import pytest

from kiosk.consult.tally import ABSTAIN, KINDS, NO, QUORUM, RULES, YES, Cast, Result, Voter, shares, tally

SOURCE = Path(__file__).resolve().parent.parent / "kiosk" / "consult" / "tally.py"
YESNO = (YES, NO, ABSTAIN)
STATUTORY_QUORUM = ("quorum_area", "quorum_heads")
_orders = itertools.count(1)


def unit(hid, area=10000, owner=None):
    """A unit on the electorate; its own owner unless told otherwise."""
    return Voter(hid, area, owner or f"unit-{hid}")


def cast(hid, *choices, order=None):
    """A ballot; without an explicit order, each new cast is later than the previous one."""
    return Cast(hid, tuple(choices), next(_orders) if order is None else order)


def yesno(rule, voters, casts):
    return tally("yesno", rule, YESNO, voters, casts)


# 1, 2: participation quorum (≥ 2/3 by area AND by heads)

def test_quorum_exactly_two_thirds_by_area_but_not_by_heads():
    voters = [unit(1, 20000), unit(2, 5000), unit(3, 5000)]  # total area 30000, 3 owners
    r = yesno("ordinary", voters, [cast(1, YES)])
    # area 20000 of 30000 = 2/3 exactly (met); heads 1 of 3 (not met)
    assert (r.part_area_centi, r.total_area_centi, r.part_heads, r.total_heads) == (20000, 30000, 1, 3)
    assert r.part_area_share == Fraction(2, 3) and r.part_heads_share == Fraction(1, 3)
    assert r.quorum_required and r.quorum_area_met and not r.quorum_heads_met and not r.quorum_met
    assert not r.passed and r.winners == ()
    assert [c for c in r.reasons if c in STATUTORY_QUORUM] == ["quorum_heads"]
    assert r.reasons == ("quorum_heads",)  # approval itself holds: 20000 of 20000, 1 of 1
    assert not r.option(YES).approved  # approval needs the quorum too


def test_quorum_exactly_two_thirds_on_both_is_met():
    voters = [unit(1), unit(2), unit(3)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, YES)])
    # area 20000 of 30000 = 2/3, heads 2 of 3 = 2/3: "at least" two thirds
    assert r.quorum_area_met and r.quorum_heads_met
    assert r.passed and r.winners == (YES,) and r.reasons == ()
    assert r.option(YES).approved and not r.option(NO).approved


def test_quorum_just_below_two_thirds_by_area():
    voters = [unit(1, 10000), unit(2, 10000), unit(3, 10001)]
    r = yesno("special", voters, [cast(1, YES), cast(2, YES)])
    # 20000 * 3 = 60000 < 30001 * 2 = 60002; heads 2 of 3 met
    assert not r.quorum_area_met and r.quorum_heads_met
    assert r.reasons == ("quorum_area",) and not r.passed


def test_quorum_and_approval_failures_are_all_listed():
    voters = [unit(i) for i in range(1, 7)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, NO), cast(3, NO)])
    # participation 3 of 6 on both (< 2/3); yes 1 of 3 on both (not > 1/2)
    assert r.reasons == ("quorum_area", "quorum_heads", "approval_area", "approval_heads")


# 3: ordinary approval is strictly more than half

def test_ordinary_exactly_half_fails_and_one_more_passes():
    voters = [unit(i) for i in range(1, 5)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, YES), cast(3, NO), cast(4, NO)])
    # yes 20000 of 40000 = 1/2, 2 of 4 heads = 1/2: not "more than half"
    assert r.quorum_met and not r.passed
    assert r.reasons == ("approval_area", "approval_heads")
    assert r.approval == Fraction(1, 2) and r.approval_strict

    voters = [unit(1, 10001), unit(2), unit(3), unit(4)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, YES), cast(3, NO), cast(4, NO)])
    # area 20001 * 2 = 40002 > 40001 passes; heads 2 of 4 still exactly half
    assert r.reasons == ("approval_heads",) and not r.passed

    voters = [unit(1, 5000), unit(2, 5000), unit(3, 10000), unit(4, 20000)]
    votes = [cast(1, YES), cast(2, YES), cast(3, YES), cast(4, NO)]
    r = yesno("ordinary", voters, votes)
    # heads 3 of 4 pass; area 20000 of 40000 exactly half fails
    assert r.reasons == ("approval_area",) and not r.passed
    assert r.area_share(YES) == Fraction(1, 2) and r.heads_share(YES) == Fraction(3, 4)

    voters[3] = unit(4, 19999)
    r = yesno("ordinary", voters, votes)
    # one hundredth of a m² less against: 20000 * 2 = 40000 > 39999
    assert r.passed and r.reasons == () and r.winners == (YES,)


# 4: special approval is at least three quarters

def test_special_exactly_three_quarters_passes_just_under_fails():
    voters = [unit(i) for i in range(1, 5)]
    votes = [cast(1, YES), cast(2, YES), cast(3, YES), cast(4, NO)]
    r = yesno("special", voters, votes)
    # 30000 * 4 = 120000 >= 40000 * 3; 3 * 4 = 12 >= 4 * 3
    assert r.passed and r.approval == Fraction(3, 4) and not r.approval_strict

    voters[3] = unit(4, 10001)
    r = yesno("special", voters, votes)
    # 30000 * 4 = 120000 < 40001 * 3 = 120003
    assert not r.passed and r.reasons == ("approval_area",)


def test_special_heads_just_under_three_quarters():
    voters = [unit(i, 20000) for i in range(1, 6)] + [unit(6, 1000), unit(7, 1000)]
    votes = [cast(i, YES) for i in range(1, 6)] + [cast(6, NO), cast(7, NO)]
    r = yesno("special", voters, votes)
    # heads 5 of 7: 20 < 21; area 100000 of 102000: 400000 >= 306000
    assert r.reasons == ("approval_heads",) and not r.passed
    assert yesno("ordinary", voters, votes).passed  # 5 of 7 is more than half


# 5, 6: counting owners by head

def test_owner_with_three_units():
    voters = [unit(1, 10000, "zhang"), unit(2, 12000, "zhang"), unit(3, 8000, "zhang"), unit(4), unit(5)]
    r = yesno("ordinary", voters, [])
    assert (r.total_heads, r.total_households, r.total_area_centi) == (3, 5, 50000)

    r = yesno("ordinary", voters, [cast(2, YES), cast(4, YES)])
    # one of zhang's units voting makes zhang a participant: 2 of 3 heads; area 22000 of 50000
    assert (r.part_heads, r.part_households, r.part_area_centi) == (2, 2, 22000)
    assert r.quorum_heads_met and not r.quorum_area_met and r.conflicts == 0

    votes = [cast(1, YES, order=1), cast(3, NO, order=2), cast(4, YES, order=3), cast(5, YES, order=4)]
    r = yesno("ordinary", voters, votes)
    # zhang's units disagree: one conflict, zhang's head follows unit 3 (latest): no
    assert r.conflicts == 1
    assert (r.option(YES).heads, r.option(NO).heads) == (2, 1)
    # area follows each unit's own ballot: yes 10000 + 10000 + 10000, no 8000
    assert (r.option(YES).area_centi, r.option(NO).area_centi) == (30000, 8000)
    assert (r.option(YES).households, r.option(NO).households) == (3, 1)
    assert (r.part_heads, r.part_households, r.part_area_centi) == (3, 4, 38000)
    # quorum 38000 * 3 >= 50000 * 2, 3 of 3; yes 30000 of 38000, 2 of 3 heads: passes
    assert r.passed

    votes = [cast(3, NO, order=1), cast(1, YES, order=2), cast(4, YES, order=3), cast(5, YES, order=4)]
    r = yesno("ordinary", voters, votes)
    assert r.conflicts == 1 and (r.option(YES).heads, r.option(NO).heads) == (3, 0)

    r = yesno("ordinary", voters, [cast(1, YES), cast(2, YES), cast(3, YES)])
    assert r.conflicts == 0 and r.option(YES).heads == 1 and r.option(YES).households == 3

    r = yesno("ordinary", voters, [cast(2, YES, order=7), cast(1, NO, order=7)])
    # same order on two of zhang's units: the larger household_id (unit 2) decides zhang's head
    assert (r.option(YES).heads, r.option(NO).heads, r.conflicts) == (1, 0, 1)


def test_owner_heads_decide_against_area():
    voters = [unit(1, 10000, "zhang"), unit(2, 10000, "zhang"), unit(3, 10000), unit(4, 10000)]
    votes = [cast(1, YES, order=1), cast(2, NO, order=2), cast(3, YES, order=3), cast(4, NO, order=4)]
    r = yesno("ordinary", voters, votes)
    # 3 heads: zhang (no, latest), unit-3 yes, unit-4 no -> yes 1 of 3; area yes 20000 of 40000
    assert r.reasons == ("approval_area", "approval_heads") and r.conflicts == 1


def test_developer_units_count_as_one_owner():
    voters = [unit(i, 10000, "developer") for i in range(1, 5)] + [unit(5), unit(6)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(5, YES)])
    # developer = 1 head: 3 owners; participants developer + unit-5 = 2 of 3; area 20000 of 60000
    assert (r.total_heads, r.total_households, r.part_heads) == (3, 6, 2)
    assert r.quorum_heads_met and not r.quorum_area_met
    r = yesno("ordinary", voters, [cast(i, YES) for i in range(1, 5)])
    # all four developer units voting still make one head: 1 of 3
    assert r.part_heads == 1 and r.option(YES).heads == 1 and r.part_area_centi == 40000
    assert r.reasons == ("quorum_heads",)


# 7: no ballots at all

@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("electorate", [[], [unit(1), unit(2, 5000, "developer"), unit(3, 7000, "developer")]])
def test_no_votes_for_every_rule_and_kind(kind, rule, electorate):
    options = YESNO if kind == "yesno" else ("a", "b", "c")
    seats = 2 if kind in ("multi", "election") else 1
    for casts in ([], [cast(99, *options[:1])]):  # a cast from outside the electorate is ignored
        r = tally(kind, rule, options, electorate, casts, seats=seats)
        assert not r.passed and r.winners == () and r.tied == ()
        assert r.reasons[0] == "no_votes"
        statutory = rule in ("ordinary", "special")
        assert r.reasons == (("no_votes", "quorum_area", "quorum_heads") if statutory else ("no_votes",))
        assert r.quorum_required is statutory and not r.quorum_met
        assert (r.part_area_centi, r.part_heads, r.part_households, r.conflicts) == (0, 0, 0, 0)
        assert all((c.area_centi, c.heads, c.households, c.approved) == (0, 0, 0, False) for c in r.options)
        assert r.part_area_share == r.part_heads_share == r.part_households_share == 0
        assert all(r.area_share(k) == r.heads_share(k) == r.households_share(k) == 0 for k in options)


# 8: elections

def election_votes(heads, voters=12):
    """Ballots giving each candidate exactly heads[candidate] marks, no voter marking one twice."""
    slots = [name for name, n in heads.items() for _ in range(n)]
    ballots = [[] for _ in range(voters)]
    for j, name in enumerate(slots):  # each run of one name is at most `voters` long: no repeats
        ballots[j % voters].append(name)
    assert all(len(set(ballot)) == len(ballot) for ballot in ballots)
    return [cast(i + 1, *ballot) for i, ballot in enumerate(ballots)]


CANDIDATES = tuple("ABCDEFG")


def test_election_tie_at_the_last_seat_is_not_broken():
    voters = [unit(i) for i in range(1, 13)]
    # 12 owners all vote, 5 marks each; approval needs > 6 heads and > 60000 area (7 or more)
    votes = election_votes({"A": 12, "B": 10, "C": 10, "D": 9, "E": 8, "F": 8, "G": 3})
    assert all(len(v.choices) == 5 for v in votes)
    r = tally("election", "ordinary", CANDIDATES, voters, votes, seats=5)
    # approved A..F (G has 3); ranked A12 B10 C10 D9 E8 F8: seat 5 (E) ties with F
    assert [c.approved for c in r.options] == [True] * 6 + [False]
    assert r.winners == ("A", "B", "C", "D") and r.tied == ("E", "F")
    assert not r.passed and r.reasons == ("tie",)
    assert [r.option(k).heads for k in CANDIDATES] == [12, 10, 10, 9, 8, 8, 3]


def test_election_tie_above_the_last_seat_is_fine():
    voters = [unit(i) for i in range(1, 13)]
    votes = election_votes({"A": 12, "B": 10, "C": 10, "D": 9, "E": 8, "F": 7, "G": 4})
    assert all(len(v.choices) == 5 for v in votes)
    r = tally("election", "ordinary", CANDIDATES, voters, votes, seats=5)
    # B and C tie for places 2 and 3, both inside the five seats; F (7) is approved but sixth
    assert r.winners == ("A", "B", "C", "D", "E") and r.tied == () and r.passed and r.reasons == ()
    assert r.option("F").approved


def test_election_equal_heads_with_an_unapproved_candidate_is_no_tie():
    voters = [unit(i) for i in range(1, 12)] + [unit(12, 100000)]  # total area 210000
    votes = election_votes({"F": 8, "A": 12, "B": 11, "C": 11, "D": 10, "E": 8})
    # F fills slots 0-7, so unit 12 (the big one, slots 11 23 35 47 59) marks A B C D E, never F
    assert votes[11].choices == ("A", "B", "C", "D", "E")
    r = tally("election", "ordinary", CANDIDATES, voters, votes, seats=5)
    # F: 8 heads but area 80000 of 210000, not more than half -> not approved, so E takes seat 5 alone
    assert r.option("F").area_centi == 80000 and not r.option("F").approved
    assert r.winners == ("A", "B", "C", "D", "E") and r.tied == () and r.passed


def test_election_fewer_approved_than_seats_and_overvotes():
    voters = [unit(i) for i in range(1, 5)]
    votes = [cast(1, "A", "B"), cast(2, "A"), cast(3, "A", "B", "C", "D"), cast(4, "B")]
    r = tally("election", "ordinary", ("A", "B", "C", "D"), voters, votes, seats=3)
    # unit 3 marks four names for three seats: spoiled, yet it took part
    assert r.part_households == 4 and r.option("C").households == 0
    # A 2 of 4, B 2 of 4: exactly half -> nobody approved; front-runner A explains why
    assert r.winners == () and not r.passed and r.reasons == ("approval_area", "approval_heads")


def test_single_choice_statutory_and_multi_seats_cap():
    voters = [unit(i) for i in range(1, 6)]
    r = tally("single", "ordinary", ("a", "b"), voters,
              [cast(1, "a"), cast(2, "a"), cast(3, "a"), cast(4, "b"), cast(5, "a", "b")])
    # unit 5 over-voted: blank. a has 3 of 5 heads and area -> approved and wins
    assert r.winners == ("a",) and r.passed and r.seats == 1
    assert r.option("b").households == 1 and not r.option("b").approved

    r = tally("multi", "ordinary", ("a", "b", "c"), voters,
              [cast(i, "a", "b", "c") for i in range(1, 4)] + [cast(4, "a", "b"), cast(5, "c")], seats=3)
    # a 4, b 4, c 4 heads of 5: all approved, three seats, no cut
    assert r.winners == ("a", "b", "c") and r.passed
    r = tally("multi", "ordinary", ("a", "b", "c"), voters,
              [cast(i, "a", "b") for i in range(1, 4)] + [cast(4, "a", "c"), cast(5, "c", "b")], seats=2)
    # a 4, b 4, c 2 -> a and b; c not approved
    assert r.winners == ("a", "b") and r.passed
    r = tally("multi", "ordinary", ("a", "b", "c"), voters,
              [cast(i, "a", "b") for i in range(1, 3)] + [cast(3, "a", "c"), cast(4, "b", "c"), cast(5, "c")],
              seats=2)
    # a 3, b 3, c 3: all approved, the cap of 2 cuts through equal heads -> all tied
    assert r.winners == () and r.tied == ("a", "b", "c") and r.reasons == ("tie",) and not r.passed


# 9, 10: consensus and informal

def test_consensus():
    voters = [unit(i) for i in range(1, 5)]
    r = yesno("consensus", voters, [cast(1, YES), cast(2, YES), cast(3, ABSTAIN)])
    assert not r.passed and r.reasons == ("not_unanimous",) and r.approval is None
    assert not r.quorum_required
    r = yesno("consensus", voters, [cast(1, YES), cast(2, YES), cast(3, YES)])
    # unit 4 did not take part: consensus is among participants, no quorum
    assert r.passed and r.winners == (YES,) and r.reasons == () and r.option(YES).approved
    assert not yesno("consensus", voters, [cast(1, YES), cast(2)]).passed  # a blank ballot is not a yes
    r = tally("single", "consensus", ("a", "b"), voters, [cast(1, "b"), cast(2, "b")])
    assert r.winners == ("b",) and r.passed
    r = tally("single", "consensus", ("a", "b"), voters, [cast(1, "b"), cast(2, "a")])
    assert r.winners == () and r.reasons == ("not_unanimous",)
    r = tally("election", "consensus", ("a", "b", "c"), voters, [cast(1, "c", "a"), cast(2, "a", "c")], seats=2)
    assert r.winners == ("a", "c") and r.passed  # identical ballots: the agreed slate wins


def test_informal_single_choice():
    voters = [unit(i) for i in range(1, 8)]
    r = tally("single", "informal", ("a", "b", "c"), voters,
              [cast(1, "a"), cast(2, "b"), cast(3, "b"), cast(4, "c"), cast(5)])
    assert r.winners == ("b",) and r.passed and r.approval is None and not r.quorum_required
    assert r.option("b").approved and not r.option("a").approved
    r = tally("single", "informal", ("a", "b", "c"), voters,
              [cast(1, "a"), cast(2, "b"), cast(3, "b"), cast(4, "a"), cast(5, "c")])
    assert r.winners == () and r.tied == ("a", "b") and r.reasons == ("tie",) and not r.passed
    r = tally("multi", "informal", ("a", "b", "c"), voters, [cast(1, "a"), cast(2, "b")], seats=3)
    assert r.winners == ("a", "b") and r.passed  # options without votes never win
    r = tally("single", "informal", ("a", "b"), voters, [cast(1), cast(2)])
    assert r.winners == () and r.reasons == ("not_plurality",)


def test_informal_yes_no():
    voters = [unit(i) for i in range(1, 8)]
    assert yesno("informal", voters, [cast(1, YES), cast(2, YES), cast(3, NO), cast(4, ABSTAIN)]).passed
    for votes in ([cast(1, YES), cast(2, NO)], [cast(1, YES), cast(2, ABSTAIN), cast(3, ABSTAIN)]):
        r = yesno("informal", voters, votes)
        assert not r.passed and r.reasons == ("not_plurality",)


# 11, 12: abstentions and blank ballots

def test_abstain_counts_for_participation_not_approval():
    voters = [unit(i) for i in range(1, 4)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, ABSTAIN)])
    # participation 2 of 3 (quorum met); yes 1 of 2 = exactly half: fails
    assert r.quorum_met and r.part_households == 2 and r.option(ABSTAIN).households == 1
    assert r.reasons == ("approval_area", "approval_heads")
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, YES), cast(3, ABSTAIN)])
    assert r.passed  # 2 of 3


def test_blank_ballot_counts_for_participation():
    voters = [unit(i) for i in range(1, 4)]
    r = yesno("ordinary", voters, [cast(1, YES), cast(2)])
    assert r.part_households == 2 and r.part_heads == 2 and r.quorum_met
    assert r.reasons == ("approval_area", "approval_heads")
    r = yesno("ordinary", voters, [cast(1, YES), cast(2, "bogus"), cast(3, YES, NO)])
    # an unknown key and an over-vote both make blank ballots: 3 participants, 1 yes
    assert r.part_households == 3 and r.option(NO).households == 0 and not r.passed


# ballot bookkeeping

def test_latest_cast_counts_and_outsiders_are_ignored():
    voters = [unit(1), unit(2), unit(3)]
    votes = [cast(1, NO, order=5), cast(1, YES, order=9), cast(1, NO, order=7), cast(2, YES, YES, order=1),
             cast(42, NO, order=3)]
    r = yesno("ordinary", voters, votes)
    assert (r.option(YES).households, r.option(NO).households, r.part_households) == (2, 0, 2)
    assert r.passed
    r = yesno("ordinary", voters, [cast(1, NO, order=4), cast(1, YES, order=4)])
    assert r.option(YES).households == 1  # equal order: the later in the list


def test_invalid_arguments():
    voters = [unit(1)]
    with pytest.raises(ValueError):
        tally("poll", "ordinary", YESNO, voters, [])
    with pytest.raises(ValueError):
        tally("yesno", "majority", YESNO, voters, [])
    with pytest.raises(ValueError):
        tally("yesno", "ordinary", (NO, ABSTAIN), voters, [])
    with pytest.raises(ValueError):
        tally("single", "ordinary", ("a", "a"), voters, [])
    with pytest.raises(ValueError):
        tally("single", "ordinary", (), voters, [])
    with pytest.raises(ValueError):
        tally("election", "ordinary", ("a",), voters, [], seats=0)
    with pytest.raises(ValueError):
        tally("yesno", "ordinary", YESNO, [unit(1), unit(1)], [])
    with pytest.raises(ValueError):
        tally("yesno", "ordinary", YESNO, [unit(1, -1)], [])
    with pytest.raises(TypeError):
        tally("yesno", "ordinary", YESNO, voters, [Cast(1, "yes", 1)])


def test_shares_and_result_data():
    assert shares(0, 0) == 0 and shares(2, 3) == Fraction(2, 3) and isinstance(shares(1, 0), Fraction)
    assert QUORUM == Fraction(2, 3)
    r = tally("single", "ordinary", ("a", "b"), [unit(1), unit(2)], [cast(1, "a"), cast(2, "a")], seats=4)
    assert isinstance(r, Result) and r.seats == 1
    data = json.loads(json.dumps(r.as_dict()))
    assert data["approval"] == "1/2" and data["winners"] == ["a"] and data["options"][0]["heads"] == 2
    with pytest.raises(KeyError):
        r.option("zz")


# 13: randomized comparison with a slow reference written from the rules

def reference(rule, voters, casts):
    """Art. 278 yes/no by the book, with Fractions: returns (passed, reasons, figures)."""
    threshold = {"ordinary": Fraction(1, 2), "special": Fraction(3, 4)}[rule]
    by_unit = {v.household_id: v for v in voters}
    current = {}
    for c in casts:  # orders are unique here
        if c.household_id in by_unit and (c.household_id not in current or c.order > current[c.household_id].order):
            current[c.household_id] = c

    def meaning(c):
        valid = {x for x in c.choices if x in YESNO}
        return next(iter(valid)) if len(valid) == 1 else None  # None: blank or spoiled

    total_area = sum(v.area_centi for v in voters)
    owners = {v.owner for v in voters}
    part_area = sum(by_unit[h].area_centi for h in current)
    area_for = {k: sum(by_unit[h].area_centi for h, c in current.items() if meaning(c) == k) for k in YESNO}
    owner_casts = {}
    for h, c in current.items():
        owner_casts.setdefault(by_unit[h].owner, []).append(c)
    owner_choice = {o: meaning(max(cs, key=lambda c: c.order)) for o, cs in owner_casts.items()}
    conflicts = sum(len({meaning(c) for c in cs}) > 1 for cs in owner_casts.values())
    heads_for = {k: sum(1 for m in owner_choice.values() if m == k) for k in YESNO}

    def share(a, b):
        return Fraction(a, b) if b else Fraction(0)

    def approves(s):
        return s > threshold if rule == "ordinary" else s >= threshold

    quorum_area = total_area > 0 and share(part_area, total_area) >= Fraction(2, 3)
    quorum_heads = len(owners) > 0 and share(len(owner_casts), len(owners)) >= Fraction(2, 3)
    approval_area = bool(current) and part_area > 0 and approves(share(area_for[YES], part_area))
    approval_heads = bool(current) and approves(share(heads_for[YES], len(owner_casts)))
    reasons = []
    if not current:
        reasons.append("no_votes")
    if not quorum_area:
        reasons.append("quorum_area")
    if not quorum_heads:
        reasons.append("quorum_heads")
    if current and not approval_area:
        reasons.append("approval_area")
    if current and not approval_heads:
        reasons.append("approval_heads")
    passed = quorum_area and quorum_heads and approval_area and approval_heads
    figures = {"total_area": total_area, "total_heads": len(owners), "part_area": part_area,
               "part_heads": len(owner_casts), "part_households": len(current), "conflicts": conflicts,
               "area": area_for, "heads": heads_for}
    return passed, tuple(reasons), figures


def random_case(rng):
    n = rng.randint(1, 25)
    areas = [5000, 10000, 15000] if rng.random() < 0.5 else None  # round areas hit thresholds exactly
    shared = ["owner-a", "owner-b", "owner-c"]
    voters = []
    for hid in range(1, n + 1):
        roll = rng.random()
        owner = "developer" if roll < 0.15 else rng.choice(shared) if roll < 0.4 else f"unit-{hid}"
        voters.append(Voter(hid, rng.choice(areas) if areas else rng.randint(4000, 18000), owner))
    turnout, lean = rng.uniform(0.3, 1.0), rng.uniform(0.2, 1.0)
    ballots = []
    for hid in list(range(1, n + 1)) + [n + 1, n + 7]:  # two outsiders
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            if rng.random() < turnout:
                roll = rng.random()
                if roll < lean:
                    choices = (YES,)
                else:
                    choices = rng.choice([(NO,), (NO,), (ABSTAIN,), (), (YES, NO), ("bogus",), (YES, YES)])
                ballots.append((hid, choices))
    orders = rng.sample(range(10 * len(ballots) + 1), len(ballots))
    return voters, [Cast(h, ch, o) for (h, ch), o in zip(ballots, orders)]


@pytest.mark.parametrize("rule", ["ordinary", "special"])
def test_random_yes_no_against_reference(rule):
    rng = random.Random(278 if rule == "ordinary" else 2780)
    seen = set()
    for _ in range(200):
        voters, casts = random_case(rng)
        passed, reasons, f = reference(rule, voters, casts)
        r = yesno(rule, voters, casts)
        assert (r.passed, r.reasons) == (passed, reasons), (voters, casts)
        assert (r.total_area_centi, r.total_heads, r.part_area_centi, r.part_heads, r.part_households,
                r.conflicts) == (f["total_area"], f["total_heads"], f["part_area"], f["part_heads"],
                                 f["part_households"], f["conflicts"])
        for k in YESNO:
            assert (r.option(k).area_centi, r.option(k).heads) == (f["area"][k], f["heads"][k])
        assert r.option(YES).approved == passed
        seen.update(reasons)
        seen.add("passed" if passed else "failed")
    # the cases exercise every outcome
    assert {"passed", "failed", "quorum_area", "quorum_heads", "approval_area", "approval_heads"} <= seen


# 15: exact arithmetic only

def test_source_has_no_inexact_arithmetic_or_framework():
    text = SOURCE.read_text(encoding="utf-8")
    assert "float" not in text and "/ " not in text
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    assert not [t for t in tokens if t.type == tokenize.OP and t.string.startswith("/")]  # no division at all
    assert "flask" not in text.lower() and "sqlalchemy" not in text.lower()
