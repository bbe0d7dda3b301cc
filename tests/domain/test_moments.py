"""The plausible range of times (issue 10, row 2): refused at parsing, at receiving and in details, never crashing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.tooling.samples import vpcr_report
from domain.deadlines import parse_moment
from domain.details import validate_screen
from domain.errors import ValidationFailed
from domain.incident import Incident
from domain.moments import CLOCK_SKEW, require_happened
from domain.rules import rule_set
from domain.vpcr import VpcrReport
from tests.conftest import L2

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)
IMPLAUSIBLE = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1899-12-31T23:59:59+00:00",
               "2026-11-20T15:06:00+00:00"]
REPORT = {"jc_case_number": "2026-015501", "facility": "F-001", "program": "Unit 3", "setting": "inpatient",
          "reported_type": "death.natural-unexpected", "summary": "Found unresponsive."}


@pytest.mark.parametrize("text", IMPLAUSIBLE)
def test_an_implausible_report_time_is_named_when_parsing(text: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        VpcrReport.from_mapping({**REPORT, "jc_reported_at": text}, now=NOW)
    assert any(p.startswith("jc_reported_at must lie between 1900-01-01 and now") for p in refused.value.problems)


@pytest.mark.parametrize("text", IMPLAUSIBLE)
def test_receiving_checks_the_report_time_whatever_parsed_it(text: str) -> None:
    report = VpcrReport.from_mapping({**REPORT, "jc_reported_at": text})  # no clock at hand: not checked here
    with pytest.raises(ValidationFailed, match="jc_reported_at must lie between"):
        Incident.receive(report, L2, NOW)


def test_the_edges_of_the_range_are_accepted() -> None:
    assert require_happened(NOW + CLOCK_SKEW, "t", NOW) == NOW + CLOCK_SKEW
    assert require_happened(datetime(1900, 1, 1, tzinfo=timezone.utc), "t", NOW).year == 1900
    Incident.receive(vpcr_report("2026-015501", NOW - timedelta(days=3650)), L2, NOW)


@pytest.mark.parametrize("text", IMPLAUSIBLE)
def test_detail_times_are_checked_too(text: str) -> None:
    screens = [("incident", {"occurred_at": text}),
               ("notifications", {"notifications_made": [{"party": "family", "notified_at": text}]})]
    for screen, fields in screens:
        with pytest.raises(ValidationFailed) as refused:
            validate_screen(screen, fields, rule_set("current"), NOW)
        assert "must lie between 1900-01-01 and now" in refused.value.problems[0]


@pytest.mark.parametrize("text", ["9999-12-31", "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1850-01-01"])
def test_a_query_time_out_of_range_is_refused_not_overflowing(text: str) -> None:
    with pytest.raises(ValidationFailed, match="as_of must lie between 1900-01-01 and ten years from now"):
        parse_moment(text, "as_of", now=NOW)


def test_a_query_may_ask_about_the_near_future() -> None:
    assert parse_moment("2027-03-01", "as_of", now=NOW).year == 2027
