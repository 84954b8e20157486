"""The per-process cache of compound versions (kiosk/versions.py) that the pulse, the page cache and the kept
compound row read: when an entry runs out, one request reads the version again, not every request that
arrives meanwhile."""
import pytest

from kiosk import versions


class _Clock:
    def __init__(self):
        self.now = 500.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr(versions, "time", clock)
    return clock


def _never(slug):
    raise AssertionError(f"read {slug} again while another request was reading it")


def test_when_an_entry_runs_out_one_request_reads_it_and_the_others_answer_meanwhile(clock):
    """At 64 busy connections every one of waitress's threads read the version at the same moment, four times a
    second (the pulse's p99 doubled). Now the others answer with the version just out of date while one reads."""
    cache, reads = {}, []
    assert versions.get(cache, "maple", lambda slug: 5) == 5
    clock.now += versions.TTL / 2
    assert versions.get(cache, "maple", _never) == 5  # within TTL: no read

    def read_while_others_ask(slug):
        reads.append(slug)
        assert versions.get(cache, slug, _never) == 5  # a second request during the read
        clock.now += versions.READ_SECONDS / 2
        assert versions.get(cache, slug, _never) == 5  # and a third, a little later
        return 6

    clock.now += versions.TTL
    assert versions.get(cache, "maple", read_while_others_ask) == 6
    assert reads == ["maple"]
    assert versions.get(cache, "maple", _never) == 6  # the new version, kept for TTL


def test_a_read_that_fails_is_tried_again_soon_and_a_forgotten_entry_is_read_at_once(clock):
    """A failed read leaves the old version answering for at most READ_SECONDS, then the next request reads;
    after `forget` (a change committed in this process) the next request reads, never an old version."""
    cache = {}
    versions.get(cache, "maple", lambda slug: 5)
    clock.now += versions.TTL

    def broken(slug):
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        versions.get(cache, "maple", broken)
    assert versions.get(cache, "maple", _never) == 5
    clock.now += versions.READ_SECONDS
    assert versions.get(cache, "maple", lambda slug: 7) == 7

    versions.forget(cache, "maple")
    assert versions.get(cache, "maple", lambda slug: 8) == 8
