"""``nimrs bench core``: the project's costs as ratios over bare eventsourcing on the same store.

Both sides run in this process on the same database, in interleaved blocks (the median
block decides), so the ratios hold on a noisy machine where absolute times do not. The command
path is also set against its CRUD peer (``adapters.tooling.crud_peer``): the same step as a
conventional ORM app with an audit table does it, on the same store, in the same blocks.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from adapters.bootstrap import open_service
from adapters.persistence.event_store import event_store_env
from adapters.settings import load_settings, parse_database_url
from adapters.tooling import crud_peer
from adapters.tooling.crud_peer import CrudPeer
from adapters.tooling.samples import complete_details, vpcr_report
from domain.actor import Actor
from domain.vocabulary import Level
from workflows.service import MAX_BULK_REPORTS, IncidentService

EDITOR = Actor("bench.editor", "F-BENCH", Level.EDITOR)
TARGETS = {"command_path_ratio": ("<=", 1.5), "crud_ratio": ("<=", 1.0), "load_ratio": ("<=", 1.2),
           "bulk_import_speedup": (">=", 3.0)}


class Tally(Aggregate):
    """The baseline: a trivial aggregate with one trivial event."""

    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class Baseline(Application[uuid.UUID]):
    name = "baseline"


@contextmanager
def bench_database(store: str) -> Iterator[str]:
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="nimrs-bench-") as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    if store != "postgres":
        raise ValueError(f"--store must be sqlite or postgres, got {store!r}")
    import psycopg

    admin_url = parse_database_url(load_settings().bench_postgres_url, postgres_only=True).set(drivername="postgresql")
    name = f"nimrs_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url.render_as_string(hide_password=False), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def interleaved(*sides: Callable[[], object], blocks: int, per_block: int) -> tuple[float, ...]:
    """Median seconds per operation of each side, alternating blocks so drift hits every side alike."""
    samples: list[list[float]] = [[] for _ in sides]
    for _ in range(blocks):
        for side, times in zip(sides, samples, strict=True):
            started = time.perf_counter()
            for _ in range(per_block):
                side()
            times.append((time.perf_counter() - started) / per_block)
    return tuple(statistics.median(times) for times in samples)


def _drafts(service: IncidentService, count: int, prefix: str) -> list[uuid.UUID]:
    now = service.clock()
    reports = [vpcr_report(f"{prefix}-{n:06}", now - timedelta(days=1), facility=EDITOR.facility) for n in range(count)]
    service.receive_vpcr_reports(EDITOR, reports)
    for report in reports:
        service.import_report(EDITOR, report.incident_id)
        for screen, fields in complete_details(now - timedelta(days=2)):
            service.record_details(EDITOR, report.incident_id, screen, fields)
    return [r.incident_id for r in reports]


def _tallies(baseline: Baseline, count: int, length: int) -> list[uuid.UUID]:
    tallies = [Tally() for _ in range(count)]
    for tally in tallies:
        for _ in range(length - 1):
            tally.count_one()
    baseline.save(*tallies)
    return [t.id for t in tallies]


def _round_robin(ids: list[uuid.UUID]) -> Callable[[], uuid.UUID]:
    position = [0]

    def next_id() -> uuid.UUID:
        position[0] = (position[0] + 1) % len(ids)
        return ids[position[0]]

    return next_id


def _crud_rows(service: IncidentService, incidents: list[uuid.UUID]) -> list[crud_peer.Incident]:
    """The drafts as a CRUD app would hold them: the same facility, state and details."""
    now = service.clock()
    return [crud_peer.Incident(id=i.id, facility=i.facility, state=i.state.value, details=dict(i.details),
                               updated_at=now, updated_by=EDITOR.user_id)
            for i in map(service.load, incidents)]


def command_path(service: IncidentService, baseline: Baseline, peer: CrudPeer) -> dict[str, float]:
    """One workflow step (record a detail on a draft): load, decide, save; vs load, trivial event, save;
    and vs the CRUD peer's load, check, update with the version checked, audit row."""
    incidents = _drafts(service, 40, "CMD")
    length = service.load(incidents[0]).version
    tallies = _tallies(baseline, 40, length)
    peer.add(_crud_rows(service, incidents))
    next_incident, next_tally, next_row, counter = (_round_robin(incidents), _round_robin(tallies),
                                                    _round_robin(incidents), [0])

    def project() -> None:
        counter[0] += 1
        service.record_details(EDITOR, next_incident(), "narrative", {"narrative": f"Account revision {counter[0]}"})

    def bare() -> None:
        tally: Tally = baseline.repository.get(next_tally())
        tally.count_one()
        baseline.save(tally)

    def crud() -> None:
        counter[0] += 1
        peer.record_details(EDITOR, next_row(), "narrative", {"narrative": f"Account revision {counter[0]}"})

    mine, theirs, conventional = interleaved(project, bare, crud, blocks=9, per_block=40)
    return {"command_path_ratio": mine / theirs, "command_path_us": mine * 1e6, "baseline_command_us": theirs * 1e6,
            "crud_ratio": mine / conventional, "crud_command_us": conventional * 1e6,
            "events_per_aggregate_at_start": length}


