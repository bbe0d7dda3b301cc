"""The read-model and auditor commands, run as a user would, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.adapters.test_cli import nimrs, ok_json


@pytest.fixture
def generated(database_url: str) -> str:
    made = ok_json("generate", "--incidents", "120", "--facilities", "2", "--seed", "3", url=database_url)
    assert made["incidents"] == 120 and made["events"] > 1000
    return database_url


def test_supervisor_queries_answer_for_their_facility_only(generated: str) -> None:
    url = generated
    overdue = ok_json("overdue", "--as", "risk.F-001", url=url)
    assert overdue["clocks"] and {c["facility"] for c in overdue["clocks"]} == {"F-001"}
    assert {c["status"] for c in overdue["clocks"]} == {"overdue"}
    dues = [c["due"] for c in overdue["clocks"]]
    assert dues == sorted(dues)  # most overdue first
    board = ok_json("board", "--as", "risk.F-001", url=url)
    by_month = ok_json("stats", "--as", "analyst.F-001", "--by", "month", url=url)
    assert sum(s["count"] for s in board["states"]) == sum(m["count"] for m in by_month)
    refused = nimrs("overdue", "--as", "risk.F-001", "--facility", "F-002", url=url)
    assert refused.returncode == 4 and "F-002" in refused.stderr
    csv = nimrs("stats", "--as", "analyst.F-001", "--by", "route", "--csv", url=url)
    assert csv.returncode == 0 and csv.stdout.splitlines()[0] == "facility,dimension,value,label,count"


def test_auditors_replay_history_and_changes(generated: str) -> None:
    url = generated
    incident = ok_json("overdue", "--as", "risk.F-001", url=url)["clocks"][0]["incident_id"]
    history = ok_json("audit", "history", incident, "--as", "analyst.F-001", url=url)
    assert [row["version"] for row in history] == list(range(1, len(history) + 1))
    assert history[0]["state_before"] is None and history[0]["changes"]["facility"] == [None, "F-001"]
    first = ok_json("audit", "replay", incident, "--as", "analyst.F-001", "--version", "1", url=url)
    assert first["version"] == 1 and first["state"] in ("jc_import_queue", "draft")
    diff = ok_json("audit", "diff", incident, "--as", "analyst.F-001", "--from", "v1", url=url)
    assert any(change["field"] == "state" for change in diff["changes"])
    assert len(diff["events"]) == len(history) - 1
    trail = ok_json("audit", "trail", "--as", "analyst.F-001", "--actor", "risk.F-001", url=url)
    assert trail and {row["actor_id"] for row in trail} == {"risk.F-001"}
    other = nimrs("audit", "history", incident, "--as", "risk.F-002", url=url)
    assert other.returncode == 4


def test_projection_commands(generated: str) -> None:
    url = generated
    assert nimrs("projections", "run", "--once", url=url).returncode == 0
    status = ok_json("projections", "status", url=url)
    assert {row["view"] for row in status} == {"overdue", "audit", "board", "statistics", "incident_list"}
    assert all(row["lag_events"] == 0 and row["position"] == row["log_head"] for row in status)
    rebuilt = ok_json("projections", "rebuild", "audit", "board", "--workers", "2", url=url)
    assert rebuilt["views"] == ["audit", "board"] and rebuilt["events"] == status[0]["log_head"]
    assert ok_json("projections", "status", url=url) == status
    unknown = nimrs("projections", "rebuild", "nonsense", url=url)
    assert unknown.returncode == 3 and "nonsense" in unknown.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["overdue", "--as", "risk.F-001", "--as-of", "yesterday"], "ISO 8601"),
    (["overdue", "--as", "risk.F-001", "--status", "late"], "unknown status"),
    (["stats", "--as", "analyst.F-001", "--by", "colour"], "unknown dimension"),
    (["stats", "--as", "analyst.F-001", "--from", "2026-13"], "YYYY-MM"),
    (["board", "--as", "risk.F-001", "--state", "pending"], "unknown state"),
])
def test_bad_query_input_is_named(tmp_path, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/n.db"
    assert nimrs("users", "add", "risk.F-001", "--facility", "F-001", "--level", "1", url=url).returncode == 0
    assert nimrs("users", "add", "analyst.F-001", "--facility", "F-001", "--level", "3", url=url).returncode == 0
    result = nimrs(*args, url=url)
    assert result.returncode == 3, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
