"""Local time for people (Asia/Shanghai by default), UTC for storage, Chinese date conventions."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import get_locale


def local_zone():
    """Return the configured display time zone."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_local(value, zone=None):
    """Return an aware UTC datetime in local time (`zone`: the display zone, when known already)."""
    return value.astimezone(zone or local_zone())


def from_local_naive(value):
    """Return the UTC datetime of a naive local datetime typed into a form (None stays None)."""
    if value is None:
        return None
    return value.replace(tzinfo=local_zone()).astimezone(timezone.utc)


def local_input(value):
    """Return the value for an <input type=datetime-local> of an aware datetime."""
    return to_local(value).replace(tzinfo=None) if value else None


def format_datetime(value, with_time=True, locale=None, zone=None):
    """Format a stored datetime the Chinese way: 2026年6月12日 09:30 (or ISO-like in English). `locale` and
    `zone` default to the request's; given, no app or request is needed (a page cache filling a page in)."""
    if value is None:
        return ""
    local = to_local(value, zone)
    text = format_day(local.date(), locale)
    return f"{text} {local:%H:%M}" if with_time else text


def format_date(value):
    """Format a stored datetime as a date only."""
    return format_datetime(value, with_time=False)


def now_local():
    """Return the current local time (aware)."""
    return datetime.now(timezone.utc).astimezone(local_zone())


def local_date(moment=None):
    """The calendar date in the display time zone of a stored moment, or of now: what "today" means here."""
    return (to_local(moment) if moment is not None else now_local()).date()


def format_day(value, locale=None):
    """A calendar date (no time zone) the Chinese way: 2026年6月12日 (12 Jun 2026 in English)."""
    if value is None:
        return ""
    if str(locale or get_locale()).startswith("zh"):
        return f"{value.year}年{value.month}月{value.day}日"
    return value.strftime("%d %b %Y")


def format_month(value):
    """A month: 2026年6月 (Jun 2026 in English)."""
    if value is None:
        return ""
    if str(get_locale()).startswith("zh"):
        return f"{value.year}年{value.month}月"
    return value.strftime("%b %Y")
