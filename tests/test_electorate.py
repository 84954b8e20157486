"""Votes of part of the compound (issue 14): a topic's electorate is one building, one 单元 or chosen buildings;
art. 278's thresholds are computed on that electorate; households outside it are refused with a sentence and
still read the topic; every place that shows the topic says whose vote it is; secret releases stay safe when
the electorate is small."""
import random
from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from sqlalchemy import select

from kiosk.consult import service, snapshots
from kiosk.consult.models import Elector, Topic
from kiosk.consult.release_rules import safe_to_release
from kiosk.consult.tally import Cast, Voter
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.models import Household, Occupancy
from kiosk.households.service import issue
from kiosk.screen.models import Screen

import factories
from conftest import csrf_token, post_form
from test_tally import reference

LIFT = {"title": "3栋电梯更新改造", "rule": "special"}


def compound_roll(compound, rng=None):
    """Three buildings of two 单元 each, 8 households per 单元; distinct areas, a shared owner and developer
    units, so a wrong electorate would show in the figures."""
    rng = rng or random.Random(14)
    made = []
    for building in ("1", "3", "5"):
        for entrance in ("1", "2"):
            for i in range(8):
                roll_ = rng.random()
                occupancy = (Occupancy.developer if roll_ < 0.1 else Occupancy.rented if roll_ < 0.35
                             else Occupancy.vacant if roll_ < 0.4 else Occupancy.owner_occupied)
                made.append(Household(compound_id=compound.id, building=building, entrance=entrance,
                                      room=f"{1 + i // 2}0{1 + i % 2}", area_centi=rng.randint(6000, 14000),
                                      occupancy=occupancy, owner_key="陈氏" if rng.random() < 0.1 else ""))
    db.session.add_all(made)
    db.session.commit()
    return made


def scoped_topic(compound, chair, buildings, entrance="", **fields):
    return factories.open_topic(compound, chair, **{**LIFT, "scope_buildings": buildings,
                                                    "scope_entrance": entrance, **fields})


def phone(app, compound, chair, household):
    token = issue(compound, chair, [household])[0][1]
    db.session.commit()
    client = app.test_client()
    assert client.get(f"/h/{token}").status_code == 302
    return client


def vote(client, topic, choice="yes"):
    return client.post(f"/maple/topics/{topic.id}/vote",
                       data={"csrf_token": csrf_token(client, f"/maple/topics/{topic.id}"), "choice": choice})


def electors(topic):
    return set(db.session.scalars(select(Elector.household_id).where(Elector.topic_id == topic.id)))


# --- the electorate frozen at publication ------------------------------------------------------------------------

def test_publish_freezes_only_the_building_the_unit_or_the_chosen_buildings(compound, chair):
    homes = compound_roll(compound)
    building = scoped_topic(compound, chair, ["3"])
    unit = scoped_topic(compound, chair, ["3"], "2", title="3栋2单元屋顶防水")
    pair = scoped_topic(compound, chair, ["3", "5"], title="3栋、5栋共用电梯维修")
    whole = factories.open_topic(compound, chair, title="小区停车收费")
    assert electors(building) == {h.id for h in homes if h.building == "3"}
    assert electors(unit) == {h.id for h in homes if h.building == "3" and h.entrance == "2"}
    assert electors(pair) == {h.id for h in homes if h.building in ("3", "5")}
    assert electors(whole) == {h.id for h in homes}
    assert (building.electorate_label, unit.electorate_label, pair.electorate_label, whole.electorate_label) == (
        "3栋业主表决", "3栋2单元业主表决", "3栋、5栋业主表决", "")


@pytest.mark.parametrize("seed", range(6))
def test_the_tally_of_a_one_building_topic_equals_the_reference_tally_of_that_buildings_units(compound, chair,
                                                                                              seed):
    rng = random.Random(seed)
    homes = compound_roll(compound, rng)
    rule = ("ordinary", "special")[seed % 2]
    topic = scoped_topic(compound, chair, ["3"], rule=rule, secret=False)
    mine = [h for h in homes if h.building == "3"]
    casts = []
    for order, household in enumerate(h for h in mine if rng.random() < 0.85):
        choice = rng.choice(["yes", "yes", "yes", "no", "abstain"])
        service.cast(compound, topic, household, [choice])
        casts.append(Cast(household.id, (choice,), order))
    result = service.compute(topic)
    voters = [Voter(h.id, h.area_centi, service.owner_group(h)) for h in mine]
    passed, reasons, figures = reference(rule, voters, casts)
    assert result.total_households == len(mine) < len(homes)
    assert (result.total_area_centi, result.total_heads) == (figures["total_area"], figures["total_heads"])
    assert (result.part_area_centi, result.part_heads) == (figures["part_area"], figures["part_heads"])
    assert result.passed == passed
    # Not the compound's figures: the whole roll's area is larger.
    assert result.total_area_centi < sum(h.area_centi for h in homes)


