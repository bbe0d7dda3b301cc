"""``nimrs audit reads``: who read an incident, or what a user read (security administrators, Level 1,
state reviewers)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from adapters.cli.support import USER_VARIABLE, emit, handles_errors, incident_id, session
from adapters.cli.tables import line
from adapters.local_time import local_time

if TYPE_CHECKING:
    from workflows.read_audit import Read

As = Annotated[str, typer.Option("--as", envvar=USER_VARIABLE, help="Who asks: a security administrator, "
                                                                       "a Level 1 user or a state reviewer.")]


def register(audit_app: typer.Typer) -> None:
    @audit_app.command("reads")
    @handles_errors
    def audit_reads(user: As,
                    incident: Annotated[str | None, typer.Option("--incident", help="Who read this incident "
                                                                                    "(id or JC case number).")] = None,
                    reader: Annotated[str | None, typer.Option("--user", help="Only this user's reads.")] = None,
                    since: Annotated[str | None, typer.Option("--since", help="From this moment; a bare date is the "
                                                                              "start of that New York day.")] = None,
                    until: Annotated[str | None, typer.Option("--until", help="Up to this moment; a bare date is the "
                                                                              "end of that New York day.")] = None,
                    facility: Annotated[str | None, typer.Option("--facility", help="Without --incident: whose "
                                                                 "incidents (default: yours; state reviewers: every facility).")]
                    = None,
                    limit: Annotated[int, typer.Option("--limit", help="At most this many reads, oldest first.")] = 1000,
                    as_csv: Annotated[bool, typer.Option("--csv", help="CSV output, for spreadsheets.")] = False,
                    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")] = False,
                    ) -> None:
        """Who read an incident's content (show, history, as of, changes, audit trail, feed), when, and how;
        or, without --incident, every read of your facility's incidents (by --user)."""
        from workflows.accounts import Principal
        from workflows.readers import period, to_csv

        with session() as runtime:
            account = runtime.accounts.account(user)
            start, end = period(since, until, runtime.clock())
            reads = runtime.read_audit.readers(
                Principal(account.actor, account.security_admin), incident_id=incident_id(incident) if incident else None,
                user=reader, since=start, until=end, facility=facility, limit=limit)
        if as_csv:
            sys.stdout.write(to_csv(reads))
            return
        emit([read.as_dict() for read in reads], as_json, lambda _: _render(reads))


def _render(reads: list[Read]) -> None:
    if not reads:
        line("no recorded reads")
    for read in reads:  # when (New York time), who, what, which incident, how
        line(f"{local_time(read.at)}  {read.user_id} (Level {read.level}, {read.facility}) read incident "
             f"{read.incident_id} ({read.incident_facility}): {read.view}, via {read.channel}")
