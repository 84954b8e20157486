"""The slide registry: areas register what they show on the lobby screen; the screen only asks here."""
from dataclasses import dataclass, field
from typing import Callable


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


@dataclass
class SlideProvider:
    """An area's slides: slides(compound, now) -> [Slide]; detail(compound, item_id) -> Slide or None."""

    area: str
    order: int
    slides: Callable
    detail: Callable
    detail_template: str


_providers: dict[str, SlideProvider] = {}


def register_slide(area, slides, detail, detail_template, order):
    """Register (or replace) an area's slide provider; called once at app start by each area."""
    _providers[area] = SlideProvider(area, order, slides, detail, detail_template)


def providers():
    """Return the registered providers in loop order."""
    return sorted(_providers.values(), key=lambda p: (p.order, p.area))


def provider(area):
    """Return one area's provider, or None."""
    return _providers.get(area)
