"""Email OMH, the Report of Death and Close attested with the password: the event records whether it was."""

from __future__ import annotations

from typing import Any

from tests.http.support import PASSWORD, Api
from tests.http.test_accounts_admin import logged
from tests.http.test_workflow import walk_to_submitted


def history(api: Api, incident_id: str) -> list[dict[str, Any]]:
    return list(api("l3").get(f"/incidents/{incident_id}/history").json())


def test_a_right_password_records_attested_a_wrong_one_records_nothing_and_no_body_records_not_attested(api: Api) -> None:
    incident_id = walk_to_submitted(api)  # Email OMH without a body, as integrators send it
    l1, l2 = api("l1"), api("l2")
    before = history(api, incident_id)
    assert before[-1]["event"] == "DeadlineSet"
    assert [h["data"]["attested"] for h in before if h["event"] == "EmailedToOmh"] == [False]

    wrong = l1.post(f"/incidents/{incident_id}/submit-report-of-death", json={"password": "not the passphrase"})
    assert wrong.status_code == 403 and "password is not right" in wrong.json()["detail"]
    assert history(api, incident_id) == before  # nothing recorded
    assert l1.get(f"/incidents/{incident_id}").json()["state"] == "emailed_to_omh"

    submitted = l1.post(f"/incidents/{incident_id}/submit-report-of-death", json={"password": PASSWORD})
    assert submitted.status_code == 200 and submitted.json()["state"] == "report_of_death_submitted"
    assert history(api, incident_id)[-1]["event"] == "ReportOfDeathSubmitted"
    assert history(api, incident_id)[-1]["data"]["attested"] is True

    assert l2.post(f"/incidents/{incident_id}/start-investigation").status_code == 200
    assert l2.post(f"/incidents/{incident_id}/document-findings", json={"findings": "Care met standards."}).status_code == 200
    closed = l1.post(f"/incidents/{incident_id}/close", json={"password": PASSWORD})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    last = history(api, incident_id)[-1]
    assert last["event"] == "Closed" and last["data"]["attested"] is True and last["actor"]["user_id"] == "l1"
    assert [e["outcome"] for e in logged(api, "attest", "l1")] == ["done", "done", "refused"]  # newest first


def test_three_wrong_passwords_in_a_row_lock_the_account_as_at_sign_in(api: Api) -> None:
    incident_id = walk_to_submitted(api)
    l1 = api("l1")
    for _ in range(3):
        refused = l1.post(f"/incidents/{incident_id}/submit-report-of-death", json={"password": "a wrong guess"})
        assert refused.status_code == 403
    assert l1.get(f"/incidents/{incident_id}").status_code == 401  # the lock ended the session
    assert api.sign_in("l1").status_code == 401
    assert [e["target"] for e in logged(api, "user.locked_out", "l1")] == ["l1"]
    assert [h["event"] for h in history(api, incident_id)].count("ReportOfDeathSubmitted") == 0


def test_an_attestation_without_a_password_is_refused_as_invalid(api: Api) -> None:
    incident_id = walk_to_submitted(api)
    l1 = api("l1")
    for body in ({"password": ""}, {"password": 5}, {}):
        refused = l1.post(f"/incidents/{incident_id}/submit-report-of-death", json=body)
        assert refused.status_code == 422, body
    assert l1.get(f"/incidents/{incident_id}").json()["state"] == "emailed_to_omh"
    assert logged(api, "attest", "l1") == []
