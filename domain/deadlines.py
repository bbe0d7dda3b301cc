"""Reporting clocks: when each is due, and whether it was met on time, late or is still open.

A clock of N days is due at the end of the local calendar day (America/New_York) N days after
the local date of its start. Days late are counted in local calendar days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from domain.errors import ValidationFailed
from domain.moments import require_askable

LOCAL_ZONE = ZoneInfo("America/New_York")


def require_aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(f"{what} must include a time zone offset, got {value.isoformat()}")
    return value


def local_date(moment: datetime) -> date:
    return moment.astimezone(LOCAL_ZONE).date()


def due_at(start: datetime, days: int) -> datetime:
    require_aware(start, "a clock's start")
    due_date = local_date(start) + timedelta(days=days)
    return datetime.combine(due_date, time.max, tzinfo=LOCAL_ZONE).astimezone(timezone.utc)


def local_text(moment: datetime) -> str:
    """A moment as a refusal names it: New York time with the zone (``2026-11-23 14:05 EST``)."""
    return moment.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M %Z")


@dataclass(frozen=True)
class Deadline:
    """One obligation's clock on one incident: ``name`` is the obligation's key (the clock's name, and for a
    clock a request starts, ``:<request id>``); ``length`` is in ``unit`` (``domain.obligations.calendar``)."""

    name: str
    length: int
    start: datetime
    due: datetime
    clock: str = ""
    unit: str = "calendar_days"
    provisional: bool = False

    def __post_init__(self) -> None:
        if not self.clock:
            object.__setattr__(self, "clock", self.name.split(":", 1)[0])

    @classmethod
    def starting(cls, name: str, days: int, start: datetime) -> Deadline:
        return cls(name, days, start, due_at(start, days))

    def status(self, met_at: datetime | None, now: datetime, today: date | None = None, *,
               waived: bool = False) -> dict[str, object]:
        """The clock as of ``now``: met (on time or late by N days), waived, overdue, or open.

        ``today`` is ``now``'s local date, for callers that ask about many clocks at one moment.
        """
        today = today or local_date(now)
        due_day = local_date(self.due)
        result: dict[str, object] = {
            "name": self.name,
            "clock": self.clock,
            "length": self.length,
            "unit": self.unit,
            "provisional": self.provisional,
            "start": self.start.isoformat(),
            "due": self.due.isoformat(),
            "met_at": None,
            "days_late": 0,
            "days_left": None,
        }
        if waived:
            result["status"] = "waived"
            return result
        if met_at is not None and met_at <= now:
            result["met_at"] = met_at.isoformat()
            if met_at <= self.due:
                result["status"] = "met_on_time"
            else:
                result["status"] = "met_late"
                result["days_late"] = (local_date(met_at) - due_day).days
            return result
        if now > self.due:
            result["status"] = "overdue"
            result["days_late"] = (today - due_day).days
        else:
            result["status"] = "open"
            result["days_left"] = (due_day - today).days
        return result


def parse_moment(text: str, what: str = "a time", *, now: datetime) -> datetime:
    """A moment a person typed: ISO 8601 with an offset; without one, New York time; a bare date
    (``2026-03-01``) means the end of that day in New York ("what was overdue on March 1").
    It must lie in the range a query may ask about (``domain.moments``)."""
    value = text.strip()
    try:
        if len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), time.max, tzinfo=LOCAL_ZONE)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{what} must be an ISO 8601 date or date and time, got {text!r}") from None
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_ZONE)
    return require_askable(moment, what, now)
