"""``nimrs obligations`` and ``nimrs facility``, run as a user would: the console script on a real store (SQLite and
PostgreSQL), with incidents under the obligation rules part524@1 unless the facility chooses others."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from adapters.cli.obligations import OBLIGATIONS_CSV_COLUMNS
from tests.adapters.test_cli import NIMRS, count_events

CASE, SECOND = "2026-004712", "2026-004713"
FORMULA = '=HYPERLINK("http://evil.example","Unit 3")'  # a program typed by a person
RULES = [{"on": ["clock_missed"], "to": ["risk@example.org"], "clocks": ["qualified_person_notice"]}]


def nimrs(*args: str, url: str, columns: int = 200) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NIMRS_DATABASE_URL": url, "NIMRS_OBLIGATIONS_DEFAULT": "part524@1", "COLUMNS": str(columns)}
    return subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, timeout=120)


def ok(*args: str, url: str, columns: int = 200) -> str:
    result = nimrs(*args, url=url, columns=columns)
    assert result.returncode == 0, result.stderr
    return result.stdout


def ok_json(*args: str, url: str) -> Any:
    return json.loads(ok(*args, "--json", url=url))


def refused(*args: str, url: str, code: int, message: str) -> str:
    result = nimrs(*args, url=url)
    assert result.returncode == code, (args, result.stderr)
    assert message in result.stderr and "Traceback" not in result.stderr, result.stderr
    return result.stderr


def receive(url: str, tmp_path: Path, case: str, days_ago: float = 3) -> None:
    report = tmp_path / f"{case}.json"
    report.write_text(json.dumps({
        "jc_case_number": case, "facility": "F-001", "program": FORMULA, "setting": "inpatient",
        "jc_reported_at": (datetime.now(timezone.utc) - timedelta(days=days_ago)).isoformat(),
        "reported_type": "death.natural-unexpected", "summary": "Client found unresponsive.",
    }))
    ok_json("receive", str(report), "--as", "clinical", url=url)


def pinned(url: str, case: str) -> str:
    first = ok_json("history", case, "--as", "risk", url=url)[0]
    assert first["event"] == "VpcrReportReceived"
    return str(first["data"]["obligations"])


@pytest.fixture
def url(database_url: str) -> str:
    for user, facility, level, flags in (("risk", "F-001", "1", ()), ("clinical", "F-001", "2", ()),
                                         ("analyst", "F-001", "3", ()), ("admin", "F-001", "3", ("--security-admin",)),
                                         ("other", "F-002", "1", ("--security-admin",)),
                                         ("reviewer", "OMH", "3", ("--state-reviewer",))):
        ok("users", "add", user, "--facility", facility, "--level", level, *flags, url=database_url)
    return database_url


def test_obligations_by_status_as_text_json_and_csv_and_a_waiver(url: str, tmp_path: Path) -> None:
    receive(url, tmp_path, CASE)  # reported three days ago: the 24-hour notice is overdue, as a draft's (provisional)
    stored = count_events(url)
    overdue = ok_json("obligations", "--as", "analyst", "--status", "overdue", url=url)  # Level 3 reads them
    assert (overdue["facility"], overdue["status"]) == ("F-001", "overdue")
    notice = next(r for r in overdue["clocks"] if r["key"] == "qualified_person_notice")
    assert (notice["jc_case_number"], notice["status"], notice["provisional"], notice["unit"]) == (
        CASE, "overdue", True, "hours")
    assert datetime.fromisoformat(notice["due"]).utcoffset() is not None
    assert {r["key"] for r in overdue["clocks"]} == {"qualified_person_notice"}
    opened = ok_json("obligations", "--as", "analyst", url=url)
    assert {"qualified_person_notice", "report_of_death", "autopsy_report"} <= {r["key"] for r in opened["clocks"]}
    only = ok_json("obligations", "--as", "analyst", "--clock", "autopsy_report", url=url)
    assert [r["key"] for r in only["clocks"]] == ["autopsy_report"]
    assert len(ok_json("obligations", "--as", "analyst", "--limit", "1", url=url)["clocks"]) == 1

    text = ok("obligations", "--as", "analyst", url=url, columns=80)
    assert CASE in text and "(provisional)" in text and "overdue, " in text and "EST" in text
    assert "+00:00" not in text and notice["due"][:10] not in text  # New York time, not ISO 8601
    assert all(len(line) <= 80 for line in text.splitlines())
    incident = notice["incident_id"]
    assert incident not in text and incident in ok("obligations", "--as", "analyst", "--wide", url=url)

    sheet = ok("obligations", "--as", "analyst", "--csv", url=url)
    rows = list(csv.DictReader(io.StringIO(sheet)))
    assert tuple(rows[0]) == OBLIGATIONS_CSV_COLUMNS
    assert {row["program"] for row in rows} == {"'" + FORMULA}  # a spreadsheet does not run it
    assert {row["key"] for row in rows} == {r["key"] for r in opened["clocks"]}

    assert ok_json("obligations", "--as", "other", url=url)["clocks"] == []  # another facility: none of these
    refused("obligations", "--as", "other", "--facility", "F-001", url=url, code=4, message="F-001")
    assert ok_json("obligations", "--as", "reviewer", "--status", "overdue", url=url)["clocks"][0]["key"] == \
        "qualified_person_notice"
    refused("obligations", "--as", "analyst", "--status", "late", url=url, code=3, message="unknown status")
    refused("obligations", "--as", "analyst", "--clock", "coffee_break", url=url, code=3, message="coffee_break")
    assert count_events(url) == stored  # reading (or being refused) records nothing

    ok_json("import-report", CASE, "--as", "clinical", url=url)
    ok_json("waive-obligation", CASE, "--as", "risk", "--key", "qualified_person_notice", "--reason",
            "No qualified person: the client is an adult", url=url)
    waived = ok_json("obligations", "--as", "analyst", "--status", "waived", url=url)
    assert [(r["key"], r["status"]) for r in waived["clocks"]] == [("qualified_person_notice", "waived")]
    assert ok_json("obligations", "--as", "analyst", "--status", "overdue", url=url)["clocks"] == []
    assert "waived" in ok("obligations", "--as", "analyst", "--status", "waived", url=url)


def test_level_1_chooses_the_rules_new_incidents_pin_and_existing_ones_keep_theirs(url: str, tmp_path: Path) -> None:
    shown = ok_json("facility", "obligations", "--as", "analyst", url=url)
    assert (shown["facility"], shown["rules"], shown["installation_default"], shown["changed"]) == (
        "F-001", "part524@1", True, None)
    assert "part524@1" in ok("facility", "obligations", "--as", "analyst", url=url)
    assert ok_json("facility", "obligations", "--as", "reviewer", "--facility", "F-001", url=url)["rules"] == "part524@1"
    receive(url, tmp_path, CASE)

    reason = "Counsel advises waiting for the final Part 524 text"
    refused("facility", "obligations", "--as", "clinical", "--choose", "charts@2", "--reason", reason, url=url, code=5,
            message="Level 1")
    refused("facility", "obligations", "--as", "risk", "--choose", "nope@1", "--reason", reason, url=url, code=3,
            message="nope@1")
    refused("facility", "obligations", "--as", "risk", "--choose", "charts@2", url=url, code=3, message="reason")
    elsewhere = refused("facility", "obligations", "--as", "other", "--facility", "F-001", "--choose", "charts@2",
                        "--reason", reason, url=url, code=4, message="not found")
    absent = refused("facility", "obligations", "--as", "other", "--facility", "F-999", "--choose", "charts@2",
                     "--reason", reason, url=url, code=4, message="not found")
    assert elsewhere.replace("F-001", "F") == absent.replace("F-999", "F")
    assert ok_json("facility", "history", "--as", "analyst", url=url) == []

    text = ok("facility", "obligations", "--as", "risk", "--choose", "charts@2", "--reason", reason, url=url)
    assert "charts@2" in text and "set by risk" in text and reason in text
    chosen = ok_json("facility", "obligations", "--as", "analyst", url=url)
    assert (chosen["rules"], chosen["installation_default"], chosen["changed"]["set_by"]) == ("charts@2", False, "risk")
    history = ok_json("facility", "history", "--as", "analyst", "--kind", "obligations", url=url)
    assert [(h["value"], h["set_by"], h["reason"]) for h in history] == [("charts@2", "risk", reason)]

    receive(url, tmp_path, SECOND)
    assert pinned(url, SECOND) == "charts@2"
    assert pinned(url, CASE) == "part524@1"  # received before the choice: keeps its rules
    everything = ok_json("obligations", "--as", "analyst", "--status", "all", url=url)["clocks"]
    assert {r["key"] for r in everything if r["jc_case_number"] == SECOND} == {"report_of_death"}
    assert "qualified_person_notice" in {r["key"] for r in everything if r["jc_case_number"] == CASE}


def test_alert_rules_are_read_by_administrators_and_level_1_and_set_from_a_file(url: str, tmp_path: Path) -> None:
    rules, bad, broken = tmp_path / "rules.json", tmp_path / "bad.json", tmp_path / "broken.json"
    rules.write_text(json.dumps(RULES))
    bad.write_text(json.dumps([{"on": ["tea_time"], "to": ["not an address"]}, 7]))
    broken.write_text("[{")
    for user in ("clinical", "analyst", "reviewer"):  # the rules hold email addresses
        refused("facility", "alerts", "--as", user, "--facility", "F-001", url=url, code=5, message="alert rules")
    refused("facility", "history", "--as", "analyst", "--kind", "alert_rules", url=url, code=5, message="alert rules")
    refused("facility", "alerts", "--as", "other", "--facility", "F-001", url=url, code=4, message="not found")
    assert ok_json("facility", "alerts", "--as", "risk", url=url) == {"facility": "F-001", "rules": [], "changed": None}
    assert "no alert rules" in ok("facility", "alerts", "--as", "risk", url=url)

    refused("facility", "alerts", "--as", "risk", "--file", str(rules), "--reason", "x", url=url, code=5,
            message="security administrator")
    problems = refused("facility", "alerts", "--as", "admin", "--file", str(bad), "--reason", "x", url=url, code=3,
                       message="not valid")
    assert "tea_time" in problems and "not an address" in problems and "rule 2" in problems
    refused("facility", "alerts", "--as", "admin", "--file", str(broken), "--reason", "x", url=url, code=3,
            message="not JSON")
    refused("facility", "alerts", "--as", "admin", "--file", str(tmp_path / "none.json"), "--reason", "x", url=url,
            code=3, message="cannot read")
    refused("facility", "history", "--as", "admin", "--kind", "colour", url=url, code=3, message="colour")
    assert ok_json("facility", "history", "--as", "admin", "--kind", "alert_rules", url=url) == []  # none recorded

    reason = "The risk manager hears of every missed notice"
    text = ok("facility", "alerts", "--as", "admin", "--file", str(rules), "--reason", reason, url=url)
    assert "risk@example.org" in text and "clock_missed" in text and "set by admin" in text
    shown = ok_json("facility", "alerts", "--as", "risk", url=url)
    assert [(r["on"], r["to"], r["clocks"]) for r in shown["rules"]] == [(RULES[0]["on"], RULES[0]["to"],
                                                                          RULES[0]["clocks"])]
    assert shown["changed"]["set_by"] == "admin"
    history = ok_json("facility", "history", "--as", "admin", "--kind", "alert_rules", url=url)
    assert [(h["set_by"], h["reason"], h["value"]) for h in history] == [("admin", reason, shown["rules"])]
    assert ok_json("facility", "alerts", "--as", "other", url=url)["rules"] == []  # its own facility: none
