"""Each read model on a real store (SQLite file and PostgreSQL): what a supervisor, an auditor
and an analyst see after a known history."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.tooling.samples import vpcr_report
from domain.errors import NotFound
from projections import audit, overdue, statistics
from projections.projector import Projector
from projections.reads import ReadModels
from tests.conftest import L1, L2, L3, OTHER_L1, FakeClock
from tests.projections.support import dump, fresh_rebuild, projector_for
from tests.workflows.helpers import draft, received
from workflows.service import IncidentService


@pytest.fixture
def views_url(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url


@pytest.fixture
def projector(service: IncidentService, views_url: str) -> Iterator[Projector]:
    built = projector_for(service, views_url, batch_size=7)
    yield built
    built.engine.dispose()


def test_an_investigation_clock_goes_open_due_soon_overdue_then_met_late(
        service: IncidentService, projector: Projector, clock: FakeClock) -> None:
    iid = draft(service)
    service.email_omh(L1, iid)
    due = service.load(iid).deadlines["investigation"].due
    projector.catch_up()
    reads = ReadModels(projector, clock)

    (row,) = reads.overdue(L3, status="open")["clocks"]
    assert (row["incident_id"], row["clock"], row["due"], row["status"]) == (str(iid), "investigation",
                                                                              due.isoformat(), "open")
    assert reads.overdue(L3, status="due_soon", soon_days=2)["clocks"] == []
    clock.now = due - timedelta(days=1)
    assert [r["status"] for r in reads.overdue(L3, status="due_soon", soon_days=2)["clocks"]] == ["due_soon"]
    clock.now = due + timedelta(days=3)
    (late,) = reads.overdue(L3)["clocks"]
    assert (late["status"], late["days_late"]) == ("overdue", 3)
    assert reads.board(L3)["clocks"]["investigation"] == {"overdue": 1, "due_soon": 0}

    service.start_investigation(L2, iid)
    service.document_findings(L2, iid, "Substantiated; staff retrained.")
    service.close(L1, iid)
    projector.catch_up()
    assert reads.overdue(L3)["clocks"] == []
    (met,) = reads.overdue(L3, status="met_late")["clocks"]
    assert (met["met_at"], met["days_late"]) == (clock.now.isoformat(), 3)
    assert reads.board(L3)["clocks"]["investigation"] == {"overdue": 0, "due_soon": 0}
    # As it stood the day before it was met, it was overdue by two days.
    (then,) = reads.overdue(L3, as_of=clock.now - timedelta(days=1))["clocks"]
    assert (then["status"], then["days_late"], then["met_at"]) == ("overdue", 2, None)


def test_the_board_counts_states_and_the_jc_queue(service: IncidentService, projector: Projector,
                                                   clock: FakeClock) -> None:
    first = received(service, case="2026-000201")
    clock.advance(hours=5)
    received(service, case="2026-000202")
    draft(service, case="2026-000203")
    service.receive_vpcr_report(OTHER_L1, vpcr_report("2026-000204", clock.now, facility="F-002"))
    clock.advance(hours=1)
    projector.catch_up()
    board = ReadModels(projector, clock).board(L3, state="jc_import_queue")
    counts = {row["state"]: row["count"] for row in board["states"]}
    assert counts == {"jc_import_queue": 2, "draft": 1, "emailed_to_omh": 0, "report_of_death_submitted": 0,
                      "under_investigation": 0, "closed": 0}
    assert board["jc_import_queue"]["waiting"] == 2
    assert board["jc_import_queue"]["oldest"]["incident_id"] == str(first)
    assert board["jc_import_queue"]["oldest"]["hours_waiting"] == 6.0
    assert [row["hours_in_state"] for row in board["incidents"]] == [6.0, 1.0]


def test_the_audit_trail_says_who_did_what_with_old_and_new_values(
        service: IncidentService, projector: Projector, clock: FakeClock) -> None:
    iid = draft(service)
    service.email_omh(L1, iid)
    clock.advance(days=1)
    service.amend(L1, iid, "severity", {"risk_rating": 3}, "Re-rated after the clinical review.")
    projector.catch_up()
    rows = ReadModels(projector, clock).audit_trail(L3, incident_id=str(iid))
    assert [r["version"] for r in rows] == list(range(1, len(service.history(L3, iid)) + 1))
    emailed = next(r for r in rows if r["event_type"] == "EmailedToOmh")
    assert (emailed["state_before"], emailed["state_after"], emailed["actor_id"], emailed["actor_level"]) == (
        "draft", "emailed_to_omh", L1.user_id, 1)
    assert emailed["changes"] == {"route": [None, "JC_AND_OMH"]}
    amended = rows[-1]
    assert amended["changes"] == {"risk_rating": [2, 3]}
    assert amended["reason"] == "Re-rated after the clinical review."
    by_actor = ReadModels(projector, clock).audit_trail(L3, user=L1.user_id)
    assert {r["event_type"] for r in by_actor} == {"EmailedToOmh", "DeadlineSet", "AmendedAfterSubmission"}
    later = ReadModels(projector, clock).audit_trail(L3, since=clock.now - timedelta(minutes=1))
    assert [r["event_type"] for r in later] == ["AmendedAfterSubmission"]
    assert audit.to_csv(rows).splitlines()[0].startswith("position,incident_id,version")


def test_statistics_follow_type_route_and_rating_changes(service: IncidentService, projector: Projector,
                                                         clock: FakeClock) -> None:
    iid = draft(service)
    received(service, case="2026-000301", code="an.neglect")
    projector.catch_up()
    reads = ReadModels(projector, clock)
    assert {r["value"]: r["count"] for r in reads.statistics(L3, by="route")} == {"not_submitted": 2}
    service.email_omh(L1, iid)
    service.amend(L1, iid, "severity", {"harm_rating": 2}, "Harm re-rated.")
    projector.catch_up()
    assert {r["value"]: r["count"] for r in reads.statistics(L3, by="route")} == {"JC_AND_OMH": 1, "not_submitted": 1}
    assert {r["value"]: r["count"] for r in reads.statistics(L3, by="harm_rating")} == {"2": 1, "unrated": 1}
    assert {r["value"]: r["count"] for r in reads.statistics(L3, by="month")} == {"2026-03": 2}
    types = reads.statistics(L3, by="type")
    assert {r["value"] for r in types} == {"an.physical-abuse", "an.neglect"}
    assert all(r["label"] and r["label"] != r["value"] for r in types)
    assert statistics.to_csv(types).splitlines()[0] == "facility,dimension,value,label,count"


def test_other_facilities_are_not_found(service: IncidentService, projector: Projector, clock: FakeClock) -> None:
    draft(service)
    projector.catch_up()
    reads = ReadModels(projector, clock)
    with pytest.raises(NotFound):
        reads.overdue(OTHER_L1, facility="F-001")
    with pytest.raises(NotFound):
        reads.board(OTHER_L1, facility="F-001")
    with pytest.raises(NotFound):
        reads.audit_trail(OTHER_L1, facility="F-001")
    assert reads.audit_trail(OTHER_L1) == []  # their own facility has nothing


def test_views_applied_in_small_batches_equal_a_fresh_rebuild(
        service: IncidentService, projector: Projector, second_database_url: str, clock: FakeClock) -> None:
    iid = draft(service)
    projector.catch_up()  # part-way, then more events on incidents already projected
    service.email_omh(L1, iid)
    clock.advance(days=40)
    service.start_investigation(L2, iid)
    service.document_findings(L2, iid, "Unsubstantiated.")
    service.close(L1, iid)
    service.reopen(L1, iid, "New information from the family.")
    received(service, case="2026-000401", code="death.suicide")
    projector.catch_up()
    assert dump(projector) == fresh_rebuild(service, second_database_url)


def test_the_overdue_first_page_reads_the_partial_index(service: IncidentService, projector: Projector,
                                                        clock: FakeClock) -> None:
    """At size, the supervisor's first page must be an index range scan, not a scan of every clock."""
    rows = [{"incident_id": f"{n:08d}-0000-4000-8000-000000000000", "key": "investigation", "clock": "investigation",
             "facility": f"F-{n % 40:03d}", "program": "Unit", "jc_case_number": None, "code": "an.neglect",
             "length": 45, "unit": "calendar_days", "provisional": False, "start_at": clock.now,
             "due_at": clock.now + timedelta(hours=n % 5000 - 2500), "warn_at": clock.now, "set_at": clock.now,
             "met_at": clock.now if n % 3 else None} for n in range(20_000)]
    with projector.engine.begin() as connection:
        connection.execute(overdue.clocks.insert(), rows)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE view_overdue_clocks")
        else:
            connection.exec_driver_sql("ANALYZE")
    statement = overdue.first_page_statement("F-007", clock.now)
    with projector.engine.connect() as connection:
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
        plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + str(compiled)))
    assert "ix_overdue_open_by_facility" in plan, plan
    assert "SCAN view_overdue_clocks\n" not in plan + "\n" and "Seq Scan" not in plan, plan


