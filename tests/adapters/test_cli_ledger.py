"""The notification ledger's commands, run as a user would: the ``nimrs`` console script on a real store."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from tests.adapters.test_cli import NIMRS, count_events

NEW_YORK = ZoneInfo("America/New_York")
CASE = "2026-004712"


def nimrs(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    # New incidents pin the obligation rules part524@1 (docs/adr/0014, section 3).
    env = {**os.environ, "NIMRS_DATABASE_URL": url, "NIMRS_OBLIGATIONS_DEFAULT": "part524@1", "COLUMNS": "200"}
    return subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, timeout=120)


def ok_json(*args: str, url: str) -> Any:
    result = nimrs(*args, "--json", url=url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(*args: str, url: str, code: int, message: str) -> None:
    stored = count_events(url)
    result = nimrs(*args, url=url)
    assert result.returncode == code, (args, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert count_events(url) == stored


def last_event(url: str, name: str) -> dict[str, Any]:
    """The latest event of that name (a step may record more: an obligation it met, say)."""
    return dict([e for e in ok_json("history", CASE, "--as", "analyst", url=url) if e["event"] == name][-1])


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value)


def a_draft(url: str, tmp_path: Path) -> None:
    for user, level in (("risk", "1"), ("clinical", "2"), ("analyst", "3")):
        assert nimrs("users", "add", user, "--facility", "F-001", "--level", level, url=url).returncode == 0
    report = tmp_path / "report.json"
    report.write_text(json.dumps({
        "jc_case_number": CASE, "facility": "F-001", "program": "Adult Inpatient Unit 3", "setting": "inpatient",
        "jc_reported_at": (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(),
        "reported_type": "death.natural-unexpected", "summary": "Client found unresponsive.",
    }))
    ok_json("receive", str(report), "--as", "clinical", url=url)
    assert ok_json("import-report", CASE, "--as", "clinical", url=url)["state"] == "draft"


def test_the_ledger_is_recorded_from_options_with_files_hashed_and_local_times(database_url: str, tmp_path: Path) -> None:
    url = database_url
    a_draft(url, tmp_path)
    ok_json("record-notice-recipient", CASE, "--as", "clinical", "--recipient-id", "qp-1", "--role", "qualified_person",
            "--name", "Dana Doe", "--relationship", "sister", "--client-id", "C-7", "--contact", "phone=555-0100",
            "--contact", "email=dana@example.org", "--preferred", "phone", "--preferred", "email", url=url)
    assert last_event(url, "NoticeRecipientRecorded")["data"]["recipient"] == {
        "recipient_id": "qp-1", "role": "qualified_person", "name": "Dana Doe", "relationship": "sister",
        "client_id": "C-7", "contacts": {"phone": "555-0100", "email": "dana@example.org"}, "preferred": ["phone", "email"]}

    recording = tmp_path / "call.m4a"
    recording.write_bytes(b"a recorded call\x00" * 1000)
    typed = (datetime.now(NEW_YORK) - timedelta(hours=2)).replace(microsecond=0, tzinfo=None)  # New York, no offset
    ok_json("record-notification", CASE, "--as", "clinical", "--recipient-id", "qp-1", "--notified-at", typed.isoformat(),
            "--method", "phone", "--outcome", "reached", "--note", "Told of the death.", "--evidence-file", str(recording),
            url=url)
    data = last_event(url, "NotificationRecorded")["data"]
    assert moment(data["notified_at"]) == typed.replace(tzinfo=NEW_YORK)
    assert (data["method"], data["outcome"], data["note"]) == ("phone", "reached", "Told of the death.")
    assert data["evidence"] == {"sha256": hashlib.sha256(recording.read_bytes()).hexdigest(), "size": 16000,
                                "location": str(recording)}

    received = typed.isoformat()
    ok_json("record-request", CASE, "--as", "clinical", "--request-id", "r-1", "--kind", "incident_report_copy",
            "--requested-by", "qp-1", "--received-at", received, url=url)
    copy = tmp_path / "redacted copy.pdf"
    copy.write_bytes(b"%PDF-1.4 the redacted copy")
    refused("release-records", CASE, "--as", "clinical", "--request-id", "r-1", "--released-at", received, "--method",
            "letter", "--document", str(copy), url=url, code=5, message="Level 1")
    ok_json("release-records", CASE, "--as", "risk", "--request-id", "r-1", "--released-at", received, "--method",
            "letter", "--document", str(copy), url=url)
    released = last_event(url, "RecordsReleased")
    assert released["data"]["document"] == {"sha256": hashlib.sha256(copy.read_bytes()).hexdigest(),
                                            "size": len(copy.read_bytes()), "location": str(copy)}
    assert released["data"]["redactions"] == {} and released["actor"]["user_id"] == "risk"


def test_obligations_are_waived_and_not_extended_beyond_their_rules(database_url: str, tmp_path: Path) -> None:
    url = database_url
    a_draft(url, tmp_path)
    ok_json("record-notice-recipient", CASE, "--as", "clinical", "--recipient-id", "qp-1", "--role", "qualified_person",
            "--name", "Dana Doe", url=url)
    ok_json("record-request", CASE, "--as", "clinical", "--request-id", "r-2", "--kind", "incident_report_copy",
            "--requested-by", "qp-1", "--received-at", "2026-01-05T09:00:00-05:00", url=url)
    key = "incident_report_copy:r-2"
    later = (datetime.now(NEW_YORK) + timedelta(days=400)).date().isoformat()  # a bare date: the end of that day
    refused("extend-obligation", CASE, "--as", "risk", "--key", key, "--due", "2026-02-30", "--reason", "x", url=url,
            code=3, message="due must be an ISO 8601")
    refused("extend-obligation", CASE, "--as", "risk", "--key", key, "--due", later, "--reason", "x", url=url,
            code=3, message="cannot be extended")
    refused("waive-obligation", CASE, "--as", "clinical", "--key", key, "--reason", "x", url=url, code=5, message="Level 1")
    refused("waive-obligation", CASE, "--as", "risk", "--key", "no_such_clock", "--reason", "x", url=url, code=3,
            message="no obligation 'no_such_clock'")

    shown = ok_json("waive-obligation", CASE, "--as", "risk", "--key", key, "--reason", "Withdrawn by the requester.",
                    url=url)
    assert [c["status"] for c in shown["clocks"] if c["name"] == key] == ["waived"]
    waiver = last_event(url, "ObligationWaived")
    assert (waiver["data"]["key"], waiver["data"]["reason"], waiver["actor"]["user_id"]) == (
        key, "Withdrawn by the requester.", "risk")


def test_bad_values_and_unreadable_files_are_messages_and_record_nothing(database_url: str, tmp_path: Path) -> None:
    url = database_url
    a_draft(url, tmp_path)
    ok_json("record-notice-recipient", CASE, "--as", "clinical", "--recipient-id", "qp-1", "--role", "qualified_person",
            "--name", "Dana Doe", url=url)
    notify = ("record-notification", CASE, "--recipient-id", "qp-1", "--notified-at", "2026-01-05T09:00:00-05:00")
    refused(*notify, "--as", "clinical", "--method", "fax", "--outcome", "reached", url=url, code=3, message="method")
    refused(*notify, "--as", "clinical", "--method", "phone", "--outcome", "reached", "--evidence-file",
            str(tmp_path / "absent.m4a"), url=url, code=3, message="cannot read --evidence-file")
    refused(*notify, "--as", "analyst", "--method", "phone", "--outcome", "reached", url=url, code=5, message="Level")
    refused("record-notice-recipient", CASE, "--as", "clinical", "--recipient-id", "qp-2", "--role", "qualified_person",
            "--name", "Sam", "--contact", "555-0100", url=url, code=3, message="method=value")
    refused("send-to-jc", CASE, "--as", "risk", "--what", "autopsy_report", "--sent-at", "2026-01-05T09:00:00", url=url,
            code=6, message="cannot send_to_jc an incident in state 'draft'")
