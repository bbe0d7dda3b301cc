"""One event a view cannot apply never stops the projector (issue 10, row 2), on SQLite and PostgreSQL.

Release 0.1.0 accepted a VPCR report "reported to the JC" in year 9999 at -12:00; the statistics
view could not convert it to New York time, the projector retried that batch forever, and no other
facility's report reached its JC queue. Such events may already be stored: they are written here
as that release wrote them, past today's rule (``domain.moments``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from adapters.tooling.samples import vpcr_report
from domain.incident import Incident
from projections.projector import Projector, event_failure, refused_write
from projections.reads import ReadModels
from projections.schema import failures
from tests.conftest import L2, OTHER_L1, FakeClock
from tests.projections.support import dump, projector_for
from tests.workflows.helpers import received
from workflows.service import IncidentService

YEAR_9999 = datetime.fromisoformat("9999-12-31T23:59:59-12:00")
YEAR_1 = datetime.fromisoformat("0001-01-01T00:00:00+14:00")


@pytest.fixture
def views_url(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url


@pytest.fixture
def projector(service: IncidentService, views_url: str) -> Iterator[Projector]:
    built = projector_for(service, views_url, batch_size=5)
    yield built
    built.engine.dispose()


def stored_as_release_0_1_0_did(service: IncidentService, case: str, reported_at: datetime) -> Incident:
    report = dataclasses.replace(vpcr_report(case, service.clock()), jc_reported_at=reported_at)
    incident = Incident._create(Incident.VpcrReportReceived, id=report.incident_id, timestamp=service.clock(),
                                actor=L2.as_dict(), obligations="charts@1", deadlines=[],
                                **report.as_event_fields())
    service.store.save(incident)
    return incident


def _failures(projector: Projector) -> list[tuple[Any, ...]]:
    with projector.engine.connect() as connection:
        rows = connection.execute(select(failures.c.view, failures.c.position, failures.c.event_type)
                                  .order_by(failures.c.view, failures.c.position))
        return [tuple(row) for row in rows]


def test_a_view_skips_an_event_it_cannot_apply_and_every_other_view_and_facility_goes_on(
        service: IncidentService, projector: Projector, clock: FakeClock, second_database_url: str) -> None:
    received(service, case="2026-000100")
    stored_as_release_0_1_0_did(service, "2026-000101", YEAR_9999)
    stored_as_release_0_1_0_did(service, "2026-000102", YEAR_1)
    other = service.receive_vpcr_report(OTHER_L1, vpcr_report("2026-000103", clock(), facility="F-002"))[0]

    projector.catch_up()  # release 0.1.0: OverflowError, retried for ever

    status = {row["view"]: row for row in projector.status()}
    assert all(row["lag_events"] == 0 for row in status.values())
    assert status["statistics"]["failed_events"] == 2
    skipped = projector.failures()
    assert {(f["view"], f["event_type"]) for f in skipped} >= {("statistics", "VpcrReportReceived")}
    assert all("OverflowError" in f["error"] for f in skipped if f["view"] == "statistics")
    reads = ReadModels(projector, clock)
    queue = reads.board(OTHER_L1, state="jc_import_queue")["incidents"]
    assert [row["incident_id"] for row in queue] == [str(other)]
    assert reads.statistics(OTHER_L1, by="type")[0]["count"] == 1
    assert sum(row["count"] for row in reads.statistics(L2, by="type")) == 1  # the two it could not count: skipped

    # Deterministic: a rebuild, in one batch, meets the same events and reaches the same rows.
    rebuilt = projector_for(service, second_database_url, batch_size=1000)
    try:
        rebuilt.rebuild([view.name for view in rebuilt.views])
        assert dump(rebuilt) == dump(projector)
        assert _failures(rebuilt) == _failures(projector)
        assert rebuilt.failed_events() == projector.failed_events()
    finally:
        rebuilt.engine.dispose()
    projector.rebuild(["statistics"])  # a rebuild in place of the failing view succeeds too
    assert projector.failed_events()["statistics"] == 2


def test_a_store_that_cannot_be_reached_is_retried_never_skipped() -> None:
    class OperationalError(Exception):  # what every PEP 249 driver calls "the database is unreachable or busy"
        pass

    class DataError(Exception):  # PEP 249: the database refused a value
        pass

    assert not event_failure(OperationalError("database is locked"))
    assert event_failure(OverflowError("date value out of range"))
    assert event_failure(KeyError("incident"))
    assert refused_write(DataError("value out of range")) and not refused_write(OperationalError("gone"))
    assert not refused_write(RuntimeError("the process is going down"))
