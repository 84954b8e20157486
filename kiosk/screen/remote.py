"""What one screen shows, as the street office set it: which areas, which buildings' notices first, and each
area's daily time slot. Pure functions over a Screen and slides, so the rules are tested without a browser.

The loop's order itself (open votes and urgent slides at least once a minute) is built on the screen, where the
slides are, by static/js/screen-loop.js; tests/test_screen_loop_order.py runs it under Node.
"""
import re
from datetime import datetime, time

from ..timefmt import to_local

HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
PRIORITY_EVERY = 60  # seconds: an open vote or an urgent slide comes round at least this often


def parse_hhmm(text):
    """Return a time for "07:00" (also "7:00"), or None when the text is not a time of day."""
    text = (text or "").strip()
    if len(text) == 4 and text[1] == ":":
        text = "0" + text
    match = HHMM.match(text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def in_slot(slot, local_now):
    """Return whether a local wall-clock time lies in a daily slot ("HH:MM", "HH:MM"); None means all day.
    A slot whose end is before its start runs over midnight (22:00–06:00)."""
    if not slot:
        return True
    start, end = parse_hhmm(slot[0]), parse_hhmm(slot[1])
    if start is None or end is None or start == end:
        return True
    now = local_now.time().replace(second=0, microsecond=0)
    return start <= now < end if start < end else (now >= start or now < end)


def areas_now(screen, providers, now: datetime):
    """The areas whose slides the screen's loop has at this moment (UTC `now`), in loop order."""
    local = to_local(now)
    return [p.area for p in providers if screen.shows_area(p.area) and in_slot(screen.slot_of(p.area), local)]


def for_screen(screen, slides):
    """The slides this screen may show: whole-compound ones, and those addressed to one of its buildings (a
    screen with no building, e.g. at the gate, shows them all). Its own buildings' come first; urgent stays
    on top."""
    mine = set(screen.building_list())

    def ours(slide):
        return bool(mine & set(slide.buildings))

    kept = [s for s in slides if not s.buildings or not mine or ours(s)]
    return sorted(kept, key=lambda s: (not s.urgent, not ours(s)))
