"""An attacker from another facility, and plain bad input, over real HTTP on SQLite and PostgreSQL (issue 10).

Each test reproduces a failure the issue reported: another facility's data in a refusal or a log,
"not found" told apart, a 5xx on bad input, headers that let patient data be kept, and
conditional requests answered against RFC 9110.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.http.support import SCREENS, VPCR, Api, eventually

# Another facility's user, re-delivering facility F-001's JC case number as its own report.
ELSEWHERE = {**VPCR, "facility": "F-002", "program": "Clinic B", "setting": "outpatient",
             "summary": "Something else entirely.", "jc_reported_at": "2026-11-19T10:00:00-05:00"}
SECRETS = ("Adult Inpatient Unit 3", "unresponsive", "F-001", "inpatient", "09:40", "14:40", "death.natural")


def _log_details(api: Api, admin: str) -> str:
    entries = api(admin).get("/security-log", params={"limit": 1000}).json()
    return " ".join(f"{e['target']} {e['detail']}" for e in entries)


def test_another_facilitys_case_number_discloses_nothing_of_its_record(api: Api) -> None:
    assert api("l2").post("/vpcr-reports", json=VPCR).status_code == 201
    refused = api("other.l1").post("/vpcr-reports", json=ELSEWHERE)
    assert refused.status_code == 409
    assert refused.json()["detail"] == "JC case 2026-015501 was already received with different content"
    assert "problems" not in refused.json()
    assert not [secret for secret in SECRETS if secret in refused.text]
    assert not [secret for secret in SECRETS if secret in _log_details(api, "other.admin")]


def test_a_differing_redelivery_in_ones_own_facility_names_fields_not_values(api: Api) -> None:
    assert api("l2").post("/vpcr-reports", json=VPCR).status_code == 201
    changed = {**VPCR, "summary": "Client found on the floor, breathing.", "program": "Adult Inpatient Unit 4"}
    refused = api("l2").post("/vpcr-reports", json=changed)
    assert refused.status_code == 409
    assert sorted(refused.json()["problems"]) == ["program differs from the report already received",
                                                  "summary differs from the report already received"]
    log = _log_details(api, "admin")
    assert "different content" in log
    assert not [value for value in ("unresponsive", "breathing", "Unit 3", "Unit 4") if value in log]


def test_not_found_says_the_same_for_absent_and_for_another_facilitys_incident(api: Api) -> None:
    assert api("l1").post("/vpcr-reports", json=VPCR).status_code == 201
    routes: list[tuple[str, str, Any]] = [
        ("GET", "", None), ("GET", "/history", None), ("GET", "/as-of?version=1", None),
        ("GET", "/changes?from=1&to=1", None), ("POST", "/import-report", None),
        ("PATCH", "/record-details/narrative", {"narrative": "x"}), ("POST", "/email-omh", None),
        ("POST", "/submit-report-of-death", None), ("POST", "/start-investigation", None),
        ("POST", "/document-findings", {"findings": "x"}), ("POST", "/close", None),
        ("POST", "/reopen", {"reason": "x"}),
        ("POST", "/amend", {"screen": "narrative", "fields": {"narrative": "y"}, "reason": "z"}),
    ]
    outsider = api("other.l1")
    for method, tail, body in routes:
        answers = {}
        for reference in ("2026-015501", "2026-999999"):  # F-001's, and one that does not exist
            response = outsider.request(method, f"/incidents/{reference}{tail}", json=body)
            assert response.status_code == 404, (method, tail, response.text)
            document = response.json()
            answers[reference] = (document["type"], document["title"],
                                  document["detail"].replace(reference, "REFERENCE"))
            assert document["detail"] == f"incident {reference!r} not found", (method, tail, document)
        assert answers["2026-015501"] == answers["2026-999999"], (method, tail)


def test_bad_input_gets_a_4xx_never_a_5xx(api: Api) -> None:
    assert api("l2").post("/vpcr-reports", json=VPCR).status_code == 201
    admin, l2 = api("admin"), api("l2")
    answers = {
        "events after 2**63": l2.get("/events", params={"after": 2**63}),
        "stream after 2**63": l2.get("/events/stream", params={"after": 2**63}),
        "version 2**63": l2.get("/incidents/2026-015501", params={"version": 2**63}),
        "as-of version 2**63": l2.get("/incidents/2026-015501/as-of", params={"version": 2**63}),
        "webhook after 1e18": admin.post("/webhooks", json={"url": "http://127.0.0.1:9/hook", "after": 1e18}),
        "redeliver 2**64": admin.post("/webhooks/x/redeliver", json={"positions": [2**64]}),
        "overdue as of 9999": l2.get("/overdue", params={"as_of": "9999-12-31"}),
        "audit trail until 9999": l2.get("/audit-trail", params={"until": "9999-12-31"}),
        "audit trail since year 1": l2.get("/audit-trail", params={"since": "0001-01-01T00:00:00+14:00"}),
        "security log since 9999": admin.get("/security-log", params={"since": "9999-12-31"}),
        "as-of at 9999": l2.get("/incidents/2026-015501/as-of", params={"at": "9999-12-31T23:59:59-12:00"}),
        "classify age 10**30": l2.post("/classify", json={"code": "si.fall", "setting": "inpatient", "on_premises": True,
                                                          "serious_harm": True, "age": 10**30}),
        "If-Match superscript": l2.post("/incidents/2026-015501/import-report", headers={"If-Match": b'"\xb2"'}),
        "Last-Event-ID superscript": l2.get("/events/stream", headers={"Last-Event-ID": b"\xb2"}),
    }
    wrong = {name: (r.status_code, r.text[:200]) for name, r in answers.items() if not 400 <= r.status_code < 500}
    assert wrong == {}
    assert answers["overdue as of 9999"].status_code == 422
    assert "between 1900-01-01 and ten years from now" in answers["overdue as of 9999"].json()["detail"]


def _raw(api: Api, user: str, method: str, path: str, body: bytes | None = None) -> httpx.Response:
    client = api(user)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    return client.request(method, path, content=body, headers=headers)


def test_text_that_is_not_text_is_refused_with_400_and_changes_nothing(api: Api) -> None:
    lone_surrogate = b'{"program": "Clinic", "setting": "outpatient", "code": "si.fall", "summary": "a\\ud800b"}'
    with_nul = b'{"program": "Clinic", "setting": "outpatient", "code": "si.fall", "summary": "a\\u0000b"}'
    not_utf8 = b'{"program": "Clinic", "setting": "outpatient", "code": "si.fall", "summary": "a\xff"}'
    for body in (lone_surrogate, with_nul, not_utf8):
        refused = _raw(api, "l2", "POST", "/incidents", body)
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    signed_in = api.anonymous.post("/auth/token", content=b'{"username": "l2\\u0000", "password": "x"}',
                                   headers={"Content-Type": "application/json"})
    assert signed_in.status_code == 400
    assert api("l2").get("/board", params={"facility": "F-001\x00"}).status_code == 400
    nul_path = api("l2").post("/incidents/2026%00015501/close")
    assert nul_path.status_code == 400
    assert api("l2").get("/incidents/caf%E9").status_code == 400  # Latin-1, not UTF-8
    # The refused command is in the security log, the NUL shown as a replacement character.
    log = api("admin").get("/security-log", params={"outcome": "refused"}).json()
    assert any(e["status"] == 400 and e["user_id"] == "l2" and "\ufffd" in (e["target"] or "") for e in log)
    # Valid text, including a surrogate pair escaped as JSON does it, still works.
    emoji = b'{"program": "Clinic", "setting": "outpatient", "code": "si.fall", "summary": "fell \\ud83d\\ude00"}'
    created = _raw(api, "l2", "POST", "/incidents", emoji)
    assert created.status_code == 201 and created.json()["summary"] == "fell \U0001f600"


def test_every_response_forbids_caching_and_sniffing_and_the_docs_load_nothing_from_elsewhere(api: Api) -> None:
    assert api("l2").post("/vpcr-reports", json=VPCR).status_code == 201
    for response in (api("l2").get("/incidents/2026-015501"), api("l2").get("/incidents/2026-999999"),
                     api("l2").get("/board"), api.anonymous.get("/health"), api.anonymous.get("/openapi.json")):
        assert response.headers["cache-control"] == "no-store", response.url
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    page = api.anonymous.get("/docs")
    assert page.status_code == 200 and "script-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace("http-equiv", "")  # every script and style from this server
    for asset in ("/static/swagger-ui/swagger-ui-bundle.js", "/static/swagger-ui/swagger-ui.css", "/static/docs.js"):
        assert api.anonymous.get(asset).status_code == 200, asset
    assert api.anonymous.get("/redoc").status_code == 404  # ReDoc would load from a CDN: not served


def test_conditional_requests_follow_rfc_9110(api: Api) -> None:
    l2 = api("l2")
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201
    path = "/incidents/2026-015501"
    stale = l2.post(f"{path}/import-report", headers={"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json()["title"] == "Precondition failed"
    assert "version 1" in stale.json()["detail"]
    weak = l2.post(f"{path}/import-report", headers={"If-Match": 'W/"1"'})
    assert weak.status_code == 412  # strong comparison: a weak tag never matches
    assert l2.get(path).json()["state"] == "jc_import_queue"  # nothing changed
    assert l2.post(f"{path}/import-report", headers={"If-Match": '"abc"'}).status_code == 412
    assert l2.post(f"{path}/import-report", headers={"If-Match": "1"}).status_code == 422  # not an entity-tag
    listed = l2.post(f"{path}/import-report", headers={"If-Match": '"5", "1"'})
    assert listed.status_code == 200 and listed.headers["ETag"] == '"2"'
    anything = l2.patch(f"{path}/record-details/narrative", json=SCREENS["narrative"], headers={"If-Match": "*"})
    assert anything.status_code == 200 and anything.headers["ETag"] == '"3"'
    assert api("l1").post("/incidents/2026-999999/close", headers={"If-Match": "*"}).status_code == 404

    same = l2.get(path, headers={"If-None-Match": '"3"'})
    assert same.status_code == 304 and same.headers["ETag"] == '"3"' and same.content == b""
    assert l2.get(path, headers={"If-None-Match": 'W/"3"'}).status_code == 304  # weak comparison
    assert l2.get(path, headers={"If-None-Match": '"1", "2"'}).status_code == 200
    assert l2.get(path, headers={"If-None-Match": "*"}).status_code == 304
    assert api("other.l1").get(path, headers={"If-None-Match": "*"}).status_code == 404


def test_implausible_report_times_are_refused_and_the_views_keep_going(api: Api) -> None:
    l2 = api("l2")
    for when in ("9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1899-12-31T12:00:00-05:00",
                 "2026-11-20T16:00:00+00:00"):  # the last: an hour after the server's clock
        refused = l2.post("/vpcr-reports", json={**VPCR, "jc_case_number": "2026-000777", "jc_reported_at": when})
        assert refused.status_code == 422, (when, refused.text)
        assert "jc_reported_at must lie between 1900-01-01 and now" in refused.json()["detail"]
    future = {**SCREENS["incident"], "occurred_at": "2099-01-01T00:00:00-05:00"}
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201
    l2.post("/incidents/2026-015501/import-report")
    assert l2.patch("/incidents/2026-015501/record-details/incident", json=future).status_code == 422

    def drafts() -> int:
        return sum(s["count"] for s in l2.get("/board").json()["states"] if s["state"] == "draft")

    assert eventually(drafts) == 1  # the views follow the log


def test_redelivering_a_position_beyond_any_stored_delivery_requeues_nothing(api: Api) -> None:
    """Found by the fuzz run on PostgreSQL: a position past the deliveries' 32-bit column answered 503."""
    admin = api("other.admin")
    created = admin.post("/webhooks", json={"url": "https://receiver.example.com/hook"})
    assert created.status_code == 201, created.text
    redelivered = admin.post(f"/webhooks/{created.json()['id']}/redeliver",
                             json={"positions": [363, 17853963551]})
    assert redelivered.status_code == 200, redelivered.text
    assert redelivered.json() == {"requeued": 0}


