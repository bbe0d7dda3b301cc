"""The overdue view's obligation rows agree with the incident through a draft's life: alerts and waivers recorded
while a clock was provisional still stand when Email OMH fixes it, and the clock process then finds nothing to do."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from adapters.tooling.samples import vpcr_report
from projections import overdue
from projections.projector import Projector
from tests.conftest import L1, L2, FakeClock
from tests.projections.support import dump, fresh_rebuild, projector_for
from tests.workflows.helpers import fill
from workflows.service import IncidentService


@pytest.fixture
def views_url(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url


@pytest.fixture
def projector(service: IncidentService, views_url: str) -> Iterator[Projector]:
    service.obligations_for = lambda facility: "part524@1"
    built = projector_for(service, views_url)
    yield built
    built.engine.dispose()


def _pending(projector: Projector, clock: FakeClock) -> list[str]:
    projector.catch_up()
    with projector.engine.connect() as connection:
        return overdue.pending_clock_alerts(connection, clock(), 100)


def _row(projector: Projector, key: str) -> dict:  # type: ignore[type-arg]
    with projector.engine.connect() as connection:
        return dict(connection.execute(overdue.clocks.select().where(overdue.clocks.c.key == key)).mappings().one())


def test_a_clock_missed_as_a_draft_stays_recorded_when_email_omh_fixes_it(
        service: IncidentService, projector: Projector, clock: FakeClock, second_database_url: str) -> None:
    iid = service.receive_vpcr_report(L2, vpcr_report("2026-000611", clock() - timedelta(hours=30)))[0]
    assert _pending(projector, clock) == [str(iid)]
    assert service.record_clock_alerts(iid)[1] == ["qualified_person_notice"]
    assert _pending(projector, clock) == []
    service.import_report(L2, iid)
    fill(service, iid)
    service.email_omh(L1, iid)  # the notice is fixed at the same due time: its ClockMissed still stands
    assert service.load(iid).deadlines["qualified_person_notice"].provisional is False
    assert _pending(projector, clock) == [], "nothing left for the clock process: it would reload it every pass"
    assert _row(projector, "qualified_person_notice")["missed_recorded_at"] is not None
    assert dump(projector) == fresh_rebuild(service, second_database_url)


def test_a_waiver_made_while_provisional_survives_email_omh_and_an_extension_waits_for_it(
        service: IncidentService, projector: Projector, clock: FakeClock) -> None:
    iid = service.receive_vpcr_report(L2, vpcr_report("2026-000612", clock() - timedelta(hours=30),
                                                      code="death.natural-unexpected"))[0]
    service.import_report(L2, iid)
    service.waive_obligation(L1, iid, "qualified_person_notice", "The client had no family and had named no one.")
    with pytest.raises(Exception, match="provisional until Email OMH"):
        service.extend_obligation(L1, iid, "autopsy_report", (clock() + timedelta(days=200)).isoformat(), "Examiner")
    fill(service, iid, serious_harm=True)
    service.email_omh(L1, iid)
    assert "qualified_person_notice" in service.load(iid).waived
    assert _pending(projector, clock) == []
    page = projector_reads(projector, clock)
    assert {row["key"]: row["status"] for row in page}["qualified_person_notice"] == "waived"


def projector_reads(projector: Projector, clock: FakeClock) -> list[dict]:  # type: ignore[type-arg]
    projector.catch_up()
    with projector.engine.connect() as connection:
        return overdue.page(connection, facility="F-001", as_of=clock(), current=True, status="all", limit=100)  # type: ignore[return-value]
