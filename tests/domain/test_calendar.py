"""The New York State working-day calendar and due times in hours, calendar days and working days (ADR 0014 section 4)."""

from datetime import date, datetime, timedelta, timezone

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.deadlines import due_at
from domain.errors import ValidationFailed
from domain.obligations.calendar import (
    NEW_YORK,
    Unit,
    add_working_days,
    due_after,
    is_working_day,
    parse_unit,
    state_holidays,
)

UTC = timezone.utc


def end_of_new_york_day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 23, 59, 59, 999999, tzinfo=NEW_YORK)


# Every day a state holiday is kept on, by hand from GCL § 24 and a wall calendar. Saturday holidays
# stay on the Saturday (no Friday off); Sunday ones move to the Monday.
KEPT_ON = {
    2025: {
        date(2025, 1, 1): "New Year's Day",
        date(2025, 1, 20): "Martin Luther King Jr. Day",
        date(2025, 2, 12): "Lincoln's Birthday",
        date(2025, 2, 17): "Washington's Birthday",
        date(2025, 5, 26): "Memorial Day",
        date(2025, 6, 19): "Juneteenth",
        date(2025, 7, 4): "Independence Day",
        date(2025, 9, 1): "Labor Day",
        date(2025, 10, 13): "Columbus Day",
        date(2025, 11, 4): "Election Day",
        date(2025, 11, 11): "Veterans Day",
        date(2025, 11, 27): "Thanksgiving Day",
        date(2025, 12, 25): "Christmas Day",
    },
    2026: {
        date(2026, 1, 1): "New Year's Day",
        date(2026, 1, 19): "Martin Luther King Jr. Day",
        date(2026, 2, 12): "Lincoln's Birthday",
        date(2026, 2, 16): "Washington's Birthday",
        date(2026, 5, 25): "Memorial Day",
        date(2026, 6, 19): "Juneteenth",
        date(2026, 7, 4): "Independence Day",  # a Saturday
        date(2026, 9, 7): "Labor Day",
        date(2026, 10, 12): "Columbus Day",
        date(2026, 11, 3): "Election Day",
        date(2026, 11, 11): "Veterans Day",
        date(2026, 11, 26): "Thanksgiving Day",
        date(2026, 12, 25): "Christmas Day",
    },
    2027: {
        date(2027, 1, 1): "New Year's Day",
        date(2027, 1, 18): "Martin Luther King Jr. Day",
        date(2027, 2, 12): "Lincoln's Birthday",
        date(2027, 2, 15): "Washington's Birthday",
        date(2027, 5, 31): "Memorial Day",
        date(2027, 6, 19): "Juneteenth",  # a Saturday
        date(2027, 7, 5): "Independence Day (observed)",  # Sunday Jul 4
        date(2027, 9, 6): "Labor Day",
        date(2027, 10, 11): "Columbus Day",
        date(2027, 11, 2): "Election Day",
        date(2027, 11, 11): "Veterans Day",
        date(2027, 11, 25): "Thanksgiving Day",
        date(2027, 12, 25): "Christmas Day",  # a Saturday
    },
}

# ADR 0014 section 4: the holidays that take away a working day.
WEEKDAY_HOLIDAYS = {
    2025: "01-01 01-20 02-12 02-17 05-26 06-19 07-04 09-01 10-13 11-04 11-11 11-27 12-25",
    2026: "01-01 01-19 02-12 02-16 05-25 06-19 09-07 10-12 11-03 11-11 11-26 12-25",
    2027: "01-01 01-18 02-12 02-15 05-31 07-05 09-06 10-11 11-02 11-11 11-25",
}


@pytest.mark.parametrize("year", sorted(KEPT_ON))
def test_every_state_holiday_of_2025_to_2027_by_name(year: int) -> None:
    assert state_holidays(year) == KEPT_ON[year]


@pytest.mark.parametrize("year", sorted(WEEKDAY_HOLIDAYS))
def test_the_weekday_holidays_are_the_adrs_lists(year: int) -> None:
    listed = {date.fromisoformat(f"{year}-{month_day}") for month_day in WEEKDAY_HOLIDAYS[year].split()}
    assert {day for day in state_holidays(year) if day.weekday() < 5} == listed
    assert all(not is_working_day(day) for day in listed)


