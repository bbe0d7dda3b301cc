"""The ``nimrs`` console script, run as a user would: a real process on a real store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from domain.lifecycle import Step
from tests.conftest import CHARTS_ONLY_SUITE

NIMRS = shutil.which("nimrs", path=str(Path(sys.executable).parent)) or "nimrs"


def nimrs(*args: str, url: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NIMRS_DATABASE_URL": url or "sqlite:///unused.db", "COLUMNS": "200"}
    return subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)


def ok_json(*args: str, url: str | None = None):  # type: ignore[no-untyped-def]
    result = nimrs(*args, "--json", url=url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def count_events(url: str) -> int:
    from adapters.bootstrap import open_service
    from adapters.settings import load_settings
    from tests.conftest import stored_event_count

    service = open_service(load_settings({"NIMRS_DATABASE_URL": url, **CHARTS_ONLY_SUITE}))
    try:
        return stored_event_count(service)
    finally:
        service.store.close()


@pytest.mark.parametrize("rules", ["current", "earlier"])
def test_taxonomy_json_lists_every_entry(rules: str) -> None:
    entries = ok_json("taxonomy", "--rules", rules)
    assert len(entries) in (54, 55)
    for entry in entries:
        assert {"code", "type", "subtype", "route", "clocks"} <= set(entry)
    fall = next(e for e in entries if e["code"] == "si.fall")
    assert fall["subtype"] is None
    assert fall["clocks"] == [{"name": "investigation", "days": 45 if rules == "current" else 50}]


def test_classify_json() -> None:
    result = ok_json("classify", "death.suicide", "--setting", "outpatient", "--premises", "off", "--serious-harm", "no")
    assert (result["route"], result["clocks"]) == ("OMH_ONLY", [])
    result = ok_json("classify", "death.suicide", "--setting", "cpep", "--premises", "off", "--serious-harm", "no")
    assert result["route"] == "JC_AND_OMH"
    assert result["clocks"] == [{"name": "report_of_death", "days": 5}]
    assert result["reasons"]


@pytest.mark.parametrize(("args", "code", "message"), [
    (["si.nope", "--setting", "inpatient", "--premises", "on", "--serious-harm", "no"], 3, "unknown incident code"),
    (["si.fall", "--setting", "hospital", "--premises", "on", "--serious-harm", "no"], 3, "unknown program setting"),
    (["si.fall", "--setting", "inpatient", "--premises", "maybe", "--serious-harm", "no"], 3, "--premises must be on or off"),
    (["si.missing-patient", "--setting", "outpatient", "--premises", "on", "--serious-harm", "no"], 3, "age is required"),
    (["si.fall", "--setting", "inpatient", "--premises", "on", "--serious-harm", "no", "--rules", "x"], 3, "unknown rule set"),
])
def test_classify_bad_input_names_the_problem(args: list[str], code: int, message: str) -> None:
    result = nimrs("classify", *args)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def _report_file(tmp_path: Path, **overrides: object) -> Path:
    report = {
        "jc_case_number": "2026-004711", "facility": "F-001", "program": "Adult Inpatient Unit 3",
        "jc_reported_at": (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(), "setting": "inpatient",
        "reported_type": "death.natural-unexpected", "summary": "Client found unresponsive.", **overrides,
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report))
    return path


def test_a_death_walks_from_the_queue_through_the_cli(database_url: str, tmp_path: Path) -> None:
    url = database_url
    for user, level in (("risk", "1"), ("clinical", "2"), ("analyst", "3")):
        assert nimrs("users", "add", user, "--facility", "F-001", "--level", level, url=url).returncode == 0
    assert nimrs("users", "add", "risk", "--facility", "F-001", "--level", "1", url=url).returncode == 6

    report = _report_file(tmp_path)
    first = ok_json("receive", str(report), "--as", "clinical", url=url)
    again = ok_json("receive", str(report), "--as", "clinical", url=url)
    assert (len(first["received"]), again["duplicates"]) == (1, first["received"])

    case = "2026-004711"
    assert ok_json("import-report", case, "--as", "clinical", url=url)["state"] == "draft"
    details = tmp_path / "clients.json"
    details.write_text(json.dumps({"clients": [{"client_id": "C-7", "age": 51}]}))
    ok_json("record-details", case, "clients", "--file", str(details), "--as", "clinical", url=url)
    occurred = (datetime.now(timezone.utc) - timedelta(days=2)).isoformat()
    ok_json("record-details", case, "incident", "--set", f"occurred_at={occurred}", "--set", "location=Unit 3",
            "--set", "on_premises_or_supervised=true", "--as", "clinical", url=url)
    ok_json("record-details", case, "staff", "--set", "staff_involved=[]", "--set", "witnesses=[]", "--as", "clinical", url=url)
    ok_json("record-details", case, "narrative", "--set", "narrative=Found at 06:10", "--set", "immediate_actions=CPR, 911",
            "--as", "clinical", url=url)
    ok_json("record-details", case, "notifications", "--set", "notifications_made=[]", "--as", "clinical", url=url)
    view = ok_json("record-details", case, "severity", "--set", "harm_rating=3", "--set", "risk_rating=3",
                   "--set", "serious_harm=true", "--set", "serious_harm_basis=physical", "--as", "clinical", url=url)
    assert view["missing_details"] == [] and view["route"] == "JC_AND_OMH"

    stored = count_events(url)
    refused = nimrs("email-omh", case, "--as", "clinical", url=url)
    assert refused.returncode == 5 and "needs Level 1" in refused.stderr
    assert nimrs("email-omh", case, "--as", "analyst", url=url).returncode == 5
    assert count_events(url) == stored

    actions = ok_json("email-omh", case, "--as", "risk", url=url)["allowed_actions"]
    assert [a for a in actions if not Step(a).records_the_ledger] == ["submit_report_of_death", "start_investigation", "amend"]
    view = ok_json("submit-report-of-death", case, "--as", "risk", url=url)
    assert view["state"] == "report_of_death_submitted"
    assert [(c["name"], c["status"]) for c in view["clocks"]] == [("report_of_death", "met_on_time")]
    history = ok_json("history", case, "--as", "analyst", url=url)
    assert history[0]["event"] == "VpcrReportReceived" and history[-1]["event"] == "ReportOfDeathSubmitted"
    assert history[-1]["actor"] == {"user_id": "risk", "facility": "F-001", "level": 1}
    assert ok_json("show", case, "--as", "analyst", "--version", "2", url=url)["state"] == "draft"

    assert nimrs("users", "add", "outsider", "--facility", "F-002", "--level", "1", url=url).returncode == 0
    hidden = nimrs("show", case, "--as", "outsider", url=url)
    assert hidden.returncode == 4 and "not found" in hidden.stderr


def test_a_malformed_vpcr_file_is_refused_whole(database_url: str, tmp_path: Path) -> None:
    url = database_url
    assert nimrs("users", "add", "clinical", "--facility", "F-001", "--level", "2", url=url).returncode == 0
    good = json.loads(_report_file(tmp_path).read_text())
    bad = {**good, "jc_case_number": "2026-000002", "jc_reported_at": "yesterday", "setting": "hospital"}
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([good, bad]))
    result = nimrs("receive", str(batch), "--as", "clinical", url=url)
    assert result.returncode == 3
    assert "report 2" in result.stderr and "jc_reported_at" in result.stderr and "hospital" in result.stderr
    (tmp_path / "broken.json").write_text("{not json")
    assert nimrs("receive", str(tmp_path / "broken.json"), "--as", "clinical", url=url).returncode == 3
    missing = nimrs("receive", str(tmp_path / "absent.json"), "--as", "clinical", url=url)
    assert missing.returncode == 3 and "cannot read" in missing.stderr
    assert count_events(url) == 0


def test_an_unreachable_database_is_a_message_not_a_traceback() -> None:
    result = nimrs("users", "list", url="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 7
    assert "cannot use the store" in result.stderr and "Traceback" not in result.stderr


def test_demo_runs_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    result = ok_json("demo", "--db", str(tmp_path / "demo.db"))
    states = {i["jc_case_number"] or i["details"]["code"]: i["state"] for i in result["incidents"]}
    assert states == {"2026-DEMO-001": "report_of_death_submitted", "2026-DEMO-002": "under_investigation",
                      "omh.crime-in-community": "emailed_to_omh", "si.fall": "closed"}
