"""Each use case end to end over real HTTP, on SQLite and PostgreSQL: JC import queue to closed and back."""

from __future__ import annotations

from tests.http.support import SCREENS, VPCR, Api, eventually


def walk_to_submitted(api: Api) -> str:
    l1, l2 = api("l1"), api("l2")
    assert l2.post("/vpcr-reports", json=VPCR).status_code == 201
    again = l2.post("/vpcr-reports", json=[VPCR])
    assert again.status_code == 200 and again.json()["received"] == [] and len(again.json()["duplicates"]) == 1
    queue = eventually(lambda: l2.get("/jc-queue").json()["incidents"])
    assert [row["jc_case_number"] for row in queue] == ["2026-015501"]
    imported = l2.post("/incidents/2026-015501/import-report", headers={"If-Match": '"1"'})
    assert imported.status_code == 200 and imported.json()["state"] == "draft"
    etag = imported.headers["ETag"]
    for screen, fields in SCREENS.items():
        recorded = l2.patch(f"/incidents/2026-015501/record-details/{screen}", json=fields, headers={"If-Match": etag})
        assert recorded.status_code == 200, recorded.text
        etag = recorded.headers["ETag"]
    refused = l2.post("/incidents/2026-015501/email-omh", headers={"If-Match": etag})
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    submitted = l1.post("/incidents/2026-015501/email-omh", headers={"If-Match": etag})
    assert submitted.status_code == 200 and submitted.json()["state"] == "emailed_to_omh"
    return str(submitted.json()["id"])


def test_an_incident_goes_from_the_jc_queue_to_closed_and_is_reopened_and_amended(api: Api) -> None:
    incident_id = walk_to_submitted(api)
    l1, l2, l3 = api("l1"), api("l2"), api("l3")
    assert "submit_report_of_death" in l1.get(f"/incidents/{incident_id}").json()["allowed_actions"]
    assert l1.post(f"/incidents/{incident_id}/submit-report-of-death").json()["state"] == "report_of_death_submitted"
    assert l2.post(f"/incidents/{incident_id}/start-investigation").json()["state"] == "under_investigation"
    found = l2.post(f"/incidents/{incident_id}/document-findings", json={"findings": "Cardiac arrest; care met standards."})
    assert found.status_code == 200 and found.json()["findings"].startswith("Cardiac")
    closed = l1.post(f"/incidents/{incident_id}/close", headers={"If-Match": found.headers["ETag"]})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    reopened = l1.post(f"/incidents/{incident_id}/reopen", json={"reason": "Family raised new concerns."})
    assert reopened.json()["state"] != "closed"
    amended = l1.post(f"/incidents/{incident_id}/amend",
                      json={"screen": "narrative", "fields": {"narrative": "Found unresponsive at 06:10 rounds."},
                            "reason": "Time added from the nursing log."})
    assert amended.status_code == 200 and amended.json()["details"]["narrative"].endswith("06:10 rounds.")

    shown = l3.get(f"/incidents/{incident_id}")
    assert shown.headers["ETag"] == f'"{shown.json()["version"]}"' and shown.json()["allowed_actions"] == []
    history = l3.get(f"/incidents/{incident_id}/history").json()
    assert [h["event"] for h in history][:3] == ["VpcrReportReceived", "ImportedFromJcQueue", "DetailsRecorded"]
    assert history[-1]["event"] == "AmendedAfterSubmission" and history[-1]["actor"]["user_id"] == "l1"
    then = l3.get(f"/incidents/{incident_id}/as-of", params={"version": 2}).json()
    assert then["state"] == "draft" and then["latest_version"] == len(history)
    assert l3.get(f"/incidents/{incident_id}", params={"version": 1}).json()["state"] == "jc_import_queue"
    diff = l3.get(f"/incidents/{incident_id}/changes", params={"from": 1, "to": 2}).json()
    assert {"field": "state", "old": "jc_import_queue", "new": "draft"} in diff["changes"]


def test_a_new_incident_is_created_directly_and_a_stale_write_changes_nothing(api: Api) -> None:
    l2 = api("l2")
    created = l2.post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                          "summary": "Fell in the waiting room."})
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    location = created.headers["Location"]
    first = l2.patch(f"{location}/record-details/narrative", json={"narrative": "A"}, headers={"If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["ETag"] == '"2"'
    stale = l2.patch(f"{location}/record-details/narrative", json={"narrative": "B"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and "version 2" in stale.json()["detail"]
    assert l2.get(location).json()["details"]["narrative"] == "A"
    assert l2.get(location).headers["ETag"] == '"2"'


def test_queries_answer_over_http(api: Api) -> None:
    walk_to_submitted(api)
    l3 = api("l3")
    assert any(e["code"] == "si.fall" for e in l3.get("/taxonomy").json())
    decided = l3.post("/classify", json={"code": "si.crime", "setting": "outpatient", "on_premises": False,
                                         "serious_harm": False}).json()
    assert decided["route"] == "NOT_REPORTABLE"
    def submitted() -> int:
        return next(s["count"] for s in l3.get("/board").json()["states"] if s["state"] == "emailed_to_omh")

    assert eventually(submitted) == 1
    clocks = eventually(lambda: l3.get("/overdue", params={"status": "open"}).json()["clocks"])
    assert {c["clock"] for c in clocks} and all(c["incident_id"] for c in clocks)
    stats = eventually(lambda: l3.get("/statistics", params={"by": "route"}).json())
    assert stats and stats[0]["facility"] == "F-001"
    trail = eventually(lambda: l3.get("/audit-trail").json())
    assert {"VpcrReportReceived", "EmailedToOmh"} <= {row["event_type"] for row in trail}