def test_state_holidays_returns_a_copy_the_caller_may_change() -> None:
    state_holidays(2026).clear()
    assert len(state_holidays(2026)) == 13
    assert not is_working_day(date(2026, 2, 12))


def oracle(years: range) -> set[date]:
    """The `holidays` package's New York list, made into the State's: less Susan B. Anthony Day (a commemoration),
    Sunday holidays on the Monday, and Juneteenth 2020 added (the package counts it from the federal 2021 law;
    state offices closed on 2020-06-19)."""
    days = set()
    for day, names in holidays.US(subdiv="NY", years=years, observed=False).items():
        rest = [name for name in names.split("; ") if name != "Susan B. Anthony Day"]
        if rest:
            days.add(day + timedelta(days=1) if day.weekday() == 6 else day)
    if 2020 in years:
        days.add(date(2020, 6, 19))
    return days


def test_the_holidays_package_agrees_for_2020_to_2040() -> None:
    years = range(2020, 2041)
    ours = {day for year in years for day in state_holidays(year)}
    assert ours == oracle(years)


def test_the_package_itself_lacks_juneteenth_2020_and_has_susan_b_anthony_day() -> None:
    """Guards the oracle's two adjustments: if the package changes, the adjustments must be revisited."""
    package = holidays.US(subdiv="NY", years=[2020, 2028], observed=False)
    assert date(2020, 6, 19) not in package
    assert package.get(date(2028, 2, 15)) == "Susan B. Anthony Day"
    assert date(2028, 2, 15) not in state_holidays(2028)
    assert is_working_day(date(2028, 2, 15))


def test_juneteenth_is_not_a_holiday_before_2020() -> None:
    assert date(2019, 6, 19) not in state_holidays(2019)
    assert is_working_day(date(2019, 6, 19))


def test_five_working_days_from_friday_skip_the_weekends_and_both_february_birthdays() -> None:
    start = datetime(2026, 2, 6, 10, 0, tzinfo=NEW_YORK)
    assert add_working_days(date(2026, 2, 6), 5) == date(2026, 2, 17)
    assert due_after(start, 5, Unit.WORKING_DAYS) == end_of_new_york_day(2026, 2, 17)


def test_a_weekend_is_not_counted() -> None:
    assert add_working_days(date(2026, 3, 6), 1) == date(2026, 3, 9)  # Fri -> Mon
    assert add_working_days(date(2026, 3, 7), 1) == date(2026, 3, 9)  # Sat -> Mon
    assert not is_working_day(date(2026, 3, 7)) and not is_working_day(date(2026, 3, 8))


def test_thanksgiving_is_not_counted_but_the_friday_after_is() -> None:
    assert not is_working_day(date(2026, 11, 26))
    assert is_working_day(date(2026, 11, 27))
    assert add_working_days(date(2026, 11, 25), 1) == date(2026, 11, 27)


def test_a_sunday_holiday_is_kept_on_the_monday() -> None:
    assert not is_working_day(date(2027, 7, 5))
    assert add_working_days(date(2027, 7, 2), 1) == date(2027, 7, 6)


def test_a_saturday_holiday_gives_no_friday_off() -> None:
    assert is_working_day(date(2026, 7, 3))
    assert add_working_days(date(2026, 7, 2), 1) == date(2026, 7, 3)
    assert add_working_days(date(2026, 7, 2), 2) == date(2026, 7, 6)


def test_zero_working_days_is_the_start_day_and_a_negative_count_is_refused() -> None:
    assert add_working_days(date(2026, 7, 4), 0) == date(2026, 7, 4)
    with pytest.raises(ValidationFailed, match="negative"):
        add_working_days(date(2026, 7, 4), -1)


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)), st.integers(min_value=1, max_value=120))
def test_the_result_is_a_working_day_after_the_start_with_exactly_count_working_days_up_to_it(day: date, count: int) -> None:
    result = add_working_days(day, count)
    assert result > day
    assert is_working_day(result)
    between = [day + timedelta(days=n) for n in range(1, (result - day).days + 1)]
    assert sum(is_working_day(d) for d in between) == count


