from datetime import datetime, timezone

import pytest

from domain.deadlines import Deadline, due_at
from domain.errors import ValidationFailed

UTC = timezone.utc


def test_due_at_end_of_local_day_n_days_after_the_starts_local_date() -> None:
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert due_at(start, 5) == datetime(2026, 1, 11, 4, 59, 59, 999999, tzinfo=UTC)  # Jan 10 23:59:59.999999 EST


def test_start_late_in_the_evening_counts_from_its_local_date_not_utc() -> None:
    start = datetime(2026, 1, 6, 3, 30, tzinfo=UTC)  # still Jan 5 in New York
    assert due_at(start, 5) == datetime(2026, 1, 11, 4, 59, 59, 999999, tzinfo=UTC)


def test_due_date_across_the_spring_daylight_saving_change() -> None:
    start = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)  # EST; clocks go forward on March 8
    assert due_at(start, 5) == datetime(2026, 3, 11, 3, 59, 59, 999999, tzinfo=UTC)  # March 10 end of day EDT


def test_status_met_on_time_met_late_overdue_and_open() -> None:
    deadline = Deadline.starting("report_of_death", 5, datetime(2026, 1, 5, 15, tzinfo=UTC))
    at_due = deadline.status(deadline.due, datetime(2026, 2, 1, tzinfo=UTC))
    assert at_due["status"] == "met_on_time"
    late = deadline.status(datetime(2026, 1, 13, 14, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    assert (late["status"], late["days_late"]) == ("met_late", 3)
    overdue = deadline.status(None, datetime(2026, 1, 12, 15, tzinfo=UTC))
    assert (overdue["status"], overdue["days_late"]) == ("overdue", 2)
    still_open = deadline.status(None, datetime(2026, 1, 7, 15, tzinfo=UTC))
    assert (still_open["status"], still_open["days_left"]) == ("open", 3)


def test_a_met_time_after_now_is_not_counted_yet() -> None:
    deadline = Deadline.starting("investigation", 45, datetime(2026, 1, 5, 15, tzinfo=UTC))
    assert deadline.status(datetime(2026, 1, 20, tzinfo=UTC), datetime(2026, 1, 10, tzinfo=UTC))["status"] == "open"


def test_a_start_without_offset_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="time zone"):
        due_at(datetime(2026, 1, 5, 15), 5)
