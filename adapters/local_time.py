"""Times and durations as a person reads them: New York local time with its zone, and days where days are meant.

Pages and the CLI's text output use these; JSON and CSV keep ISO 8601 with the offset. A clock due at the
end of 5 January in New York reads "Mon 5 Jan 2026, 11:59 pm EST", never ``2026-01-06T04:59Z``.
"""

from __future__ import annotations

from datetime import datetime

from domain.deadlines import LOCAL_ZONE


def moment(value: datetime | str | None) -> datetime | None:
    """A time from a view row or a JSON document (ISO 8601 text), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def local_time(value: datetime | str | None, *, year: bool = True) -> str:
    """``Mon 5 Jan 2026, 11:59 pm EST``: the weekday, the New York date and time, and the zone."""
    at = moment(value)
    if at is None:
        return ""
    local = at.astimezone(LOCAL_ZONE)
    hour = local.hour % 12 or 12
    day = f"{local:%a} {local.day} {local:%b}" + (f" {local.year}" if year else "")
    return f"{day}, {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'} {local.tzname()}"


def local_date(value: datetime | str | None) -> str:
    """``5 Jan 2026``: the New York calendar date."""
    at = moment(value)
    return "" if at is None else f"{at.astimezone(LOCAL_ZONE):%-d %b %Y}"


def days(hours: float | None) -> str:
    """A duration meant in days: ``360 days``, ``1 day``, or hours when under a day (``5 hours``)."""
    if hours is None:
        return ""
    if hours < 24:
        whole = int(hours)
        return "under an hour" if whole == 0 else f"{whole} hour{'s' if whole != 1 else ''}"
    whole = int(hours // 24)
    return f"{whole} day{'s' if whole != 1 else ''}"


def relative(due: datetime | str | None, now: datetime) -> str:
    """How far a due time is from now, counted in New York calendar days: ``in 2 days``, ``today``, ``3 days late``."""
    at = moment(due)
    if at is None:
        return ""
    today = now.astimezone(LOCAL_ZONE).date()
    due_day = at.astimezone(LOCAL_ZONE).date()
    apart = (due_day - today).days
    if at < now:
        late = max((today - due_day).days, 0)
        if late == 0:
            return "late today"
        return f"{late} day{'s' if late != 1 else ''} late"
    if apart == 0:
        return "today"
    return "tomorrow" if apart == 1 else f"in {apart} days"


def due(value: datetime | str | None, now: datetime) -> str:
    """``due Mon 5 Jan, 11:59 pm EST — in 2 days`` (or ``— 3 days late``)."""
    at = moment(value)
    if at is None:
        return ""
    return f"due {local_time(at, year=at.astimezone(LOCAL_ZONE).year != now.astimezone(LOCAL_ZONE).year)} — {relative(at, now)}"


def readable(value: object) -> str:
    """A recorded value as a person reads it: times (ISO 8601 with an offset) in New York time, yes/no, lists
    and records spelled out; "(none)" for nothing."""
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return local_time(value) if _is_moment(value) else value
    if isinstance(value, list):
        return "; ".join(readable(item) for item in value) or "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{str(key).replace('_', ' ')} {readable(item)}" for key, item in value.items())
    return str(value)


def _is_moment(text: str) -> bool:
    if len(text) < 16 or "T" not in text:
        return False
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False