def test_a_building_with_no_households_on_the_roll_cannot_be_published(committee_client, compound, chair):
    compound_roll(compound)
    topic = service.save_topic(compound, chair, None, dict(factories.TOPIC, **LIFT, scope_buildings=["9"],
                                                           opens_at=utcnow() + timedelta(days=1),
                                                           closes_at=utcnow() + timedelta(days=9)), [])
    db.session.commit()
    answer = post_form(committee_client, f"/admin/maple/topics/{topic.id}/publish", {},
                       token_from=f"/admin/maple/topics/{topic.id}", follow_redirects=True)
    assert "住户名册里没有9栋的住户" in factories.text_of(answer)
    db.session.refresh(topic)
    assert topic.status == "draft" and not electors(topic)


# --- outside the electorate: a sentence, and the topic still readable ----------------------------------------------

def test_a_household_outside_the_building_is_refused_on_the_phone_and_still_reads_the_topic(app, compound, chair):
    homes = compound_roll(compound)
    topic = scoped_topic(compound, chair, ["3"], secret=False)
    outsider = phone(app, compound, chair, next(h for h in homes if h.building == "1"))
    page = factories.text_of(outsider.get(f"/maple/topics/{topic.id}"))
    assert "本议题由3栋业主表决，您家不在表决范围内。" in page and "3栋电梯更新改造" in page
    assert 'name="choice"' not in outsider.get(f"/maple/topics/{topic.id}").get_data(as_text=True)
    answer = vote(outsider, topic)
    assert answer.status_code == 303
    assert "本议题由3栋业主表决，您家不在表决范围内。" in factories.text_of(
        outsider.get(f"/maple/topics/{topic.id}"))
    assert service.participation(topic) == (0, 16)
    insider = phone(app, compound, chair, next(h for h in homes if h.building == "3"))
    assert vote(insider, topic).status_code == 303
    assert service.participation(topic) == (1, 16)


def test_the_lobby_keypad_refuses_a_household_outside_the_unit_with_the_sentence(app, compound, chair):
    from kiosk.consult import kiosk_votes

    homes = compound_roll(compound)
    topic = scoped_topic(compound, chair, ["3"], "2", title="3栋2单元屋顶防水")
    lobby = Screen(compound_id=compound.id, name="大堂", key="lobby-electorate")
    db.session.add(lobby)
    db.session.commit()
    keypad = app.test_client()
    base = f"/maple/kiosk/{lobby.key}/vote/{topic.id}"
    token = csrf_token(keypad, base)
    neighbour = next(h for h in homes if h.building == "3" and h.entrance == "1")
    code = kiosk_votes.issue_code(compound, neighbour)
    db.session.commit()
    answer = keypad.post(base, data={"csrf_token": token, "code": code})
    assert answer.status_code == 403
    assert "本议题由3栋2单元业主表决，您家不在表决范围内。" in factories.text_of(answer)
    voter = next(h for h in homes if h.building == "3" and h.entrance == "2")
    code = kiosk_votes.issue_code(compound, voter)
    db.session.commit()
    assert keypad.post(base, data={"csrf_token": token, "code": code}).status_code == 200


# --- whose vote it is, wherever the topic is shown ------------------------------------------------------------------

