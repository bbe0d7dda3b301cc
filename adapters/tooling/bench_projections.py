"""``nimrs bench projections``: rebuild speed against the library's own read-and-decode rate of the
same log (same run, same store), memory, query latency at size, and live lag.

- rebuild: every view dropped and rebuilt from a synthetic log of N events (the default worker
  count), alternating with the baseline (the library's ``select_notifications`` and
  ``mapper.to_domain_event`` over the same log); the median of the per-round ratios decides.
  Targets by store (issue 13): ``rebuild_ratio`` at least 0.5 on SQLite and 0.4 on PostgreSQL, and
  ``rebuild_1m_seconds`` (the rate at N events, scaled to 1M) at most 20 s on SQLite and 30 s on
  PostgreSQL.
- peak_rss_mb: the largest resident size of a process that loaded views (the rebuild streams).
- overdue_page_p95_ms / board_p95_ms: the supervisor's first page and board, over view tables
  holding ``--query-incidents`` incidents (default 1M; rows written straight into a second views
  database, since the query cost depends on the table, not on how it was filled).
- clock_scan_p95_ms: the clock process's scan for obligations due soon or missed (two range scans of partial
  indexes on due and warning times, at most 500 incidents), over the same tables; target 1 s.
- live_lag_p95_s: a following projector, from an event's save to its view position.

``targets`` in the output names the bound each figure was held to on the store measured.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from typing import Any

from adapters.bootstrap import Runtime, open_service
from adapters.projection_runner.workers import default_workers, rebuild
from adapters.settings import Settings, load_settings
from adapters.tooling.bench import bench_database
from adapters.tooling.synthetic import Generator, Plan, facility_name
from domain.actor import Actor
from domain.lifecycle import State
from domain.obligations.sets import CHARTS_ONLY
from domain.vocabulary import ClockName, Level
from projections import board, open_obligations, overdue
from projections.projector import VIEW_NAMES, Projector
from projections.view import Counters, Rows, execute

Target = tuple[str, float]  # (">=" or "<=", bound)
# A target, or one per store ("sqlite", "postgres").
TARGETS: dict[str, Target | dict[str, Target]] = {
    "rebuild_ratio": {"sqlite": (">=", 0.5), "postgres": (">=", 0.4)},
    "rebuild_1m_seconds": {"sqlite": ("<=", 20.0), "postgres": ("<=", 30.0)},
    "overdue_page_p95_ms": ("<=", 2.0), "board_p95_ms": ("<=", 5.0), "live_lag_p95_s": ("<=", 1.0),
    "clock_scan_p95_ms": ("<=", 1000.0)}
NOW = datetime(2026, 11, 1, 12, tzinfo=timezone.utc)


def targets(store: str) -> dict[str, Target]:
    """The targets a run on ``store`` is held to."""
    return {name: target[store] if isinstance(target, dict) else target for name, target in TARGETS.items()}


def _baseline_read(settings: Settings) -> float:
    """Seconds for the library alone to read and decode the whole log, page by page."""
    service = open_service(settings)
    try:
        started, position = time.perf_counter(), 0
        while notifications := service.store.recorder.select_notifications(position, 1000, inclusive_of_start=False):
            for notification in notifications:
                service.store.mapper.to_domain_event(notification)
            position = notifications[-1].id
        return time.perf_counter() - started
    finally:
        service.store.close()


def _rebuild_rounds(settings: Settings, events: int, rounds: int, workers: int) -> dict[str, Any]:
    ratios, rates, baselines = [], [], []
    peaks: list[float] = []
    for _ in range(rounds):
        baseline = _baseline_read(settings)
        started = time.perf_counter()
        rebuild(settings, VIEW_NAMES, workers=workers, peaks_mb=peaks)
        seconds = time.perf_counter() - started
        ratios.append(baseline / seconds)
        rates.append(events / seconds)
        baselines.append(events / baseline)
    rate = statistics.median(rates)
    return {"rebuild_ratio": statistics.median(ratios), "rebuild_events_per_s": rate,
            "baseline_events_per_s": statistics.median(baselines),
            "rebuild_1m_seconds": 1_000_000 / rate, "rebuild_workers": workers,
            "peak_rss_mb": max(peaks, default=0.0)}


def fill_views_at_size(projector: Projector, incidents: int, facilities: int) -> None:
    """Overdue clocks and board rows for ``incidents`` incidents, written straight into the tables."""
    rng = random.Random(1)
    dialect = projector.engine.dialect.name
    clock_rows, board_rows = Rows(overdue.clocks), Rows(board.incidents)
    state_counts: dict[tuple[Any, ...], int] = {}
    due_counts: dict[tuple[Any, ...], int] = {}
    chunk = 50_000
    for start in range(0, incidents, chunk):
        clocks, rows = [], []
        for n in range(start, min(start + chunk, incidents)):
            key, facility = f"{n:08x}-0000-4000-8000-{n:012x}", facility_name(1 + n % facilities)
            reported = NOW - timedelta(days=rng.uniform(0, 3 * 365))
            due = (reported + timedelta(days=45)).replace(hour=4, minute=59, second=59, microsecond=999999)
            met = reported + timedelta(days=rng.uniform(5, 80)) if rng.random() < 0.9 else None
            state = State.CLOSED if met else rng.choice([State.UNDER_INVESTIGATION, State.EMAILED_TO_OMH])
            investigation = ClockName.INVESTIGATION.value
            clocks.append({"incident_id": key, "key": investigation, "clock": investigation, "facility": facility,
                           "program": "Unit", "jc_case_number": f"SYN-{n}", "code": "an.neglect", "length": 45,
                           "unit": "calendar_days", "provisional": False, "start_at": reported, "due_at": due,
                           "warn_at": due - timedelta(hours=48), "set_at": reported, "met_at": met, "waived_at": None,
                           # the clock process has recorded what was due by now (a steady state)
                           "due_soon_recorded_at": None if met or due - timedelta(hours=48) > NOW else due - timedelta(hours=48),
                           # what fell due in the last day is still the clock process's to record (its scan's work)
                           "missed_recorded_at": None if met or due > NOW - timedelta(days=1) else due})
            rows.append({"incident_id": key, "facility": facility, "state": state, "since": met or reported,
                         "jc_case_number": f"SYN-{n}", "code": "an.neglect", "obligations": CHARTS_ONLY,
                         "open_obligations": None if met else open_obligations.encode({investigation: (investigation, due)}),
                         "report_of_death_submitted": False, "closed_once": bool(met)})
            state_counts[(facility, state)] = state_counts.get((facility, state), 0) + 1
            if not met:
                due_key = (facility, ClockName.INVESTIGATION.value, due)
                due_counts[due_key] = due_counts.get(due_key, 0) + 1
        with projector.engine.begin() as connection:
            execute(connection, [clock_rows.upsert(dialect, clocks, insert_only=True),
                                 board_rows.upsert(dialect, rows, insert_only=True)])
    with projector.engine.begin() as connection:
        execute(connection, [*Counters(board.states, ("facility", "state")).writes(dialect, state_counts),
                             *Counters(board.open_clocks, ("facility", "clock", "due_at")).writes(dialect, due_counts)])
        connection.exec_driver_sql("ANALYZE")


def _p95_ms(query: Callable[[], object], repeats: int = 300) -> float:
    for _ in range(20):
        query()  # warm the caches, as a running server's are
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        query()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.quantiles(samples, n=20)[-1]


def _queries_at_size(views_url: str, incidents: int, facilities: int = 50) -> dict[str, Any]:
    with Runtime(load_settings({"NIMRS_DATABASE_URL": views_url, "NIMRS_VIEWS_URL": views_url}), lambda: NOW) as runtime:
        fill_views_at_size(runtime.projector, incidents, facilities)  # the runtime made the tables
        reads = runtime.reads
        rng = random.Random(2)

        def supervisor() -> Actor:
            return Actor("supervisor", facility_name(1 + rng.randrange(facilities)), Level.READER)

        return {"query_incidents": incidents,
                "overdue_page_p95_ms": _p95_ms(lambda: reads.overdue(supervisor(), limit=50)),
                "board_p95_ms": _p95_ms(lambda: reads.board(supervisor())),
                # the clock process's scan for obligations due soon or missed (a pass reads at most 500 incidents)
                "clock_scan_p95_ms": _p95_ms(lambda: reads.pending_clock_alerts(500), repeats=100),
                "clock_scan_incidents": len(reads.pending_clock_alerts(500))}


def _live_lag(settings: Settings, samples: int = 40) -> dict[str, Any]:
    service = open_service(settings)
    runtime = Runtime(settings)
    projector = runtime.projector
    stop = threading.Event()
    follower = threading.Thread(target=projector.follow, args=(stop,), daemon=True)
    follower.start()
    lags = []
    try:
        projector.catch_up()
        batches = Generator(Plan(incidents=samples * 2, end=NOW + timedelta(days=400), seed=99, save_every=2))._batches()
        for batch in batches:
            recordings = service.store.save(*batch)
            if not recordings:
                continue
            saved = time.perf_counter()
            target = recordings[-1].notification.id
            while min(p.position for p in projector.positions().values()) < target:
                time.sleep(0.002)
            lags.append(time.perf_counter() - saved)
            if len(lags) >= samples:
                break
            time.sleep(0.05)  # events arrive one batch at a time, as from people
    finally:
        stop.set()
        follower.join(timeout=10)
        runtime.close()
        service.store.close()
    return {"live_lag_p95_s": statistics.quantiles(lags, n=20)[-1], "live_lag_max_s": max(lags)}


def run_projections_bench(store: str, events: int, query_incidents: int, rounds: int,
                          workers: int | None = None) -> dict[str, Any]:
    with ExitStack() as stack:
        url = stack.enter_context(bench_database(store))
        settings = load_settings({"NIMRS_DATABASE_URL": url})
        service = open_service(settings, clock=lambda: NOW)
        made = Generator(Plan.for_events(events, NOW, facilities=20, save_every=500)).run(service)
        service.store.close()
        figures: dict[str, Any] = {"store": store, "events": made.events, "incidents": made.incidents}
        figures |= _rebuild_rounds(settings, made.events, rounds, workers or default_workers())
        figures |= _live_lag(settings)
        figures |= _queries_at_size(stack.enter_context(bench_database(store)), query_incidents)
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    held_to = targets(store)
    figures["targets"] = {name: f"{op} {bound}" for name, (op, bound) in held_to.items()}
    figures["targets_met"] = {name: (figures[name] <= bound if op == "<=" else figures[name] >= bound)
                              for name, (op, bound) in held_to.items()}
    return figures
