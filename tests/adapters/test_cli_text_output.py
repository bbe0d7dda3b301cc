"""The CLI's text output as people read it: New York time with the zone, days where days are meant, 80 columns
with nothing cut short, ``--wide`` for full ids; ``--csv`` keeps ISO 8601 with the offset. On a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
from datetime import datetime

import pytest

from tests.adapters.test_cli import NIMRS

CASE = "2026-004711"
REPORTED = "2025-12-31T10:00:00-05:00"  # the report of death is due 5 days later: the end of 5 January, New York
DUE_SHOWN = "Mon 5 Jan 2026, 11:59 pm EST"


def run(url: str, *args: str, columns: int = 80, stdin: str | None = None) -> str:
    env = {**os.environ, "NIMRS_DATABASE_URL": url, "COLUMNS": str(columns)}
    result = subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def flat(text: str) -> str:
    """The words of the output, however the terminal wrapped them."""
    return " ".join(text.split())


def table_rows(text: str) -> list[list[str]]:
    """A table's rows, each cell's wrapped lines joined again (a row starts where its first cell does)."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("│"):
            continue
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        if cells[0] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [f"{old} {new}".strip() for old, new in zip(rows[-1], cells, strict=True)]
    return rows


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """Synthetic histories (with users risk.F-001, clinical.F-001, analyst.F-001), plus one death reported on
    31 December 2025 and emailed to OMH, whose Report of Death is overdue. Returns the URL and that incident's id."""
    folder = tmp_path_factory.mktemp("text")
    url = f"sqlite:///{folder}/nimrs.db"
    run(url, "generate", "--incidents", "20", "--facilities", "1", "--seed", "3")
    report = folder / "report.json"
    report.write_text(json.dumps({
        "jc_case_number": CASE, "facility": "F-001", "program": "Adult Inpatient Unit 3", "jc_reported_at": REPORTED,
        "setting": "inpatient", "reported_type": "death.natural-unexpected", "summary": "Client found unresponsive.",
    }))
    clinical = ("--as", "clinical.F-001")
    run(url, "receive", str(report), *clinical)
    run(url, "import-report", CASE, *clinical)
    for screen, *sets in (
        ("incident", "occurred_at=2025-12-31T06:10:00-05:00", "location=Room 312", "on_premises_or_supervised=true"),
        ("clients", 'clients=[{"client_id": "C-7", "age": 51}]'),
        ("staff", "staff_involved=[]", "witnesses=[]"),
        ("narrative", "narrative=Found unresponsive on rounds.", "immediate_actions=CPR started; 911 called."),
        ("notifications", "notifications_made=[]"),
        ("severity", "harm_rating=3", "risk_rating=3", "serious_harm=true", "serious_harm_basis=physical"),
    ):
        run(url, "record-details", CASE, screen, *[part for value in sets for part in ("--set", value)], *clinical)
    shown = json.loads(run(url, "email-omh", CASE, "--as", "risk.F-001", "--json"))
    assert [clock["due"] for clock in shown["clocks"]] == ["2026-01-06T04:59:59.999999+00:00"]
    return url, shown["id"]


def test_a_due_time_reads_as_new_york_local_time(store: tuple[str, str]) -> None:
    url, _ = store
    shown = run(url, "show", CASE, "--as", "analyst.F-001")
    assert f"clock report_of_death: due {DUE_SHOWN} - overdue" in flat(shown)
    assert "2026-01-06T04:59" not in shown
    overdue = run(url, "overdue", "--as", "risk.F-001")
    ours = next(row for row in table_rows(overdue) if row[0] == CASE)
    assert ours[1:3] == ["report_of_death", DUE_SHOWN]
    assert re.fullmatch(r"overdue, \d+ days late", ours[3]), ours
    assert "2026-01-06T04:59" not in overdue


def test_the_board_counts_days_not_hours(store: tuple[str, str]) -> None:
    url, _ = store
    board = run(url, "board", "--as", "risk.F-001", "--state", "under_investigation")
    under = next(row for row in table_rows(board) if row[0] == "under_investigation")
    assert re.fullmatch(r"\d+ days?", under[2]), under
    assert re.search(r"\d+\.\d+ ?h\b", board) is None  # no "8648.7 h"
    assert re.search(r"as of \w{3} \d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} [ap]m E[SD]T", board)


