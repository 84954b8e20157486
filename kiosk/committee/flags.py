"""The committee dashboard's flags: things overdue that the committee should see first (a meeting's decision not
posted in time, a committee that has not met). Areas register a provider; the committee reads them all, so this
module knows no area."""
from flask import g

from .. import areas

POINT = "committee_flags"


def register_flags(app, area, provider):
    """Let an area add flags: provider(compound) returns a list of (sentence, meeting-or-object id or None)."""
    areas.register(app, POINT, area, provider)


def committee_flags():
    """Every registered area's flags for g.compound, as (area, sentence, object id) in area order."""
    compound = g.get("compound")
    if compound is None:
        return []
    return [(area, sentence, ref) for area, provider in sorted(areas.registered(POINT).items())
            for sentence, ref in provider(compound)]
