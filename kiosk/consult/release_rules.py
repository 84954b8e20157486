"""The pure rules of releasing a secret topic's figures (why they hold: snapshots.py's docstring): when a
release may happen, and whether a batch of new ballots may be shown. No Flask, no database: they take
moments and plain figures, and are tested alone."""
from datetime import datetime, timedelta, timezone

GRACE = timedelta(seconds=30)  # a boundary is evaluated this long after it passed: ballots in flight have landed
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def boundary(now, minutes):
    """The latest release boundary at least GRACE before now: a multiple of `minutes` since the UTC epoch."""
    step = minutes * 60
    seconds = int((now - GRACE - EPOCH).total_seconds())
    return EPOCH + timedelta(seconds=seconds - seconds % step)


def safe_to_release(previous, new, batch):
    """Whether going from `previous` to `new` figures tells nobody how any one household voted: at least
    `batch` new households, and no option gained more than (new households - 2), so even a member of the batch
    who subtracts their own ballot sees two different choices among the rest. The per-option check applies
    whatever the topic's visibility: the committee sees each option's households while voting even where
    residents see turnout only."""
    added = new["part_households"] - previous["part_households"]
    if added < batch:
        return False
    before = {o["key"]: o["households"] for o in previous["options"]}
    return all(o["households"] - before.get(o["key"], 0) <= added - 2 for o in new["options"])
