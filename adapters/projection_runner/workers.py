"""Projector processes (``nimrs projections run|rebuild``): the views split into groups, one process per group.

Views are independent (each has its own position), so a rebuild or a live projector can use
every core: on the 2-core machines the audit trail (the heaviest view: a row per event) runs
in one process and the other views in another. Each process reads and decodes the log
itself; only the short write transactions take turns on SQLite.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Sequence
from multiprocessing.synchronize import Event as EventType
from typing import Any

from adapters.bootstrap import Runtime
from adapters.projection_runner import staging
from adapters.settings import Settings
from projections.projector import VIEW_NAMES, Progress, Projector, all_views

# Relative cost per event, measured with `nimrs bench projections` (the audit trail writes a row per event).
WEIGHTS = {"audit": 3.0, "overdue": 1.0, "board": 1.0, "statistics": 0.7}
DEFAULT_BATCH = 1000


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def split(names: Sequence[str], workers: int) -> list[list[str]]:
    """Groups of views of about equal cost, heaviest first (greedy)."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(workers, len(names))))]
    loads = [0.0] * len(groups)
    for name in sorted(names, key=lambda n: -WEIGHTS.get(n, 1.0)):
        lightest = loads.index(min(loads))
        groups[lightest].append(name)
        loads[lightest] += WEIGHTS.get(name, 1.0)
    return [group for group in groups if group]


def open_projector(runtime: Runtime, names: Sequence[str] = VIEW_NAMES, *, batch_size: int = DEFAULT_BATCH,
                   create_indexes: bool = True) -> Projector:
    views = [view for view in all_views(runtime.cipher) if view.name in names]
    return runtime.projector_for(views, batch_size=batch_size, create_indexes=create_indexes)


def _worker(settings: Settings, names: list[str], mode: str, batch_size: int, reports: Any, stop: EventType) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    # catch_up: the rebuilding parent made the tables; concurrent DDL on PostgreSQL can fail
    with Runtime(settings, create_event_tables=mode != "catch_up") as runtime:
        projector = open_projector(runtime, names, batch_size=batch_size, create_indexes=mode == "follow")
        try:
            if mode == "catch_up":
                projector.catch_up(progress=lambda done, _total: reports.put((names[0], done)), stop=stop)  # type: ignore[arg-type]
            else:
                projector.follow(stop)  # type: ignore[arg-type]
        finally:
            reports.put((names[0], None))


def _run(settings: Settings, groups: list[list[str]], mode: str, batch_size: int,
         on_report: Callable[[dict[str, int]], None] | None, stop: threading.Event | None) -> None:
    context = multiprocessing.get_context("spawn")
    reports = context.Queue()
    stop_children = context.Event()
    children = [context.Process(target=_worker, args=(settings, group, mode, batch_size, reports, stop_children),
                                daemon=True) for group in groups]
    for child in children:
        child.start()
    done: dict[str, int] = {group[0]: 0 for group in groups}
    running = len(children)
    try:
        while running:
            if stop is not None and stop.is_set():
                stop_children.set()
            try:
                name, count = reports.get(timeout=0.2)
            except queue.Empty:
                if not any(child.is_alive() for child in children):
                    break
                continue
            if count is None:
                running -= 1
            else:
                done[name] = count
                if on_report:
                    on_report(done)
    finally:
        stop_children.set()
        for child in children:
            child.join(timeout=10)
    failed = [child.exitcode for child in children if child.exitcode not in (0, None)]
    if failed:
        raise RuntimeError(f"a projector process failed (exit codes {failed})")


def rebuild(settings: Settings, names: Sequence[str], *, workers: int | None = None,
            batch_size: int = DEFAULT_BATCH, progress: Progress | None = None) -> int:
    """Rebuild the named views from the whole log into staging tables, then swap them in; returns how many
    log entries there were. Until the swap the live views keep serving; a failed rebuild changes nothing."""
    staged = staging.prepare(settings)
    try:
        with Runtime(staged) as parent_runtime:
            parent = open_projector(parent_runtime, VIEW_NAMES, batch_size=batch_size)
            parent.reset(names)  # without secondary indexes: a bulk load is faster, indexed afterwards
            total = parent.lag_events()
            groups = split(list(names), workers or default_workers())
            if len(groups) == 1:
                with Runtime(staged) as runtime:
                    open_projector(runtime, groups[0], batch_size=batch_size, create_indexes=False).catch_up(progress)
            else:
                def report(done: dict[str, int]) -> None:
                    if progress:
                        progress(min(done.values()), total)

                _run(staged, groups, "catch_up", batch_size, report, None)
            parent.ensure_indexes()
        with Runtime(settings) as live:
            live.views_engine  # noqa: B018 - brings the live views' tables to the newest schema before the swap
        staging.swap_in(settings, names)
        return total
    finally:
        staging.discard(settings)


def follow(settings: Settings, stop: threading.Event, *, workers: int = 1, batch_size: int = DEFAULT_BATCH,
           on_batch: Callable[[int], None] | None = None) -> None:
    """Run the projector(s) until ``stop`` is set: catch up, then follow the log live."""
    groups = split(list(VIEW_NAMES), workers)
    with Runtime(settings) as runtime:
        parent = open_projector(runtime, VIEW_NAMES, batch_size=batch_size)  # creates tables and positions once
        if len(groups) == 1:
            parent.follow(stop, on_batch=on_batch)
            return
    _run(settings, groups, "follow", batch_size, None, stop)


def catch_up(settings: Settings, *, batch_size: int = DEFAULT_BATCH) -> int:
    """Bring every view up to date with the log, in this process, and stop."""
    with Runtime(settings) as runtime:
        return open_projector(runtime, VIEW_NAMES, batch_size=batch_size).catch_up()
