"""Tenure on the roll and how each card reached its household (issue 14): owner-occupied, rented, vacant and
developer-held units; cards handed over in person against ID and property certificate, by mailbox or otherwise,
held by the owner or a tenant; statutory votes that require verified cards, and tenants kept out of statutory
votes (on the phone and at the lobby keypad) while they read everything and take part in 意见征集."""
import io
import re

import pytest
from sqlalchemy import select

from kiosk.changes import AuditEntry
from kiosk.consult import kiosk_votes, service
from kiosk.consult.models import Ballot
from kiosk.extensions import db
from kiosk.households import csvio
from kiosk.households import service as households
from kiosk.households.models import Household, HouseholdCard, Occupancy
from kiosk.screen.models import Screen

import factories
from conftest import csrf_token, post_form

HEADER = "楼栋,单元,室,面积,状态,业主标识,联系人,电话,备注\n"
TENANT_SENTENCE = "这张住户卡登记为租户持有"
UNVERIFIED_SENTENCE = "请带身份证和房产证找自治委员会核验"


def roll(compound, n=6):
    """n households of building 3, three of them rented."""
    made = factories.households(compound, n, building=lambda i: "3", area=lambda i: 9000 + i)
    for household in made[::2]:
        household.occupancy = Occupancy.rented
    db.session.commit()
    return made


def card(app, compound, chair, household, delivery=None, holder="owner"):
    """Issue the household's card, record its delivery, and return a phone that scanned it."""
    token = households.issue(compound, chair, [household])[0][1]
    if delivery:
        households.record_delivery(compound, chair, household, delivery, holder)
    db.session.commit()
    phone = app.test_client()
    assert phone.get(f"/h/{token}").status_code == 302
    return phone


def vote(phone, topic, choice="yes"):
    path = f"/maple/topics/{topic.id}"
    phone.post(path + "/vote", data={"csrf_token": csrf_token(phone, path), "choice": choice})
    return factories.text_of(phone.get(path))


def ballots(topic):
    return db.session.scalars(select(Ballot).where(Ballot.topic_id == topic.id, Ballot.current.is_(True))).all()


# --- the roll's tenure, in and out of CSV ----------------------------------------------------------------------------

def test_old_roll_files_still_import_and_the_new_values_round_trip(committee_client, compound):
    old = HEADER + ("1,1,101,86.35,自住/出租,,,,\n1,1,102,70.00,occupied,,,,\n1,1,103,70.00,,,,,\n"
                    "1,1,104,70.00,出租,,,,\n1,1,105,70.00,空置,,,,\n1,1,106,70.00,开发商持有,,,,\n")
    preview = post_form(committee_client, "/admin/maple/households/import",
                        {"file": (io.BytesIO(old.encode("utf-8-sig")), "roll.csv")}, content_type="multipart/form-data")
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    answer = post_form(committee_client, "/admin/maple/households/import", {"token": token, "action": "confirm"})
    assert answer.status_code == 302
    tenure = {h.room: h.occupancy for h in db.session.scalars(select(Household))}
    assert tenure == {"101": "owner_occupied", "102": "owner_occupied", "103": "owner_occupied",
                      "104": "rented", "105": "vacant", "106": "developer"}
    exported = committee_client.get("/admin/maple/households/export.csv").get_data(as_text=True)
    assert "1,1,101,86.35,自住," in exported and "1,1,104,70.00,出租," in exported
    rows, problems = csvio.parse_roll(exported.encode("utf-8"), {k: k for k in csvio.HEADERS})
    assert not problems and [r["occupancy"] for r in rows] == [
        "owner_occupied", "owner_occupied", "owner_occupied", "rented", "vacant", "developer"]


def test_the_household_form_offers_the_four_tenures(committee_client, compound):
    page = factories.text_of(committee_client.get("/admin/maple/households/new"))
    for label in ("自住", "出租", "空置", "开发商持有"):
        assert label in page
    assert "自住/出租" not in page
    answer = post_form(committee_client, "/admin/maple/households/new",
                       {"building": "2", "entrance": "1", "room": "301", "area": "80", "occupancy": "rented"})
    assert answer.status_code == 302
    assert db.session.scalar(select(Household)).occupancy == Occupancy.rented


