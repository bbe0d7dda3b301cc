"""``nimrs incidents``: list and search incidents (the incident list read model), newest reported first."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from adapters.cli.choices import CLOCK_STATUSES
from adapters.cli.support import As, emit, handles_errors, session
from adapters.cli.tables import Wide, line, show, table
from adapters.local_time import local_date, local_time, relative
from adapters.naming import incident_label
from workflows.spreadsheets import csv_text

if TYPE_CHECKING:
    from projections.reads import IncidentList

CSV_COLUMNS = ("incident_id", "facility", "jc_case_number", "code", "state", "state_since", "reported_at", "route",
               "next_due", "clock_status")


def register(app: typer.Typer) -> None:
    @app.command("incidents")
    @handles_errors
    def incidents_command(
        user: As,
        facility: Annotated[str | None, typer.Option("--facility", help="Facility (default: yours; state reviewers: "
                                                                        "every facility).")] = None,
        state: Annotated[str | None, typer.Option("--state", help="A workflow state, e.g. draft.")] = None,
        code: Annotated[str | None, typer.Option("--code", help="A taxonomy code, or its type or category: si.crime, "
                                                                "an. (see `nimrs taxonomy`).")] = None,
        reported_from: Annotated[str | None, typer.Option("--reported-from", help="First day reported, YYYY-MM-DD "
                                                                                  "(New York).")] = None,
        reported_to: Annotated[str | None, typer.Option("--reported-to", help="Last day reported, YYYY-MM-DD "
                                                                              "(New York).")] = None,
        jc_case_number: Annotated[str | None, typer.Option("--jc-case-number", help="A JC case number.")] = None,
        clock_status: Annotated[str | None, typer.Option("--clock-status", help=f"{', '.join(CLOCK_STATUSES)}: where "
                                                         "the earliest open clock stands.")] = None,
        soon_days: Annotated[int, typer.Option("--soon-days", help="Clocks due within this many days are "
                                                                   "'due soon'.")] = 2,
        limit: Annotated[int, typer.Option("--limit", help="At most this many (1-1000).")] = 50,
        offset: Annotated[int, typer.Option("--offset", help="Skip this many first.")] = 0,
        wide: Wide = False,
        as_csv: Annotated[bool, typer.Option("--csv", help="CSV output, for spreadsheets.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
    ) -> None:
        """List and search incidents by state, code, day reported, JC case number and clock, newest reported
        first."""
        from projections.incident_list import parse_day

        with session() as runtime:
            runtime.projector.catch_up()  # the list sees every recorded event (views.read_models says why)
            now = runtime.clock()
            result = runtime.reads.incidents(
                runtime.accounts.get(user), facility=facility, state=state, code=code,
                reported_from=parse_day(reported_from, "--reported-from") if reported_from else None,
                reported_to=parse_day(reported_to, "--reported-to") if reported_to else None,
                jc_case_number=jc_case_number, clock_status=clock_status, soon_days=soon_days, limit=limit,
                offset=offset)
        if as_csv:
            sys.stdout.write(to_csv(result["incidents"]))
            return
        emit(result, as_json, lambda data: render(data, now, wide))


def to_csv(rows: Sequence[Any]) -> str:
    return csv_text(CSV_COLUMNS, rows)


def render(data: IncidentList, now: datetime, wide: bool = False) -> None:
    """A table that fits the terminal (80 columns when piped), or with ``wide`` every value in full."""
    shown = len(data["incidents"])
    where = data["facility"] or "every facility"
    if not shown:
        line(f"{where}: no incidents match (of {data['total']})")
        return
    title = f"{where}: incidents {data['offset'] + 1}-{data['offset'] + shown} of {data['total']}, newest reported first"
    if wide:
        rows = table("incident", "JC case", "facility", "code", "state", "reported", "route", "next due", title=title)
        for row in data["incidents"]:
            due = f"{local_time(row['next_due'])} ({relative(row['next_due'], now)})" if row["next_due"] else "-"
            rows.add_row(row["incident_id"], row["jc_case_number"] or "-", row["facility"], row["code"], row["state"],
                         local_date(row["reported_at"]), row["route"] or "-", due)
    else:
        rows = table("incident", "code", "state", "reported", "next due", title=title)
        for row in data["incidents"]:
            rows.add_row(incident_label(row["incident_id"], row["jc_case_number"]), row["code"], row["state"],
                         local_date(row["reported_at"]), relative(row["next_due"], now) or "-")
    show(rows, wide)
    if data["offset"] + shown < data["total"]:
        line(f"more: --offset {data['offset'] + shown}")
