"""Times as a person reads them: New York local time with its zone, across EST, EDT and the days the clocks change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.local_time import days, due, local_date, local_time, relative

NEW_YORK_WINTER = timezone(timedelta(hours=-5))
NEW_YORK_SUMMER = timezone(timedelta(hours=-4))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)  # type: ignore[misc]


@pytest.mark.parametrize(("moment", "shown"), [
    (utc(2026, 1, 6, 4, 59, 59, 999999), "Mon 5 Jan 2026, 11:59 pm EST"),  # a clock due at the end of 5 January
    (utc(2026, 1, 5, 5, 0), "Mon 5 Jan 2026, 12:00 am EST"),  # midnight
    (utc(2026, 1, 5, 17, 0), "Mon 5 Jan 2026, 12:00 pm EST"),  # noon
    (utc(2026, 7, 4, 16, 0), "Sat 4 Jul 2026, 12:00 pm EDT"),
    (utc(2026, 3, 8, 6, 59), "Sun 8 Mar 2026, 1:59 am EST"),  # the last minute before the clocks go forward
    (utc(2026, 3, 8, 7, 0), "Sun 8 Mar 2026, 3:00 am EDT"),  # a minute later, 2 am never happens
    (utc(2026, 11, 1, 5, 30), "Sun 1 Nov 2026, 1:30 am EDT"),  # 1:30 am happens twice when they go back:
    (utc(2026, 11, 1, 6, 30), "Sun 1 Nov 2026, 1:30 am EST"),  # the zone tells the two apart
    ("2025-12-31T10:00:00-05:00", "Wed 31 Dec 2025, 10:00 am EST"),  # ISO 8601 text from JSON or a view row
    ("2026-06-01T09:05:00+02:00", "Mon 1 Jun 2026, 3:05 am EDT"),  # another offset, shown in New York
])
def test_local_time_is_new_york_with_the_zone(moment: datetime | str, shown: str) -> None:
    assert local_time(moment) == shown


def test_local_time_without_the_year_and_without_a_time() -> None:
    assert local_time(utc(2026, 1, 6, 4, 59), year=False) == "Mon 5 Jan, 11:59 pm EST"
    assert local_time(None) == "" and local_time("") == ""


def test_local_date_is_the_new_york_calendar_day() -> None:
    assert local_date(utc(2026, 1, 6, 4, 59)) == "5 Jan 2026"  # still the 5th in New York
    assert local_date(utc(2026, 1, 6, 5, 0)) == "6 Jan 2026"
    assert local_date(None) == ""


@pytest.mark.parametrize(("hours", "shown"), [
    (8648.7, "360 days"), (24.0, "1 day"), (47.9, "1 day"), (48.0, "2 days"),
    (5.5, "5 hours"), (1.0, "1 hour"), (0.2, "under an hour"), (None, ""),
])
def test_days_where_days_are_meant(hours: float | None, shown: str) -> None:
    assert days(hours) == shown


NOW = datetime(2026, 1, 3, 12, 0, tzinfo=NEW_YORK_WINTER)


@pytest.mark.parametrize(("due_at", "now", "shown"), [
    (datetime(2026, 1, 5, 23, 59, tzinfo=NEW_YORK_WINTER), NOW, "in 2 days"),
    (datetime(2026, 1, 4, 0, 1, tzinfo=NEW_YORK_WINTER), NOW, "tomorrow"),  # 12 hours away, but tomorrow
    (datetime(2026, 1, 3, 23, 59, tzinfo=NEW_YORK_WINTER), NOW, "today"),
    (datetime(2026, 1, 3, 9, 0, tzinfo=NEW_YORK_WINTER), NOW, "late today"),
    (datetime(2026, 1, 2, 23, 59, tzinfo=NEW_YORK_WINTER), NOW, "1 day late"),
    (datetime(2025, 12, 31, 23, 59, tzinfo=NEW_YORK_WINTER), NOW, "3 days late"),
    # calendar days, not 24-hour spans, across the 23-hour day the clocks go forward
    (datetime(2026, 3, 9, 23, 59, tzinfo=NEW_YORK_SUMMER), datetime(2026, 3, 7, 23, 30, tzinfo=NEW_YORK_WINTER),
     "in 2 days"),
    # and across the 25-hour day they go back: 04:30 UTC on 2 Nov is still 1 November in New York
    (datetime(2026, 11, 2, 4, 30, tzinfo=timezone.utc), datetime(2026, 10, 31, 23, 0, tzinfo=NEW_YORK_SUMMER),
     "tomorrow"),
])
def test_relative_counts_new_york_calendar_days(due_at: datetime, now: datetime, shown: str) -> None:
    assert relative(due_at, now) == shown


def test_due_shows_the_year_only_when_it_is_not_this_year() -> None:
    end_of_5_january = utc(2026, 1, 6, 4, 59, 59)
    assert due(end_of_5_january, NOW) == "due Mon 5 Jan, 11:59 pm EST — in 2 days"
    assert due(end_of_5_january, datetime(2025, 12, 30, 9, 0, tzinfo=NEW_YORK_WINTER)) \
        == "due Mon 5 Jan 2026, 11:59 pm EST — in 6 days"
    # 03:00 UTC on 1 January 2026 is still New Year's Eve in New York: another year there
    assert due(end_of_5_january, utc(2026, 1, 1, 3, 0)) == "due Mon 5 Jan 2026, 11:59 pm EST — in 5 days"
    assert due(None, NOW) == ""


def test_recorded_values_read_in_new_york_time_however_deep() -> None:
    from adapters.local_time import readable

    notified = [{"party": "family", "notified_at": "2026-11-19T13:00:00+00:00"}]
    assert readable(notified) == "party family, notified at Thu 19 Nov 2026, 8:00 am EST"
    assert readable(True) == "yes" and readable(None) == "(none)" and readable([]) == "(none)"
    assert readable("Room 312") == "Room 312" and readable("2026-11-19") == "2026-11-19"  # a date is not a time
