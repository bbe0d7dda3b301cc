"""``nimrs bench cli``: the command line's wall time as a user meets it, one process per command.

On a SQLite store of N synthetic incidents (and a Level 1 account to ask as, given by ``NIMRS_USER`` as a user
would), each command runs as its own process: ``nimrs show ID --json``, ``nimrs overdue --json`` and
``nimrs --help``, the median of several runs after one warm-up; beside them a bare ``python -c pass``, the floor
any Python command stands on. The views are brought up to date first, as a server or ``nimrs projections run``
keeps them: ``overdue`` is timed answering, not catching up with the whole synthetic log.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from adapters.bootstrap import Runtime, open_service
from adapters.settings import PREFIX, env_name, load_settings
from adapters.tooling.bench import bench_database
from adapters.tooling.synthetic import Generator, Plan, facility_name

TARGETS = {"cli_show_seconds": ("<=", 0.25)}
USER = "bench.l1"
FACILITY = facility_name(1)


def nimrs_command() -> list[str]:
    """The console script beside this interpreter (as a user runs it), or the module where there is none."""
    script = Path(sys.executable).with_name("nimrs")
    return [str(script)] if script.exists() else [sys.executable, "-m", "adapters.cli.main"]


def bench_environment(url: str) -> dict[str, str]:
    """This process's environment without its own ``NIMRS_*`` settings (no other store is touched), on ``url``."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith(PREFIX)}
    return {**kept, env_name("database_url"): url, env_name("user"): USER}


def _prepare(environ: Mapping[str, str], incidents: int) -> tuple[str, int]:
    """The store's incidents and views, and the account; an incident of the account's facility, and the events."""
    end = datetime.now(timezone.utc) - timedelta(days=1)
    settings = load_settings(environ)
    service = open_service(settings, clock=lambda: end)
    try:
        made = Generator(Plan(incidents=incidents, end=end, save_every=500)).run(service)
    finally:
        service.store.close()
    with Runtime(settings) as runtime:
        runtime.accounts.add(USER, FACILITY, 1)
        runtime.projector.catch_up()
        listed = runtime.reads.incidents(runtime.accounts.get(USER), limit=50)["incidents"]
    if not listed:
        raise RuntimeError(f"no synthetic incident in {FACILITY}: generate more incidents")
    return str(listed[-1]["incident_id"]), made.events


def seconds_to_run(command: Sequence[str], environ: Mapping[str, str], runs: int) -> float:
    """Median wall time of ``command`` as a new process, after one warm-up run (which fills the OS's file cache)."""
    timings = []
    for attempt in range(runs + 1):
        started = time.perf_counter()
        done = subprocess.run(command, env=dict(environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=120, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr[-500:]}")
        if attempt:
            timings.append(elapsed)
    return statistics.median(timings)


def run_cli_bench(incidents: int = 10_000, runs: int = 7) -> dict[str, Any]:
    with bench_database("sqlite") as url:
        environ = bench_environment(url)
        incident, events = _prepare(environ, incidents)
        nimrs = nimrs_command()
        figures: dict[str, Any] = {"store": "sqlite", "incidents": incidents, "events": events, "runs": runs}
        for name, arguments in (("cli_show_seconds", ["show", incident, "--json"]),
                                ("cli_overdue_seconds", ["overdue", "--json"]),
                                ("cli_help_seconds", ["--help"])):
            figures[name] = seconds_to_run([*nimrs, *arguments], environ, runs)
        figures["python_startup_seconds"] = seconds_to_run([sys.executable, "-c", "pass"], environ, runs)
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    figures["targets_met"] = {name: (figures[name] <= bound if op == "<=" else figures[name] >= bound)
                              for name, (op, bound) in TARGETS.items()}
    return figures
