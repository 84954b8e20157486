"""The slide registry: areas register what they show on the lobby screen (from their init_app); the screen only
asks here, so adding an area never edits screen/."""
from dataclasses import dataclass, field
from typing import Callable

from .. import areas

POINT = "slides"


@dataclass
class Slide:
    """One slide of the attract loop, and the full-screen detail a tap opens."""

    area: str
    item_id: str
    title: str
    template: str  # renders the slide face; gets `slide`
    phone_path: str  # path under /<compound>/ that the QR opens, e.g. "n/12"
    context: dict = field(default_factory=dict)
    urgent: bool = False
    priority: bool = False  # an open vote: comes round at least once a minute, like an urgent slide
    buildings: tuple = ()  # () for the whole compound, else the buildings it is for (lobby screens filter on it)


@dataclass
class SlideProvider:
    """An area's slides: slides(compound, now) -> [Slide]; detail(compound, item_id) -> Slide or None."""

    area: str
    order: int
    slides: Callable
    detail: Callable
    detail_template: str
    label: str = ""


def register_slide(app, area, slides, detail, detail_template, order, label=None):
    """Register an area's slide provider (from its init_app); `area` names the group of slides, and the change
    name whose records make the screens refresh them (a declared area name); `label` names the area for the
    screen settings page (e.g. "通知")."""
    areas.register(app, POINT, area, SlideProvider(area, order, slides, detail, detail_template,
                                                     area if label is None else label))


def providers():
    """Return the current app's providers in loop order."""
    return sorted(areas.registered(POINT).values(), key=lambda p: (p.order, p.area))


def provider(area):
    """Return one area's provider, or None."""
    return areas.registered(POINT).get(area)
