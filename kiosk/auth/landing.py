"""Where someone lands right after logging in without a page in mind: an area may say "this person has
something waiting here" (the ledger: a supervisor's month to sign), as it adds slides to the lobby screen."""
from .. import areas

POINT = "landing"


def register_landing(app, area, provider):
    """Add an area's landing: provider(user) returns (when, url) of what waits for the user there, or None."""
    areas.register(app, POINT, area, provider)


def landing_for(user):
    """The URL of the oldest thing waiting for this user in any area, or None."""
    found = [spot for provider in areas.registered(POINT).values() if (spot := provider(user)) is not None]
    return min(found, key=lambda spot: spot[0])[1] if found else None