def load(service: IncidentService, baseline: Baseline) -> dict[str, float]:
    """Loading a 50-event incident vs a bare repository.get of a 50-event trivial aggregate."""
    (incident,) = _drafts(service, 1, "LOAD")
    for n in range(50 - service.load(incident).version):
        service.record_details(EDITOR, incident, "narrative", {"narrative": f"Revision {n}"})
    assert service.load(incident).version == 50
    (tally,) = _tallies(baseline, 1, 50)
    mine, theirs = interleaved(lambda: service.load(incident), lambda: baseline.repository.get(tally), blocks=15,
                               per_block=60)
    return {"load_ratio": mine / theirs, "load_us": mine * 1e6, "baseline_load_us": theirs * 1e6}


def grouped_commands(service: IncidentService, threads: int = 16, drafts_per_thread: int = 4,
                     commands_per_draft: int = 4, rounds: int = 3) -> dict[str, float]:
    """Commands per second from ``threads`` threads at once (their saves share transactions:
    adapters/persistence/group_commit.py) over one thread's, in this process, below HTTP. Each side has its own
    drafts, as many, and does as many commands on each in each round (rounds alternate): their histories grow alike."""
    count = threads * drafts_per_thread
    alone_drafts = _drafts(service, count, f"ALONE-{uuid.uuid4().hex[:8]}")
    together_drafts = _drafts(service, count, f"TOGETHER-{uuid.uuid4().hex[:8]}")

    def rate(drafts: list[uuid.UUID], writers: int) -> float:
        def write(number: int) -> None:
            mine = drafts[number::writers]
            for n in range(commands_per_draft * len(mine)):
                service.record_details(EDITOR, mine[n % len(mine)], "narrative",
                                       {"narrative": f"Grouped {uuid.uuid4().hex}"})

        workers = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return count * commands_per_draft / (time.perf_counter() - started)

    alone, together = [], []
    for _ in range(rounds):
        alone.append(rate(alone_drafts, 1))
        together.append(rate(together_drafts, threads))
    one, many = statistics.median(alone), statistics.median(together)
    return {"group_commit_speedup": many / one, "in_process_commands_per_s": many, "one_thread_commands_per_s": one}


def bulk_import(service: IncidentService, reports: int) -> dict[str, float]:
    """Receiving N VPCR reports through the bulk path (deliveries of at most ``MAX_BULK_REPORTS``) vs one save per
    report (fresh case numbers each)."""
    now = service.clock()
    bulk = [vpcr_report(f"BULK-{n:06}", now, facility=EDITOR.facility) for n in range(reports)]
    single = [vpcr_report(f"ONE-{n:06}", now, facility=EDITOR.facility) for n in range(reports)]
    started = time.perf_counter()
    for first in range(0, reports, MAX_BULK_REPORTS):
        service.receive_vpcr_reports(EDITOR, bulk[first:first + MAX_BULK_REPORTS])
    bulk_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for report in single:
        service.receive_vpcr_report(EDITOR, report)
    single_seconds = time.perf_counter() - started
    return {"bulk_import_speedup": single_seconds / bulk_seconds, "bulk_reports_per_s": reports / bulk_seconds,
            "single_reports_per_s": reports / single_seconds}


def run_core_bench(store: str, reports: int = 10_000, grouped_rounds: int = 3) -> dict[str, Any]:
    with bench_database(store) as url:
        settings = load_settings({"NIMRS_DATABASE_URL": url})
        service = open_service(settings, clock=lambda: datetime.now(timezone.utc))
        baseline = Baseline(env=event_store_env(settings))
        peer = CrudPeer(settings.database, service.clock)
        peer.create_tables()
        try:
            figures: dict[str, Any] = {"store": store, "reports": reports}
            figures |= command_path(service, baseline, peer)
            figures |= load(service, baseline)
            figures |= grouped_commands(service, rounds=grouped_rounds)
            figures |= bulk_import(service, reports)
        finally:
            service.store.close()
            baseline.close()
            peer.close()
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    figures["targets_met"] = {
        name: (figures[name] <= bound if op == "<=" else figures[name] >= bound) for name, (op, bound) in TARGETS.items()
    }
    return figures
