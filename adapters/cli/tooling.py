"""Commands shipped on purpose for demos and measurements: ``nimrs demo``, ``nimrs generate``, ``nimrs bench``.

Their code lives in ``adapters.tooling``, imported only when one of these commands runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.support import emit, handles_errors, out, session
from domain.errors import ValidationFailed

Json = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def register(app: typer.Typer) -> None:  # noqa: C901 - one small function per command
    bench_app = typer.Typer(help="Benchmarks printing JSON ratios against a baseline run in the same process.",
                            no_args_is_help=True)
    app.add_typer(bench_app, name="bench")

    @app.command()
    @handles_errors
    def demo(
        db: Annotated[Path, typer.Option(help="SQLite file for the demo (replaced if it exists).")] = Path("nimrs-demo.db"),
        as_json: Json = False,
    ) -> None:
        """Walk sample incidents through the workflow on a fresh SQLite file and show where they stand."""
        from adapters.tooling.demo import run_demo

        emit(run_demo(db), as_json, lambda result: out.print(result["text"]))

    @app.command("generate")
    @handles_errors
    def generate(incidents: Annotated[int, typer.Option("--incidents", help="How many incidents.")] = 1000,
                 facilities: Annotated[int, typer.Option("--facilities", help="Spread over this many facilities "
                                                                           "(F-001, F-002, ...).")] = 5,
                 days: Annotated[int, typer.Option("--days", help="Arriving over this many days, up to now.")] = 365,
                 seed: Annotated[int, typer.Option("--seed", help="Same seed, same histories.")] = 2026,
                 as_json: Json = False) -> None:
        """Synthetic incident histories (the chart's type mix; clocks met on time, late, or never) for demos
        and benchmarks. Adds each facility's users: risk.F-001 (Level 1), clinical.F-001 (Level 2) and
        analyst.F-001 (Level 3), and so on."""
        from adapters.tooling.synthetic import Generator, Plan, facility_name, users_for

        if incidents < 1 or facilities < 1 or days < 1:
            raise ValidationFailed("--incidents, --facilities and --days must be at least 1")
        with session() as runtime:
            service = runtime.service
            plan = Plan(incidents=incidents, end=service.clock(), facilities=facilities, span_days=days, seed=seed)
            made = Generator(plan).run(service)
            for number in range(1, facilities + 1):
                for user in users_for(facility_name(number)):
                    runtime.accounts.ensure(user)
        result = {"incidents": made.incidents, "events": made.events, "facilities": facilities}
        emit(result, as_json, lambda r: out.print(f"generated {r['incidents']} incidents ({r['events']} events) "
                                                   f"in {r['facilities']} facilities"))

    @bench_app.command("core")
    @handles_errors
    def bench_core(
        store: Annotated[str, typer.Option(help="sqlite or postgres (PostgreSQL from NIMRS_BENCH_POSTGRES_URL or local).")] = "sqlite",
        reports: Annotated[int, typer.Option(help="VPCR reports for the bulk-import figure.")] = 10_000,
        as_json: Json = False,
    ) -> None:
        """Command path, load and bulk-import ratios against bare eventsourcing on the same store."""
        from adapters.tooling.bench import run_core_bench

        emit(run_core_bench(store, reports), True)

    @bench_app.command("projections")
    @handles_errors
    def bench_projections(
        store: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
        events: Annotated[int, typer.Option(help="Size of the synthetic log to rebuild.")] = 100_000,
        query_incidents: Annotated[int, typer.Option(help="Incidents in the views for the query figures.")] = 1_000_000,
        rounds: Annotated[int, typer.Option(help="Rebuild rounds (each against its own baseline read).")] = 3,
        workers: Annotated[int | None, typer.Option(help="Rebuild processes (default: one per core, up to 2).")] = None,
        as_json: Json = False,
    ) -> None:
        """Rebuild rate over the library's read-and-decode rate, memory, overdue/board latency, live lag."""
        from adapters.tooling.bench_projections import run_projections_bench

        emit(run_projections_bench(store, events, query_incidents, rounds, workers), True)

    @bench_app.command("http")
    @handles_errors
    def bench_http(
        store: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
        events: Annotated[int, typer.Option(help="Size of the synthetic log (the feed pages through all of it).")] = 100_000,
        seconds: Annotated[float, typer.Option(help="Length of each measured block of requests.")] = 3.0,
        rounds: Annotated[int, typer.Option(help="Alternating blocks per side.")] = 3,
        workers: Annotated[int, typer.Option(help="Server processes for the commands figure (PostgreSQL for more "
                                                  "than one).")] = 1,
        as_json: Json = False,
    ) -> None:
        """HTTP reads over plain Starlette, commands per second, feed over the library's read-and-decode."""
        from adapters.tooling.bench_http import run_http_bench

        emit(run_http_bench(store, events, seconds, rounds, workers), True)

    @bench_app.command("load")
    @handles_errors
    def bench_load(
        store: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
        seconds: Annotated[float, typer.Option(help="Measured seconds, after a 5 s warm-up.")] = 60.0,
        clients: Annotated[int, typer.Option(help="Clients at once, each one request at a time.")] = 16,
        events: Annotated[int, typer.Option(help="Size of the synthetic log served.")] = 20_000,
        as_json: Json = False,
    ) -> None:
        """A mixed workload (60% reads, 25% edits, 15% creates) against `nimrs serve`: requests/s, latency
        percentiles and errors."""
        from adapters.tooling.bench_load import run_load_bench

        emit(run_load_bench(store, seconds, clients, events), True)

    @bench_app.command("web")
    @handles_errors
    def bench_web(
        store: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
        incidents: Annotated[int, typer.Option("--incidents", help="Incidents in the views (the targets are "
                                                                   "set at 1M).")] = 1_000_000,
        requests: Annotated[int, typer.Option(help="Timed requests per page and per JSON endpoint.")] = 200,
        updates: Annotated[int, typer.Option(help="Changes timed until an open board shows them.")] = 20,
        as_json: Json = False,
    ) -> None:
        """Board, incident and overdue pages over the JSON API serving the same data; live board update latency."""
        from adapters.tooling.bench_web import run_web_bench

        emit(run_web_bench(store, incidents, requests, updates), True)

    @bench_app.command("cli")
    @handles_errors
    def bench_cli(
        incidents: Annotated[int, typer.Option("--incidents", help="Incidents in the SQLite store (the target is "
                                                                   "set at 10,000).")] = 10_000,
        runs: Annotated[int, typer.Option(help="Timed runs of each command, after one warm-up.")] = 7,
        as_json: Json = False,
    ) -> None:
        """Wall time of `nimrs show`, `nimrs overdue` and `nimrs --help`, each a new process, and of a bare Python."""
        from adapters.tooling.bench_cli import run_cli_bench

        if incidents < 1 or runs < 1:
            raise ValidationFailed("--incidents and --runs must be at least 1")
        emit(run_cli_bench(incidents, runs), True)

    @bench_app.command("stream")
    @handles_errors
    def bench_stream(
        store: Annotated[str, typer.Option(help="sqlite or postgres.")] = "sqlite",
        clients: Annotated[int, typer.Option("--clients", help="Live event streams open at once (the targets are "
                                                               "set at 500).")] = 500,
        idle_seconds: Annotated[float, typer.Option(help="Length of each idle CPU measurement.")] = 10.0,
        writes: Annotated[int, typer.Option(help="Commands whose events are timed to every stream.")] = 20,
        as_json: Json = False,
    ) -> None:
        """Idle server CPU with N event streams open, delivery latency to all of them, and GET /incidents/{id} p95
        with the streams open over none."""
        from adapters.tooling.bench_stream import run_stream_bench

        if clients < 1 or writes < 1 or idle_seconds <= 0:
            raise ValidationFailed("--clients and --writes must be at least 1, --idle-seconds more than 0")
        emit(run_stream_bench(store, clients, idle_seconds, writes), True)
