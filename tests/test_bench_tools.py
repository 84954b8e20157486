"""The benchmark's own arithmetic (bench/): what it calls met or missed must be what the figures say.

No server is started here: the scripts themselves are run by bench/report.py, never in the test suite.
"""
import math

from bench import meeting, report
from bench.run import Endpoint, judge


def test_a_vote_counts_as_shown_only_when_a_slide_after_its_answer_includes_it():
    record = {"votes": [(10.0, 1, "yes", True), (11.0, 2, "no", True), (11.5, 1, "no", False)],
              "slides": [("a", 9.0, 0), ("a", 10.5, 1), ("a", 11.2, 1), ("a", 12.0, 2),
                         ("b", 13.0, 2)]}
    latencies, missing = meeting.slide_latency(record)
    # Screen a: vote 1 shown at 10.5, vote 2 (turnout 2) not at 11.2 (still 1) but at 12.0; screen b: 3.0 and 2.0.
    assert sorted(round(x, 3) for x in latencies) == [0.5, 1.0, 2.0, 3.0]
    assert missing == 0


def test_a_vote_no_screen_ever_shows_is_missed_not_dropped():
    record = {"votes": [(10.0, 1, "yes", True), (20.0, 2, "yes", True)],
              "slides": [("a", 12.0, 1), ("b", 25.0, 2)]}
    latencies, missing = meeting.slide_latency(record)
    assert sorted(latencies) == [2.0, 5.0, 15.0]
    assert missing == 1  # screen a never showed the second vote


def test_the_phones_record_counts_each_households_last_answered_vote():
    record = {"votes": [(3.0, 7, "no", False), (1.0, 7, "yes", True), (2.0, 8, "abstain", True)]}
    assert meeting.expected_tally(record) == (2, {"no": 1, "abstain": 1})


def test_meeting_classes_need_p95_and_zero_errors_and_few_requests_are_not_judged():
    rows = [{"name": "fast", "requests": 500, "failures": 0, "p95": 120.0},
            {"name": "slow", "requests": 500, "failures": 0, "p95": 160.0},
            {"name": "failing", "requests": 500, "failures": 1, "p95": 20.0},
            {"name": "log in", "requests": 3, "failures": 0, "p95": 4000.0}]
    assert meeting.judge_rows(rows) is True
    verdicts = {r["name"]: r["verdict"] for r in rows}
    assert verdicts["fast"].endswith(": met")
    assert "MISSED" in verdicts["slow"] and "MISSED" in verdicts["failing"]
    assert verdicts["log in"].startswith("not judged")


def test_the_pulse_is_judged_against_hellos_p99_from_the_same_run():
    pulse = Endpoint("pulse", "/x", 64, min_ratio=0.90, max_p99_hello=1.5)
    assert judge(pulse, 64, 0.95, 14.0, hello_p99=10.0) == (
        "ratio ≥ 0.90, p99 ≤ 1.5 × hello's p99 at 64 conns: met", False)
    text, missed = judge(pulse, 64, 0.95, 16.0, hello_p99=10.0)
    assert missed and "1.60 × hello's" in text
    _, missed = judge(pulse, 64, 0.95, 16.0, hello_p99=math.nan)
    assert missed  # no hello figure: not met


def test_the_report_lists_every_judged_figure_with_its_column_and_skips_unjudged_ones():
    body = "\n".join([
        "| page | conns | p95 | p95 ≤ 100 ms |", "|---|---:|---:|---|",
        "| period page | 16 | 903.00 ms | **MISSED** |",
        "| latest month | 16 | 1200.00 ms | not judged (over) |",
        "",
        "- Server RSS: 99 MiB (target ≤ 120 MiB per process: met)",
        "- Build: 11.9 s",
    ])
    found = report.verdicts("ledger", body)
    assert [(f[1], f[3]) for f in found] == [("period page", "p95 ≤ 100 ms: **MISSED**"), ("Server RSS", "met")]
    assert "p95 903.00 ms" in found[0][2]
