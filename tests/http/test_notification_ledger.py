"""The notification ledger's steps over real HTTP, on incidents under the obligation rules part524@1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest

from adapters.bootstrap import Runtime
from adapters.integrations.vpcr import parse_vpcr_reports
from adapters.settings import load_settings
from domain.clock import Clock
from tests.conftest import FakeClock
from tests.http.support import SCREENS, VPCR, Api, add_staff, live_server

PART_524 = {"NIMRS_OBLIGATIONS_DEFAULT": "part524@1"}  # new incidents pin these rules (docs/adr/0014, section 3)
CASE = VPCR["jc_case_number"]
QUALIFIED_PERSON = {"recipient_id": "qp-1", "role": "qualified_person", "name": "Dana Doe", "relationship": "sister",
                    "client_id": "C-1042", "contacts": {"phone": "555-0100"}, "preferred": ["phone"]}
NOTIFICATION = {"recipient_id": "qp-1", "notified_at": "2026-11-19T10:00:00-05:00", "method": "phone",
                "outcome": "reached", "note": "Told of the death; asked for a copy of the report.",
                "evidence": {"sha256": "ab" * 32, "size": 1234, "location": "calls/2026-11-19-qp-1.m4a"}}


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    add_staff(database_url, clock)
    with live_server(database_url, clock, environ=PART_524) as base_url:
        client = Api(base_url)
        yield client
        client.close()


def draft(api: Api) -> str:
    """The sample VPCR report, received and imported as a draft; its ETag."""
    l2 = api("l2")
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201
    imported = l2.post(f"/incidents/{CASE}/import-report")
    assert imported.status_code == 200 and imported.json()["state"] == "draft"
    return imported.headers["ETag"]


def history(api: Api) -> list[dict[str, Any]]:
    response = api("l3").get(f"/incidents/{CASE}/history")
    assert response.status_code == 200
    return list(response.json())


def clock_named(screen: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in screen["clocks"] if c["name"] == name)


def test_level_2_records_a_qualified_person_and_a_notification_that_meets_the_24_hour_notice(api: Api) -> None:
    etag = draft(api)
    l2 = api("l2")
    recorded = l2.post(f"/incidents/{CASE}/record-notice-recipient", json=QUALIFIED_PERSON, headers={"If-Match": etag})
    assert recorded.status_code == 200, recorded.text
    assert recorded.headers["ETag"] != etag and recorded.json()["state"] == "draft"
    assert clock_named(recorded.json(), "qualified_person_notice")["met_at"] is None

    notified = l2.post(f"/incidents/{CASE}/record-notification", json=NOTIFICATION,
                       headers={"If-Match": recorded.headers["ETag"]})
    assert notified.status_code == 200, notified.text
    notice = clock_named(notified.json(), "qualified_person_notice")
    assert (notice["status"], notice["met_at"]) == ("met_on_time", NOTIFICATION["notified_at"])

    events = {e["event"]: e for e in history(api)}
    assert events["NoticeRecipientRecorded"]["data"]["recipient"] == QUALIFIED_PERSON
    assert events["NoticeRecipientRecorded"]["actor"]["user_id"] == "l2"
    data = events["NotificationRecorded"]["data"]
    assert {k: data[k] for k in NOTIFICATION} == NOTIFICATION


def test_level_3_is_refused_and_nothing_is_recorded(api: Api) -> None:
    draft(api)
    before = history(api)
    refused = api("l3").post(f"/incidents/{CASE}/record-notice-recipient", json=QUALIFIED_PERSON)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    assert "Level" in refused.json()["detail"]
    assert api("l3").post(f"/incidents/{CASE}/waive-obligation",
                          json={"key": "qualified_person_notice", "reason": "x"}).status_code == 403
    assert api("l2").post(f"/incidents/{CASE}/waive-obligation",
                          json={"key": "qualified_person_notice", "reason": "x"}).status_code == 403  # Level 1 only
    assert history(api) == before


def test_another_facilitys_incident_answers_exactly_as_an_absent_one(api: Api) -> None:
    draft(api)
    before = history(api)
    other = api("other.l1")
    elsewhere = other.post(f"/incidents/{CASE}/record-notice-recipient", json=QUALIFIED_PERSON)
    absent = other.post("/incidents/2026-999999/record-notice-recipient", json=QUALIFIED_PERSON)
    assert elsewhere.status_code == absent.status_code == 404
    shown, missing = elsewhere.json(), absent.json()
    assert {k: v for k, v in shown.items() if k not in ("detail", "instance")} == {
        k: v for k, v in missing.items() if k not in ("detail", "instance")}
    assert shown["detail"].replace(CASE, "REF") == missing["detail"].replace("2026-999999", "REF")
    assert "Dana" not in elsewhere.text
    assert history(api) == before


def test_bad_input_is_refused_naming_the_field_and_nothing_is_recorded(api: Api) -> None:
    draft(api)
    l2 = api("l2")
    assert l2.post(f"/incidents/{CASE}/record-notice-recipient", json=QUALIFIED_PERSON).status_code == 200
    before = history(api)
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("record-notification", {**NOTIFICATION, "method": "fax"}, 422, "method"),
        ("record-notification", {**NOTIFICATION, "outcome": "maybe"}, 422, "outcome"),
        ("record-notification", {**NOTIFICATION, "notified_at": "2026-11-19T10:00:00"}, 422, "notified_at"),
        ("record-notification", {**NOTIFICATION, "recipient_id": "qp-2"}, 422, "qp-2"),
        ("record-notification", {**NOTIFICATION, "shoe_size": 9}, 422, "shoe_size"),
        ("record-notification", {**NOTIFICATION, "note": "x" * 4001}, 422, "note"),
        ("record-request", {"request_id": "r-1", "kind": "incident_report_copy", "requested_by": "qp-1",
                            "received_at": "last tuesday"}, 422, "received_at"),
        ("record-request", {"request_id": "r-1", "kind": "incident_report_copy", "requested_by": "qp-1",
                            "received_at": "2027-01-01T00:00:00-05:00"}, 422, "received_at"),  # has not happened yet
        ("record-request", {"request_id": "r-1", "kind": "gossip", "requested_by": "qp-1",
                            "received_at": "2026-11-19T12:00:00-05:00"}, 422, "gossip"),
        ("record-notice-recipient", {**QUALIFIED_PERSON, "role": "neighbour"}, 422, "role"),
        ("record-notice-recipient", {**QUALIFIED_PERSON, "name": "Dana\u0000Doe"}, 400, ""),
    ]
    for command, body, status, named in cases:
        refused = l2.post(f"/incidents/{CASE}/{command}", json=body)
        assert refused.status_code == status, (command, body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        problem = refused.json()
        assert named in problem["detail"] + " ".join(problem.get("problems") or []), (command, body, problem)
    assert history(api) == before


def test_a_stale_if_match_is_refused_with_412_and_nothing_is_recorded(api: Api) -> None:
    etag = draft(api)
    l2 = api("l2")
    assert l2.post(f"/incidents/{CASE}/record-notice-recipient", json=QUALIFIED_PERSON,
                   headers={"If-Match": etag}).status_code == 200
    before = history(api)
    stale = l2.post(f"/incidents/{CASE}/record-notification", json=NOTIFICATION, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert history(api) == before


def test_level_1_waives_an_obligation_with_a_reason_and_the_clocks_show_it_waived(api: Api) -> None:
    draft(api)
    l1 = api("l1")
    shown = l1.get(f"/incidents/{CASE}").json()
    assert clock_named(shown, "qualified_person_notice")["status"] != "waived"
    before = history(api)
    assert l1.post(f"/incidents/{CASE}/waive-obligation",
                   json={"key": "qualified_person_notice", "reason": ""}).status_code == 422  # a reason is required
    assert l1.post(f"/incidents/{CASE}/extend-obligation", json={
        "key": "qualified_person_notice", "due": "2026-12-01T00:00:00-05:00", "reason": "family abroad"}).status_code == 422
    assert history(api) == before  # that clock takes no extension

    reason = "The client had no family or guardian on record; the director confirmed."
    waived = l1.post(f"/incidents/{CASE}/waive-obligation", json={"key": "qualified_person_notice", "reason": reason},
                     headers={"If-Match": f'"{shown["version"]}"'})
    assert waived.status_code == 200, waived.text
    assert clock_named(waived.json(), "qualified_person_notice")["status"] == "waived"
    last = history(api)[-1]
    assert (last["event"], last["data"]["key"], last["data"]["reason"], last["actor"]["user_id"]) == (
        "ObligationWaived", "qualified_person_notice", reason, "l1")
    again = l1.post(f"/incidents/{CASE}/waive-obligation", json={"key": "qualified_person_notice", "reason": reason})
    assert again.status_code == 422 and "no longer open" in again.json()["detail"]


def walk_the_ledger(l1: httpx.Client, l2: httpx.Client, database_url: str, clock: Clock) -> str:
    """Every ledger step, each answered 200, on a death of F-001 received under part524@1 whatever the server's
    default (so tests/http/test_openapi.py can check each body): recipients and notices, a request and its records,
    the autopsy report and its extension, a waiver, and the WSIR once the type is amended to abuse. Its case number."""
    case = "2026-015502"
    settings = load_settings({"NIMRS_DATABASE_URL": database_url, **PART_524})
    with Runtime(settings, clock) as runtime:
        reports = parse_vpcr_reports({**VPCR, "jc_case_number": case}, "the report", clock())
        assert runtime.service.receive_vpcr_reports(runtime.accounts.get("l2"), reports).received
    assert l2.post(f"/incidents/{case}/import-report").status_code == 200
    incident: dict[str, Any] = {**cast(dict[str, Any], SCREENS["incident"]), "discovered_at": "2026-11-19T07:00:00-05:00"}
    screens = {**SCREENS, "incident": incident}
    for screen, fields in screens.items():
        assert l2.patch(f"/incidents/{case}/record-details/{screen}", json=fields).status_code == 200
    assert l1.post(f"/incidents/{case}/email-omh").status_code == 200
    steps: list[tuple[httpx.Client, str, dict[str, Any]]] = [
        (l1, "waive-obligation", {"key": "report_of_death", "reason": "The JC took the report by phone; see the case."}),
        (l2, "record-notice-recipient", QUALIFIED_PERSON),
        (l2, "record-notification", NOTIFICATION),
        (l2, "record-request", {"request_id": "r-1", "kind": "incident_report_copy", "requested_by": "qp-1",
                                "received_at": "2026-11-20T08:00:00-05:00"}),
        (l1, "release-records", {"request_id": "r-1", "released_at": "2026-11-20T09:30:00-05:00", "method": "letter",
                                 "document": {"sha256": "cd" * 32, "size": 52000, "location": "documents/cd.pdf"}}),
        (l1, "extend-obligation", {"key": "autopsy_report", "due": "2027-06-30T17:00:00-04:00",
                                   "reason": "The medical examiner expects the report in June."}),
        (l1, "send-to-jc", {"what": "autopsy_report", "sent_at": "2026-11-20T09:45:00-05:00",
                            "evidence": {"sha256": "ef" * 32, "size": 900, "location": "sent/autopsy.eml"}}),
        (l2, "start-investigation", {}),
        (l1, "amend", {"screen": "incident", "fields": {"code": "an.physical-abuse"}, "reason": "The findings so far."}),
        (l1, "submit-wsir", {"reference": "WSIR-2026-0042"}),
    ]
    for client, command, body in steps:
        done = client.post(f"/incidents/{case}/{command}", json=body or None)
        assert done.status_code == 200, (command, done.text)
    return case


def test_every_ledger_step_is_recorded_as_sent(api: Api, database_url: str, clock: FakeClock) -> None:
    case = walk_the_ledger(api("l1"), api("l2"), database_url, clock)
    events = list(api("l3").get(f"/incidents/{case}/history").json())
    recorded = {e["event"]: e["data"] for e in events}
    assert recorded["RequestReceived"]["requested_by"] == "qp-1"
    assert recorded["RecordsReleased"]["document"]["location"] == "documents/cd.pdf"
    assert recorded["RecordsReleased"]["redactions"] == {}
    assert recorded["ObligationExtended"]["due"] == "2027-06-30T17:00:00-04:00"
    assert (recorded["SentToJc"]["what"], recorded["SentToJc"]["request_id"]) == ("autopsy_report", None)
    assert recorded["WsirSubmitted"]["reference"] == "WSIR-2026-0042"
    assert recorded["ObligationWaived"]["key"] == "report_of_death"
    assert {e["actor"]["user_id"] for e in events if e["event"] in ("RecordsReleased", "SentToJc", "WsirSubmitted",
                                                                     "ObligationExtended", "ObligationWaived")} == {"l1"}
