"""The compound's procedure profile applied to topics: notice before a statutory vote opens, the voting window,
the once-only extension, the official platform's default, and resolutions posted late.

Only statutory rules (`RULES[rule].statutory`) are bound: 意见征集 and 协商一致 are not owners' decisions under
the regulation. Each refusal is a VoteRefused whose `field` says which form field it belongs next to and whose
detail carries the figures; consult/procedure.py's explain() turns it into the sentence citing the article.
"""
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ...changes import record_change
from ...database import utcnow
from ...extensions import db
from .. import AREA
from ..models import Phase, Status, Topic
from ..procedure import profile_for
from ..tally import RULES, Rule
from .base import VoteRefused

DAY = timedelta(days=1)


def is_statutory(rule):
    """Whether a rule is an owners' decision under art. 278 (then the profile's timing binds it)."""
    spec = RULES.get(rule)
    return bool(spec and spec.statutory)


def notice_days(profile, extraordinary):
    """Days of notice a statutory topic needs before voting opens."""
    return profile.extraordinary_notice_days if extraordinary else profile.notice_days


def _minute(moment):
    """A moment to the minute below: the form gives minutes, so seconds past them never cost a minute of notice."""
    return moment.replace(second=0, microsecond=0)


def check_timing(compound, rule, extraordinary, opens_at, closes_at, published_at):
    """Refuse a statutory topic whose vote opens before the notice period (counted from `published_at`) ends,
    or whose window is shorter or longer than the profile allows."""
    profile = profile_for(compound)
    if not profile.enforced or not is_statutory(rule):
        return
    days = notice_days(profile, extraordinary)
    earliest = _minute(published_at) + days * DAY
    if opens_at < earliest:
        raise VoteRefused("notice_short", field="opens_at", profile=profile.key, days=days,
                          extraordinary=bool(extraordinary), earliest=earliest)
    window = closes_at - opens_at
    if profile.window_min_days is not None and window < profile.window_min_days * DAY:
        raise VoteRefused("window_short", field="closes_at", profile=profile.key, days=profile.window_min_days)
    if profile.window_max_days is not None and window > profile.window_max_days * DAY:
        raise VoteRefused("window_long", field="closes_at", profile=profile.key, days=profile.window_max_days)


def unenforced_shortfall(compound, topic, now=None):
    """Under a profile that is shown but not enforced (the national default): the earliest opening the notice
    period would allow, when a statutory topic opens before it; else None. The form warns, it does not refuse."""
    profile = profile_for(compound)
    if profile.enforced or not is_statutory(topic.rule):
        return None
    earliest = _minute(now or utcnow()) + notice_days(profile, topic.extraordinary) * DAY
    return earliest if topic.opens_at < earliest else None


def default_rule(compound):
    """The rule a new topic starts with: 意见征集 where binding votes must go through the city's platform."""
    return Rule.informal if profile_for(compound).official_platform else Rule.ordinary


def platform_bypassed(compound, topic):
    """Whether a statutory topic is held here although the city's platform is where binding votes go."""
    return bool(profile_for(compound).official_platform) and is_statutory(topic.rule)


def first_opening(compound, rule, extraordinary=False, now=None):
    """The earliest moment a new topic's vote may open if published now (a form's suggested start)."""
    profile = profile_for(compound)
    now = now or utcnow()
    if not profile.enforced or not is_statutory(rule):
        return now
    return _minute(now) + notice_days(profile, extraordinary) * DAY


def extend(compound, actor, topic, closes_at, reason, now=None):
    """Extend an open statutory topic's window once, before it closes, within the profile's limits; residents see
    the new deadline and the reason. Audited. The row is locked first, so two phones extending at once extend
    it once."""
    profile = profile_for(compound)
    now = now or utcnow()
    db.session.execute(select(Topic.id).where(Topic.id == topic.id).with_for_update())
    db.session.refresh(topic, ["status", "closes_at", "extended_at"])
    if not is_statutory(topic.rule):
        raise VoteRefused("ext_not_statutory", field="closes_at")
    if not profile.extension_allowed:
        raise VoteRefused("ext_not_allowed", field="closes_at", profile=profile.key)
    if topic.status == Status.draft:
        raise VoteRefused("ext_draft", field="closes_at")
    if topic.phase(now) in (Phase.closed, Phase.done):
        raise VoteRefused("ext_closed", field="closes_at")
    if topic.extended_at is not None:
        raise VoteRefused("ext_twice", field="closes_at", profile=profile.key)
    if closes_at <= topic.closes_at:
        raise VoteRefused("ext_not_later", field="closes_at")
    if profile.extension_max_days is not None and closes_at - topic.closes_at > profile.extension_max_days * DAY:
        raise VoteRefused("ext_too_long", field="closes_at", profile=profile.key, days=profile.extension_max_days)
    if profile.window_max_days is not None and closes_at - topic.opens_at > profile.window_max_days * DAY:
        raise VoteRefused("window_long", field="closes_at", profile=profile.key, days=profile.window_max_days)
    before = {"closes_at": topic.closes_at.isoformat()}
    topic.extended_from = topic.closes_at
    topic.closes_at = closes_at
    topic.extended_at = now
    topic.extension_reason = reason
    record_change(compound, actor, AREA, "extend", topic, before,
                  {"closes_at": closes_at.isoformat(), "reason": reason})
    return topic


@dataclass(frozen=True)
class LateResolution:
    """A closed topic whose resolution notice is overdue: the deadline and how many whole days it is late."""

    topic: Topic
    due: object
    days_late: int


def resolution_due(compound, topic):
    """When a closed topic's resolution must be posted, or None while voting is not over."""
    if topic.status == Status.draft:
        return None
    # Counted from the end of the voting window (the sweeper that marks the topic closed may come later).
    closed = min(topic.closed_at or topic.closes_at, topic.closes_at)
    return closed + profile_for(compound).decision_post_days * DAY


def late_resolution(compound, topic, now=None):
    """A LateResolution when a closed topic has no resolution notice after its deadline, else None."""
    now = now or utcnow()
    if topic.phase(now) != Phase.closed or topic.resolution_notice_id:
        return None
    due = resolution_due(compound, topic)
    if due is None or now <= due:
        return None
    return LateResolution(topic, due, max(1, (now - due) // DAY))  # whole days late; the first hour is a day
