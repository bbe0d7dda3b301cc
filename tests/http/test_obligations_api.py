"""Obligations and a facility's settings over real HTTP, on SQLite and PostgreSQL: GET /obligations by status
(provisional, due soon, overdue, waived), and who may read and change the obligation rules and alert rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from tests.conftest import FakeClock
from tests.http.support import VPCR, Api, add_staff, eventually, live_server

PART_524 = {"NIMRS_OBLIGATIONS_DEFAULT": "part524@1"}  # new incidents pin these rules (docs/adr/0014, section 3)
CASE = VPCR["jc_case_number"]
SECOND = {**VPCR, "jc_case_number": "2026-015502"}
REPORTED = datetime.fromisoformat(VPCR["jc_reported_at"])
RULES = [{"on": ["clock_missed", "clock_due_soon"], "to": ["risk@example.org"], "clocks": ["qualified_person_notice"]}]


@pytest.fixture
def clock() -> FakeClock:
    """Twenty minutes after the sample VPCR report (2026-11-19 09:40 EST) was made."""
    return FakeClock(datetime(2026, 11, 19, 15, 0, tzinfo=timezone.utc))


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    add_staff(database_url, clock)
    with live_server(database_url, clock, environ=PART_524) as base_url:
        client = Api(base_url)
        yield client
        client.close()


def obligations(client: httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/obligations", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def keys(page: dict[str, Any], case: str = CASE) -> set[str]:
    return {row["key"] for row in page["clocks"] if row["jc_case_number"] == case}


def showing(client: httpx.Client, key: str, case: str = CASE, **params: Any) -> dict[str, Any]:
    """The first page that lists ``key`` of the incident (the views trail the log by a fraction of a second)."""
    def check() -> dict[str, Any] | None:
        page = obligations(client, **params)
        return page if key in keys(page, case) else None

    return dict(eventually(check))


def signed_in_again(api: Api, user: str) -> httpx.Client:
    api.clients.pop(user).close()
    return api(user)


def row(page: dict[str, Any], key: str) -> dict[str, Any]:
    return next(r for r in page["clocks"] if r["jc_case_number"] == CASE and r["key"] == key)


def pinned(api: Api, case: str) -> str:
    """The obligation rules the incident pinned when it was received (its first event)."""
    response = api("l1").get(f"/incidents/{case}/history")
    assert response.status_code == 200, response.text
    first = response.json()[0]
    assert first["event"] == "VpcrReportReceived"
    return str(first["data"]["obligations"])


def same_refusal(one: httpx.Response, other: httpx.Response, name: str, absent: str) -> None:
    """Refused exactly alike: status, type and title, and the detail but for the name asked for."""
    assert one.status_code == other.status_code == 404
    a, b = one.json(), other.json()
    assert {k: v for k, v in a.items() if k not in ("detail", "instance")} == {
        k: v for k, v in b.items() if k not in ("detail", "instance")}
    assert a["detail"].replace(name, "F") == b["detail"].replace(absent, "F")


def test_a_received_reports_notice_is_provisional_and_due_soon_then_overdue_then_waived(api: Api, clock: FakeClock) -> None:
    assert api("l2").post("/vpcr-reports", json=VPCR).status_code == 201
    l3 = api("l3")  # Level 3 reads obligations
    opened = showing(l3, "qualified_person_notice")
    assert (opened["facility"], opened["status"]) == ("F-001", "open")
    notice = row(opened, "qualified_person_notice")
    assert (notice["status"], notice["provisional"], notice["clock"], notice["unit"], notice["length"]) == (
        "due_soon", True, "qualified_person_notice", "hours", 24)
    due = datetime.fromisoformat(notice["due"])
    assert due.utcoffset() is not None and due == REPORTED + timedelta(hours=24)
    assert datetime.fromisoformat(opened["as_of"]) == clock()
    assert {"report_of_death", "autopsy_report"} <= keys(opened)  # a death on the JC route
    assert keys(obligations(l3, status="overdue")) == set()
    assert keys(obligations(l3, clock="report_of_death")) == {"report_of_death"}

    clock.advance(days=2)
    l3 = signed_in_again(api, "l3")  # a token lasts 8 hours
    overdue = obligations(l3, status="overdue")
    assert keys(overdue) == {"qualified_person_notice"}
    assert row(overdue, "qualified_person_notice")["days_late"] == 1
    assert row(obligations(l3), "report_of_death")["status"] == "open"  # 5 days: due on the 24th
    assert keys(obligations(l3, status="waived")) == set()

    # Another facility has none of them, and may not ask for them; a state reviewer reads every facility.
    assert obligations(api("other.l1"))["clocks"] == []
    assert api("other.l1").get("/obligations", params={"facility": "F-001"}).status_code == 404
    everywhere = obligations(api("reviewer"), status="overdue")
    assert everywhere["facility"] is None and keys(everywhere) == {"qualified_person_notice"}

    # Reading obligations records no read of the incidents (as GET /overdue).
    readers = api("admin").get(f"/incidents/{CASE}/readers")
    assert readers.status_code == 200 and readers.json() == []

    assert signed_in_again(api, "l2").post(f"/incidents/{CASE}/import-report").status_code == 200
    waived = api("l1").post(f"/incidents/{CASE}/waive-obligation",
                            json={"key": "qualified_person_notice", "reason": "No qualified person: the client is an adult"})
    assert waived.status_code == 200, waived.text
    showing(l3, "qualified_person_notice", status="waived")
    assert "qualified_person_notice" not in keys(obligations(l3, status="overdue"))
    assert "qualified_person_notice" not in keys(obligations(l3))  # no longer open
    assert row(obligations(l3, status="all"), "qualified_person_notice")["status"] == "waived"


@pytest.mark.parametrize(("params", "named"), [
    ({"status": "late"}, "status"),
    ({"clock": "coffee_break"}, "coffee_break"),
    ({"limit": 0}, "limit"),
    ({"limit": 1001}, "limit"),
    ({"soon_days": -1}, "soon_days"),
    ({"clock": "x" * 65}, "clock"),
])
def test_bad_queries_are_refused_naming_the_problem(api: Api, params: dict[str, Any], named: str) -> None:
    refused = api("l3").get("/obligations", params=params)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert named in refused.text


def test_level_1_chooses_the_rules_new_incidents_pin_and_existing_ones_keep_theirs(api: Api) -> None:
    l1, l2 = api("l1"), api("l2")
    shown = api("l3").get("/facilities/F-001/obligations")
    assert shown.status_code == 200
    assert shown.json() == {"facility": "F-001", "rules": "part524@1", "title": shown.json()["title"],
                            "installation_default": True, "changed": None}
    assert api("reviewer").get("/facilities/F-001/obligations").json()["rules"] == "part524@1"
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201

    choice = {"rules": "charts@2", "reason": "Counsel advises waiting for the final Part 524 text"}
    assert l2.put("/facilities/F-001/obligations", json=choice).status_code == 403  # Level 1 only
    assert api("admin").put("/facilities/F-001/obligations", json=choice).status_code == 403
    same_refusal(api("other.l1").put("/facilities/F-001/obligations", json=choice),
                 api("other.l1").put("/facilities/F-999/obligations", json=choice), "F-001", "F-999")
    same_refusal(api("other.l1").get("/facilities/F-001/obligations"),
                 api("other.l1").get("/facilities/F-999/obligations"), "F-001", "F-999")
    unknown = l1.put("/facilities/F-001/obligations", json={**choice, "rules": "part524@9"})
    assert unknown.status_code == 422 and "part524@9" in unknown.json()["detail"]
    assert l1.put("/facilities/F-001/obligations", json={**choice, "reason": "  "}).status_code == 422
    assert l1.put("/facilities/F-001/obligations", json={**choice, "colour": "red"}).status_code == 422
    assert api("l3").get("/facilities/F-001/history").json() == []  # nothing refused was recorded

    chosen = l1.put("/facilities/F-001/obligations", json=choice)
    assert chosen.status_code == 200, chosen.text
    body = chosen.json()
    assert (body["rules"], body["installation_default"]) == ("charts@2", False)
    assert (body["changed"]["set_by"], body["changed"]["reason"]) == ("l1", choice["reason"])
    assert api("l3").get("/facilities/F-001/obligations").json() == body
    history = api("l3").get("/facilities/F-001/history", params={"kind": "obligations"}).json()
    assert [(h["value"], h["set_by"], h["reason"]) for h in history] == [("charts@2", "l1", choice["reason"])]

    assert l2.post("/vpcr-reports", json=SECOND).status_code == 201
    assert pinned(api, SECOND["jc_case_number"]) == "charts@2"
    assert pinned(api, CASE) == "part524@1"  # received before the choice: keeps its rules
    everything = showing(api("l3"), "report_of_death", SECOND["jc_case_number"], status="all")
    assert keys(everything, SECOND["jc_case_number"]) == {"report_of_death"}  # the charts' clocks only
    assert "qualified_person_notice" in keys(everything)


def test_alert_rules_are_read_by_administrators_and_level_1_and_set_by_administrators(api: Api) -> None:
    admin = api("admin")
    for user in ("l2", "l3", "reviewer"):  # they hold email addresses
        refused = api(user).get("/facilities/F-001/alert-rules")
        assert refused.status_code == 403 and "alert rules" in refused.json()["detail"], user
        assert api(user).get("/facilities/F-001/history", params={"kind": "alert_rules"}).status_code == 403
    same_refusal(api("other.admin").get("/facilities/F-001/alert-rules"),
                 api("other.admin").get("/facilities/F-999/alert-rules"), "F-001", "F-999")
    same_refusal(api("other.admin").put("/facilities/F-001/alert-rules", json={"rules": RULES, "reason": "x"}),
                 api("other.admin").put("/facilities/F-999/alert-rules", json={"rules": RULES, "reason": "x"}),
                 "F-001", "F-999")
    assert api("l1").get("/facilities/F-001/alert-rules").json() == {"facility": "F-001", "rules": [], "changed": None}
    assert api("l1").put("/facilities/F-001/alert-rules",
                         json={"rules": RULES, "reason": "x"}).status_code == 403  # security administrators only

    bad = admin.put("/facilities/F-001/alert-rules", json={"rules": [
        {"on": ["clock_missed"], "to": ["not an address"]}, {"on": ["tea_time"], "to": ["a@example.org"]}, 7],
        "reason": "x"})
    assert bad.status_code == 422, bad.text
    problems = bad.json()["problems"]
    assert len(problems) == 3 and [p.split(":")[0] for p in problems] == ["rule 1", "rule 2", "rule 3"]
    assert "tea_time" in problems[1]
    assert admin.put("/facilities/F-001/alert-rules", json={"rules": RULES}).status_code == 422  # no reason
    assert admin.get("/facilities/F-001/alert-rules").json()["rules"] == []

    reason = "The risk manager hears of every missed notice"
    put = admin.put("/facilities/F-001/alert-rules", json={"rules": RULES, "reason": reason})
    assert put.status_code == 200, put.text
    rules = put.json()["rules"]
    assert [(r["on"], r["to"], r["clocks"], r["details"]) for r in rules] == [
        (RULES[0]["on"], RULES[0]["to"], RULES[0]["clocks"], False)]
    assert put.json()["changed"]["set_by"] == "admin"
    assert api("l1").get("/facilities/F-001/alert-rules").json() == put.json()
    history = admin.get("/facilities/F-001/history", params={"kind": "alert_rules"}).json()
    assert [(h["set_by"], h["reason"], h["value"]) for h in history] == [("admin", reason, rules)]
    assert api("other.admin").get("/facilities/F-002/alert-rules").json()["rules"] == []  # its own: none
