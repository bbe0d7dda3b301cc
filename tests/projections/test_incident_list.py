"""The incident list on a real store (SQLite file and PostgreSQL): each filter, paging, facility isolation,
a state reviewer's roll-up of every facility (here and in the board, overdue, statistics and audit trail),
and rows equal to a rebuild and to the incidents themselves."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from adapters.tooling.samples import complete_details, vpcr_report
from domain.actor import Actor
from domain.errors import NotFound, ValidationFailed
from domain.vocabulary import Level
from projections.incident_list import parse_day
from projections.projector import Projector
from projections.reads import ReadModels
from tests.conftest import L1, L2, L3, OTHER_L1, FakeClock
from tests.projections.support import dump, fresh_rebuild, projector_for
from tests.workflows.helpers import draft, received
from workflows.service import IncidentService

REVIEWER = Actor("reviewer", "OMH", Level(3), state_reviewer=True)


@pytest.fixture
def views_url(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url


@pytest.fixture
def projector(service: IncidentService, views_url: str) -> Iterator[Projector]:
    built = projector_for(service, views_url, batch_size=1)  # event by event
    yield built
    built.engine.dispose()


@pytest.fixture
def known(service: IncidentService, projector: Projector, clock: FakeClock) -> dict[str, UUID]:
    """Five incidents of F-001 reported on different New York days, newest last, and one of F-002.

    The clock starts at 2026-03-02 15:00 UTC (10:00 in New York)."""
    ids = {
        "d": received(service, case="2026-000504", code="si.crime.narcotics", days_ago=3),  # 27 Feb
        "b": received(service, case="2026-000502", code="an.neglect", days_ago=0.5),  # 1 Mar, 10 pm New York
        "a": draft(service, case="2026-000501", code="an.physical-abuse"),  # 2 Mar
    }
    clock.advance(minutes=1)
    ids["c"] = draft(service, case="2026-000503", code="death.suicide")
    clock.advance(minutes=1)
    ids["e"] = service.create_incident(L2, program="Clinic A", setting="outpatient", code="si.fall", summary="Fell.")
    clock.advance(minutes=1)
    ids["f"] = service.receive_vpcr_report(OTHER_L1, vpcr_report("2026-000601", clock.now, facility="F-002",
                                                                 code="an.neglect"))[0]
    service.email_omh(L1, ids["a"])  # investigation due 17 Apr
    service.email_omh(L1, ids["c"])  # Report of Death due at the end of 7 Mar (New York)
    projector.catch_up()
    return ids


def listed(reads: ReadModels, actor: Actor = L3, **filters: Any) -> list[str]:
    return [row["incident_id"] for row in reads.incidents(actor, **filters)["incidents"]]


def named(ids: dict[str, UUID], *names: str) -> list[str]:
    return [str(ids[name]) for name in names]


def test_each_row_says_where_the_incident_stands(service: IncidentService, projector: Projector,
                                                 clock: FakeClock, known: dict[str, UUID]) -> None:
    rows = {row["incident_id"]: row for row in ReadModels(projector, clock).incidents(L3)["incidents"]}
    for name in "abcde":
        incident, row = service.load(known[name]), rows[str(known[name])]
        assert (row["state"], row["code"], row["route"], row["facility"]) == (
            incident.state, incident.code, incident.submitted_route, "F-001")
        assert row["jc_case_number"] == incident.jc_case_number
        open_dues = [d.due for d in incident.deadlines.values()]
        assert row["next_due"] == (min(open_dues).isoformat() if open_dues else None)
    assert rows[str(known["b"])]["reported_at"] == "2026-03-02T03:00:00+00:00"  # the JC's time, not entry
    assert rows[str(known["e"])]["reported_at"] == "2026-03-02T15:02:00+00:00"  # New Incident: when entered
    assert rows[str(known["a"])]["clock_status"] == "open" and rows[str(known["b"])]["clock_status"] is None


def test_filters_narrow_the_list_newest_reported_first(projector: Projector, clock: FakeClock,
                                                        known: dict[str, UUID]) -> None:
    reads = ReadModels(projector, clock)
    assert listed(reads) == named(known, "e", "c", "a", "b", "d")
    assert listed(reads, state="jc_import_queue") == named(known, "b", "d")
    assert listed(reads, state="draft") == named(known, "e")
    assert listed(reads, code="an.neglect") == named(known, "b")
    assert listed(reads, code="an.") == listed(reads, code="an") == named(known, "a", "b")
    assert listed(reads, code="si.crime") == named(known, "d")  # a type and its subtypes
    assert listed(reads, code="si.") == named(known, "e", "d")
    assert listed(reads, code="si.cri") == []  # whole names only
    assert listed(reads, jc_case_number="2026-000503") == named(known, "c")
    # New York days: "b" was reported at 03:00 UTC on 2 March, which is 1 March in New York.
    assert listed(reads, reported_from=date(2026, 3, 1), reported_to=date(2026, 3, 1)) == named(known, "b")
    assert listed(reads, reported_to=date(2026, 2, 28)) == named(known, "d")
    assert listed(reads, reported_from=date(2026, 3, 2)) == named(known, "e", "c", "a")
    assert listed(reads, state="emailed_to_omh", code="an.") == named(known, "a")


def test_clock_status_follows_the_clock(service: IncidentService, projector: Projector, clock: FakeClock,
                                        known: dict[str, UUID]) -> None:
    reads = ReadModels(projector, clock)
    assert listed(reads, clock_status="open") == named(known, "c", "a")
    assert listed(reads, clock_status="none") == named(known, "e", "b", "d")
    clock.now = datetime(2026, 3, 7, 12, tzinfo=timezone.utc)  # the Report of Death is due in under 2 days
    assert listed(reads, clock_status="due_soon") == named(known, "c")
    assert listed(reads, clock_status="due_soon", soon_days=0) == []
    assert listed(reads, clock_status="open") == named(known, "a")
    assert listed(reads, clock_status="overdue") == []
    clock.now = datetime(2026, 3, 9, 12, tzinfo=timezone.utc)
    (late,) = reads.incidents(L3, clock_status="overdue")["incidents"]
    assert (late["incident_id"], late["clock_status"]) == (str(known["c"]), "overdue")
    service.submit_report_of_death(L1, known["c"])
    projector.catch_up()
    assert listed(reads, clock_status="overdue") == []  # met (late): no open clock any more
    assert str(known["c"]) in listed(reads, clock_status="none")


def test_paging_keeps_the_total(projector: Projector, clock: FakeClock, known: dict[str, UUID]) -> None:
    reads = ReadModels(projector, clock)
    first = reads.incidents(L3, limit=2)
    assert (first["total"], first["offset"], first["limit"]) == (5, 0, 2)
    pages = [listed(reads, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert pages == [named(known, "e", "c"), named(known, "a", "b"), named(known, "d")]
    beyond = reads.incidents(L3, limit=2, offset=10)
    assert (beyond["total"], beyond["incidents"]) == (5, [])
    assert reads.incidents(L3, code="an.", limit=1)["total"] == 2


def test_another_facility_is_not_found_and_never_listed(projector: Projector, clock: FakeClock,
                                                        known: dict[str, UUID]) -> None:
    reads = ReadModels(projector, clock)
    with pytest.raises(NotFound):
        reads.incidents(OTHER_L1, facility="F-001")
    assert listed(reads, OTHER_L1) == named(known, "f")
    assert str(known["f"]) not in listed(reads, L1)
    assert listed(reads, L1, jc_case_number="2026-000601") == []
    assert reads.incidents(L1)["facility"] == "F-001"


@pytest.mark.parametrize(("filters", "named_parameter"), [
    ({"state": "pending"}, "unknown state"),
    ({"code": "AN%"}, "code"),
    ({"clock_status": "late"}, "clock status"),
    ({"limit": 0}, "limit"),
    ({"reported_from": date(2026, 3, 2), "reported_to": date(2026, 3, 1)}, "reported_from"),
    ({"reported_to": date(9999, 12, 31)}, "reported_to"),
    ({"reported_from": date(1, 1, 1)}, "reported_from"),
])
def test_bad_filters_are_named(projector: Projector, clock: FakeClock, filters: dict[str, Any],
                               named_parameter: str) -> None:
    with pytest.raises(ValidationFailed, match=named_parameter):
        ReadModels(projector, clock).incidents(L3, **filters)


def test_a_day_is_written_yyyy_mm_dd() -> None:
    assert parse_day("2026-03-01", "reported_from") == date(2026, 3, 1)
    for text in ("2026-W09-1", "20260301", "2026-02-30", "yesterday"):
        with pytest.raises(ValidationFailed, match="reported_from must be a date"):
            parse_day(text, "reported_from")


def test_the_list_applied_event_by_event_equals_a_rebuild(
        service: IncidentService, projector: Projector, second_database_url: str, clock: FakeClock,
        known: dict[str, UUID]) -> None:
    # Projected already (part-way, one event a batch); then more events on incidents already projected.
    service.submit_report_of_death(L1, known["c"])
    service.amend(L1, known["a"], "incident", {"code": "an.neglect"}, "Re-classified after review.")
    service.import_report(L2, known["b"])
    service.start_investigation(L2, known["a"])
    service.document_findings(L2, known["a"], "Substantiated.")
    clock.advance(days=2)
    service.close(L1, known["a"])
    service.reopen(L1, known["a"], "New information.")
    projector.catch_up()
    rows = dump(projector)["view_incident_list"]
    assert len(rows) == 6
    assert rows == fresh_rebuild(service, second_database_url)["view_incident_list"]
    neglect = ReadModels(projector, clock).incidents(L3, code="an.neglect")["incidents"]
    assert [(r["incident_id"], r["state"], r["next_due"]) for r in neglect] == [
        (str(known["a"]), service.load(known["a"]).state, None),  # closed once: its clock stays met
        (str(known["b"]), "draft", None)]


def test_a_state_reviewer_sees_every_facility_unless_one_is_named(
        service: IncidentService, projector: Projector, clock: FakeClock, known: dict[str, UUID]) -> None:
    reads = ReadModels(projector, clock)
    everywhere = reads.incidents(REVIEWER)
    assert (everywhere["facility"], everywhere["total"]) == (None, 6)
    assert listed(reads, REVIEWER, facility="F-002") == named(known, "f")
    assert listed(reads, REVIEWER, code="an.neglect") == named(known, "f", "b")

    board = reads.board(REVIEWER, state="jc_import_queue")
    assert board["facility"] is None
    counts = {row["state"]: row["count"] for row in board["states"]}
    assert (counts["jc_import_queue"], counts["emailed_to_omh"], counts["draft"]) == (3, 2, 1)  # b, d and f
    assert {row["incident_id"] for row in board["incidents"]} == set(named(known, "b", "d", "f"))
    assert board["jc_import_queue"]["waiting"] == 3
    only_f002 = reads.board(REVIEWER, facility="F-002")
    assert {row["state"]: row["count"] for row in only_f002["states"]}["jc_import_queue"] == 1
    assert only_f002["facility"] == "F-002"
    assert reads.board(L3)["facility"] == "F-001"

    by_route = reads.statistics(REVIEWER, by="route")
    assert {r["value"]: r["count"] for r in by_route} == {"JC_AND_OMH": 2, "not_submitted": 4}
    assert {r["facility"] for r in by_route} == {None}
    assert {r["value"]: r["count"] for r in reads.statistics(REVIEWER, by="route", facility="F-002")} == {
        "not_submitted": 1}

    trail = reads.audit_trail(REVIEWER)
    assert {r["facility"] for r in trail} == {"F-001", "F-002"}
    assert {r["facility"] for r in reads.audit_trail(REVIEWER, facility="F-002")} == {"F-002"}

    service.import_report(OTHER_L1, known["f"])
    for screen, fields in complete_details(clock.now - timedelta(hours=1)):
        service.record_details(OTHER_L1, known["f"], screen, fields)
    service.email_omh(OTHER_L1, known["f"])
    projector.catch_up()
    clocks = reads.overdue(REVIEWER, status="open")
    assert clocks["facility"] is None
    assert {c["facility"] for c in clocks["clocks"]} == {"F-001", "F-002"}
    assert {c["facility"] for c in reads.overdue(REVIEWER, status="open", facility="F-002")["clocks"]} == {"F-002"}
    assert reads.board(REVIEWER)["clocks"]["investigation"]["overdue"] == 0
    clock.now = datetime(2026, 5, 1, tzinfo=timezone.utc)
    assert reads.board(REVIEWER)["clocks"]["investigation"]["overdue"] == 2  # a (F-001) and f (F-002)
    assert reads.board(REVIEWER, facility="F-002")["clocks"]["investigation"]["overdue"] == 1
