"""The OpenAPI document of a real server tells the truth.

Every 2xx body has a real schema, every refusal is documented as an RFC 9457 problem document, the
live stream is `text/event-stream`; and the bodies a walk through every endpoint gets back (successes
and refusals) validate against what is documented, with no undocumented field. If a body does not
validate, the schema (the TypedDict its producer returns) is wrong, never the body.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from typing import Any

import httpx
from jsonschema import Draft202012Validator

from tests.conftest import FakeClock
from tests.http.support import PASSWORD, SCREENS, VPCR, Api, add_staff, eventually
from tests.http.test_notification_ledger import walk_the_ledger

PUBLIC = {("post", "/auth/token"), ("get", "/health")}  # the only operations without sign-in
STREAM = ("get", "/events/stream")
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PROBLEM_STATUSES = ("401", "403", "404", "409", "422")  # each is answered somewhere, and documented where it is


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, operation) for path, item in spec["paths"].items() for method, operation in item.items()]


def resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].removeprefix("#/components/schemas/")]
    return schema


def test_every_operation_documents_its_body_and_its_refusals(api: Api) -> None:
    spec = api.anonymous.get("/openapi.json").json()
    wrong: list[str] = []
    for method, path, operation in operations(spec):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        if not any(status.startswith("2") for status in responses):
            wrong.append(f"{where}: no 2xx response")
        for status, response in responses.items():
            content = response.get("content", {})
            if status == "204":
                if content:
                    wrong.append(f"{where} {status}: a body is documented")
            elif status.startswith("2") and (method, path) == STREAM:
                stream = content.get("text/event-stream", {}).get("schema", {})
                if set(content) != {"text/event-stream"} or stream.get("type") != "string" \
                        or not all(word in stream.get("description", "") for word in ("id:", "event:", "data:", "keep-alive")):
                    wrong.append(f"{where} {status}: not documented as text/event-stream with its format: {content}")
            elif status.startswith("2"):
                schema = content.get("application/json", {}).get("schema", {})
                if set(content) != {"application/json"} or resolved(spec, schema).get("type") not in ("object", "array"):
                    wrong.append(f"{where} {status}: no JSON schema of the body: {content}")
            elif status.startswith("4") and content != PROBLEM:
                wrong.append(f"{where} {status}: not the Problem schema as application/problem+json: {content}")
        if (method, path) not in PUBLIC and "401" not in responses:
            wrong.append(f"{where}: 401 is not documented")
        headers = {p["name"].lower() for p in operation.get("parameters", []) if p["in"] == "header"}
        stale = [response.get("description", "") for status, response in responses.items() if status in ("409", "412")]
        if "if-match" in headers and not any("If-Match" in description for description in stale):
            wrong.append(f"{where}: takes If-Match, and no 409 or 412 says what a stale one answers")
    assert wrong == []

    schemas = spec["components"]["schemas"]
    assert set(schemas["Problem"]["properties"]) == {"type", "title", "status", "detail", "instance", "problems"}
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert "HTTPValidationError" not in schemas  # FastAPI's own 422 body, which nimrs never sends


def strict(schema: Any) -> Any:
    """A copy in which every object with listed properties allows no other: an undocumented field fails."""
    if isinstance(schema, dict):
        copied = {key: strict(value) for key, value in schema.items()}
        if "properties" in copied and "additionalProperties" not in copied:
            copied["additionalProperties"] = False
        return copied
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


class Conformance:
    """An httpx response hook: each response is checked against the operation's documented response."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.components = strict(copy.deepcopy(spec["components"]))
        self.templates = sorted(  # a literal path before a template it also matches (/users/x before /users/{user_id})
            ((method, path, re.compile("^" + re.sub(r"\{[^}/]+\}", "[^/]+", path) + "$"))
             for method, path, _ in operations(spec)), key=lambda template: template[1].count("{"))
        self.wrong: list[str] = []
        self.seen: set[tuple[str, str, str]] = set()
        self.checked = 0

    def operation(self, method: str, url_path: str) -> tuple[str, dict[str, Any]]:
        for candidate, path, pattern in self.templates:
            if candidate == method and pattern.match(url_path):
                return path, self.spec["paths"][path][method]
        raise AssertionError(f"{method.upper()} {url_path} is not in the OpenAPI document")

    def __call__(self, response: httpx.Response) -> None:
        method = response.request.method.lower()
        path, operation = self.operation(method, response.request.url.path)
        status = str(response.status_code)
        where = f"{method.upper()} {response.request.url.path} {status}"
        self.seen.add((method, path, status))
        documented = operation["responses"].get(status)
        if documented is None:
            self.wrong.append(f"{where}: the status is not documented")
            return
        media_type = response.headers.get("content-type", "").split(";")[0]
        if (method, path) == STREAM:  # never read here: the stream stays open
            if media_type not in documented.get("content", {}):
                self.wrong.append(f"{where}: {media_type} is not documented")
            return
        response.read()
        if status == "204":
            if response.content:
                self.wrong.append(f"{where}: a body on 204")
            return
        schema = documented.get("content", {}).get(media_type, {}).get("schema")
        if schema is None:
            self.wrong.append(f"{where}: no schema for {media_type}")
            return
        root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": self.components, **schema}
        for error in Draft202012Validator(root).iter_errors(response.json()):
            self.wrong.append(f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
        self.checked += 1


def watched(api: Api, conformance: Conformance, *users: str) -> dict[str, httpx.Client]:
    api.anonymous.event_hooks = {"response": [conformance]}  # sign-ins are checked too
    clients = {user: api(user) for user in users}
    for client in clients.values():
        client.event_hooks = {"response": [conformance]}
    return clients


def signed_in(api: Api, token: str, conformance: Conformance) -> httpx.Client:
    return httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                        event_hooks={"response": [conformance]})


