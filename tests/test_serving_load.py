"""`kiosk serve` under load: what waitress does on every request stays cheap and the log stays readable.

At 64 busy connections (every screen of a street office's compounds pulsing) waitress warned "Task queue depth
is N" for nearly every request, and a check on every open connection ran on every turn of its loop: together
they cost the "nothing changed" pulse about a third of its throughput (bench/run.py). These tests hold the
behaviour that remains: one queue warning a minute with a count of the others, header deadlines still kept
(tests/test_slow_clients.py), smuggling still refused (tests/test_hostile.py).
"""
import logging

from kiosk import serving
from kiosk.cli import make_server

from conftest import make_app


def _server(tmp_path, database_url):
    return make_server(make_app(tmp_path, database_url), "127.0.0.1", 0, 4)


def test_a_burst_of_queued_requests_logs_one_warning_not_one_per_request(tmp_path, database_url, caplog):
    """A meeting's burst queues hundreds of requests: the log gets one line, not hundreds."""
    server = _server(tmp_path, database_url)
    try:
        queue_log = server.task_dispatcher.queue_logger
        with caplog.at_level(logging.WARNING, logger="waitress.queue"):
            for depth in range(1, 301):
                queue_log.warning("Task queue depth is %d", depth % 40)
        queued = [r for r in caplog.records if r.name == "waitress.queue"]
        assert len(queued) == 1
        assert queued[0].getMessage() == "Task queue depth is 1"
    finally:
        server.close()


def test_the_next_queue_warning_after_a_quiet_minute_says_how_many_were_left_out(tmp_path, database_url, caplog):
    """Nothing is hidden for good: the next line logged tells how often the queue was deep, and how deep."""
    server = _server(tmp_path, database_url)
    try:
        queue_log = server.task_dispatcher.queue_logger
        with caplog.at_level(logging.WARNING, logger="waitress.queue"):
            queue_log.warning("Task queue depth is %d", 2)
            for depth in (5, 17, 9):
                queue_log.warning("Task queue depth is %d", depth)
            queue_log.quiet_until = 0.0  # the minute has passed
            queue_log.warning("Task queue depth is %d", 3)
        lines = [r.getMessage() for r in caplog.records if r.name == "waitress.queue"]
        assert lines == ["Task queue depth is 2",
                         f"Task queue depth is 3 (and 3 times more in the last {serving.QUEUE_LOG_SECONDS} s, up to 17)"]
    finally:
        server.close()


def test_malloc_arenas_are_limited_unless_the_environment_says_otherwise(monkeypatch):
    """glibc takes the limit (this machine runs glibc); an operator's MALLOC_ARENA_MAX is left to glibc."""
    assert serving.limit_malloc_arenas() is True
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert serving.limit_malloc_arenas() is False
