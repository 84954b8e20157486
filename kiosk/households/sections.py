"""The "our household" page (/<compound>/my) shows the household's address; each area that has something for
one household (what it can collect, ...) adds a section to it here, as slides are added to the lobby screen."""
from dataclasses import dataclass
from typing import Callable

from .. import areas

POINT = "household_sections"


@dataclass(frozen=True)
class Section:
    """One area's part of the page: `template` is included with `context(household)` and `household`."""

    area: str
    order: int
    template: str
    context: Callable


def register_section(app, area, template, context, order):
    """Add an area's section to the "our household" page (called from the area's init_app)."""
    areas.register(app, POINT, area, Section(area, order, template, context))


def for_household(household):
    """[(section, its context)] for one household, in page order."""
    found = sorted(areas.registered(POINT).values(), key=lambda s: (s.order, s.area))
    return [(section, section.context(household)) for section in found]
