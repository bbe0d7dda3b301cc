"""The plausible range of every date and time nimrs accepts (docs/api.md, "Dates and times").

- Something that happened (an incident, a report to the JC, a notification): not before
  1900-01-01 and not after now plus ``CLOCK_SKEW`` (the sender's clock may run a little ahead).
- A moment asked about (overdue as of, the audit trail or security log since or until): not
  before 1900-01-01 and not after now plus ``QUERY_HORIZON``.

Beyond these a time is a typing error, and far beyond them it cannot even be converted to UTC
or New York time (year 1 at +14:00, year 9999 at -12:00), which once stopped every view.
The domain has no clock: callers pass ``now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.errors import ValidationFailed

EARLIEST = datetime(1900, 1, 1, tzinfo=timezone.utc)
CLOCK_SKEW = timedelta(minutes=5)
QUERY_HORIZON = timedelta(days=366 * 10)


def _within(value: datetime, what: str, latest: datetime, latest_words: str) -> datetime:
    # Comparing aware datetimes never converts them, so even year 1 at +14:00 compares safely.
    if value < EARLIEST or value > latest:
        raise ValidationFailed(f"{what} must lie between 1900-01-01 and {latest_words}, got {value.isoformat()}")
    return value


def require_happened(value: datetime, what: str, now: datetime) -> datetime:
    """A time something happened: from 1900 to now (plus a few minutes of clock skew)."""
    return _within(value, what, now + CLOCK_SKEW, f"now ({now.isoformat(timespec='seconds')}) plus "
                   f"{int(CLOCK_SKEW.total_seconds() // 60)} minutes")


def require_askable(value: datetime, what: str, now: datetime) -> datetime:
    """A time a query asks about: from 1900 to ten years from now."""
    return _within(value, what, now + QUERY_HORIZON, "ten years from now")