def test_a_rented_unit_still_counts_for_its_owner(app, compound, chair):
    homes = roll(compound)
    topic = factories.open_topic(compound, chair, secret=False)
    for household in homes:
        service.cast(compound, topic, household, ["yes"], entered_by=chair, channel="paper")
    result = service.compute(topic)
    assert (result.total_households, result.part_households, result.total_heads) == (6, 6, 6)


# --- recording how a card reached its household ---------------------------------------------------------------------

def test_the_committee_records_a_card_handed_over_in_person_and_the_roll_counts_it(app, committee_client, compound,
                                                                                   chair):
    homes = roll(compound)
    households.issue(compound, chair, homes)
    db.session.commit()
    page = committee_client.get("/admin/maple/cards/delivery?building=3")
    assert page.status_code == 200 and "3栋101" in factories.text_of(page)
    answer = post_form(committee_client, f"/admin/maple/cards/{homes[0].id}/delivery",
                       {"delivery": "in_person", "holder": "owner"}, token_from="/admin/maple/cards/delivery")
    assert answer.status_code == 302
    post_form(committee_client, f"/admin/maple/cards/{homes[2].id}/delivery",
              {"delivery": "mailbox", "holder": "tenant"}, token_from="/admin/maple/cards/delivery")
    first = db.session.scalar(select(HouseholdCard).where(HouseholdCard.household_id == homes[0].id,
                                                          HouseholdCard.revoked_at.is_(None)))
    assert first.verified and first.delivered_by == chair.id and first.delivered_at is not None
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deliver")).all()
    assert [(a.after["delivery"], a.after["holder"]) for a in audit] == [("in_person", "owner"),
                                                                         ("mailbox", "tenant")]
    roll_page = committee_client.get("/admin/maple/households/").get_data(as_text=True)
    from bs4 import BeautifulSoup
    row = BeautifulSoup(roll_page, "html.parser").select_one("table.card-verification tbody tr")
    assert [c.get_text(strip=True) for c in row.find_all(["th", "td"])] == ["3 栋", "6", "6", "1", "1"]


def test_a_bad_delivery_or_a_household_without_a_card_is_refused_calmly(committee_client, compound, chair):
    homes = roll(compound)
    answer = post_form(committee_client, f"/admin/maple/cards/{homes[0].id}/delivery",
                       {"delivery": "in_person", "holder": "owner"}, token_from="/admin/maple/cards/delivery",
                       follow_redirects=True)
    assert "还没有住户卡，请先打印" in factories.text_of(answer)
    households.issue(compound, chair, homes[:1])
    db.session.commit()
    answer = post_form(committee_client, f"/admin/maple/cards/{homes[0].id}/delivery",
                       {"delivery": "carrier-pigeon", "holder": "owner"}, token_from="/admin/maple/cards/delivery",
                       follow_redirects=True)
    assert "请选择住户卡是怎么送到的" in factories.text_of(answer)
    assert db.session.scalar(select(HouseholdCard.delivery)) is None


def test_card_delivery_never_shows_on_public_pages(app, client, compound, chair):
    homes = roll(compound)
    phone = card(app, compound, chair, homes[0], "in_person", "tenant")
    topic = factories.open_topic(compound, chair, rule="informal")
    for page in (phone.get("/maple/my"), phone.get(f"/maple/topics/{topic.id}"), client.get("/maple/topics")):
        text = factories.text_of(page)
        for private in ("当面核验身份证和房产证", "持卡人", "租户持卡"):
            assert private not in text


# --- who may vote: verified cards, tenants ----------------------------------------------------------------------------

def test_a_statutory_topic_requiring_verified_cards_refuses_an_unverified_card_with_a_way_to_get_verified(
        app, compound, chair):
    homes = roll(compound)
    topic = factories.open_topic(compound, chair, rule="ordinary", secret=False, require_verified=True)
    mailbox = card(app, compound, chair, homes[1], "mailbox")
    unknown = card(app, compound, chair, homes[3])
    verified = card(app, compound, chair, homes[5], "in_person")
    assert UNVERIFIED_SENTENCE in vote(mailbox, topic)
    assert UNVERIFIED_SENTENCE in vote(unknown, topic)
    assert UNVERIFIED_SENTENCE not in vote(verified, topic)
    assert [b.household_id for b in ballots(topic)] == [homes[5].id]


