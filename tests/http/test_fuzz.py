"""Schemathesis against the OpenAPI spec of a real server seeded with a rich history: generated requests
never get a 5xx.

The server holds incidents in every state (one closed, reopened, amended and closed again), the JC
queue, a New Incident, audit-trail rows, read-audit rows, security-log rows, a webhook subscription
and users of every role, so generated requests reach real rows, not only empty tables. Schemathesis
acts as a Level 1 security administrator (every write and every administrator's route is open to it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.http.support import SCREENS, VPCR, Api, eventually

OTHER_VPCR = {**VPCR, "jc_case_number": "2026-015502", "facility": "F-002", "program": "Residence B",
              "setting": "residential", "reported_type": "an.physical-abuse",
              "summary": "Resident reported being pushed by a staff member."}
ABUSE_SCREENS = {**SCREENS, "severity": {"harm_rating": 2, "risk_rating": 2, "serious_harm": False}}


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response


def seed_rich_history(api: Api) -> None:
    l1, l2, l3 = api("l1"), api("l2"), api("l3")
    other_l1, other_admin = api("other.l1"), api("other.admin")
    # F-001: the spec's example case, to the Report of Death; another report left waiting in the queue.
    _ok(l2.post("/vpcr-reports", json=VPCR))
    _ok(l2.post("/vpcr-reports", json={**VPCR, "jc_case_number": "2026-015503"}))
    _ok(l2.post("/incidents/2026-015501/import-report"))
    for screen, fields in SCREENS.items():
        _ok(l2.patch(f"/incidents/2026-015501/record-details/{screen}", json=fields))
    _ok(l1.post("/incidents/2026-015501/email-omh"))
    _ok(l1.post("/incidents/2026-015501/submit-report-of-death"))
    _ok(l2.post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "omh.crime-in-community",
                                    "summary": "Client arrested in the community."}))
    assert l2.post("/incidents/2026-015503/email-omh").status_code in (403, 409)  # a refusal in the security log
    _ok(l3.get("/incidents/2026-015501"))  # a read in the read audit
    # F-002 (the fuzzer's own facility): closed, reopened, amended and closed again; a webhook subscription.
    _ok(other_l1.post("/vpcr-reports", json=OTHER_VPCR))
    case = "/incidents/2026-015502"
    _ok(other_l1.post(f"{case}/import-report"))
    for screen, fields in ABUSE_SCREENS.items():
        _ok(other_l1.patch(f"{case}/record-details/{screen}", json=fields))
    for step in ("email-omh", "start-investigation"):
        _ok(other_l1.post(f"{case}/{step}"))
    _ok(other_l1.post(f"{case}/document-findings", json={"findings": "Substantiated; staff retrained."}))
    _ok(other_l1.post(f"{case}/close"))
    _ok(other_l1.post(f"{case}/reopen", json={"reason": "New information from the family."}))
    _ok(other_l1.post(f"{case}/amend", json={"screen": "narrative", "reason": "Corrected time",
                                             "fields": {"narrative": "Pushed at 14:05.", "immediate_actions": "Separated."}}))
    _ok(other_l1.post(f"{case}/close"))
    _ok(other_admin.post("/webhooks", json={"url": "https://receiver.example.com/hook"}))
    eventually(lambda: other_admin.get("/audit-trail").json() or None)  # the projector has caught up


def test_no_generated_request_gets_a_server_error(api: Api, tmp_path: Path) -> None:
    seed_rich_history(api)
    token = api("other.admin").headers["authorization"]
    result = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "run", f"{api.base_url}/openapi.json",
         "-H", f"Authorization: {token}", "--checks", "not_a_server_error", "--max-examples", "15",
         # Signing out, or wrong current passwords (which lock the account, as they should), would end the session.
         "--exclude-path", "/events/stream", "--exclude-path", "/auth/sign-out", "--exclude-path", "/auth/password",
         "--generation-database", "none",
         "--seed", "20261121", "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)  # its cache stays in the test's folder
    summary = result.stdout[-3000:]
    assert result.returncode == 0, summary
    assert " passed" in summary and "Tested: 62" in summary, summary
