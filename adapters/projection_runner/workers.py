"""Projector processes (``nimrs projections run|rebuild``): the views split into groups, one process per group.

Views are independent (each has its own position), so a rebuild or a live projector can use
every core: on the 2-core machines the audit trail (the heaviest view: a row per event) runs
in one process and the other views in another. Each process reads and decodes the log
itself; only the short write transactions take turns on SQLite.

The processes are forked from a server process that has imported this module once
(multiprocessing's "forkserver"), so a rebuild's processes start at once rather than each importing
the application again; the server starts with the first of them and serves every later one.

A rebuild's processes are the only writers of their fresh staging tables: their projectors are
exclusive (the views remember what they wrote, PostgreSQL loads with COPY), read the log in batches of
``REBUILD_BATCH`` events with a lean reader (``log_reader``), index their own tables once loaded, and
keep the garbage collector off the objects that live through the load.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import resource
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.context import ForkServerContext
from multiprocessing.synchronize import Event as EventType
from typing import Any

from adapters.bootstrap import Runtime
from adapters.projection_runner import staging
from adapters.projection_runner.log_reader import log_reader
from adapters.settings import Settings
from projections.projector import VIEW_NAMES, Progress, Projector, all_views

# Relative cost per event beyond reading the log, measured with `nimrs bench projections` (the audit trail writes a
# row per event and indexes them four ways): on 2 cores the audit trail loads alone, the other views together.
WEIGHTS = {"audit": 3.4, "overdue": 1.0, "board": 0.9, "incident_list": 0.9, "statistics": 0.5}
DEFAULT_BATCH = 1000
REBUILD_BATCH = 20_000  # a rebuild's events per transaction: each incident's rows written fewer times
# A load allocates millions of objects that live until the batch is written: collect them rarely.
LOAD_GC_THRESHOLD = 50_000


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


def open_loader(runtime: Runtime, names: Sequence[str], batch_size: int) -> Projector:
    """The exclusive projector of a rebuild's staging views ``names`` (their tables made, not yet indexed)."""
    staging.tune_for_load(runtime.views_engine)
    views = [view for view in all_views(runtime.cipher) if view.name in names]
    return Projector(runtime.store, runtime.views_engine, views, batch_size=batch_size, clock=runtime.clock,
                     cipher=runtime.cipher, exclusive=True, read=log_reader(runtime.store.recorder))


@contextmanager
def few_collections() -> Iterator[None]:
    """The collector leaves alone what exists now (the modules, the runtime) and runs rarely meanwhile."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(LOAD_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def load(settings: Settings, names: Sequence[str], batch_size: int, progress: Progress | None = None,
         stop: threading.Event | EventType | None = None) -> int:
    """Load the staging views ``names`` from the whole log and index them (a rebuild's part, in this process)."""
    with Runtime(settings, create_event_tables=False) as runtime, few_collections():
        projector = open_loader(runtime, names, batch_size)
        read = projector.catch_up(progress, stop=stop)  # type: ignore[arg-type]
        if not (stop and stop.is_set()):
            projector.ensure_indexes()
        return read


def peak_resident_mb() -> float:
    """The most memory this process has held (its peak resident size), in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(settings: Settings, names: list[str], mode: str, batch_size: int, reports: Any, stop: EventType) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    try:
        if mode == "rebuild":  # the rebuilding parent made the tables; concurrent DDL on PostgreSQL can fail
            load(settings, names, batch_size, lambda done, _total: reports.put((names[0], done, None)), stop)
        else:
            with Runtime(settings) as runtime:
                open_projector(runtime, names, batch_size=batch_size).follow(stop)  # type: ignore[arg-type]
    finally:
        reports.put((names[0], None, peak_resident_mb()))  # done


def _context() -> ForkServerContext:
    """Forked from a server process that imported the application once (and the parent's main module, as a spawned
    process would): never from this process, whose threads and open databases a fork would copy."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", __name__])
    return context


def _run(settings: Settings, groups: list[list[str]], mode: str, batch_size: int,
         on_report: Callable[[dict[str, int]], None] | None, stop: threading.Event | None) -> list[float]:
    """Run a process per group until each is done (or ``stop`` is set); each one's peak resident size (MiB)."""
    context = _context()
    reports = context.Queue()
    stop_children = context.Event()
    children = [context.Process(target=_worker, args=(settings, group, mode, batch_size, reports, stop_children),
                                daemon=True) for group in groups]
    for child in children:
        child.start()
    done: dict[str, int] = {group[0]: 0 for group in groups}
    peaks: list[float] = []
    try:
        while len(peaks) < len(children):
            if stop is not None and stop.is_set():
                stop_children.set()
            try:
                name, count, peak = reports.get(timeout=0.2)
            except queue.Empty:
                if not any(child.is_alive() for child in children):
                    break
                continue
            if count is None:
                peaks.append(peak)
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
    return peaks


def rebuild(settings: Settings, names: Sequence[str], *, workers: int | None = None,
            batch_size: int = REBUILD_BATCH, progress: Progress | None = None,
            peaks_mb: list[float] | None = None) -> int:
    """Rebuild the named views from the whole log into staging tables, then swap them in; returns how many
    log entries there were. Until the swap the live views keep serving; a failed rebuild changes nothing.
    ``peaks_mb``, if given, gets the peak resident size of each process that loaded views (MiB)."""
    staged = staging.prepare(settings)
    try:
        with Runtime(staged) as parent_runtime:
            parent = open_projector(parent_runtime, VIEW_NAMES, batch_size=batch_size)
            parent.reset(names)  # without secondary indexes: a bulk load is faster, indexed afterwards
            total = parent.lag_events()
            groups = split(list(names), workers or default_workers())
            if len(groups) == 1:
                load(staged, groups[0], batch_size, progress)
                loaded = [peak_resident_mb()]
            else:
                def report(done: dict[str, int]) -> None:
                    if progress:
                        progress(min(done.values()), total)

                loaded = _run(staged, groups, "rebuild", batch_size, report, None)
            parent.ensure_indexes()  # each process indexed its own: this finds nothing left to do
        with Runtime(settings) as live:
            live.views_engine  # noqa: B018 - brings the live views' tables to the newest schema before the swap
        staging.swap_in(settings, names)
        if peaks_mb is not None:
            peaks_mb += loaded
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
