"""The benchmark command runs and reports every figure (speed itself is not asserted in tests); its CRUD peer
really does the conventional app's step."""

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from adapters.settings import parse_database_url
from adapters.tooling.bench import TARGETS, run_core_bench
from adapters.tooling.crud_peer import AuditEntry, CrudPeer, Incident
from domain.errors import IncidentNotFound, PermissionDenied, StaleVersion, TransitionRefused
from tests.conftest import L2, L3, OTHER_L1, FakeClock


def test_bench_core_reports_every_figure_on_sqlite() -> None:
    figures = run_core_bench("sqlite", reports=200, grouped_rounds=1)
    for name in TARGETS:
        assert figures[name] > 0
        assert isinstance(figures["targets_met"][name], bool)
    assert figures["events_per_aggregate_at_start"] > 1
    assert figures["bulk_reports_per_s"] > 0 and figures["single_reports_per_s"] > 0
    assert figures["crud_ratio"] > 0 and figures["crud_command_us"] > 0
    assert figures["crud_ratio"] == pytest.approx(figures["command_path_us"] / figures["crud_command_us"], rel=0.01)
    assert figures["in_process_commands_per_s"] > 0 and figures["one_thread_commands_per_s"] > 0
    assert figures["group_commit_speedup"] == pytest.approx(
        figures["in_process_commands_per_s"] / figures["one_thread_commands_per_s"], rel=0.01)


@pytest.fixture
def peer(database_url: str, clock: FakeClock) -> Iterator[CrudPeer]:
    made = CrudPeer(parse_database_url(database_url), clock)
    made.create_tables()
    yield made
    made.close()


def _draft(peer: CrudPeer, clock: FakeClock) -> uuid.UUID:
    row = Incident(id=uuid.uuid4(), facility=L2.facility, state="draft", details={"narrative": "Fell at lunch."},
                   updated_at=clock(), updated_by="risk")
    peer.add([row])
    return row.id


def _stored(peer: CrudPeer, incident_id: uuid.UUID) -> tuple[Incident, list[AuditEntry]]:
    with peer.sessions() as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        audit = session.scalars(select(AuditEntry).where(AuditEntry.incident_id == incident_id)
                                .order_by(AuditEntry.id)).all()
        return row, list(audit)


def test_crud_peer_updates_the_row_and_writes_one_audit_row_per_step(peer: CrudPeer, clock: FakeClock) -> None:
    incident_id = _draft(peer, clock)
    peer.record_details(L2, incident_id, "narrative", {"narrative": "Fell in the dining room."})
    at = clock.advance(minutes=5)
    returned = peer.record_details(L2, incident_id, "narrative", {"narrative": "  Fell in the hall. "})

    row, audit = _stored(peer, incident_id)
    assert returned.version == row.version == 3
    assert row.details == {"narrative": "Fell in the hall."}  # validated and cleaned as the form does
    assert (row.updated_by, row.updated_at) == (L2.user_id, at)
    assert [(a.field, a.old_value, a.new_value, a.changed_by) for a in audit] == [
        ("narrative", "Fell at lunch.", "Fell in the dining room.", L2.user_id),
        ("narrative", "Fell in the dining room.", "Fell in the hall.", L2.user_id)]
    assert audit[1].changed_at == at


def test_crud_peer_refuses_a_stale_version_and_unchecked_users(peer: CrudPeer, clock: FakeClock) -> None:
    incident_id = _draft(peer, clock)
    with peer.sessions() as session:
        stale = session.get(Incident, incident_id)  # read at version 1, kept past its session
    peer.record_details(L2, incident_id, "narrative", {"narrative": "Second account."}, expected_version=1)

    with pytest.raises(StaleVersion):
        peer.record_details(L2, incident_id, "narrative", {"narrative": "Third account."}, expected_version=1)
    assert stale is not None
    stale.details = {"narrative": "Written over a newer version."}
    with pytest.raises(StaleDataError), peer.sessions.begin() as session:
        session.add(stale)  # UPDATE ... WHERE version = 1 matches no row
    with pytest.raises(PermissionDenied):
        peer.record_details(L3, incident_id, "narrative", {"narrative": "A reader's account."})
    with pytest.raises(IncidentNotFound):
        peer.record_details(OTHER_L1, incident_id, "narrative", {"narrative": "Another facility's account."})

    row, audit = _stored(peer, incident_id)
    assert (row.version, row.details) == (2, {"narrative": "Second account."})
    assert len(audit) == 1
    with peer.sessions.begin() as session:
        session.get_one(Incident, incident_id).state = "emailed_to_omh"
    with pytest.raises(TransitionRefused):
        peer.record_details(L2, incident_id, "narrative", {"narrative": "After submission."})


def test_bench_cli_times_each_command_as_its_own_process() -> None:
    from adapters.tooling.bench_cli import TARGETS as CLI_TARGETS
    from adapters.tooling.bench_cli import run_cli_bench

    figures = run_cli_bench(incidents=50, runs=1)
    assert figures["incidents"] == 50 and figures["events"] > 50
    for name in ("cli_show_seconds", "cli_overdue_seconds", "cli_help_seconds", "python_startup_seconds"):
        assert figures[name] > 0
    assert figures["cli_show_seconds"] > figures["python_startup_seconds"]  # a real command ran, not only Python
    assert set(figures["targets_met"]) == set(CLI_TARGETS)
    assert all(isinstance(met, bool) for met in figures["targets_met"].values())


def test_bench_stream_times_every_delivery_to_every_open_stream() -> None:
    from adapters.tooling.bench_stream import TARGETS as STREAM_TARGETS
    from adapters.tooling.bench_stream import run_stream_bench

    figures = run_stream_bench("sqlite", clients=20, idle_seconds=1, writes=3)
    assert figures["clients"] == 20
    assert figures["deliveries"] == 20 * 3 and figures["deliveries_missing"] == 0  # each write reached each stream
    assert 0 < figures["delivery_p50_ms"] <= figures["delivery_p95_ms"] <= figures["delivery_max_ms"] < 10_000
    assert figures["idle_cpu_percent"] >= 0 and figures["idle_cpu_percent_without_streams"] >= 0
    assert figures["incident_get_p95_ms"] > 0 and figures["incident_get_p95_ms_without_streams"] > 0
    assert figures["incident_get_ratio"] == pytest.approx(
        figures["incident_get_p95_ms"] / figures["incident_get_p95_ms_without_streams"], rel=0.01)
    assert set(figures["targets_met"]) == set(STREAM_TARGETS)
    assert all(isinstance(met, bool) for met in figures["targets_met"].values())