def test_the_clock_scan_reads_its_partial_indexes(service: IncidentService, projector: Projector,
                                                 clock: FakeClock) -> None:
    """The clock process's scan is two index range scans, never a scan of every obligation (1M: docs/performance.md)."""
    rows = [{"incident_id": f"{n:08d}-0000-4000-8000-000000000000", "key": "qualified_person_notice",
             "clock": "qualified_person_notice", "facility": f"F-{n % 40:03d}", "program": "Unit",
             "jc_case_number": None, "code": "an.neglect", "length": 24, "unit": "hours", "provisional": False,
             "start_at": clock.now, "due_at": clock.now + timedelta(hours=n % 5000 - 4990),
             "warn_at": clock.now + timedelta(hours=n % 5000 - 4996), "set_at": clock.now,
             "met_at": clock.now if n % 3 else None, "missed_recorded_at": clock.now if n % 5000 < 4900 else None,
             "due_soon_recorded_at": clock.now if n % 5000 < 4900 else None} for n in range(20_000)]
    with projector.engine.begin() as connection:
        connection.execute(overdue.clocks.insert(), rows)
        connection.exec_driver_sql("ANALYZE view_overdue_clocks" if connection.dialect.name == "postgresql" else "ANALYZE")
    expected = {r["incident_id"] for r in rows if r["met_at"] is None and r["missed_recorded_at"] is None
                and (r["due_at"] < clock.now or r["warn_at"] <= clock.now <= r["due_at"])}
    with projector.engine.connect() as connection:
        found = overdue.pending_clock_alerts(connection, clock.now, 10_000)
        assert set(found) == expected and len(found) == len(expected) > 0
        for statement in overdue.pending_clock_statements(clock.now, 500):
            compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
            prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
            plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + str(compiled)))
            assert "ix_overdue_" in plan, plan  # a partial index of open obligations on due or warning time
            assert "SCAN view_overdue_clocks\n" not in plan + "\n" and "Seq Scan" not in plan, plan
