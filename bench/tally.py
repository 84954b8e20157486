"""Time of tallying a 5,000-household vote, as closing a topic and every live result refresh do.

    .venv/bin/python bench/tally.py [--runs 200]

Builds a compound of 5,000 units (buyers with several units, developer-held units, areas 40.00-180.00 m²)
and 5,000 casts (some households changing their vote, some not voting), then times tally() for a yes/no
ordinary matter and a 5-seat election with 12 candidates. Prints median and p95 in ms (no baseline: a pure
function, compared against its 50 ms budget).
"""
import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kiosk.consult.tally import ABSTAIN, NO, YES, Cast, Voter, tally

UNITS = 5000
CASTS = 5000
CANDIDATES = tuple(f"c{i:02d}" for i in range(1, 13))
POPULARITY = (0.9, 0.85, 0.8, 0.75, 0.7, 0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.05)


def electorate(rng):
    """5,000 units: about 4% developer-held, about 10% owned by buyers of two to four units."""
    voters, hid = [], 0
    while hid < UNITS:
        roll = rng.random()
        if roll < 0.04:
            owners = ["developer"]
        elif roll < 0.07:
            owners = [f"buyer-{hid}"] * rng.randint(2, 4)
        else:
            owners = [None]
        for owner in owners:
            if hid == UNITS:
                break
            hid += 1
            voters.append(Voter(hid, rng.randint(4000, 18000), owner or f"unit-{hid}"))
    return voters


def ballots(rng, voters, make_choices):
    """5,000 casts: about 4,400 households, some of whom changed their vote."""
    voting = rng.sample([v.household_id for v in voters], 4400)
    casts = [Cast(hid, make_choices(), order) for order, hid in enumerate(voting)]
    for order, hid in enumerate(rng.sample(voting, CASTS - len(voting)), start=len(casts)):
        casts.append(Cast(hid, make_choices(), order))
    rng.shuffle(casts)
    return casts


def slate(rng):
    """An election ballot: popular candidates marked more often, at most 5 marks, 1% spoiled (6 marks).

    Marks come in random order, the worst case for tally()'s cache of ballot shapes (a form sends them in
    option order, so a real vote has far fewer distinct ballots).
    """
    marked = [c for c, p in zip(CANDIDATES, POPULARITY) if rng.random() < p]
    rng.shuffle(marked)
    return tuple(marked[:6 if rng.random() < 0.01 else 5])


def timed(runs, *args, **kwargs):
    """Median and p95 wall time of tally(*args) in ms, and the last result."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = tally(*args, **kwargs)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    rng = random.Random(278)
    voters = electorate(rng)
    yesno = ballots(rng, voters, lambda: (rng.choices((YES, NO, ABSTAIN), (70, 20, 10))[0],))
    election = ballots(rng, voters, lambda: slate(rng))
    heads = len({v.owner for v in voters})
    print(f"{len(voters)} units, {heads} owners, {len(yesno)} casts, {runs} runs each")
    print(f"{'case':<34} {'median ms':>10} {'p95 ms':>8}  result")
    for label, args, kwargs in (
        ("yes/no, ordinary", ("yesno", "ordinary", (YES, NO, ABSTAIN), voters, yesno), {}),
        ("election, 5 seats of 12, ordinary", ("election", "ordinary", CANDIDATES, voters, election),
         {"seats": 5}),
    ):
        median, p95, result = timed(runs, *args, **kwargs)
        outcome = f"passed={result.passed} winners={','.join(result.winners) or '-'}"
        print(f"{label:<34} {median:>10.2f} {p95:>8.2f}  {outcome} conflicts={result.conflicts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
