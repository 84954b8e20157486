"""The lobby screen's roster slide: the committee in office today."""
from flask_babel import gettext as _

from ..screen.registry import Slide
from ..timefmt import local_date
from . import AREA
from .service import current_members, shared_term


def _slide(compound, members):
    return Slide(area=AREA, item_id="current", title=_("本届自治委员会"), template="households/_roster_slide.html",
                 phone_path="committee", context={"members": members, "term": shared_term(members)})


def slides(compound, now):
    """One slide with the members in office today, or none when nobody is listed."""
    members = current_members(compound, local_date(now))
    return [_slide(compound, members)] if members else []


def detail(compound, item_id):
    """The full roster of the current term, large, for the screen's detail view."""
    if item_id != "current":
        return None
    members = current_members(compound, local_date())
    return _slide(compound, members) if members else None
