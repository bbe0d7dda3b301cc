"""The New York State working-day calendar, and when a clock of N hours, calendar days or working days is due.

Due times (ADR 0014 section 4):
- hours: real elapsed hours from the start, so a day across a DST change is 23 or 25 wall-clock hours;
- calendar days: the end of the New York day N days after the start's New York date (as ``domain.deadlines.due_at``;
  the start day is not counted, General Construction Law § 20);
- working days: the end of the New York day that is the Nth working day after the start's New York date.
The domain has no clock: callers pass every moment.
"""

from __future__ import annotations

from calendar import MONDAY, SATURDAY, SUNDAY, THURSDAY, monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

from domain.deadlines import require_aware
from domain.errors import ValidationFailed

NEW_YORK = ZoneInfo("America/New_York")


class Unit(StrEnum):
    """The unit of a clock's length. The values are stored in events and never change."""

    HOURS = "hours"
    CALENDAR_DAYS = "calendar_days"
    WORKING_DAYS = "working_days"


def parse_unit(text: str) -> Unit:
    try:
        return Unit(text.strip())
    except (ValueError, AttributeError):
        choices = ", ".join(unit.value for unit in Unit)
        raise ValidationFailed(f"a clock's unit must be one of {choices}, got {text!r}") from None


@dataclass(frozen=True)
class FixedDate:
    """A holiday on the same date every year, from ``first_year`` on."""

    name: str
    month: int
    day: int
    first_year: int = 1

    def date_in(self, year: int) -> date | None:
        return date(year, self.month, self.day) if year >= self.first_year else None


@dataclass(frozen=True)
class NthWeekday:
    """The ``nth`` ``weekday`` of ``month`` (``nth=-1``: the last), plus ``days_after`` days."""

    name: str
    month: int
    weekday: int
    nth: int
    days_after: int = 0

    def date_in(self, year: int) -> date | None:
        if self.nth > 0:
            first = date(year, self.month, 1)
            day = first + timedelta(days=(self.weekday - first.weekday()) % 7 + 7 * (self.nth - 1))
        else:
            last = date(year, self.month, monthrange(year, self.month)[1])
            day = last - timedelta(days=(last.weekday() - self.weekday) % 7 + 7 * (-self.nth - 1))
        return day + timedelta(days=self.days_after)


HolidayRule = FixedDate | NthWeekday

STATE_HOLIDAY_RULES: tuple[HolidayRule, ...] = (
    FixedDate("New Year's Day", 1, 1),
    NthWeekday("Martin Luther King Jr. Day", 1, MONDAY, 3),
    FixedDate("Lincoln's Birthday", 2, 12),
    NthWeekday("Washington's Birthday", 2, MONDAY, 3),
    NthWeekday("Memorial Day", 5, MONDAY, -1),
    FixedDate("Juneteenth", 6, 19, first_year=2020),
    FixedDate("Independence Day", 7, 4),
    NthWeekday("Labor Day", 9, MONDAY, 1),
    NthWeekday("Columbus Day", 10, MONDAY, 2),
    NthWeekday("Election Day", 11, MONDAY, 1, days_after=1),  # the Tuesday after the first Monday
    FixedDate("Veterans Day", 11, 11),
    NthWeekday("Thanksgiving Day", 11, THURSDAY, 4),
    FixedDate("Christmas Day", 12, 25),
)
"""The public holidays of General Construction Law § 24 on which New York State offices close.

Flag Day (the second Sunday in June) is left out: it is always a Sunday and is not moved. Susan B.
Anthony Day (Feb 15) is a commemoration, not a day off. Juneteenth counts from 2020: state offices
closed on 2020-06-19 by executive order, and § 24 has listed it since later that year. Earlier
changes to the list are not modelled: the calendar is for clocks that start in 2020 or later.

A holiday on a Sunday is kept on the Monday after (§ 24). A holiday on a Saturday is not moved:
we believe state offices get no Friday off, employees getting holiday credit instead. That is the
open question for legal review (ADR 0014): if the Department of Civil Service's published calendars
say otherwise, ``_kept_on`` gains the Friday rule.
"""


def _kept_on(holiday: date) -> date:
    return holiday + timedelta(days=1) if holiday.weekday() == SUNDAY else holiday


@lru_cache(maxsize=256)
def _holidays_of(year: int) -> MappingProxyType[date, str]:
    kept: dict[date, str] = {}
    for rule in STATE_HOLIDAY_RULES:
        holiday = rule.date_in(year)
        if holiday is None:
            continue
        day = _kept_on(holiday)
        name = rule.name if day == holiday else f"{rule.name} (observed)"
        kept[day] = f"{kept[day]}; {name}" if day in kept else name
    return MappingProxyType(dict(sorted(kept.items())))


def state_holidays(year: int) -> dict[date, str]:
    """The days of ``year`` a state holiday is kept on, with its name: Sunday ones on the Monday, Saturday ones as they fall."""
    return dict(_holidays_of(year))


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY and day not in _holidays_of(day.year)


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day``; ``day`` itself is not counted, and ``count=0`` gives ``day``."""
    if count < 0:
        raise ValidationFailed(f"a number of working days must not be negative, got {count}")
    try:
        while count > 0:
            day += timedelta(days=1)
            if is_working_day(day):
                count -= 1
    except OverflowError:
        raise ValidationFailed("a due date must fall before the year 10000") from None
    return day


def _end_of_new_york_day(day: date) -> datetime:
    return datetime.combine(day, time.max, tzinfo=NEW_YORK).astimezone(timezone.utc)


def due_after(start: datetime, length: int, unit: Unit) -> datetime:
    """When a clock of ``length`` ``unit`` that starts at ``start`` is due, in UTC."""
    require_aware(start, "a clock's start")
    if length < 0:
        raise ValidationFailed(f"a clock's length must not be negative, got {length}")
    try:
        if unit == Unit.HOURS:
            return start.astimezone(timezone.utc) + timedelta(hours=length)
        start_day = start.astimezone(NEW_YORK).date()
        if unit == Unit.CALENDAR_DAYS:
            return _end_of_new_york_day(start_day + timedelta(days=length))
        if unit == Unit.WORKING_DAYS:
            return _end_of_new_york_day(add_working_days(start_day, length))
    except OverflowError:
        raise ValidationFailed("a due time must fall before the year 10000") from None
    raise ValidationFailed(f"a clock's unit must be one of {', '.join(Unit)}, got {unit!r}")
