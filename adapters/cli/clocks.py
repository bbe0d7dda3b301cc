"""``nimrs clocks run``: the clock process. Each pass brings the views up to date, then records ClockDueSoon
and ClockMissed for every obligation whose warning or due time has passed (``workflows.clocks``): exactly once per
obligation and due time, whatever kills it."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer

from adapters.cli.support import emit, err, handles_errors, out, settings
from domain.errors import ValidationFailed

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def register(app: typer.Typer) -> None:
    clocks_app = typer.Typer(help="The clock process: obligations due soon or missed, recorded as events.",
                             no_args_is_help=True)
    app.add_typer(clocks_app, name="clocks")

    @clocks_app.command("run")
    @handles_errors
    def clocks_run(
        once: Annotated[bool, typer.Option("--once", help="One pass, then stop.")] = False,
        interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 30.0,
        batch: Annotated[int, typer.Option(help="Incidents looked at per pass, at most.")] = 500,
        as_json: Json = False,
    ) -> None:
        """Record when obligations become due soon and when they are missed, until stopped (Ctrl-C or SIGTERM),
        or once."""
        from adapters.bootstrap import Runtime

        if interval <= 0 or not 1 <= batch <= 10_000:
            raise ValidationFailed("--interval must be positive and --batch 1-10000")
        chosen = settings()
        with Runtime(chosen) as runtime:
            process = runtime.clock_process(batch=batch)
            if once:
                runtime.projector.catch_up()
                done = process.run_once()
                emit({"incidents": done.incidents, "due_soon": done.due_soon, "missed": done.missed}, as_json,
                     lambda d: out.print(f"looked at {d['incidents']} incidents: {d['due_soon']} due soon, "
                                         f"{d['missed']} missed recorded"))
                return
            err.print(f"recording clocks in {chosen.describe_database()} every {interval:g} s (Ctrl-C stops)",
                      highlight=False)
            stop = threading.Event()
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
            while not stop.is_set():
                try:
                    runtime.projector.catch_up()
                    done = process.run_once()
                except Exception as error:  # noqa: BLE001 - the store away for a moment: say so (no details), try again
                    err.print(f"clock pass failed ({type(error).__name__}); trying again in {interval:g} s", highlight=False)
                    stop.wait(interval)
                    continue
                if done.due_soon or done.missed:
                    err.print(f"{done.due_soon} due soon, {done.missed} missed recorded", highlight=False)
                # a full batch may mean more work: go on at once, unless it found nothing to record (the view lags)
                stop.wait(0 if done.incidents >= batch and (done.due_soon or done.missed) else interval)