@given(st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31)))
def test_a_working_day_is_a_weekday_that_is_not_a_holiday_kept_on_that_day(day: date) -> None:
    assert is_working_day(day) == (day.weekday() < 5 and day not in oracle(range(day.year, day.year + 1)))


def test_a_day_in_hours_across_the_spring_change_is_23_wall_clock_hours() -> None:
    start = datetime.fromisoformat("2026-03-07T12:00-05:00")
    due = due_after(start, 24, Unit.HOURS)
    assert due == datetime.fromisoformat("2026-03-08T13:00-04:00")
    assert due.tzinfo is UTC
    assert due.astimezone(NEW_YORK).hour == 13


def test_a_day_in_hours_across_the_autumn_change_is_25_wall_clock_hours() -> None:
    start = datetime.fromisoformat("2026-10-31T12:00-04:00")
    due = due_after(start, 24, Unit.HOURS)
    assert due == datetime.fromisoformat("2026-11-01T11:00-05:00")
    assert due.astimezone(NEW_YORK).hour == 11


def test_hours_from_a_new_york_start_count_elapsed_time_not_wall_clock_time() -> None:
    start = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    assert due_after(start, 24, Unit.HOURS) - start == timedelta(hours=24)


@pytest.mark.parametrize(("start", "length", "due_day"), [
    ("2026-03-05T09:00-05:00", 5, (2026, 3, 10)),  # spring forward on Mar 8
    ("2026-10-29T09:00-04:00", 5, (2026, 11, 3)),  # fall back on Nov 1
])
def test_calendar_days_across_a_dst_change_end_at_the_last_microsecond_of_the_new_york_day(
        start: str, length: int, due_day: tuple[int, int, int]) -> None:
    due = due_after(datetime.fromisoformat(start), length, Unit.CALENDAR_DAYS)
    assert due == end_of_new_york_day(*due_day)
    assert due.tzinfo is UTC
    local = due.astimezone(NEW_YORK)
    assert (local.hour, local.minute, local.second, local.microsecond) == (23, 59, 59, 999999)


def test_calendar_and_working_days_count_from_the_new_york_date_not_the_utc_one() -> None:
    start = datetime(2026, 2, 7, 3, 30, tzinfo=UTC)  # still Friday Feb 6 in New York
    assert due_after(start, 5, Unit.WORKING_DAYS) == end_of_new_york_day(2026, 2, 17)
    assert due_after(start, 1, Unit.CALENDAR_DAYS) == end_of_new_york_day(2026, 2, 7)


def test_working_days_across_a_dst_change_end_at_the_end_of_the_new_york_day() -> None:
    due = due_after(datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK), 1, Unit.WORKING_DAYS)  # Fri EST -> Mon EDT
    assert due == datetime(2026, 3, 10, 3, 59, 59, 999999, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)),
       st.integers(min_value=0, max_value=400))
def test_calendar_days_are_due_when_the_existing_deadline_rule_says(start: datetime, days: int) -> None:
    assert due_after(start, days, Unit.CALENDAR_DAYS) == due_at(start, days)


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="time zone"):
        due_after(datetime(2026, 3, 7, 12, 0), 24, Unit.HOURS)


@pytest.mark.parametrize("unit", list(Unit))
def test_a_negative_length_is_refused(unit: Unit) -> None:
    with pytest.raises(ValidationFailed, match="negative"):
        due_after(datetime(2026, 3, 7, 12, 0, tzinfo=UTC), -1, unit)


def test_a_due_time_past_year_9999_is_refused_not_an_overflow() -> None:
    with pytest.raises(ValidationFailed, match="10000"):
        due_after(datetime(9999, 12, 20, tzinfo=UTC), 30, Unit.WORKING_DAYS)


def test_the_stored_unit_values_never_change() -> None:
    assert [unit.value for unit in Unit] == ["hours", "calendar_days", "working_days"]


def test_parse_unit_reads_the_stored_values_and_refuses_others() -> None:
    assert parse_unit("working_days") is Unit.WORKING_DAYS
    assert parse_unit(" hours ") is Unit.HOURS
    with pytest.raises(ValidationFailed, match="hours, calendar_days, working_days"):
        parse_unit("business_days")
