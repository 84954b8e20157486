"""The loop's order (static/js/screen-loop.js, run here under Node as the screen runs it): open votes and urgent
slides come round at least once a minute however long the loop is, and every other slide still comes round."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "static" / "js" / "screen-loop.js"
NODE = shutil.which("node")


def build_loops(cases):
    """Run buildLoop for each (flags, dwell) in one Node process; return the orders."""
    if NODE is None:
        message = "node is not installed (scripts/test installs it; the loop order runs in the screen's JavaScript)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    program = (f"const build = require({json.dumps(str(SCRIPT))});"
               f"const cases = {json.dumps(cases)};"
               "process.stdout.write(JSON.stringify(cases.map(c => build(c[0], c[1]))));")
    return json.loads(subprocess.run([NODE, "-e", program], check=True, capture_output=True, text=True).stdout)


def longest_wait(order, index, dwell):
    """Seconds from one showing of a slide to its next, round the loop (its worst gap)."""
    where = [i for i, shown in enumerate(order) if shown == index]
    gaps = [(b - a) for a, b in zip(where, where[1:])] + [len(order) - where[-1] + where[0]]
    return max(gaps) * dwell


def flags_for(total, priority_at):
    return [i in priority_at for i in range(total)]


CASES = [(total, dwell, priority_at)
         for total in (1, 3, 12, 40, 150)
         for dwell in (8, 12, 20, 30)
         for priority_at in ((), (0,), (total - 1,), (1, total - 2))
         if all(0 <= p < total for p in priority_at) and len(set(priority_at)) == len(priority_at)]


def test_open_votes_come_round_at_least_once_a_minute_and_nothing_is_left_out():
    orders = build_loops([[flags_for(total, at), dwell] for total, dwell, at in CASES])
    for (total, dwell, at), order in zip(CASES, orders):
        assert sorted(set(order)) == list(range(total)), (total, dwell, at)  # every slide comes round
        ordinary = [i for i in range(total) if i not in at]
        assert sorted(i for i in order if i not in at) == ordinary  # ordinary slides once each, in order
        assert [i for i in order if i not in at] == ordinary
        feasible = (len(at) + 1) * dwell <= 60 or not ordinary
        for index in at:
            if feasible:
                assert longest_wait(order, index, dwell) <= 60, (total, dwell, at, order)
            else:  # two votes at 30 s cannot both come round each minute and leave room: one slide between
                assert longest_wait(order, index, dwell) <= (len(at) + 1) * dwell


def test_without_open_votes_the_loop_is_the_slides_in_their_order():
    assert build_loops([[flags_for(5, ()), 12]]) == [[0, 1, 2, 3, 4]]


def test_one_open_vote_among_forty_slides_at_twelve_seconds():
    order = build_loops([[flags_for(40, (7,)), 12]])[0]
    assert order[:5] == [7, 0, 1, 2, 3] and order.count(7) == 10
    assert longest_wait(order, 7, 12) == 60
