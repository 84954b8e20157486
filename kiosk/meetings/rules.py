"""The committee's own decision rules (北京 2024 art. 45, 上海 art. 26: "委员会决定应经全体委员过半数同意"), as
pure functions of counts and dates: no Flask, no database, tested alone.

"Majority" is strictly more than half of *all* members (not of those present), so a tie is never enough and an
absent member counts as not agreeing. Counts are integers; nothing here divides.
"""
from datetime import date, timedelta

YES, NO, ABSTAIN = "yes", "no", "abstain"
VOTES = (YES, NO, ABSTAIN)


def majority(count, total):
    """Whether `count` is more than half of `total` (3 of 5, 4 of 6, 1 of 1; never 2 of 4)."""
    return total > 0 and 2 * count > total


def needed(total):
    """The smallest count that is a majority of `total` (3 for 5, 4 for 6)."""
    return total // 2 + 1


def quorum(present, total):
    """Whether enough members are present to decide anything: a majority of all members."""
    return majority(present, total)


def tally(votes):
    """{yes, no, abstain} counts of an iterable of votes."""
    counts = {v: 0 for v in VOTES}
    for vote in votes:
        counts[vote] += 1
    return counts


def passed(votes, total):
    """Whether an agenda item passed: more than half of all members voted yes."""
    return majority(tally(votes)[YES], total)


def minutes_final(confirmations, total):
    """Whether the minutes are final: a majority of all members confirmed them."""
    return majority(confirmations, total)


def post_deadline(held_on, days):
    """The last day the decision may be posted: `days` calendar days after the meeting's day."""
    return held_on + timedelta(days=days)


def days_late(held_on, days, posted_on=None, today=None):
    """How many days the decision is (or was) posted after its deadline; 0 when on time or not due yet."""
    until = posted_on or today or date.today()
    return max((until - post_deadline(held_on, days)).days, 0)


def days_since_meeting_overdue(last_held_on, every_days, today):
    """How many days past `every_days` since the last meeting (0 while within), or None without a meeting."""
    if last_held_on is None:
        return None
    return max((today - last_held_on).days - every_days, 0)
