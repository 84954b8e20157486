"""A ballot's admission (issue 16): service.cast reads the topic's window, the household's elector row and its
card in one statement inside the write lock, yet refuses exactly as the rules say elsewhere: the window first
("closed", "not_open"), then the electorate and the card as service.why_not says, on the phone and on paper."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from kiosk.consult import service
from kiosk.consult.models import Channel, Topic
from kiosk.database import utcnow
from kiosk.extensions import db
from kiosk.households.models import HouseholdCard
from kiosk.households.service import issue

import factories

WINDOWS = {  # (opens_at, closes_at) relative to now, and the refusal the window alone gives
    "open": ((-1, 48), None),
    "closed": ((-48, -1), "closed"),
    "not_open": ((1, 48), "not_open"),
}


def set_window(topic, name):
    (opens, closes), _ = WINDOWS[name]
    now = utcnow()
    db.session.execute(update(Topic).where(Topic.id == topic.id).values(
        opens_at=now + timedelta(hours=opens), closes_at=now + timedelta(hours=closes)))
    db.session.commit()
    db.session.refresh(topic)


def refusal_of_cast(compound, chair, topic, household, channel):
    """The reason service.cast refuses the ballot with, or None when it records it."""
    try:
        service.cast(compound, topic, household, ["yes"], channel, entered_by=chair if channel == Channel.paper
                     else None)
    except service.VoteRefused as refused:
        return refused.reason
    return None


@pytest.mark.parametrize("rule", ["informal", "ordinary", "consensus"])
def test_a_ballot_is_refused_for_the_window_then_as_why_not_says_for_every_card_and_electorate(
        app, compound, chair, rule):
    (whole, scoped), (three, five, late) = factories.admission_world(compound, chair, rule)
    issue(compound, chair, [three, five, late])
    db.session.commit()
    seen = set()
    for topic in (whole, scoped):
        for household in (three, five, late):
            card = db.session.scalar(select(HouseholdCard).where(HouseholdCard.household_id == household.id,
                                                                 HouseholdCard.revoked_at.is_(None)))
            for holder in ("owner", "tenant"):
                for delivery in (None, "mailbox", "in_person"):
                    card.holder, card.delivery = holder, delivery
                    db.session.commit()
                    for window, (_, window_reason) in WINDOWS.items():
                        set_window(topic, window)
                        phone = service.why_not(topic, household)
                        for channel, rules in ((Channel.phone, phone.reason if phone else None),
                                               (Channel.paper, None if service.is_elector(topic, household)
                                                else "not_elector")):
                            expected = window_reason or rules
                            got = refusal_of_cast(compound, chair, topic, household, channel)
                            assert got == expected, (topic.title, household.address, holder, delivery, window,
                                                     channel)
                            seen.add(got)
    assert {"closed", "not_open", "not_elector", "outside_scope", None} <= seen
    if rule != "informal":
        assert "tenant" in seen
    if rule == "ordinary":  # a statutory rule: the topics need verified cards
        assert "unverified" in seen
