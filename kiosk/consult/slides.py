"""The lobby screen's consultation slides: turnout by building, bars with the quorum and approval lines (a
secret topic's as last released, see snapshots.py), and, once decided, the outcome. Never a household's choice."""
from datetime import timedelta

from sqlalchemy import select

from ..extensions import db
from ..screen.registry import Slide
from . import AREA, present, service, snapshots
from .models import Phase, Status, Topic
from .tally import QUORUM

SHOW_DECIDED_FOR = timedelta(days=7)
QUORUM_LINE = present.line_permille(QUORUM)  # where the participation bars' line sits


def _slide(topic):
    visible = service.results_visible(topic, kiosk=True)
    voted, total = service.participation(topic)
    result = service.result_of(topic)
    return Slide(area=AREA, item_id=str(topic.id), title=topic.title, template="consult/_slide.html",
                 phone_path=f"topics/{topic.id}", priority=topic.phase() == Phase.voting,
                 context={"topic": topic, "phase": topic.phase(), "visible": visible, "voted": voted, "total": total,
                          "shown": present.present(topic, result), "turnout": service.turnout_by_building(topic),
                          "permille": present.permille, "quorum_line": QUORUM_LINE})


def _current(compound, now):
    """Topics worth a slide: voting now, and those decided in the last week."""
    service.keep_time(compound, now)
    topics = db.session.scalars(select(Topic).where(Topic.compound_id == compound.id,
                                                    Topic.status != Status.draft)
                                .order_by(Topic.closes_at)).all()
    keep = []
    for topic in topics:
        phase = topic.phase(now)
        if phase == Phase.voting or (phase in (Phase.closed, Phase.done) and topic.closed_at
                                     and now - topic.closed_at < SHOW_DECIDED_FOR):
            keep.append(topic)
    return keep


def slides(compound, now):
    return [_slide(t) for t in _current(compound, now)]


def detail(compound, item_id):
    if not item_id.isdigit():
        return None
    topic = db.session.get(Topic, int(item_id))
    if topic is None or topic.compound_id != compound.id or topic.status == Status.draft:
        return None
    snapshots.release(topic)
    return _slide(topic)
