"""A rebuild's load (exclusive projectors: views that remember what they wrote, PostgreSQL's COPY, several processes)
ends with the same rows as the views applied one event at a time, on SQLite and PostgreSQL; and what a view
remembers never outlives a batch that did not commit, nor another projector's writes."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

from sqlalchemy import select

from adapters.bootstrap import Runtime
from adapters.projection_runner.log_reader import log_reader
from adapters.projection_runner.workers import rebuild
from adapters.settings import load_settings
from adapters.tooling.samples import vpcr_report
from adapters.tooling.synthetic import Generator, Plan
from domain.incident import Incident
from projections import board
from projections.decoding import LeanDecoder
from projections.projector import VIEW_NAMES, Projector, all_views
from projections.schema import failures
from projections.view import BULK_ROWS, Memo, Rows, execute
from tests.conftest import L2
from tests.projections.support import dump, projector_for
from workflows.service import IncidentService

END = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


def _failures(projector: Projector) -> list[tuple[Any, ...]]:
    with projector.engine.connect() as connection:
        return [tuple(row) for row in connection.execute(
            select(failures.c.view, failures.c.position, failures.c.event_type).order_by(*failures.primary_key))]


def _unreadable_by_statistics(service: IncidentService, case: str) -> None:
    """A report "made to the JC" in year 9999 at -12:00, as release 0.1.0 stored it: statistics cannot count it."""
    report = dataclasses.replace(vpcr_report(case, service.clock()),
                                 jc_reported_at=datetime.fromisoformat("9999-12-31T23:59:59-12:00"))
    service.store.save(Incident._create(Incident.VpcrReportReceived, id=report.incident_id, timestamp=service.clock(),
                                        actor=L2.as_dict(), obligations="charts@1", deadlines=[],
                                        **report.as_event_fields()))


def test_a_rebuild_in_two_processes_equals_the_views_applied_event_by_event(
        service: IncidentService, database_url: str, second_database_url: str) -> None:
    for batch in Generator(Plan(incidents=70, end=END, facilities=3, save_every=9, seed=11))._batches():
        service.store.save(*batch)
    _unreadable_by_statistics(service, "2026-000901")
    for batch in Generator(Plan(incidents=30, end=END, facilities=3, save_every=9, seed=12))._batches():
        service.store.save(*batch)
    one_by_one = projector_for(service, second_database_url, batch_size=1)
    one_by_one.catch_up()
    settings = load_settings({"NIMRS_DATABASE_URL": database_url})
    # Batches big enough for PostgreSQL's COPY, several of them: what the views remember carries across.
    rebuild(settings, VIEW_NAMES, workers=2, batch_size=2 * BULK_ROWS + 7)
    with Runtime(settings) as runtime:
        rebuilt = runtime.projector
        assert rebuilt.lag_events() == 0
        assert dump(rebuilt) == dump(one_by_one)
        assert _failures(rebuilt) == _failures(one_by_one) != []
        assert rebuilt.failed_events()["statistics"] == 1
    one_by_one.engine.dispose()


def test_an_exclusive_projector_forgets_what_another_projector_wrote_over(
        service: IncidentService, database_url: str, second_database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    batches = Generator(Plan(incidents=60, end=END, facilities=2, save_every=6, seed=21))._batches()
    views_url = f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url
    remembering = Projector(service.store, projector_for(service, views_url).engine, all_views(), batch_size=40,
                            exclusive=True)
    other = projector_for(service, views_url, batch_size=25)
    for turn, batch in enumerate(batches):
        service.store.save(*batch)
        if turn % 7 == 3:
            remembering.step()  # remembers the rows it wrote...
        elif turn % 7 == 6:
            other.step()  # ...and the other moves some of them on
    remembering.catch_up()
    reference = projector_for(service, second_database_url)
    reference.catch_up()
    assert dump(remembering) == dump(reference)
    for projector in (remembering, other, reference):
        projector.engine.dispose()


def test_bulk_upserts_leave_what_executemany_leaves(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """COPY through a temporary table keeps the last row of a key, as one upsert after another does."""
    views_url = f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url
    settings = load_settings({"NIMRS_DATABASE_URL": database_url, "NIMRS_VIEWS_URL": views_url})
    rows = Rows(board.incidents)

    def row(n: int, state: str) -> dict[str, Any]:
        return {"incident_id": f"{n:08d}-0000-4000-8000-000000000000", "facility": "F-001", "state": state,
                "since": END, "jc_case_number": None, "code": "an.neglect", "obligations": "charts@1",
                "open_obligations": None, "report_of_death_submitted": False, "closed_once": n % 2 == 0}

    written = [row(n, "draft") for n in range(BULK_ROWS)] + [row(n, "closed") for n in range(0, BULK_ROWS, 3)]
    with Runtime(settings) as runtime:
        engine = runtime.views_engine
        found = {}
        for bulk in (False, True):
            with engine.begin() as connection:
                connection.execute(board.incidents.delete())
                execute(connection, [rows.upsert(connection.dialect.name, written)], bulk=bulk)
            with engine.connect() as connection:
                found[bulk] = connection.execute(select(board.incidents).order_by(board.incidents.c.incident_id)).all()
        assert found[True] == found[False]
        assert [r.state for r in found[True]].count("closed") == len(range(0, BULK_ROWS, 3))


def test_the_rebuild_reader_reads_and_decodes_what_the_library_does(service: IncidentService) -> None:
    for batch in Generator(Plan(incidents=40, end=END, facilities=2, save_every=7, seed=31))._batches():
        service.store.save(*batch)
    read, lean = log_reader(service.store.recorder), LeanDecoder(service.store.mapper)
    assert read is not None
    for after, limit in ((0, 10_000), (17, 5), (300, 123)):
        theirs = service.store.recorder.select_notifications(after, limit, inclusive_of_start=False)
        ours = read(after, limit)
        assert len(theirs) > 4
        assert [(e.id, UUID(e.originator_id), e.originator_version, e.topic, bytes(e.state)) for e in ours] == \
            [(n.id, n.originator_id, n.originator_version, n.topic, bytes(n.state)) for n in theirs]
        for entry, notification in zip(ours, theirs, strict=True):
            event, expected = lean(entry), service.store.mapper.to_domain_event(notification)
            assert type(event) is type(expected) and vars(event) == vars(expected)


def test_a_memo_keeps_the_most_recently_written_incidents() -> None:
    memo = Memo(size=2)
    memo.keep({"a": 1, "b": 2}, ["a", "b"])
    memo.keep({"a": 10, "c": 3}, ["a", "c"])  # "a" written again: now the newest; "b" the oldest, forgotten
    assert memo.recall(["a", "b", "c"]) == ({"a": 10, "c": 3}, ["b"])
    memo.forget()
    assert memo.recall(["a"]) == ({}, ["a"])
    nothing = Memo()
    nothing.keep({"a": 1}, ["a"])
    assert nothing.recall(["a"]) == ({}, ["a"])
