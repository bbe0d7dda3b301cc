"""Notifications on time over real HTTP, on SQLite and PostgreSQL: GET /statistics/notifications-on-time (JSON and
CSV), who may read which facility's, and the statistics page's chart, table and CSV download."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from tests.conftest import FakeClock
from tests.http.support import PASSWORD, VPCR, Api, add_staff, eventually, live_server

PART_524 = {"NIMRS_OBLIGATIONS_DEFAULT": "part524@1"}  # new incidents pin these rules (docs/adr/0014, section 3)
PATH = "/statistics/notifications-on-time"
CASE = VPCR["jc_case_number"]
OVERDUE = {**VPCR, "jc_case_number": "2026-015502", "jc_reported_at": "2026-11-17T09:40:00-05:00"}  # due on the 18th
QUALIFIED_PERSON = {"recipient_id": "qp-1", "role": "qualified_person", "name": "Dana Doe", "relationship": "sister",
                    "client_id": "C-1042", "contacts": {"phone": "555-0100"}, "preferred": ["phone"]}
NOTIFICATION = {"recipient_id": "qp-1", "notified_at": "2026-11-19T09:55:00-05:00", "method": "phone",
                "outcome": "reached"}
NOVEMBER = {"facility": "F-001", "month": "2026-11", "owed": 2, "met_on_time": 1, "met_late": 0, "waived": 0,
            "overdue": 1, "not_yet_due": 0, "on_time_share": 0.5}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock() -> FakeClock:
    """Twenty minutes after the sample VPCR report (2026-11-19 09:40 EST) was made."""
    return FakeClock(datetime(2026, 11, 19, 15, 0, tzinfo=timezone.utc))


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    add_staff(database_url, clock)
    with live_server(database_url, clock, environ=PART_524) as base_url:
        client = Api(base_url)
        l2 = client("l2")
        assert l2.post("/vpcr-reports", json=[VPCR, OVERDUE]).status_code in (200, 201)
        assert l2.post(f"/incidents/{CASE}/import-report").status_code == 200
        assert l2.post(f"/incidents/{CASE}/record-notice-recipient", json=QUALIFIED_PERSON).status_code == 200
        assert l2.post(f"/incidents/{CASE}/record-notification", json=NOTIFICATION).status_code == 200
        yield client
        client.close()


def months(client: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = client.get(PATH, params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["months"])


def november(client: httpx.Client) -> dict[str, Any]:
    """Once the views have caught up with both notices."""
    return dict(eventually(lambda: next((m for m in months(client) if m["month"] == "2026-11" and m["owed"] == 2), None)))


def test_level_3_reads_its_facilitys_months_as_json_and_csv(api: Api) -> None:
    l3 = api("l3")
    assert november(l3) == NOVEMBER
    answer = l3.get(PATH).json()
    assert (answer["facility"], answer["clock"], datetime.fromisoformat(answer["as_of"])) == (
        "F-001", "qualified_person_notice", datetime(2026, 11, 19, 15, 0, tzinfo=timezone.utc))
    assert [m["month"] for m in answer["months"]] == ["2025-12", *(f"2026-{n:02d}" for n in range(1, 12))]
    assert all(m["owed"] == 0 and m["on_time_share"] is None for m in answer["months"][:-1])
    assert [m["month"] for m in months(l3, months=2)] == ["2026-10", "2026-11"]

    spreadsheet = l3.get(PATH, params={"format": "csv", "months": 2})
    assert spreadsheet.status_code == 200
    assert spreadsheet.headers["content-type"] == "text/csv; charset=utf-8"
    assert spreadsheet.headers["content-disposition"] == 'attachment; filename="notifications-on-time.csv"'
    assert list(csv.reader(io.StringIO(spreadsheet.text))) == [
        ["facility", "month", "owed", "met_on_time", "met_late", "waived", "overdue", "not_yet_due", "on_time_share"],
        ["F-001", "2026-10", "0", "0", "0", "0", "0", "0", ""],
        ["F-001", "2026-11", "2", "1", "0", "0", "1", "0", "0.5"]]


def test_another_facility_sees_only_its_own_and_a_state_reviewer_sums_every_facility(api: Api) -> None:
    november(api("l3"))
    other = api("other.l1")
    assert all(m["owed"] == 0 and m["facility"] == "F-002" for m in months(other))
    for params in ({"facility": "F-001"}, {"facility": "F-001", "format": "csv"}):
        refused = other.get(PATH, params=params)
        assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
        assert "2026-11" not in refused.text
    everywhere = api("reviewer").get(PATH).json()
    assert everywhere["facility"] is None
    assert everywhere["months"][-1] == {**NOVEMBER, "facility": None}
    assert months(api("reviewer"), facility="F-002")[-1]["owed"] == 0
    assert api.anonymous.get(PATH).status_code == 401


@pytest.mark.parametrize(("params", "named"), [({"months": 0}, "months"), ({"months": 121}, "months"),
                                               ({"format": "xlsx"}, "format"), ({"facility": "F" * 65}, "facility")])
def test_bad_queries_are_refused_naming_the_problem(api: Api, params: dict[str, Any], named: str) -> None:
    refused = api("l3").get(PATH, params=params)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert named in refused.text


def test_the_statistics_page_shows_the_share_per_month_with_the_counts_and_a_csv(api: Api) -> None:
    november(api("l3"))
    with httpx.Client(base_url=api.base_url, timeout=30) as browser:
        form = CSRF.search(browser.get("/web/sign-in").text)
        assert form is not None
        assert browser.post("/web/sign-in", data={"username": "l3", "password": PASSWORD,
                                                  "csrf_token": form.group(1)}).status_code == 303
        page = browser.get("/web/statistics")
        assert page.status_code == 200
        section = page.text[page.text.index('id="stats-notifications-on-time-heading"'):]
        assert "Notifications on time: a bar chart of the share of notices met on time in each of 12 months" in section
        assert "<title>Nov 2026: 50%</title>" in section and "<title>Oct 2026: n/a (no notice met or overdue)</title>" in section
        row = re.search(r"<tr><th scope=\"row\">Nov 2026</th>(.*?)</tr>", section)
        assert row is not None
        assert re.findall(r'<td class="number">([^<]*)</td>', row.group(1)) == ["2", "1", "0", "0", "1", "0", "50%"]
        totals = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="number">([^<]*)</td></tr>', section)
        assert totals[:7] == [("Owed", "2"), ("On time", "1"), ("Late", "0"), ("Waived", "0"), ("Overdue", "1"),
                              ("Not yet due", "0"), ("Share on time", "50%")]  # over the 12 months
        assert 'href="/web/statistics/notifications-on-time.csv?"' in section
        download = browser.get("/web/statistics/notifications-on-time.csv")
        assert download.status_code == 200
        assert download.headers["content-disposition"] == 'attachment; filename="notifications-on-time.csv"'
        assert download.text == api("l3").get(PATH, params={"format": "csv"}).text
