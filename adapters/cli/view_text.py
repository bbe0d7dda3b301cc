"""The read models as a person reads them (New York time, days, 80 columns) and as CSV for spreadsheets
(ISO 8601 with the offset, as in the JSON): the overdue clocks, the board, the audit trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adapters.cli.tables import line, show, table
from adapters.local_time import days, local_time, moment, readable, relative
from adapters.naming import incident_label
from workflows.spreadsheets import csv_text

OVERDUE_CSV_COLUMNS = ("incident_id", "jc_case_number", "facility", "program", "code", "key", "clock", "status", "length",
                       "unit", "provisional", "start", "due", "met_at", "days_late", "days_left", "set_at", "as_of")
BOARD_CSV_COLUMNS = ("facility", "as_of", "section", "name", "count", "since", "hours_in_state", "incident_id",
                     "jc_case_number", "code")
STATUS_WORDS = {"overdue": "overdue", "due_soon": "due soon", "open": "open"}


def clock_status(row: Mapping[str, Any], as_of: str) -> str:
    """``overdue, 3 days late``, ``due soon, tomorrow``, ``met on time``, ``met 2 days late``."""
    status = row["status"]
    if status == "met_on_time":
        return "met on time"
    if status == "met_late":
        return f"met {days(row['days_late'] * 24)} late"
    now = moment(as_of)
    assert now is not None  # a page always says when it stands
    return f"{STATUS_WORDS.get(status, status)}, {relative(row['due'], now)}"


def render_overdue(data: Mapping[str, Any], wide: bool) -> None:
    """80 columns hold the incident, its clock, when due and how late; ``wide`` adds its id, case and code."""
    headers = ("incident", "JC case", "code") if wide else ("incident",)
    clocks = table(*headers, "clock", "due", "status",
                   title=f"{data['facility'] or 'every facility'}: {STATUS_WORDS.get(data['status'], data['status'])} clocks "
                         f"as of {local_time(data['as_of'])}")
    for row in data["clocks"]:
        named = (row["incident_id"], row["jc_case_number"] or "-", row["code"]) if wide \
            else (incident_label(row["incident_id"], row["jc_case_number"]),)
        clocks.add_row(*named, row["clock"], local_time(row["due"]), clock_status(row, data["as_of"]))
    if data["clocks"]:
        show(clocks, wide)
    else:
        line(f"{clocks.title}: none")


def render_board(data: Mapping[str, Any], wide: bool, state: str | None = None) -> None:
    states = table("state", "incidents", "longest in state", title=f"{data['facility'] or 'every facility'} as of {local_time(data['as_of'])}")
    for row in data["states"]:
        states.add_row(row["state"], str(row["count"]), days(row["longest_hours_in_state"]) or "-")
    show(states, wide)
    queue = data["jc_import_queue"]
    oldest = queue["oldest"]
    line(f"JC import queue: {queue['waiting']} waiting" + (
        f", oldest {incident_label(oldest['incident_id'], oldest['jc_case_number'], wide)} "
        f"for {days(oldest['hours_waiting'])}" if oldest else ""))
    for name, counts in data["clocks"].items():
        line(f"{name}: {counts['overdue']} overdue, {counts['due_soon']} due soon")
    if data.get("incidents"):
        headers = ("incident", "JC case", "code") if wide else ("incident",)
        listed = table(*headers, "in state since", "for", title=f"in {state}, longest first")
        for row in data["incidents"]:
            named = (row["incident_id"], row["jc_case_number"] or "-", row["code"]) if wide \
                else (incident_label(row["incident_id"], row["jc_case_number"]),)
            listed.add_row(*named, local_time(row["since"]), days(row["hours_in_state"]))
        show(listed, wide)
    elif "incidents" in data:
        line(f"no incidents in {state}")


def render_trail(rows: Sequence[Mapping[str, Any]], wide: bool) -> None:
    """One block per event: when, which incident, the event and who; then each change and the reason."""
    for row in rows:
        state = (f"{row['state_before'] or 'new'} -> {row['state_after']}"
                 if row["state_before"] != row["state_after"] else row["state_after"])
        line(f"{local_time(row['recorded_at'])}  incident {incident_label(row['incident_id'], wide=wide)} "
             f"v{row['version']}  {row['event_type']} by {row['actor_id']} (Level {row['actor_level']})  [{state}]")
        for name, (old, new) in row["changes"].items():
            line(f"{name}: {readable(old)} -> {readable(new)}", indent=2)
        if row.get("reason"):
            line(f"reason: {row['reason']}", indent=2)
    if not rows:
        line("no events")


def overdue_csv(data: Mapping[str, Any]) -> str:
    return csv_text(OVERDUE_CSV_COLUMNS, ({**row, "as_of": data["as_of"]} for row in data["clocks"]))


def board_csv(data: Mapping[str, Any]) -> str:
    """One row per state, per clock's overdue and due-soon counts, and (with ``--state``) per incident listed."""
    common = {"facility": data["facility"], "as_of": data["as_of"]}
    rows: list[dict[str, Any]] = [
        {**common, "section": "state", "name": row["state"], "count": row["count"], "since": row["oldest_since"],
         "hours_in_state": row["longest_hours_in_state"], "incident_id": row.get("oldest_incident_id")}
        for row in data["states"]]
    for name, counts in data["clocks"].items():
        rows += [{**common, "section": "overdue", "name": name, "count": counts["overdue"]},
                 {**common, "section": "due_soon", "name": name, "count": counts["due_soon"]}]
    rows += [{**common, "section": "incident", "name": row["state"], "since": row["since"],
              "hours_in_state": row["hours_in_state"], "incident_id": row["incident_id"],
              "jc_case_number": row["jc_case_number"], "code": row["code"]} for row in data.get("incidents", [])]
    return csv_text(BOARD_CSV_COLUMNS, rows)
