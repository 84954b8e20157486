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
    who subtracts their own ballot sees two different choices among the rest; and none or at least `batch`
    households still to vote, so the close never adds a batch smaller than `batch` to the last release. The per-option check applies
    whatever the topic's visibility: the committee sees each option's households while voting even where
    residents see turnout only."""
    added = new["part_households"] - previous["part_households"]
    if added < batch:
        return False
    # A release that leaves only a few households (1 to batch - 1) yet to vote would let the frozen result at
    # the close reveal those few ballots (the difference from this release); hold it until they vote or the
    # close counts them together with this batch. Matters for a small electorate (a 12-household 单元).
    left = new.get("total_households", new["part_households"]) - new["part_households"]
    if 0 < left < batch:
        return False
    before = {o["key"]: o["households"] for o in previous["options"]}
    return all(o["households"] - before.get(o["key"], 0) <= added - 2 for o in new["options"])
