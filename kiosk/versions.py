"""A short-lived, per-process cache of compound versions for the pulse.

The version lives in the database so every process agrees; this cache only keeps each process from
asking more than once per TTL. A change committed in this process forgets the entry, so here it
shows at once; another process sees it within TTL (well inside a screen's poll interval).
"""
import time

TTL = 0.25  # seconds


def cache_of(app):
    """Return the app's cache: slug -> (version, expires at)."""
    return app.extensions.setdefault("kiosk_versions", {})


def get(cache, slug, load):
    """Return the compound's version, calling load(slug) at most once per TTL."""
    now = time.monotonic()
    hit = cache.get(slug)
    if hit is not None and hit[1] > now:
        return hit[0]
    version = load(slug)
    cache[slug] = (version, now + TTL)
    return version


def put(cache, slug, version):
    """Remember a compound's version just read elsewhere (a page that loaded the compound's row)."""
    cache[slug] = (version, time.monotonic() + TTL)


def forget(cache, slug):
    """Drop a compound's cached version (after a change to it was committed)."""
    cache.pop(slug, None)
