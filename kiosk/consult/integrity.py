"""Tamper evidence for decided votes: recount a frozen topic from its stored electorate and ballots and compare
with the published result and its fingerprint.

The database refuses to change a decided topic's ballots, electorate, wording and result (migration 0007's
triggers); the recount is what still catches a change made around them (a restored old backup, a trigger
dropped by hand). Anyone can see the answer on the topic's public page after the close.
"""
import threading
import time
from dataclasses import dataclass

from flask import current_app

from . import service

_lock = threading.Lock()


@dataclass(frozen=True)
class Recount:
    """A fresh recount of a frozen topic, compared with what was published."""

    result_matches: bool
    fingerprint_matches: bool

    @property
    def ok(self):
        return self.result_matches and self.fingerprint_matches


def recount(topic):
    """Recount a frozen topic now (no cache)."""
    fresh = service.compute(topic).as_record()
    return Recount(fresh == topic.result, service.fingerprint(topic) == topic.fingerprint)


def checked(topic):
    """The recount of a frozen topic, reused for VERIFY_CACHE_SECONDS (as the ledger's public check is), or None
    while the topic is open."""
    if topic.result is None:
        return None
    seconds = current_app.config.get("VERIFY_CACHE_SECONDS", 300)
    cache = current_app.extensions.setdefault("kiosk_recounts", {})
    now = time.monotonic()
    with _lock:
        found = cache.get(topic.id)
        if found is not None and now - found[0] < seconds:
            return found[1]
    answer = recount(topic)
    with _lock:
        cache[topic.id] = (now, answer)
    return answer
