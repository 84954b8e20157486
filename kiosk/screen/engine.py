"""Which browser engine a lobby screen runs, from its User-Agent: "Chrome 65", "Firefox 115", "Safari 12".

Android system WebViews say "Chrome/<version>" (with "; wv)"), and so do WeChat's X5 and most vendor browsers.
The label is only for the committee's screen list; whether live updates work is what the screen itself reports.
"""
import re

_ENGINES = [
    ("Chrome", re.compile(r"Chrom(?:e|ium)/(\d+)")),  # also HeadlessChrome/
    ("Firefox", re.compile(r"\bFirefox/(\d+)")),
    ("Safari", re.compile(r"\bVersion/(\d+)[\d.]*(?: Mobile/\S+)? Safari/")),
]
LABEL_LENGTH = 40


def engine_label(user_agent):
    """Return e.g. "Chrome 65" for a User-Agent string, or None when it names no engine we know."""
    for name, pattern in _ENGINES:
        match = pattern.search(user_agent or "")
        if match:
            return f"{name} {int(match.group(1))}"[:LABEL_LENGTH]
    return None
