"""Every endpoint x each security group and role x own and other facility, over real HTTP.

Writes to the incident send a stale If-Match: a caller the rules allow gets 412 (the version
check comes after the level and facility checks), so the matrix changes nothing it tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain.clock import utc_now
from tests.conftest import FakeClock
from tests.http.support import PASSWORD, VPCR, Api, add_staff, eventually, live_server, workers_server

USERS = ("l1", "l2", "l3", "admin", "reviewer", "other.l1", "other.admin")
STALE = {"If-Match": '"999"'}
OK, STALE_OK = 200, 412
# Who gets what, by kind of endpoint (anonymous always gets 401).
READ_OWN = {"l1": OK, "l2": OK, "l3": OK, "admin": OK, "reviewer": OK, "other.l1": 404, "other.admin": 404}
EVERYONE = dict.fromkeys(USERS, OK)
EDIT = {"l1": STALE_OK, "l2": STALE_OK, "l3": 403, "admin": 403, "reviewer": 403, "other.l1": 404, "other.admin": 404}
SUBMIT = {"l1": STALE_OK, "l2": 403, "l3": 403, "admin": 403, "reviewer": 403, "other.l1": 404, "other.admin": 404}
ADMIN = {"l1": 403, "l2": 403, "l3": 403, "admin": OK, "reviewer": 403, "other.l1": 403, "other.admin": OK}
ADMIN_OWN = {**ADMIN, "other.admin": 404}
LOG = {**ADMIN, "reviewer": OK}
RECEIVE = {"l1": OK, "l2": OK, "l3": 403, "admin": 403, "reviewer": 403, "other.l1": 404, "other.admin": 404}
READERS = {"l1": OK, "l2": 403, "l3": 403, "admin": OK, "reviewer": OK, "other.l1": 404, "other.admin": 404}
CREATE = {"l1": 201, "l2": 201, "l3": 403, "admin": 403, "reviewer": 403, "other.l1": 201, "other.admin": 201}
CHOOSE = {**SUBMIT, "l1": OK, "reviewer": 404}  # a facility's obligation rules: its Level 1
ALERT_RULES = {**READERS, "reviewer": 403}  # they hold email addresses: the facility's administrators and Level 1
SET_ALERT_RULES = {**ADMIN_OWN, "reviewer": 404, "other.l1": 404}
NEW_INCIDENT = {"program": "Clinic A", "setting": "outpatient", "code": "si.fall", "summary": "Fell."}

# (method, path, json body, expected by user)
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/me", None, EVERYONE),
    ("POST", "/auth/sign-out", None, dict.fromkeys(USERS, 204)),
    ("GET", "/users", None, ADMIN),
    ("POST", "/users", {"user_id": "new.{user}", "level": 3, "password": "another long passphrase"},
     {**ADMIN, "admin": 201, "other.admin": 201}),
    ("POST", "/users/l3/unlock", None, ADMIN_OWN),
    ("POST", "/users/l3/re-establish", {"password": PASSWORD}, {**ADMIN_OWN, "admin": 409}),  # only a year-locked one
    # new.admin: added by the admin above (so the users of the matrix keep their sessions)
    ("POST", "/users/new.admin/disable", None, ADMIN_OWN),
    ("POST", "/users/new.admin/enable", None, ADMIN_OWN),
    ("PATCH", "/users/new.admin", {"level": 2}, ADMIN_OWN),
    ("POST", "/users/new.admin/revoke-sessions", None, ADMIN_OWN),
    ("POST", "/users/new.admin/reset-password", None, ADMIN_OWN),
    ("POST", "/auth/password", {"current_password": PASSWORD, "new_password": PASSWORD}, dict.fromkeys(USERS, 422)),
    ("GET", "/security-log", None, LOG),
    ("GET", "/security-log/anonymous", None, LOG),
    ("POST", "/vpcr-reports", VPCR, RECEIVE),
    ("GET", "/jc-queue?facility=F-001", None, READ_OWN),
    ("POST", "/incidents", NEW_INCIDENT, CREATE),
    ("GET", "/incidents/{id}", None, READ_OWN),
    ("GET", "/incidents/{id}/history", None, READ_OWN),
    ("GET", "/incidents/{id}/as-of?version=1", None, READ_OWN),
    ("GET", "/incidents/{id}/changes?from=1&to=2", None, READ_OWN),
    ("POST", "/incidents/{id}/import-report", None, EDIT),
    ("PATCH", "/incidents/{id}/record-details/narrative", {"narrative": "x"}, EDIT),
    ("POST", "/incidents/{id}/email-omh", None, SUBMIT),
    ("POST", "/incidents/{id}/submit-report-of-death", None, SUBMIT),
    ("POST", "/incidents/{id}/start-investigation", None, EDIT),
    ("POST", "/incidents/{id}/document-findings", {"findings": "x"}, EDIT),
    ("POST", "/incidents/{id}/close", None, SUBMIT),
    ("POST", "/incidents/{id}/reopen", {"reason": "x"}, SUBMIT),
    ("POST", "/incidents/{id}/amend", {"screen": "narrative", "fields": {"narrative": "y"}, "reason": "z"}, SUBMIT),
    ("POST", "/incidents/{id}/record-notice-recipient", {"recipient_id": "qp-1", "role": "qualified_person", "name": "x"},
     EDIT),
    ("POST", "/incidents/{id}/record-notification", {"recipient_id": "qp-1", "notified_at": "2026-11-19T08:00:00-05:00",
                                                      "method": "phone", "outcome": "reached"}, EDIT),
    ("POST", "/incidents/{id}/record-request", {"request_id": "r-1", "kind": "incident_report_copy", "requested_by": "qp-1",
                                                 "received_at": "2026-11-19T08:00:00-05:00"}, EDIT),
    ("POST", "/incidents/{id}/release-records", {"request_id": "r-1", "released_at": "2026-11-19T08:00:00-05:00",
                                                  "method": "letter", "document": {"sha256": "0" * 64, "size": 1,
                                                                                   "location": "x"}}, SUBMIT),
    ("POST", "/incidents/{id}/send-to-jc", {"what": "autopsy_report", "sent_at": "2026-11-19T08:00:00-05:00"}, SUBMIT),
    ("POST", "/incidents/{id}/submit-wsir", {"reference": "W-1"}, SUBMIT),
    ("POST", "/incidents/{id}/waive-obligation", {"key": "jc_report", "reason": "x"}, SUBMIT),
    ("POST", "/incidents/{id}/extend-obligation", {"key": "autopsy_report", "due": "2027-01-01", "reason": "x"}, SUBMIT),
    ("GET", "/overdue?facility=F-001", None, READ_OWN),
    ("GET", "/obligations?facility=F-001", None, READ_OWN),
    ("GET", "/facilities/F-001/obligations", None, READ_OWN),
    ("PUT", "/facilities/F-001/obligations", {"rules": "charts@1", "reason": "x"}, CHOOSE),  # the suite's rules: no change
    ("GET", "/facilities/F-001/alert-rules", None, ALERT_RULES),
    ("PUT", "/facilities/F-001/alert-rules", {"rules": [], "reason": "x"}, SET_ALERT_RULES),
    ("GET", "/facilities/F-001/history?kind=obligations", None, READ_OWN),
    ("GET", "/board?facility=F-001", None, READ_OWN),
    ("GET", "/incidents?facility=F-001", None, READ_OWN),
    ("GET", "/statistics?facility=F-001", None, READ_OWN),
    ("GET", "/statistics/notifications-on-time?facility=F-001", None, READ_OWN),
    ("GET", "/audit-trail?facility=F-001", None, READ_OWN),
    ("GET", "/incidents/{id}/readers", None, READERS),
    ("GET", "/read-audit?facility=F-001", None, READERS),
    ("GET", "/taxonomy", None, EVERYONE),
    ("GET", "/severity", None, EVERYONE),
    ("POST", "/classify", {"code": "si.fall", "setting": "inpatient", "on_premises": True, "serious_harm": True},
     EVERYONE),
    ("GET", "/events", None, EVERYONE),
    ("GET", "/webhooks", None, ADMIN),
    ("POST", "/webhooks", {"url": "https://receiver.example.com/hook"}, {**ADMIN, "admin": 201, "other.admin": 201}),
    ("GET", "/webhooks/{webhook}", None, ADMIN_OWN),
    ("GET", "/webhooks/{webhook}/deliveries", None, ADMIN_OWN),
    ("POST", "/webhooks/{webhook}/redeliver", {}, ADMIN_OWN),
    ("DELETE", "/webhooks/{webhook}", None, {**ADMIN_OWN, "admin": 204}),
]
STREAM = ("GET", "/events/stream")  # tested apart: a stream answers 200 and stays open
PUBLIC = {("POST", "/auth/token"), ("GET", "/health")}


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    """As in tests/http/conftest.py, with room for one anonymous refusal per endpoint: the matrix has more than the
    60 a minute an address is allowed before 429 (the fake clock stands still)."""
    add_staff(database_url, clock)
    with live_server(database_url, clock, environ={"NIMRS_ANONYMOUS_LIMIT_PER_ADDRESS": "1000"}) as base_url:
        client = Api(base_url)
        yield client
        client.close()


def test_the_matrix_covers_every_endpoint(api: Api) -> None:
    spec = api.anonymous.get("/openapi.json").json()
    endpoints = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    covered = {(method, path.split("?")[0].replace("{id}", "{reference}").replace("{webhook}", "{subscription_id}")
                .replace("/users/l3/", "/users/{user_id}/")
                .replace("/users/new.admin", "/users/{user_id}").replace("/record-details/narrative", "/record-details/{screen}")
                .replace("/facilities/F-001/", "/facilities/{facility}/"))
               for method, path, _, _ in MATRIX}
    assert endpoints - covered - PUBLIC - {STREAM} == set()


def _cell(api: Api, user: str | None, method: str, path: str, body: Any) -> int:
    client = api(user) if user else api.anonymous
    if isinstance(body, dict) and "user_id" in body:
        body = {**body, "user_id": body["user_id"].format(user=user or "anonymous")}
    response = client.request(method, path, json=body, headers=STALE)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == response.status_code and response.json()["detail"]
    if user and (path == "/auth/sign-out" or (path.endswith("/re-establish") and response.status_code == 200)):
        for gone in {user, "l3"} & set(api.clients):  # those tokens no longer work: sign in again
            api.clients.pop(gone).close()
    return response.status_code


@pytest.fixture
def api_on_two_workers(postgres_url: str) -> Iterator[Api]:
    """The same staff, served by `nimrs serve --workers 2` (real clock): two processes answer in turn."""
    add_staff(postgres_url, utc_now)
    with workers_server(postgres_url, environ={"NIMRS_ANONYMOUS_LIMIT_PER_ADDRESS": "1000"}) as base_url:
        client = Api(base_url, fresh_connections=True)
        yield client
        client.close()


def test_each_endpoint_answers_each_group_and_role_as_the_rules_say(api: Api) -> None:
    check_the_matrix(api)


def test_the_matrix_holds_against_two_server_processes_on_postgresql(api_on_two_workers: Api) -> None:
    check_the_matrix(api_on_two_workers)


def check_the_matrix(api: Api) -> None:
    submitted = api("l2").post("/vpcr-reports", json=VPCR)
    assert submitted.status_code == 201
    incident_id = submitted.json()["received"][0]
    api("l2").post(f"/incidents/{incident_id}/import-report")
    webhook = api("admin").post("/webhooks", json={"url": "https://receiver.example.com/hook"}).json()["id"]
    eventually(lambda: api("l3").get("/jc-queue").status_code == 200)
    wrong: list[str] = []
    for method, template, body, expected in MATRIX:
        path = template.replace("{id}", incident_id).replace("{webhook}", webhook)
        anonymous = _cell(api, None, method, path, body)
        if anonymous != 401:
            wrong.append(f"anonymous {method} {path}: {anonymous}, expected 401")
        for user in USERS:
            status = _cell(api, user, method, path, body)
            if status != expected[user]:
                wrong.append(f"{user} {method} {path}: {status}, expected {expected[user]}")
    assert wrong == []
    with api("other.l1").stream("GET", "/events/stream") as response:
        assert response.status_code == 200
    assert api.anonymous.get("/events/stream").status_code == 401

    # Every refused command is in the security log, with who tried what.
    log = api("admin").get("/security-log", params={"outcome": "refused", "limit": 1000}).json()
    tried = {(e["user_id"], e["action"], e["status"]) for e in log}
    assert ("l3", "POST /incidents/{reference}/email-omh", 403) in tried
    assert ("l2", "POST /incidents/{reference}/close", 403) in tried
    assert ("l1", "POST /incidents/{reference}/close", 412) in tried
    elsewhere = api("other.admin").get("/security-log", params={"outcome": "refused", "limit": 1000}).json()
    assert ("other.l1", "POST /incidents/{reference}/import-report", 404) in {
        (e["user_id"], e["action"], e["status"]) for e in elsewhere}
    assert all(e["facility"] == "F-002" for e in elsewhere)