def test_without_the_requirement_or_in_an_informal_poll_any_owners_card_votes(app, compound, chair):
    homes = roll(compound)
    statutory = factories.open_topic(compound, chair, rule="ordinary", secret=False)
    informal = factories.open_topic(compound, chair, title="意见征集：楼道灯", rule="informal", secret=False,
                                    require_verified=True)
    phone = card(app, compound, chair, homes[1], "mailbox")
    vote(phone, statutory)
    vote(phone, informal)
    assert len(ballots(statutory)) == len(ballots(informal)) == 1


def test_a_tenant_reads_and_takes_part_in_an_informal_poll_only(app, compound, chair):
    homes = roll(compound)
    statutory = factories.open_topic(compound, chair, rule="special", secret=False)
    consensus = factories.open_topic(compound, chair, title="协商一致：楼道堆物清理", rule="consensus", secret=False)
    informal = factories.open_topic(compound, chair, title="意见征集：楼道灯", rule="informal", secret=False)
    tenant = card(app, compound, chair, homes[0], "in_person", "tenant")
    page = vote(tenant, statutory)
    assert TENANT_SENTENCE in page and statutory.title in page and not ballots(statutory)
    assert TENANT_SENTENCE in vote(tenant, consensus) and not ballots(consensus)
    assert TENANT_SENTENCE not in vote(tenant, informal) and len(ballots(informal)) == 1


@pytest.mark.parametrize(("delivery", "holder", "sentence"), [
    ("in_person", "tenant", TENANT_SENTENCE),
    ("mailbox", "owner", UNVERIFIED_SENTENCE),
])
def test_the_lobby_keypad_refuses_a_tenant_or_unverified_card_with_the_same_sentence(app, compound, chair, delivery,
                                                                                    holder, sentence):
    homes = roll(compound)
    topic = factories.open_topic(compound, chair, rule="ordinary", require_verified=True)
    households.issue(compound, chair, [homes[0]])
    households.record_delivery(compound, chair, homes[0], delivery, holder)
    lobby = Screen(compound_id=compound.id, name="大堂", key="lobby-tenure")
    db.session.add(lobby)
    db.session.commit()
    keypad = app.test_client()
    base = f"/maple/kiosk/{lobby.key}/vote/{topic.id}"
    code = kiosk_votes.issue_code(compound, homes[0])
    db.session.commit()
    answer = keypad.post(base, data={"csrf_token": csrf_token(keypad, base), "code": code})
    assert answer.status_code == 403 and sentence in factories.text_of(answer)


def test_a_paper_ballot_the_committee_types_in_is_the_committees_responsibility(app, compound, chair):
    homes = roll(compound)
    topic = factories.open_topic(compound, chair, rule="ordinary", secret=False, require_verified=True)
    households.issue(compound, chair, [homes[0]])
    households.record_delivery(compound, chair, homes[0], "mailbox", "tenant")
    db.session.commit()
    service.cast(compound, topic, homes[0], ["yes"], channel="paper", entered_by=chair)
    assert len(ballots(topic)) == 1


def test_a_new_topic_requires_verified_cards_by_default_once_the_compound_has_some(committee_client, compound,
                                                                                   chair):
    from bs4 import BeautifulSoup

    def ticked():
        form = BeautifulSoup(committee_client.get("/admin/maple/topics/new").get_data(as_text=True), "html.parser")
        return form.select_one("input[name=require_verified]").has_attr("checked")

    homes = roll(compound)
    households.issue(compound, chair, homes[:2])
    households.record_delivery(compound, chair, homes[0], "mailbox", "owner")
    db.session.commit()
    assert not ticked()
    households.record_delivery(compound, chair, homes[1], "in_person", "owner")
    db.session.commit()
    assert ticked()