@pytest.mark.parametrize("command", [
    ["board", "--as", "risk.F-001", "--state", "under_investigation"],
    ["overdue", "--as", "risk.F-001", "--status", "all"],
    ["audit", "trail", "--as", "analyst.F-001"],
    ["users", "list"],
    ["show", CASE, "--as", "analyst.F-001"],
    ["history", CASE, "--as", "analyst.F-001"],
    ["taxonomy"],
    ["projections", "status"],
])
def test_text_fits_80_columns_and_nothing_is_cut_short(store: tuple[str, str], command: list[str]) -> None:
    url, _ = store
    text = run(url, *command)
    assert text.strip()
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert too_wide == []
    assert "…" not in text  # a cell cut to "incide…"


def test_rows_name_the_incident_briefly_and_wide_shows_its_whole_id(store: tuple[str, str]) -> None:
    url, incident = store
    overdue = run(url, "overdue", "--as", "risk.F-001")
    assert CASE in overdue and incident not in overdue  # the JC case number, not the uuid
    assert incident in run(url, "overdue", "--as", "risk.F-001", "--wide")
    trail = run(url, "audit", "trail", "--as", "analyst.F-001", "--incident", CASE)
    events = json.loads(run(url, "audit", "trail", "--as", "analyst.F-001", "--incident", CASE, "--json"))
    assert flat(trail).count(f"incident {incident[:8]} v") == len(events) > 5  # each event names its incident
    assert incident not in trail
    assert flat(run(url, "audit", "trail", "--as", "analyst.F-001", "--incident", CASE, "--wide")).count(
        f"incident {incident} v") == len(events)
    first = trail.splitlines()[0]
    assert re.match(r"\w{3} \d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} [ap]m E[SD]T  incident ", first), first


def test_history_and_users_read_new_york_time(store: tuple[str, str]) -> None:
    url, _ = store
    history = run(url, "history", CASE, "--as", "analyst.F-001").splitlines()
    assert re.match(r"v1  \w{3} \d{1,2} \w{3} \d{4}, \d{1,2}:\d{2} [ap]m E[SD]T  VpcrReportReceived by clinical\.F-001$",
                    history[0]), history[0]
    users = table_rows(run(url, "users", "list"))
    assert ["risk.F-001", "F-001", "1", "active", "never", "no password: CLI only"] in users


def test_csv_keeps_iso_8601_with_the_offset(store: tuple[str, str]) -> None:
    url, incident = store
    clocks = list(csv.DictReader(io.StringIO(run(url, "overdue", "--as", "risk.F-001", "--csv"))))
    ours = next(row for row in clocks if row["jc_case_number"] == CASE)
    assert ours["incident_id"] == incident and ours["clock"] == "report_of_death" and ours["status"] == "overdue"
    assert ours["due"] == "2026-01-06T04:59:59.999999+00:00" and int(ours["days_late"]) > 0
    for row in clocks:
        for name in ("due", "start", "set_at", "as_of"):
            assert datetime.fromisoformat(row[name]).utcoffset() is not None

    board = list(csv.DictReader(io.StringIO(run(url, "board", "--as", "risk.F-001", "--csv", "--state", "emailed_to_omh"))))
    as_json = json.loads(run(url, "board", "--as", "risk.F-001", "--json"))
    states = {row["name"]: row for row in board if row["section"] == "state"}
    assert {name: int(row["count"]) for name, row in states.items()} == {s["state"]: s["count"] for s in as_json["states"]}
    assert datetime.fromisoformat(states["emailed_to_omh"]["since"]).utcoffset() is not None
    overdue = {row["name"]: int(row["count"]) for row in board if row["section"] == "overdue"}
    assert overdue == {name: counts["overdue"] for name, counts in as_json["clocks"].items()}
    assert overdue["report_of_death"] >= 1
    listed = [row for row in board if row["section"] == "incident"]
    assert incident in {row["incident_id"] for row in listed} and all(row["name"] == "emailed_to_omh" for row in listed)
    assert all(datetime.fromisoformat(row["as_of"]).utcoffset() is not None for row in board)