def test_phone_screen_results_and_resolution_say_whose_vote_it_is(app, client, committee_client, compound, chair):
    homes = compound_roll(compound)
    topic = scoped_topic(compound, chair, ["3", "5"], title="3栋、5栋共用电梯维修", rule="ordinary")
    whole = factories.open_topic(compound, chair, title="小区停车收费")
    page = factories.text_of(client.get(f"/maple/topics/{topic.id}"))
    assert "3栋、5栋业主表决" in page and "已投 0 / 32 户" in page
    assert "业主表决" not in factories.text_of(client.get(f"/maple/topics/{whole.id}"))
    assert "3栋、5栋业主表决" in factories.text_of(client.get("/maple/topics"))
    lobby = Screen(compound_id=compound.id, name="大堂", key="lobby-whose")
    db.session.add(lobby)
    db.session.commit()
    assert "3栋、5栋业主表决" in factories.text_of(client.get(f"/maple/kiosk/{lobby.key}/vote/{topic.id}"))
    for household in [h for h in homes if h.building in ("3", "5")][:30]:
        service.cast(compound, topic, household, ["yes"])
    with time_machine.travel(topic.closes_at + timedelta(minutes=1), tick=True):
        service.close_due(compound)
        db.session.commit()
    printed = factories.text_of(client.get(f"/maple/topics/{topic.id}/print"))
    assert "表决范围：3栋、5栋业主表决" in printed and "30" in printed
    form = committee_client.get(f"/admin/maple/topics/{topic.id}/resolution").get_data(as_text=True)
    assert "表决范围：3栋、5栋业主表决" in form
    exported = committee_client.get(f"/admin/maple/topics/{topic.id}/results.csv").get_data().decode("utf-8-sig")
    assert "表决范围,3栋、5栋业主表决" in exported


def test_the_screen_slide_says_whose_vote_it_is(app, client, compound, chair):
    compound_roll(compound)
    scoped_topic(compound, chair, ["3"])
    lobby = Screen(compound_id=compound.id, name="大堂", key="lobby-slide")
    db.session.add(lobby)
    db.session.commit()
    page = factories.text_of(client.get(f"/maple/screen/{lobby.key}"))
    assert "3栋电梯更新改造" in page and "3栋业主表决" in page


# --- the topic form offers the roll's buildings and 单元 ------------------------------------------------------------

def topic_form(**fields):
    start = (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT09:00")
    end = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT20:00")
    return {"title": "3栋电梯更新改造", "background": "", "kind": "yesno", "rule": "special", "seats": "1",
            "options": "", "visibility": "live", "allow_change": "y", "secret": "y", "opens_at": start,
            "closes_at": end, **fields}


def test_the_topic_form_offers_the_rolls_buildings_and_units_and_saves_the_choice(committee_client, compound):
    compound_roll(compound)
    form = committee_client.get("/admin/maple/topics/new").get_data(as_text=True)
    soup = BeautifulSoup(form, "html.parser")
    assert [o["value"] for o in soup.select("select[name=scope_building] option")] == ["1", "3", "5"]
    assert "3|2" in [o["value"] for o in soup.select("select[name=scope_unit] option")]
    answer = post_form(committee_client, "/admin/maple/topics/new",
                       topic_form(scope="unit", scope_unit="3|2"), token_from="/admin/maple/topics/new")
    assert answer.status_code == 302
    topic = db.session.scalar(select(Topic))
    assert topic.scope == (("3",), "2") and topic.electorate_label == "3栋2单元业主表决"
    edit = committee_client.get(f"/admin/maple/topics/{topic.id}/edit").get_data(as_text=True)
    assert BeautifulSoup(edit, "html.parser").select_one("input[name=scope][value=unit]").has_attr("checked")


@pytest.mark.parametrize(("fields", "error"), [
    ({"scope": "building", "scope_building": "9"}, "请选择一栋楼。"),
    ({"scope": "unit", "scope_unit": "3|7"}, "请选择一个单元。"),
    ({"scope": "buildings", "scope_buildings": ["3"]}, "请至少勾选两栋"),
])
def test_the_topic_form_refuses_a_place_not_on_the_roll_next_to_the_field(committee_client, compound, fields, error):
    compound_roll(compound)
    answer = post_form(committee_client, "/admin/maple/topics/new", topic_form(**fields),
                       token_from="/admin/maple/topics/new")
    assert answer.status_code == 400 and error in factories.text_of(answer)


# --- secret ballots with a small electorate ------------------------------------------------------------------------

def test_a_release_never_leaves_a_handful_to_vote_so_the_close_cannot_single_one_out():
    def figures(part, yes, no, total=12):
        return {"part_households": part, "total_households": total,
                "options": [{"key": "yes", "households": yes}, {"key": "no", "households": no}]}

    empty = figures(0, 0, 0)
    assert safe_to_release(empty, figures(6, 3, 3), 5)  # six still to vote
    assert not safe_to_release(figures(6, 3, 3), figures(11, 6, 5), 5)  # one left: the close would name it
    assert not safe_to_release(empty, figures(8, 4, 4), 5)  # four left
    assert safe_to_release(figures(6, 3, 3), figures(12, 6, 6), 5)  # everyone voted


def test_a_twelve_household_unit_releases_batches_that_never_reveal_a_single_choice(app, compound, chair):
    homes = factories.households(compound, 12, building=lambda i: "3", room=lambda i: f"{101 + i}",
                                 entrance="2", area=lambda i: 7000 + 113 * i)
    factories.households(compound, 20, building=lambda i: "1", room=lambda i: f"{201 + i}")
    rng = random.Random(12)
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1, seconds=5)
    with time_machine.travel(start, tick=False) as clock:
        topic = scoped_topic(compound, chair, ["3"], "2", title="3栋2单元屋顶防水", secret=True,
                             closes_at=start + timedelta(hours=2))
        releases = [snapshots.shown(topic)]
        for household in homes:
            service.cast(compound, topic, household, [rng.choice(["yes", "no", "abstain"])])
            clock.shift(timedelta(minutes=4))
            snapshots.release(topic)
            db.session.commit()
            if snapshots.shown(topic) != releases[-1]:
                releases.append(snapshots.shown(topic))
        clock.move_to(topic.closes_at + timedelta(seconds=1))
        service.close_due(compound)
        db.session.commit()
        db.session.refresh(topic)
    steps = releases + [topic.result]
    for before, after in zip(steps, steps[1:]):
        added = after["part_households"] - before["part_households"]
        assert added == 0 or added >= 5, "a batch of fewer than five households"
        gained = {o["key"]: o["households"] for o in after["options"]}
        for option in before["options"]:
            gained[option["key"]] -= option["households"]
        assert added == 0 or max(gained.values()) <= added - 2 or after is topic.result
    assert topic.result["total_households"] == 12