def test_the_board_answers_while_the_projector_moves_incidents(api: Api) -> None:
    """Found on PostgreSQL: the board counted an incident in a state, then found none there (the projector
    moved it between the two reads) and answered 500."""
    l2 = api("l2")
    for number in range(8):
        assert l2.post("/vpcr-reports", json={**VPCR, "jc_case_number": f"2026-0200{number:02d}"}).status_code == 201
    for number in range(8):
        l2.post(f"/incidents/2026-0200{number:02d}/import-report")
        board = l2.get("/board")
        assert board.status_code == 200, board.text


def test_a_body_past_the_limit_is_refused_with_413_before_it_is_read_and_changes_nothing(api: Api) -> None:
    from adapters.http.guards import MAX_BODY_BYTES

    before = api("l2").get("/jc-queue").json()["incidents"]
    huge = b'[' + b",".join([b'{"jc_case_number": "X"}'] * (MAX_BODY_BYTES // 20)) + b']'
    declared = _raw(api, "l2", "POST", "/vpcr-reports", huge)
    assert declared.status_code == 413 and declared.headers["content-type"] == "application/problem+json"
    assert "larger than 8 MiB" in declared.json()["detail"]

    def chunks() -> Any:  # no Content-Length: the limit is met while reading
        for start in range(0, len(huge), 2 ** 16):
            yield huge[start:start + 2 ** 16]

    streamed = api("l2").post("/vpcr-reports", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413
    form = api.anonymous.post("/web/sign-in", content=chunks(),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 413
    assert api("l2").get("/jc-queue").json()["incidents"] == before
    other = api("l2").post("/vpcr-reports", content=chunks(), headers={"Content-Type": "application/octet-stream"})
    assert other.status_code < 500
    assert api("l2").get("/jc-queue").json()["incidents"] == before


def test_a_form_past_a_mebibyte_and_json_nested_too_deeply_are_refused_with_4xx(api: Api) -> None:
    form = api.anonymous.post("/web/sign-in", content=b"a=b&" * (2 ** 20 // 4 + 1),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 413 and "larger than 1 MiB" in form.json()["detail"]
    for escaped in (b'"\\u0041"', b'"a"'):  # the guard parses bodies with an escape; FastAPI the others
        deep = b"[" * 5000 + escaped + b"]" * 5000
        for user, path in ((None, "/auth/token"), ("l2", "/incidents")):
            client = api(user) if user else api.anonymous
            answer = client.post(path, content=deep, headers={"Content-Type": "application/json"})
            assert 400 <= answer.status_code < 500, (path, answer.status_code, answer.text[:200])
            assert answer.headers["content-type"] == "application/problem+json"