def test_real_responses_match_their_documented_schemas(api: Api, database_url: str, clock: FakeClock) -> None:
    spec = api.anonymous.get("/openapi.json").json()
    conformance = Conformance(spec)
    clients = watched(api, conformance, "l1", "l2", "l3", "admin", "reviewer", "other.l1")
    l1, l2, l3, admin, reviewer, elsewhere = clients.values()
    anonymous = api.anonymous

    assert anonymous.get("/health").status_code == 200
    assert anonymous.get("/me").status_code == 401
    assert api.sign_in("l1", "not the password").status_code == 401

    # The workflow: the JC import queue to closed, reopened and amended; a new incident.
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201
    assert l2.post("/vpcr-reports", json=[VPCR]).status_code == 200
    assert eventually(lambda: l2.get("/jc-queue").json()["incidents"])
    incident = l2.post("/incidents/2026-015501/import-report", headers={"If-Match": '"1"'})
    assert incident.status_code == 200
    etag = incident.headers["ETag"]
    for screen, fields in SCREENS.items():
        recorded = l2.patch(f"/incidents/2026-015501/record-details/{screen}", json=fields, headers={"If-Match": etag})
        assert recorded.status_code == 200, recorded.text
        etag = recorded.headers["ETag"]
    assert l2.patch("/incidents/2026-015501/record-details/narrative", json={"narrative": "stale"},
                    headers={"If-Match": '"2"'}).status_code in (409, 412)
    assert l2.post("/incidents/2026-015501/import-report", headers={"If-Match": "three"}).status_code == 422
    assert l2.post("/incidents/2026-015501/email-omh").status_code == 403
    assert l1.post("/incidents/2026-015501/email-omh", headers={"If-Match": etag}).status_code == 200
    assert l1.post("/incidents/2026-015501/submit-report-of-death").status_code == 200
    assert l2.post("/incidents/2026-015501/start-investigation").status_code == 200
    assert l2.post("/incidents/2026-015501/document-findings", json={"findings": "Cardiac arrest."}).status_code == 200
    assert l1.post("/incidents/2026-015501/close").status_code == 200
    assert l1.post("/incidents/2026-015501/reopen", json={"reason": "New concerns."}).status_code == 200
    assert l1.post("/incidents/2026-015501/amend", json={"screen": "narrative", "fields": {"narrative": "At 06:10."},
                                                         "reason": "The nursing log."}).status_code == 200
    assert l2.post("/incidents/2026-015501/import-report").status_code == 409  # not in the JC import queue
    walk_the_ledger(l1, l2, database_url, clock)  # each of the notification ledger's steps (docs/adr/0014)
    created = l2.post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                          "summary": "Fell in the waiting room."})
    assert created.status_code == 201

    # Auditors: the incident now and then, its history and changes.
    assert l3.get("/incidents/2026-015501").status_code == 200
    assert l3.get("/incidents/2026-015501", params={"version": 1}).status_code == 200
    assert l3.get("/incidents/2026-015501/history").status_code == 200
    assert l3.get("/incidents/2026-015501/as-of", params={"version": 2}).status_code == 200
    assert l3.get("/incidents/2026-015501/as-of", params={"at": "2026-11-20T10:00:00-05:00"}).status_code == 200
    assert l3.get("/incidents/2026-015501/as-of", params={"at": "2000-01-01"}).status_code == 404
    assert l3.get("/incidents/2026-015501/as-of").status_code == 422
    assert l3.get("/incidents/2026-015501/changes", params={"from": 1, "to": 9}).status_code == 200
    assert elsewhere.get("/incidents/2026-015501").status_code == 404
    assert reviewer.get("/incidents/2026-015501").status_code == 200

    # The views, once the projector has caught up; the charts.
    assert eventually(lambda: l3.get("/overdue", params={"status": "all"}).json()["clocks"])
    assert l3.get("/overdue").status_code == 200
    assert eventually(lambda: l3.get("/audit-trail").json())
    assert eventually(lambda: l3.get("/statistics", params={"by": "route"}).json())
    assert l3.get("/statistics", params={"by": "month"}).status_code == 200
    assert l3.get("/statistics/notifications-on-time").status_code == 200
    assert l3.get("/board").status_code == 200
    assert eventually(lambda: l3.get("/board", params={"state": "draft"}).json()["incidents"])
    assert l3.get("/overdue", params={"facility": "F-002"}).status_code == 404
    assert reviewer.get("/board", params={"facility": "F-001"}).status_code == 200
    assert eventually(lambda: l3.get("/incidents", params={"code": "death."}).json()["incidents"])
    for path in ("/incidents", "/board", "/overdue", "/jc-queue"):  # a state reviewer's roll-up: facility null
        assert reviewer.get(path).json()["facility"] is None
    assert reviewer.get("/statistics").json()[0]["facility"] is None
    assert reviewer.get("/audit-trail").status_code == 200
    for rules in ("current", "earlier"):
        assert l3.get("/taxonomy", params={"rules": rules}).status_code == 200
    assert l3.get("/taxonomy", params={"rules": "nope"}).status_code == 422
    assert l3.get("/severity").status_code == 200
    for facts in ({"code": "death.natural-unexpected", "setting": "inpatient", "on_premises": True, "serious_harm": False},
                  {"code": "si.crime", "setting": "outpatient", "on_premises": False, "serious_harm": False}):
        assert l3.post("/classify", json=facts).status_code == 200
    assert l3.post("/classify", json={"code": "no.such", "setting": "inpatient", "on_premises": True,
                                      "serious_harm": False}).status_code == 422

    # Obligations; a facility's settings (docs/adr/0014).
    assert l3.get("/obligations", params={"status": "all"}).status_code == 200
    assert l3.get("/obligations", params={"status": "late"}).status_code == 422
    assert l3.get("/facilities/F-001/obligations").status_code == 200
    assert l1.put("/facilities/F-001/obligations", json={"rules": "charts@1", "reason": "As before"}).status_code == 200
    assert l2.put("/facilities/F-001/obligations", json={"rules": "charts@1", "reason": "x"}).status_code == 403
    assert l1.put("/facilities/F-001/obligations", json={"rules": "nope@1", "reason": "x"}).status_code == 422
    assert elsewhere.get("/facilities/F-001/obligations").status_code == 404
    assert admin.put("/facilities/F-001/alert-rules", json={"rules": [{"on": ["clock_missed"], "to": ["risk@example.org"]}],
                                                           "reason": "Risk hears of misses"}).status_code == 200
    assert l1.get("/facilities/F-001/alert-rules").status_code == 200
    assert l3.get("/facilities/F-001/alert-rules").status_code == 403
    assert admin.get("/facilities/F-001/history", params={"kind": "alert_rules"}).status_code == 200

    # Integrators: the feed; webhooks.
    feed = l3.get("/events", params={"limit": 100})
    assert feed.status_code == 200 and feed.json()["events"]
    assert l3.get("/events", params={"types": "nimrs.Nothing.v1"}).status_code == 422
    with l3.stream("GET", "/events/stream") as stream:
        assert stream.status_code == 200
    subscribed = admin.post("/webhooks", json={"url": "https://receiver.example.com/hook", "after": 0})
    assert subscribed.status_code == 201
    webhook = subscribed.json()["id"]
    assert admin.get("/webhooks").status_code == 200
    assert admin.get(f"/webhooks/{webhook}").status_code == 200
    assert admin.get(f"/webhooks/{webhook}/deliveries").status_code == 200
    assert admin.post(f"/webhooks/{webhook}/redeliver", json={}).status_code == 200
    assert admin.delete(f"/webhooks/{webhook}").status_code == 204
    assert admin.get("/webhooks/sub_none").status_code == 404
    assert l1.get("/webhooks").status_code == 403

    # Security administrators: users, the security log; sign-in, lockout and sign-out.
    assert l3.get("/me").status_code == 200
    assert admin.get("/users").status_code == 200
    assert l1.get("/users").status_code == 403
    assert admin.post("/users", json={"user_id": "analyst", "level": 3, "password": PASSWORD}).status_code == 201
    assert admin.post("/users", json={"user_id": "analyst", "level": 3, "password": PASSWORD}).status_code == 409
    assert admin.post("/users", json={"user_id": "analyst", "level": 4, "password": "short"}).status_code == 422
    for _ in range(3):
        assert api.sign_in("analyst", "not the password").status_code == 401
    assert api.sign_in("analyst").status_code in (401, 403)  # locked out
    assert admin.post("/users/analyst/unlock").status_code == 200
    add_staff(database_url, FakeClock(clock.now - timedelta(days=400)), {"old.timer": ("F-001", 3, False, False)})
    assert admin.post("/users/old.timer/re-establish", json={"password": "a new long passphrase"}).status_code == 200
    assert admin.post("/users/nobody/unlock").status_code == 404
    assert admin.patch("/users/analyst", json={"level": 2}).status_code == 200
    assert admin.post("/users/analyst/revoke-sessions").status_code == 200
    assert admin.post("/users/analyst/disable").status_code == 200
    assert admin.post("/users/analyst/enable").status_code == 200
    reset = admin.post("/users/analyst/reset-password")
    assert reset.status_code == 200
    one_time = reset.json()["one_time_password"]
    token = api.sign_in("analyst", one_time).json()["access_token"]
    with signed_in(api, token, conformance) as analyst:
        changed = analyst.post("/auth/password", json={"current_password": one_time, "new_password": PASSWORD + "!"})
        assert changed.status_code == 200
    with signed_in(api, changed.json()["access_token"], conformance) as analyst:
        assert analyst.post("/auth/sign-out").status_code == 204
        assert analyst.get("/me").status_code == 401
    assert admin.get("/security-log", params={"limit": 1000}).status_code == 200
    assert admin.get("/security-log/anonymous").status_code == 200
    assert reviewer.get("/security-log", params={"facility": "F-001"}).status_code == 200
    assert admin.get("/security-log", params={"facility": "F-002"}).status_code == 404
    assert l1.get("/security-log").status_code == 403
    assert admin.get("/incidents/2026-015501/readers").status_code == 200
    assert admin.get("/read-audit").status_code == 200

    assert conformance.wrong == []
    # Every operation answered a success, and each kind of refusal was seen.
    succeeded = {(method, path) for method, path, status in conformance.seen if status.startswith("2")}
    unwalked = {(method, path) for method, path, _ in operations(spec)} - succeeded
    assert unwalked == set(), f"walk each operation above so that its body is checked: {sorted(unwalked)}"
    assert set(PROBLEM_STATUSES) <= {status for _, _, status in conformance.seen}
    assert conformance.checked > 80
