"""Group commit (``adapters.persistence.group_commit``) on real SQLite and PostgreSQL: saves waiting while a round is
written go together in the next; a save whose version was taken fails alone; commands without a version retry a
conflict with another process, and with one report it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError

from adapters.bootstrap import open_service
from adapters.persistence.group_commit import ROUND_EVENTS, GroupCommit
from adapters.settings import load_settings
from adapters.tooling.samples import vpcr_report
from domain.errors import Conflict
from tests.conftest import CHARTS_ONLY_SUITE, L2, FakeClock
from workflows.service import IncidentService


def drafts(service: IncidentService, count: int) -> list[UUID]:
    return [service.create_incident(L2, program="Clinic 1", setting="outpatient", code="si.fall", summary=f"draft {n}")
            for n in range(count)]


def narrative(service: IncidentService, incident_id: UUID) -> str:
    return str(service.load(incident_id).details["narrative"])


def group_of(service: IncidentService) -> GroupCommit:
    group = service.store.recorder.group_commit  # type: ignore[attr-defined]
    assert isinstance(group, GroupCommit)
    return group


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


@contextmanager
def first_round_held_until(group: GroupCommit, waiting: int) -> Iterator[None]:
    """The first round's write waits until ``waiting`` saves queue behind it, so the next round groups them all."""
    write_together = group._write_together
    held = threading.Event()

    def holding(events: Any) -> Any:
        if not held.is_set():
            held.set()
            wait_until(lambda: group.waiting >= waiting)
        return write_together(events)

    group._write_together = holding  # type: ignore[method-assign]
    try:
        yield
    finally:
        group._write_together = write_together  # type: ignore[method-assign]


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Each call in its own thread; its result or the exception it raised."""
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_saves_that_wait_during_a_round_are_committed_together_in_the_next(service: IncidentService) -> None:
    incidents = drafts(service, 9)
    group = group_of(service)
    rounds, saves = group.rounds, group.saves
    with first_round_held_until(group, waiting=8):
        results = run_together(*(lambda i=i, n=n: service.record_details(L2, i, "narrative", {"narrative": f"n{n}"})
                                 for n, i in enumerate(incidents)))
    assert not [r for r in results if isinstance(r, Exception)]
    assert (group.rounds - rounds, group.saves - saves) == (2, 9)  # the first alone, then the eight that waited
    assert [narrative(service, i) for i in incidents] == [f"n{n}" for n in range(9)]
    assert all(service.load(i).version == 2 for i in incidents)


def test_a_save_whose_version_was_taken_fails_alone_and_the_rest_of_its_round_is_committed(
        service: IncidentService) -> None:
    first, a, b, c = drafts(service, 4)
    stale = service.load(b)
    service.record_details(L2, b, "narrative", {"narrative": "saved first"})  # b's version 2 is taken now
    stale.record_details(L2, service.clock(), "narrative", {"narrative": "lost"})
    updated = []
    for incident_id in (first, a, c):
        incident = service.load(incident_id)
        incident.record_details(L2, service.clock(), "narrative", {"narrative": f"kept {incident_id}"})
        updated.append(incident)
    group = group_of(service)
    with first_round_held_until(group, waiting=3):
        results = run_together(lambda: service.store.save(updated[0]),
                               *(lambda i=i: (time.sleep(0.05), service.store.save(i)) for i in (updated[1], stale, updated[2])))
    assert isinstance(results[2], IntegrityError)
    assert not [r for n, r in enumerate(results) if n != 2 and isinstance(r, Exception)]
    assert narrative(service, b) == "saved first" and service.load(b).version == 2
    assert [narrative(service, i) for i in (first, a, c)] == [f"kept {i}" for i in (first, a, c)]


@pytest.fixture
def other_process(database_url: str, clock: FakeClock) -> Iterator[IncidentService]:
    """A second service on the same database: another server process, as far as the event store can tell."""
    other = open_service(load_settings({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}), clock)
    yield other
    other.store.close()


def saving_after(service: IncidentService, meanwhile: Callable[[], Any]) -> Callable[[], None]:
    """Make the service's next save run ``meanwhile`` first (another process's write lands between load and save)."""
    save = service.store.save
    calls = []

    def late(*incidents: Any) -> Any:
        if not calls:
            calls.append(1)
            meanwhile()
        return save(*incidents)

    service.store.save = late  # type: ignore[method-assign]
    return lambda: setattr(service.store, "save", save)


def test_a_command_without_a_version_decides_again_when_another_process_saved_first(
        service: IncidentService, other_process: IncidentService) -> None:
    (incident_id,) = drafts(service, 1)
    restore = saving_after(service, lambda: other_process.record_details(L2, incident_id, "staff",
                                                                           {"staff_involved": ["S-1"]}))
    try:
        saved = service.record_details(L2, incident_id, "narrative", {"narrative": "mine"})
    finally:
        restore()
    assert saved.version == 3  # decided again on version 2, the other process's
    incident = service.load(incident_id)
    assert incident.details["staff_involved"] == ["S-1"] and narrative(service, incident_id) == "mine"


def test_a_command_naming_a_version_reports_the_conflict_and_saves_nothing(
        service: IncidentService, other_process: IncidentService) -> None:
    (incident_id,) = drafts(service, 1)
    restore = saving_after(service, lambda: other_process.record_details(L2, incident_id, "narrative",
                                                                           {"narrative": "theirs"}))
    try:
        with pytest.raises(Conflict, match="changed by someone else"):
            service.record_details(L2, incident_id, "narrative", {"narrative": "mine"}, expected_version=1)
    finally:
        restore()
    assert narrative(service, incident_id) == "theirs" and service.load(incident_id).version == 2


def test_concurrent_edits_of_one_incident_from_two_processes_without_a_version_all_land(
        service: IncidentService, other_process: IncidentService) -> None:
    (incident_id,) = drafts(service, 1)
    edits = [(side, n) for n in range(12) for side in (service, other_process)]
    results = run_together(*(lambda s=s, n=n: s.record_details(L2, incident_id, "narrative",
                                                               {"narrative": f"e{n} from {id(s)}"})
                             for s, n in edits))
    assert not [r for r in results if isinstance(r, Exception)]
    events = list(service.store.repository.event_store.get(incident_id))
    assert len(events) == 1 + len(edits) and [e.originator_version for e in events] == list(range(1, 26))


def test_a_round_writes_at_most_round_events_and_the_rest_wait_for_the_next(service: IncidentService) -> None:
    """Ten bulk deliveries waiting at once are not written as one 10,000-report insert (psycopg/psycopg#685)."""
    now = service.clock()
    deliveries = [[vpcr_report(f"R{n}-{k:04}", now - timedelta(hours=1)) for k in range(ROUND_EVENTS // 2)]
                  for n in range(5)]
    group = group_of(service)
    rounds, saves = group.rounds, group.saves
    biggest: list[int] = []
    write_together = group._write_together

    def measured(events: Any) -> Any:
        biggest.append(len(events))
        return write_together(events)

    group._write_together = measured  # type: ignore[method-assign]
    try:
        with first_round_held_until(group, waiting=4):
            results = run_together(*(lambda d=d: service.receive_vpcr_reports(L2, d) for d in deliveries))
    finally:
        group._write_together = write_together  # type: ignore[method-assign]
    assert not [r for r in results if isinstance(r, Exception)]
    assert max(biggest) <= ROUND_EVENTS and group.saves - saves == 5
    assert group.rounds - rounds == 3  # the first alone, then two of the four that waited, then the other two
    assert all(service.load(r.incident_id).version == 1 for d in deliveries for r in d)


def test_a_save_whose_answer_was_lost_is_not_applied_twice(service: IncidentService) -> None:
    """The commit happened but its answer was lost, and the store's retry met its own rows (IntegrityError): the
    command is done, not decided again on top of itself."""
    (incident_id,) = drafts(service, 1)
    save = service.store.save

    def answer_lost(*items: Any) -> Any:
        save(*items)
        raise IntegrityError("the retried insert met the rows its lost commit wrote")

    service.store.save = answer_lost  # type: ignore[method-assign]
    try:
        saved = service.record_details(L2, incident_id, "staff", {"staff_involved": ["S-9"]}, expected_version=1)
    finally:
        service.store.save = save  # type: ignore[method-assign]
    events = list(service.store.repository.event_store.get(incident_id))
    assert saved.version == 2 and [type(e).__name__ for e in events] == ["CreatedDirectly", "DetailsRecorded"]
