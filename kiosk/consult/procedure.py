"""Procedure profiles: the rules around an owners' vote that the national regulation and city rules set
(notice before voting opens, the voting window, extensions, how soon a decision is posted, whether binding
votes must go through the city's e-voting platform, how often the committee meets).

A compound follows one profile (`Compound.procedure_profile`, the national default unless the street office
chose a city preset). The figures are data, each with the articles it comes from, so a street-office official
can check them against the texts; services enforce them (never the form alone).
"""
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Profile:
    """One set of procedure rules. Days are calendar days; `None` means the source sets no limit."""

    key: str
    name: str  # msgid, e.g. 北京市
    notice_days: int = 15  # owners told this long before a statutory vote opens
    extraordinary_notice_days: int = 7  # ... before an extraordinary (临时) meeting's vote opens
    window_min_days: int | None = None  # shortest voting window
    window_max_days: int | None = None  # longest voting window
    extension_allowed: bool = True  # a window may be extended: announced before it ends, once, with a reason
    extension_max_days: int | None = None  # longest extension
    decision_post_days: int = 3  # a decision is posted within this many days of the vote closing
    official_platform: str = ""  # the city's e-voting platform binding votes must use ("" = none)
    committee_meeting_days: int = 60  # the committee meets at least this often
    citations: tuple = field(default_factory=tuple)  # (rule, source) pairs, as msgids


NATIONAL = Profile(
    key="national", name="全国通用（物业管理条例）",
    citations=(("notice_days", "物业管理条例 第十四条"),),
)

PROFILES = {p.key: p for p in (NATIONAL,)}


def profile_for(compound):
    """The profile a compound follows (the national default for an unknown key)."""
    return PROFILES.get(getattr(compound, "procedure_profile", None) or "national", NATIONAL)


def choices():
    """(key, label) pairs for a select field."""
    return [(p.key, _l(p.name)) for p in PROFILES.values()]
