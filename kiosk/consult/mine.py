"""Consultations' section of "our household" (/<compound>/my): every vote open now in which this household is on
the roll, and whether it has voted, so a resident with a card in hand lands on what waits for them."""
from dataclasses import dataclass

from sqlalchemy import and_, select

from ..database import utcnow
from ..extensions import db
from .models import Ballot, Elector, Status, Topic


@dataclass(frozen=True)
class OpenVote:
    """An open topic this household may vote in, and whether its ballot is in."""

    topic: Topic
    voted: bool


def open_votes(household, now=None):
    """The household's open votes, closing soonest first."""
    now = now or utcnow()
    rows = db.session.execute(
        select(Topic, Ballot.id)
        .join(Elector, and_(Elector.topic_id == Topic.id, Elector.household_id == household.id))
        .outerjoin(Ballot, and_(Ballot.topic_id == Topic.id, Ballot.household_id == household.id,
                                Ballot.current.is_(True)))
        .where(Topic.compound_id == household.compound_id, Topic.status == Status.published,
               Topic.opens_at <= now, Topic.closes_at > now)
        .order_by(Topic.closes_at, Topic.id)).all()
    return [OpenVote(topic, ballot_id is not None) for topic, ballot_id in rows]


def section(household):
    """The context of the section's template."""
    return {"votes": open_votes(household)}