# --- the demo --------------------------------------------------------------------------------------------------------

def test_the_demo_has_a_lift_vote_of_building_3_rented_units_and_verified_cards(app, runner):
    from kiosk.demo import LIFT_VOTE, load_demo
    from kiosk.households.models import HouseholdCard, live_card

    first = load_demo()
    summary = load_demo()  # loading twice keeps one lift vote
    assert first["electorate"] == summary["electorate"]
    lifts = db.session.scalars(select(Topic).where(Topic.title == LIFT_VOTE)).all()
    assert len(lifts) == 1 and lifts[0].electorate_label == "3栋业主表决" and lifts[0].phase() == "voting"
    lift = lifts[0]
    roll_ = db.session.scalars(select(Household).where(Household.compound_id == lift.compound_id)).all()
    assert {Occupancy.rented, Occupancy.vacant, Occupancy.developer} <= {h.occupancy for h in roll_}
    assert electors(lift) == {h.id for h in roll_ if h.building == "3"}
    cards = db.session.execute(select(Household.building, HouseholdCard.delivery).join(
        HouseholdCard, HouseholdCard.household_id == Household.id).where(live_card())).all()
    verified = [b for b, d in cards if d == "in_person"]
    assert verified.count("3") > len(verified) / 4 and verified.count("3") > 20
    voted, total = service.participation(lift)
    assert total == sum(1 for h in roll_ if h.building == "3")
    sample = db.session.scalar(select(Household).where(Household.building == "3", Household.room == "502",
                                                       Household.compound_id == lift.compound_id)
                                .order_by(Household.entrance, Household.id))  # the demo's card: 3栋1单元502
    assert service.why_not(lift, sample) is None  # the card the demo prints may vote
    db.session.commit()  # SQLite: the command's own session needs the write lock this test's reads began
    result = runner.invoke(args=["demo", "--no-serve"])
    assert result.exit_code == 0, repr(result.exception)
    output = result.output
    assert f"/topics/{lift.id}" in output and "3栋电梯更新改造" in output and "/cards/delivery" in output


def test_a_published_topics_electorate_cannot_be_rewritten_even_in_the_database(compound, chair):
    from sqlalchemy import text as sql
    from sqlalchemy.exc import DBAPIError

    compound_roll(compound)
    topic = scoped_topic(compound, chair, ["3"])
    for statement in ("UPDATE topic SET scope_buildings = NULL WHERE id = :id",
                      "UPDATE topic SET scope_entrance = '2' WHERE id = :id",
                      "UPDATE topic SET require_verified = NOT require_verified WHERE id = :id"):
        with pytest.raises(DBAPIError):
            db.session.execute(sql(statement), {"id": topic.id})
            db.session.flush()
        db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Topic, topic.id).electorate_label == "3栋业主表决"
