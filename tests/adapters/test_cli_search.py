"""``nimrs incidents``, run as a user would: filters, paging, JSON, CSV and a text table that fits 80 columns;
a state reviewer's roll-up of every facility (here and on the board)."""

from __future__ import annotations

import os
import subprocess

import pytest

from adapters.cli.search import CSV_COLUMNS
from adapters.local_time import local_date
from tests.adapters.test_cli import NIMRS, nimrs, ok_json


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    made = f"sqlite:///{tmp_path_factory.mktemp('search')}/n.db"
    assert ok_json("generate", "--incidents", "80", "--facilities", "2", "--seed", "5", url=made)["incidents"] == 80
    added = nimrs("users", "add", "reviewer", "--facility", "OMH", "--level", "3", "--state-reviewer", url=made)
    assert added.returncode == 0, added.stderr
    return made


def at_80_columns(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NIMRS_DATABASE_URL": url, "COLUMNS": "80"}
    return subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, timeout=120)


def test_filters_and_paging(url: str) -> None:
    everything = ok_json("incidents", "--as", "risk.F-001", "--limit", "1000", url=url)
    rows = everything["incidents"]
    assert everything["facility"] == "F-001" and everything["total"] == len(rows) > 10
    assert {row["facility"] for row in rows} == {"F-001"}
    assert [row["reported_at"] for row in rows] == sorted((row["reported_at"] for row in rows), reverse=True)
    page = ok_json("incidents", "--as", "risk.F-001", "--limit", "5", "--offset", "5", url=url)
    assert (page["total"], page["incidents"]) == (everything["total"], rows[5:10])
    closed = ok_json("incidents", "--as", "risk.F-001", "--state", "closed", "--limit", "1000", url=url)
    assert closed["incidents"] == [row for row in rows if row["state"] == "closed"] != []
    abuse = ok_json("incidents", "--as", "risk.F-001", "--code", "an.", "--limit", "1000", url=url)
    assert abuse["incidents"] == [row for row in rows if row["code"].startswith("an.")] != []
    late = ok_json("incidents", "--as", "risk.F-001", "--clock-status", "overdue", "--limit", "1000", url=url)
    assert late["incidents"] == [row for row in rows if row["clock_status"] == "overdue"] != []
    case = next(row for row in rows if row["jc_case_number"])
    assert ok_json("incidents", "--as", "risk.F-001", "--jc-case-number", case["jc_case_number"], url=url)["incidents"] == [case]
    board = ok_json("board", "--as", "risk.F-001", url=url)
    assert sum(s["count"] for s in board["states"]) == everything["total"]


def test_text_fits_80_columns_and_wide_shows_full_values(url: str) -> None:
    (first,) = ok_json("incidents", "--as", "risk.F-001", "--limit", "1", url=url)["incidents"]
    text = at_80_columns("incidents", "--as", "risk.F-001", "--limit", "8", url=url)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    assert all(word in text.stdout for word in ("incident", "code", "state", "reported", "next due", "more: --offset 8"))
    assert (first["jc_case_number"] or first["incident_id"][:8]) in text.stdout
    assert local_date(first["reported_at"]) in text.stdout  # the New York date, not ISO
    assert first["incident_id"] not in text.stdout
    wide = at_80_columns("incidents", "--as", "risk.F-001", "--limit", "8", "--wide", url=url)
    assert first["incident_id"] in wide.stdout and max(len(line) for line in wide.stdout.splitlines()) > 80


def test_csv_has_one_row_per_incident(url: str) -> None:
    result = nimrs("incidents", "--as", "analyst.F-001", "--limit", "7", "--csv", url=url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS) and len(lines) == 8


def test_a_state_reviewer_rolls_up_every_facility(url: str) -> None:
    own = [ok_json("incidents", "--as", f"risk.F-00{n}", "--limit", "1", url=url)["total"] for n in (1, 2)]
    everywhere = ok_json("incidents", "--as", "reviewer", "--limit", "1000", url=url)
    assert everywhere["facility"] is None and everywhere["total"] == sum(own)
    assert {row["facility"] for row in everywhere["incidents"]} == {"F-001", "F-002"}
    narrowed = ok_json("incidents", "--as", "reviewer", "--facility", "F-002", url=url)
    assert narrowed["facility"] == "F-002" and narrowed["total"] == own[1]
    board = ok_json("board", "--as", "reviewer", url=url)
    assert board["facility"] is None and sum(s["count"] for s in board["states"]) == sum(own)
    assert "every facility" in at_80_columns("incidents", "--as", "reviewer", url=url).stdout


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--as", "risk.F-002", "--facility", "F-001"], 4, "F-001"),
    (["--as", "risk.F-001", "--reported-to", "2026-02-30"], 3, "--reported-to"),
    (["--as", "risk.F-001", "--clock-status", "late"], 3, "clock status"),
    (["--as", "risk.F-001", "--code", "AN%"], 3, "code"),
    (["--as", "risk.F-001", "--limit", "0"], 3, "limit"),
])
def test_refusals_are_named(url: str, args: list[str], code: int, message: str) -> None:
    result = nimrs("incidents", *args, url=url)
    assert result.returncode == code, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
