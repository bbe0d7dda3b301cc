"""Exactly once: whatever kills the projector, and whoever else projects, the views end equal to
a fresh rebuild from the log; and the as-of answers equal a replay of the log to that moment."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from eventsourcing.sqlite import SQLiteApplicationRecorder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import open_service
from adapters.settings import load_settings
from adapters.tooling.synthetic import Generator, Plan, facility_name
from domain.actor import Actor
from domain.vocabulary import Level
from projections import overdue
from projections.projector import Projector
from tests.adapters.test_cli import NIMRS
from tests.projections.support import dump, fresh_rebuild, projector_for
from workflows.replay import version_at
from workflows.service import IncidentService

END = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def views_url(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/events-views.db" if database_url.startswith("sqlite") else database_url


def start_projector(database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NIMRS_DATABASE_URL": database_url}
    return subprocess.Popen([NIMRS, "projections", "run", "--batch-size", "13"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for_progress(observer: Projector, beyond: int) -> None:
    deadline = time.monotonic() + 20
    while min(p.position for p in observer.positions().values()) <= beyond:
        assert time.monotonic() < deadline, "the projector process made no progress"
        time.sleep(0.02)


def test_a_projector_killed_again_and_again_ends_equal_to_a_rebuild(
        database_url: str, second_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    service = open_service(load_settings({"NIMRS_DATABASE_URL": database_url}))
    # Batches share live aggregates, so they are saved as they come (never listed ahead).
    batches = Generator(Plan(incidents=160, end=END, facilities=3, save_every=5, seed=7))._batches()
    for batch in itertools.islice(batches, 60):  # a backlog, so the first kills land mid-catch-up
        service.store.save(*batch)
    observer = projector_for(service, views_url(database_url, tmp_path))
    kills, progress = 0, []
    projector = start_projector(database_url)
    try:
        for index, batch in enumerate(batches):
            service.store.save(*batch)
            if index % 12 == 6:
                wait_for_progress(observer, progress[-1] if progress else 0)
                time.sleep(0.05 * (index % 5))  # and kill it mid-flight: it still has a backlog
                os.kill(projector.pid, signal.SIGKILL)
                projector.wait()
                kills += 1
                progress.append(min(p.position for p in observer.positions().values()))
                projector = start_projector(database_url)
    finally:
        projector.kill()
        projector.wait()
    assert kills >= 5
    assert len(set(progress)) >= 3, f"the projector made no progress between kills: {progress}"
    caught_up = subprocess.run([NIMRS, "projections", "run", "--once"], capture_output=True, text=True, timeout=120,
                               env={**os.environ, "NIMRS_DATABASE_URL": database_url})
    assert caught_up.returncode == 0, caught_up.stderr
    assert observer.lag_events() == 0
    assert dump(observer) == fresh_rebuild(service, second_database_url)
    observer.engine.dispose()
    service.store.close()


def test_a_batch_that_fails_half_written_leaves_no_trace(
        service: IncidentService, second_database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from projections import projector as module

    for batch in Generator(Plan(incidents=40, end=END, save_every=10, seed=3))._batches():
        service.store.save(*batch)
    projector = projector_for(service, f"sqlite:///{tmp_path}/views.db", batch_size=50)
    projector.catch_up()
    before = (dump(projector), projector.positions())
    for batch in Generator(Plan(incidents=40, end=END + timedelta(days=400), save_every=10, seed=4))._batches():
        service.store.save(*batch)
    real_execute = module.execute

    def execute_then_crash(connection, writes):  # type: ignore[no-untyped-def]
        real_execute(connection, list(writes)[:3])  # some rows written, then the process "dies"
        raise RuntimeError("crash mid-batch")

    monkeypatch.setattr(module, "execute", execute_then_crash)
    with pytest.raises(RuntimeError):
        projector.step()
    assert (dump(projector), projector.positions()) == before
    monkeypatch.setattr(module, "execute", real_execute)
    projector.catch_up()
    assert dump(projector) == fresh_rebuild(service, second_database_url)
    projector.engine.dispose()


def test_rival_projectors_on_the_same_views_apply_each_event_once(
        service: IncidentService, database_url: str, second_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for batch in Generator(Plan(incidents=120, end=END, save_every=15, seed=5))._batches():
        service.store.save(*batch)
    url = views_url(database_url, tmp_path)
    rivals = [projector_for(service, url, batch_size=size) for size in (17, 29, 41)]
    threads = [threading.Thread(target=p.catch_up) for p in rivals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert dump(rivals[0]) == fresh_rebuild(service, second_database_url)
    for rival in rivals:
        rival.engine.dispose()


class Interleaving:
    """Writes, projector steps, crashes and rebuilds in an order hypothesis chooses."""

    def __init__(self, service: IncidentService, projector: Projector, seed: int) -> None:
        self.service, self.projector = service, projector
        self.batches = Generator(Plan(incidents=60, end=END, save_every=8, seed=seed))._batches()

    def write(self) -> None:
        batch = next(self.batches, None)
        if batch:
            self.service.store.save(*batch)

    def project(self, steps: int) -> None:
        for _ in range(steps):
            self.projector.step()

    def crash(self) -> None:
        from projections import projector as module

        real = module.execute
        module.execute = lambda connection, writes: (real(connection, list(writes)[:1]), 1 / 0)  # type: ignore[assignment,func-returns-value]
        try:
            self.projector.step()
        except ZeroDivisionError:
            pass
        finally:
            module.execute = real

    def rebuild(self, view: str) -> None:
        self.projector.reset([view])


OPERATIONS = st.lists(st.one_of(
    st.just(("write",)), st.tuples(st.just("project"), st.integers(1, 3)), st.just(("crash",)),
    st.tuples(st.just("rebuild"), st.sampled_from(["overdue", "audit", "board", "statistics", "incident_list"]))), max_size=25)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS, seed=st.integers(0, 1000))
def test_any_interleaving_of_writes_crashes_and_rebuilds_ends_equal_to_a_rebuild(
        database_url: str, tmp_path_factory: pytest.TempPathFactory, operations: list[tuple], seed: int) -> None:  # type: ignore[type-arg]
    from tests.conftest import fresh_postgres_database

    folder = tmp_path_factory.mktemp("interleaving")
    if database_url.startswith("sqlite"):
        run_interleaving(f"sqlite:///{folder}/events.db", f"sqlite:///{folder}/rebuilt.db", operations, seed)
        return
    with fresh_postgres_database() as events, fresh_postgres_database() as rebuilt:
        run_interleaving(events, rebuilt, operations, seed)


def run_interleaving(events_url: str, rebuilt_url: str, operations: list[tuple], seed: int) -> None:  # type: ignore[type-arg]
    service = open_service(load_settings({"NIMRS_DATABASE_URL": events_url}))
    projector = projector_for(service, events_url.replace("events.db", "views.db"), batch_size=11)
    run = Interleaving(service, projector, seed)
    try:
        for name, *args in operations:
            getattr(run, name)(*args)
        for _ in range(3):
            run.write()
        projector.catch_up()
        assert dump(projector) == fresh_rebuild(service, rebuilt_url)
    finally:
        projector.engine.dispose()
        service.store.close()


def test_overdue_as_of_any_moment_equals_a_replay_of_the_log_to_that_moment(
        service: IncidentService, tmp_path) -> None:  # type: ignore[no-untyped-def]
    plan = Plan(incidents=150, end=END, facilities=2, span_days=120, save_every=20, seed=9)
    for batch in Generator(plan)._batches():
        service.store.save(*batch)
    projector = projector_for(service, f"sqlite:///{tmp_path}/views.db")
    projector.catch_up()
    ids = {row[0] for row in dump(projector)["view_board_incidents"]}
    histories = {iid: list(service.store.repository.event_store.get(__import__("uuid").UUID(iid))) for iid in ids}
    for days_before_end in (100, 75, 40, 20, 5, 0):
        moment = END - timedelta(days=days_before_end, hours=3)
        for number in (1, 2):
            facility = facility_name(number)
            with projector.engine.connect() as connection:
                rows = overdue.page(connection, facility=facility, as_of=moment, current=False, status="all",
                                    soon_days=0, limit=1000)
            from_view = {(r["incident_id"], r["clock"], r["status"], r["days_late"], r["days_left"]) for r in rows}
            assert from_view == replayed_clocks(service, histories, facility, moment), moment


def replayed_clocks(service: IncidentService, histories: dict[str, list], facility: str,  # type: ignore[type-arg]
                    moment: datetime) -> set[tuple]:  # type: ignore[type-arg]
    """Every clock as the aggregate itself reports it, replayed to ``moment``."""
    expected = set()
    reader = Actor("auditor", facility, Level.READER)
    for iid, events in histories.items():
        version = version_at(events, moment)
        if version is None:
            continue
        incident = service.load(events[0].originator_id, version)
        if incident.facility != reader.facility:
            continue
        for name, deadline in incident.deadlines.items():
            status = deadline.status(incident.clock_met_at(name), moment)
            expected.add((iid, name, status["status"], status["days_late"], status["days_left"]))
    return expected


def test_a_following_projector_shows_a_new_event_within_a_second(service: IncidentService, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path}/views.db" if isinstance(service.store.recorder, SQLiteApplicationRecorder) else None
    projector = projector_for(service, url or _postgres_url(service))
    stop = threading.Event()
    follower = threading.Thread(target=projector.follow, args=(stop,), daemon=True)
    follower.start()
    try:
        lags = []
        for batch in Generator(Plan(incidents=5, end=END, save_every=3, seed=1))._batches():
            saved_at = time.monotonic()
            recordings = service.store.save(*batch)
            if not recordings:
                continue
            last = recordings[-1].notification.id
            while min(p.position for p in projector.positions().values()) < last:
                assert time.monotonic() - saved_at < 5, "the projector did not follow the log"
                time.sleep(0.01)
            lags.append(time.monotonic() - saved_at)
        assert max(lags) < 1.0, lags
    finally:
        stop.set()
        follower.join(timeout=10)
        projector.engine.dispose()
    assert not follower.is_alive()


def _postgres_url(service: IncidentService) -> str:
    env = service.store.env
    return f"postgresql://{env['POSTGRES_USER']}@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"
