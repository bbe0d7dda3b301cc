"""CLI for the read models and auditors: overdue, board, stats, audit, and the projector itself.

The projections and the projector's workers are imported by the commands that use them, not by every command's start.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from adapters.cli.choices import PROJECTION_BATCH, REBUILD_BATCH, STATISTICS_BY, VIEW_NAMES
from adapters.cli.support import USER_VARIABLE, As, emit, handles_errors, incident_id, session, settings
from adapters.cli.tables import Wide, line, show, table
from adapters.cli.view_text import board_csv, overdue_csv, render_board, render_overdue, render_trail
from adapters.local_time import local_time, readable
from domain.deadlines import parse_moment
from domain.errors import ValidationFailed

if TYPE_CHECKING:
    from adapters.bootstrap import Runtime
    from adapters.settings import Settings

Ref = Annotated[str, typer.Argument(help="Incident id, or its JC case number.")]
Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
Csv = Annotated[bool, typer.Option("--csv", help="CSV output, for spreadsheets.")]
Facility = Annotated[str | None, typer.Option("--facility", help="Facility (default: your own).")]
AsOf = Annotated[str | None, typer.Option("--as-of", help="A past moment: 2026-03-01 (end of that day, New York) "
                                                          "or 2026-03-01T09:00-05:00.")]
SoonDays = Annotated[int, typer.Option("--soon-days", help="Open clocks due within this many days are 'due soon'.")]
# `--as` of `nimrs stats` itself: required when it counts, and left out before `nimrs stats notices --as NAME`.
MaybeAs = Annotated[str | None, typer.Option("--as", envvar=USER_VARIABLE,
                                             help="Who asks (a user of `nimrs users add`); required to count.")]
Workers = Annotated[int | None, typer.Option("--workers", help="Projector processes (default: one per core, up to 2).")]
Batch = Annotated[int, typer.Option("--batch-size", help="Events per transaction.")]

audit_app = typer.Typer(help="Auditors: an incident's full history, its state at any moment, what changed.",
                        no_args_is_help=True)
# `nimrs stats` counts incidents itself, and its commands give other measures (with rows of their own shape).
stats_app = typer.Typer()
projections_app = typer.Typer(help="The read models: status, the live projector, rebuilds.", no_args_is_help=True)
err = Console(stderr=True)


def moment(text: str | None, what: str, now: datetime) -> datetime | None:
    return None if text is None else parse_moment(text, what, now=now)


@contextmanager
def read_models() -> Iterator[Runtime]:
    """The views, brought up to date with the log first, so a query sees every recorded event.

    Needed for correctness, not only freshness: where no server or ``nimrs projections run`` follows the log (a
    deployment of the CLI alone, the docs' walkthroughs), the views move only here, so without it ``nimrs overdue``
    would not see the step a user has just recorded. With a projector running, it finds nothing to do: one read of
    the views' positions and of the log's head. Queries of the event store (``show``, ``history``, ``audit
    history``, ``replay``, ``diff``) use no view and do not catch up.
    """
    with session() as runtime:
        runtime.projector.catch_up()
        yield runtime


def _point(text: str | None, now: datetime) -> tuple[datetime | None, int | None]:
    """``v7`` is version 7; anything else is a moment."""
    if text is None:
        return None, None
    if text.startswith("v") and text[1:].isdigit():
        return None, int(text[1:])
    return parse_moment(text, "a point in time", now=now), None


def _emit_trail(rows: Sequence[Mapping[str, Any]], as_csv: bool, as_json: bool, wide: bool) -> None:
    if as_csv:
        from projections.audit import to_csv

        sys.stdout.write(to_csv(rows))
    else:
        emit(rows, as_json, lambda data: render_trail(data, wide))


def register(app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    app.add_typer(audit_app, name="audit")
    app.add_typer(stats_app, name="stats")
    app.add_typer(projections_app, name="projections")

    @app.command("overdue")
    @handles_errors
    def overdue_command(user: As, facility: Facility = None, as_of: AsOf = None,
                        status: Annotated[str, typer.Option("--status", help="overdue, due_soon, open, met_on_time, "
                                                                               "met_late or all.")] = "overdue",
                        clock: Annotated[str | None, typer.Option("--clock", help="report_of_death or investigation.")] = None,
                        soon_days: SoonDays = 2, limit: int = 50, offset: int = 0, wide: Wide = False,
                        as_csv: Csv = False, as_json: Json = False) -> None:
        """Reporting clocks by status, most overdue first; --as-of answers as things stood then."""
        with read_models() as runtime:
            result = runtime.reads.overdue(runtime.accounts.get(user), facility=facility, as_of=moment(as_of, "--as-of", runtime.clock()),
                                    status=status, clock=clock, soon_days=soon_days, limit=limit, offset=offset)
        if as_csv:
            sys.stdout.write(overdue_csv(result))
            return
        emit(result, as_json, lambda data: render_overdue(data, wide))

    @app.command("board")
    @handles_errors
    def board_command(user: As, facility: Facility = None,
                      state: Annotated[str | None, typer.Option("--state", help="Also list this state's incidents, "
                                                                               "longest waiting first.")] = None,
                      soon_days: SoonDays = 2, wide: Wide = False, as_csv: Csv = False, as_json: Json = False) -> None:
        """The supervisor's board: incidents per state, the JC import queue, overdue and due-soon clocks."""
        with read_models() as runtime:
            result = runtime.reads.board(runtime.accounts.get(user), facility=facility, state=state, soon_days=soon_days)
        if as_csv:
            sys.stdout.write(board_csv(result))
            return
        emit(result, as_json, lambda data: render_board(data, wide, state))

    @stats_app.callback(invoke_without_command=True)
    @handles_errors
    def stats_command(context: typer.Context,
                      user: MaybeAs = None,
                      by: Annotated[str, typer.Option("--by", help=", ".join(STATISTICS_BY))] = "type",
                      facility: Facility = None,
                      from_month: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
                      to_month: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
                      wide: Wide = False, as_csv: Csv = False, as_json: Json = False) -> None:
        """Incident counts by type, route, harm or risk rating, setting or month (reported, New York time).

        `nimrs stats notices`: the 24-hour notices to qualified persons on time, per month."""
        if context.invoked_subcommand is not None:
            return
        if user is None:  # optional here only so that `nimrs stats notices --as NAME` parses
            raise typer.BadParameter("required: who asks (a user of `nimrs users add`)", param_hint="'--as'")
        with read_models() as runtime:
            rows = runtime.reads.statistics(runtime.accounts.get(user), by=by, facility=facility, from_month=from_month,
                                            to_month=to_month)
        if as_csv:
            from projections.statistics import to_csv

            sys.stdout.write(to_csv(rows))
            return

        def render(data: list[dict[str, Any]]) -> None:
            counts = table(by, "count", title="incidents reported")
            for row in data:
                counts.add_row(row["label"], str(row["count"]))
            show(counts, wide)

        emit(rows, as_json, render)

    @stats_app.command("notices")
    @handles_errors
    def stats_notices(user: As, facility: Facility = None,
                      months: Annotated[int, typer.Option("--months", help="The last N New York months, this one "
                                                                            "included.")] = 12,
                      wide: Wide = False, as_csv: Csv = False, as_json: Json = False) -> None:
        """The 24-hour notices to qualified persons (Jonathan's Law) on time, per month of the initial report.

        Per New York month: owed, met on time, met late, waived, overdue, not yet due, and the share on time
        (met on time of those met or overdue)."""
        with read_models() as runtime:
            result = runtime.reads.notice_timeliness(runtime.accounts.get(user), facility=facility, months=months)
        if as_csv:
            from projections.notice_timeliness import to_csv

            sys.stdout.write(to_csv(result))
            return
        emit(result, as_json, lambda data: render_notices(data, wide))

    @audit_app.command("history")
    @handles_errors
    def audit_history(reference: Ref, user: As, wide: Wide = False, as_csv: Csv = False, as_json: Json = False) -> None:
        """Every event of an incident, replayed from the record: who, when, state before and after, each
        changed field (old and new) and the reason."""
        from projections.audit import incident_trail

        with session() as runtime:
            rows = incident_trail(runtime.service.history(runtime.accounts.get(user), incident_id(reference)))
        _emit_trail([{**row, "recorded_at": row["recorded_at"].isoformat()} for row in rows], as_csv, as_json, wide)

    @audit_app.command("trail")
    @handles_errors
    def audit_trail(user: As, incident: Annotated[str | None, typer.Option("--incident", help="One incident.")] = None,
                    actor: Annotated[str | None, typer.Option("--actor", help="What one user did.")] = None,
                    since: Annotated[str | None, typer.Option("--since", help="From this moment.")] = None,
                    until: Annotated[str | None, typer.Option("--until", help="Up to this moment.")] = None,
                    facility: Facility = None, limit: int = 1000, wide: Wide = False, as_csv: Csv = False,
                    as_json: Json = False) -> None:
        """The audit trail across incidents: by incident, by user, by time range."""
        with read_models() as runtime:
            rows = runtime.reads.audit_trail(runtime.accounts.get(user), incident_id=str(incident_id(incident)) if incident else None,
                                      user=actor, since=moment(since, "--since", runtime.clock()),
                                      until=moment(until, "--until", runtime.clock()),
                                      facility=facility, limit=limit)
        _emit_trail(rows, as_csv, as_json, wide)

    @audit_app.command("replay")
    @handles_errors
    def audit_replay(reference: Ref, user: As, as_of: AsOf = None,
                     version: Annotated[int | None, typer.Option("--version", help="A version instead of a time.")] = None,
                     as_json: Json = False) -> None:
        """The incident as it stood at a moment (or version): state, details, clocks then."""
        from workflows.replay import state_as_of

        with session() as runtime:
            result = state_as_of(runtime.service, runtime.accounts.get(user), incident_id(reference),
                                 as_of=moment(as_of, "--as-of", runtime.clock()),
                                 version=version)

        def render(v: dict[str, Any]) -> None:
            line(f"{v['id']} as of {local_time(v['as_of'])}: version {v['version']} of {v['latest_version']}, "
                 f"state {v['state']}, route {v['route'] or '-'}")
            for name, value in v["details"].items():
                line(f"{name}: {readable(value)}", indent=2)
            for clock in v["clocks"]:
                line(f"clock {clock['name']}: due {local_time(clock['due'])} - {clock['status']}")

        emit(result, as_json, render)

    @audit_app.command("diff")
    @handles_errors
    def audit_diff(reference: Ref, user: As,
                   start: Annotated[str, typer.Option("--from", help="A moment, or vN for version N.")],
                   end: Annotated[str | None, typer.Option("--to", help="A moment, or vN (default: now).")] = None,
                   as_json: Json = False) -> None:
        """What changed between two points: each field's old and new value, and the events in between."""
        from workflows.replay import changes_between

        with session() as runtime:
            result = changes_between(runtime.service, runtime.accounts.get(user), incident_id(reference), start=_point(start, runtime.clock()),
                                     end=_point(end, runtime.clock()))

        def render(data: dict[str, Any]) -> None:
            line(f"from v{data['from']['version']} ({local_time(data['from']['as_of'])}) "
                 f"to v{data['to']['version']} ({local_time(data['to']['as_of'])})")
            for change in data["changes"]:
                line(f"{change['field']}: {readable(change['old'])} -> {readable(change['new'])}", indent=2)
            for event in data["events"]:
                line(f"v{event['version']} {local_time(event['recorded_at'])} {event['event']} by "
                     f"{event['actor']['user_id']}", indent=2)

        emit(result, as_json, render)

    @projections_app.command("status")
    @handles_errors
    def projections_status(wide: Wide = False, as_json: Json = False) -> None:
        """Each view's position in the log, how far behind it is (events and seconds), and events it skipped."""
        with session() as runtime:
            rows = runtime.projector.status()
            failures = runtime.projector.failures()

        def render(data: list[dict[str, Any]]) -> None:
            if wide:
                views = table("view", "position", "log head", "lag (events)", "lag (s)", "as of", "failed events")
            else:  # 80 columns: the lag in one cell
                views = table("view", "position", "behind", "as of", "failed")
            for row in data:
                lag = ((str(row["log_head"]), str(row["lag_events"]), str(row["lag_seconds"])) if wide
                       else (f"{row['lag_events']} ({row['lag_seconds']} s)",))
                views.add_row(row["view"], str(row["position"]), *lag, local_time(row["as_of"]) or "-",
                              str(row["failed_events"]))
            show(views, wide)
            for failure in failures:
                line(f"{failure['view']} skipped event {failure['position']} ({failure['event_type']} of incident "
                     f"{failure['incident_id']}): {failure['error']}")

        emit(rows, as_json, render)

    @projections_app.command("run")
    @handles_errors
    def projections_run(once: Annotated[bool, typer.Option("--once", help="Catch up, then exit.")] = False,
                        workers: Annotated[int, typer.Option("--workers", help="Projector processes.")] = 1,
                        batch_size: Batch = PROJECTION_BATCH) -> None:
        """Start the projector: catch up with the log, then follow it live (Ctrl-C or SIGTERM stops it)."""
        from adapters.projection_runner import workers as projection_workers

        chosen = settings()
        if once:
            done = projection_workers.catch_up(chosen, batch_size=batch_size)
            err.print(f"caught up: {done} log entries applied")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        err.print(f"projector following {chosen.describe_database()} (views in {_describe_views(chosen)}); Ctrl-C stops")
        projection_workers.follow(chosen, stop, workers=workers, batch_size=batch_size)

    @projections_app.command("rebuild")
    @handles_errors
    def projections_rebuild(views: Annotated[list[str] | None, typer.Argument(
                                help=f"Views to rebuild: {', '.join(VIEW_NAMES)} (default: all).")] = None,
                            workers: Workers = None, batch_size: Batch = REBUILD_BATCH,
                            as_json: Json = False) -> None:
        """Drop and rebuild views from the whole log (writers may keep writing), with a progress bar."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        from adapters.projection_runner import workers as projection_workers

        names = views or list(VIEW_NAMES)
        unknown = [n for n in names if n not in VIEW_NAMES]
        if unknown:
            raise ValidationFailed(f"no view named {', '.join(unknown)}; views: {', '.join(VIEW_NAMES)}")
        chosen = settings()
        columns = (TextColumn("rebuilding {task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]} events/s"), TimeRemainingColumn())
        with Progress(*columns, console=err, disable=as_json or not err.is_terminal) as bar:
            task = bar.add_task(", ".join(names), total=None, rate="-")
            started = datetime.now()

            def progress(done: int, total: int) -> None:
                elapsed = max((datetime.now() - started).total_seconds(), 1e-6)
                bar.update(task, completed=done, total=total, rate=f"{done / elapsed:,.0f}")

            total = projection_workers.rebuild(chosen, names, workers=workers, batch_size=batch_size,
                                               progress=progress)
        seconds = (datetime.now() - started).total_seconds()
        result = {"views": names, "events": total, "seconds": round(seconds, 2),
                  "events_per_s": round(total / seconds) if seconds else None}
        emit(result, as_json, lambda r: err.print(f"rebuilt {', '.join(r['views'])}: {r['events']} log entries "
                                                  f"in {r['seconds']} s ({r['events_per_s']} events/s)"))


def render_notices(data: Mapping[str, Any], wide: bool) -> None:
    """One line per month; 80 columns hold every count."""
    notices = table("month", "owed", "on time", "late", "waived", "overdue", "not due", "share",
                    title=f"{data['facility'] or 'every facility'}: 24-hour notices to qualified persons as of "
                          f"{local_time(data['as_of'])}")
    for row in data["months"]:
        share = "-" if row["on_time_share"] is None else f"{row['on_time_share']:.0%}"
        notices.add_row(datetime.strptime(row["month"], "%Y-%m").strftime("%b %Y"), str(row["owed"]),
                        str(row["met_on_time"]), str(row["met_late"]), str(row["waived"]), str(row["overdue"]),
                        str(row["not_yet_due"]), share)
    show(notices, wide)


def _describe_views(chosen: Settings) -> str:
    return chosen.describe_views() if chosen.store_kind == "sqlite" else "the same database"
