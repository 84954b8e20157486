"""The lobby screen's distribution slides: each event handing out now, with how many households collected."""
from ..extensions import db
from ..screen.registry import Slide
from . import AREA, service
from .models import DistributionEvent


def _slide(event, progress_):
    """One event as a lobby-screen slide; its QR opens the public event page."""
    return Slide(area=AREA, item_id=str(event.id), title=event.name, template="households/_event_slide.html",
                 phone_path=f"events/{event.id}", context={"event": event, "progress": progress_})


def slides(compound, now):
    """One slide per event handing out now; none otherwise."""
    events = service.open_events(compound, now)
    counts = service.progress_of(e.id for e in events)
    return [_slide(e, counts[e.id]) for e in events]


def detail(compound, item_id):
    """One open event as a slide for the full-screen view, or None."""
    if not item_id.isdigit():
        return None
    event = db.session.get(DistributionEvent, int(item_id))
    if event is None or event.compound_id != compound.id or not event.is_open():
        return None
    return _slide(event, service.progress(event))
