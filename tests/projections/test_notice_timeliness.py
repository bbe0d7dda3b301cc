"""Notifications on time (the 2019 audit's measure) on a real store (SQLite file and PostgreSQL): the 24-hour notices
to qualified persons per facility and New York month of the initial report, as they stood at a moment."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import pytest

from adapters.tooling.samples import vpcr_report
from domain.actor import Actor
from domain.errors import NotFound, ValidationFailed
from projections import notice_timeliness, overdue
from projections.projector import Projector
from projections.reads import ReadModels
from tests.conftest import L1, L2, L3, OTHER_L1, FakeClock, actor
from tests.projections.support import projector_for
from workflows.service import IncidentService

OTHER_L3 = actor("elsewhere.analyst", 3, "F-002")
REVIEWER = Actor("reviewer", "OMH", L3.level, state_reviewer=True)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def views_url(database_url: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    return f"sqlite:///{tmp_path}/views.db" if database_url.startswith("sqlite") else database_url


@pytest.fixture
def projector(service: IncidentService, views_url: str) -> Iterator[Projector]:
    built = projector_for(service, views_url, batch_size=7)
    yield built
    built.engine.dispose()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def reported(service: IncidentService, clock: FakeClock, case: str, reported_at: str, who: Actor = L2) -> UUID:
    """A VPCR report received an hour after it was made to the JC, and imported as a draft."""
    moment = at(reported_at)
    clock.now = moment + timedelta(hours=1)
    report = vpcr_report(case, moment, facility=who.facility)
    iid, _ = service.receive_vpcr_report(who, report)
    service.import_report(who, iid)
    return iid


def notified(service: IncidentService, clock: FakeClock, iid: UUID, notified_at: str, who: Actor = L2) -> None:
    """The client's sister recorded, and reached by phone at ``notified_at`` (recorded an hour later)."""
    clock.now = at(notified_at) + timedelta(hours=1)
    service.record_notice_recipient(who, iid, {"recipient_id": "qp-1", "role": "qualified_person", "name": "Dana Doe",
                                               "relationship": "sister", "client_id": "C-1042",
                                               "contacts": {"phone": "555-0100"}, "preferred": ["phone"]})
    service.record_notification(who, iid, {"recipient_id": "qp-1", "notified_at": at(notified_at).isoformat(),
                                           "method": "phone", "outcome": "reached", "note": "", "evidence": None})


@pytest.fixture
def history(service: IncidentService, projector: Projector, clock: FakeClock) -> ReadModels:
    """F-001: in February one notice on time, one late, one waived, one overdue (reported on the evening of the 28th,
    New York time: 1 March in UTC); in March one not yet due. F-002: one on time in March."""
    service.obligations_for = lambda facility: "part524@1"
    on_time = reported(service, clock, "2026-000201", "2026-02-10T09:00-05:00")
    notified(service, clock, on_time, "2026-02-10T15:00-05:00")
    late = reported(service, clock, "2026-000202", "2026-02-12T09:00-05:00")  # due the 13th, 09:00
    notified(service, clock, late, "2026-02-13T14:00-05:00")
    waived = reported(service, clock, "2026-000203", "2026-02-14T09:00-05:00")
    service.waive_obligation(L1, waived, "qualified_person_notice", "The client is an adult and named no one")
    reported(service, clock, "2026-000204", "2026-02-28T22:00-05:00")  # due 1 March 22:00: overdue now
    reported(service, clock, "2026-000205", "2026-03-02T08:00-05:00")  # due 3 March 08:00: not yet
    elsewhere = reported(service, clock, "2026-000206", "2026-03-02T09:00-05:00", who=OTHER_L1)
    notified(service, clock, elsewhere, "2026-03-02T09:20-05:00", who=OTHER_L1)
    clock.now = NOW
    projector.catch_up()
    return ReadModels(projector, clock)


def month(rows: list[notice_timeliness.NoticeMonth], name: str) -> dict[str, Any]:
    found = next(row for row in rows if row["month"] == name)
    return {k: v for k, v in found.items() if k not in ("facility", "month")}


FEBRUARY = {"owed": 4, "met_on_time": 1, "met_late": 1, "waived": 1, "overdue": 1, "not_yet_due": 0,
            "on_time_share": round(1 / 3, 4)}
NONE_OWED = {"owed": 0, "met_on_time": 0, "met_late": 0, "waived": 0, "overdue": 0, "not_yet_due": 0,
             "on_time_share": None}


def test_each_notice_counts_once_in_its_new_york_month_by_where_it_stands_now(history: ReadModels) -> None:
    result = history.notice_timeliness(L3, months=3)  # Level 3 reads it
    assert (result["facility"], result["clock"], datetime.fromisoformat(result["as_of"])) == (
        "F-001", "qualified_person_notice", NOW)
    assert [row["month"] for row in result["months"]] == ["2026-01", "2026-02", "2026-03"]  # oldest first, every month
    assert {row["facility"] for row in result["months"]} == {"F-001"}
    assert month(result["months"], "2026-01") == NONE_OWED
    assert month(result["months"], "2026-02") == FEBRUARY
    assert month(result["months"], "2026-03") == {**NONE_OWED, "owed": 1, "not_yet_due": 1}  # nothing decided yet
    assert [row["month"] for row in history.notice_timeliness(L1, months=1)["months"]] == ["2026-03"]


def test_another_facilitys_notices_never_show_and_a_state_reviewer_sums_every_facility(history: ReadModels) -> None:
    theirs = history.notice_timeliness(OTHER_L3, months=2)["months"]
    assert month(theirs, "2026-02") == NONE_OWED
    assert month(theirs, "2026-03") == {**NONE_OWED, "owed": 1, "met_on_time": 1, "on_time_share": 1.0}
    with pytest.raises(NotFound):
        history.notice_timeliness(OTHER_L3, facility="F-001")
    with pytest.raises(NotFound):
        history.notice_timeliness(L3, facility="F-002")
    everywhere = history.notice_timeliness(REVIEWER, months=2)
    assert everywhere["facility"] is None and {row["facility"] for row in everywhere["months"]} == {None}
    assert month(everywhere["months"], "2026-02") == FEBRUARY
    assert month(everywhere["months"], "2026-03") == {**NONE_OWED, "owed": 2, "met_on_time": 1, "not_yet_due": 1,
                                                      "on_time_share": 1.0}
    one = history.notice_timeliness(REVIEWER, facility="F-002", months=2)
    assert one["facility"] == "F-002" and month(one["months"], "2026-03")["met_on_time"] == 1


def test_as_of_a_past_moment_later_meetings_waivers_and_notices_do_not_count(history: ReadModels,
                                                                              projector: Projector) -> None:
    # The 13th at 11:00: the on-time notice was met, the late one was overdue, the waived one not yet received.
    with projector.engine.connect() as connection:
        then = notice_timeliness.report(connection, facility="F-001", now=at("2026-02-13T11:00-05:00"), months=1)
    assert then["months"] == [{"facility": "F-001", "month": "2026-02", "owed": 2, "met_on_time": 1, "met_late": 0,
                               "waived": 0, "overdue": 1, "not_yet_due": 0, "on_time_share": 0.5}]


def test_the_months_asked_for_are_checked(history: ReadModels) -> None:
    for months in (0, notice_timeliness.MAX_MONTHS + 1):
        with pytest.raises(ValidationFailed, match="months must be"):
            history.notice_timeliness(L3, months=months)


def test_the_csv_has_a_line_per_month_and_runs_no_formula(history: ReadModels) -> None:
    result = history.notice_timeliness(L3, months=2)
    lines = list(csv.reader(io.StringIO(notice_timeliness.to_csv(result))))
    assert lines == [["facility", "month", "owed", "met_on_time", "met_late", "waived", "overdue", "not_yet_due",
                      "on_time_share"],
                     ["F-001", "2026-02", "4", "1", "1", "1", "1", "0", "0.3333"],
                     ["F-001", "2026-03", "1", "0", "0", "0", "0", "1", ""]]
    typed = {**result, "facility": "=HYPERLINK(1)",
             "months": [{**row, "facility": "=HYPERLINK(1)"} for row in result["months"]]}
    cells = [line[0] for line in csv.reader(io.StringIO(notice_timeliness.to_csv(typed)))][1:]  # type: ignore[arg-type]
    assert cells == ["'=HYPERLINK(1)", "'=HYPERLINK(1)"]


def test_months_are_new_york_months_across_a_change_of_year() -> None:
    starts = notice_timeliness.month_starts(at("2026-01-01T04:30:00+00:00"), 2)  # 31 December, 23:30 in New York
    assert [s.isoformat() for s in starts] == ["2025-11-01T00:00:00-04:00", "2025-12-01T00:00:00-05:00",
                                               "2026-01-01T00:00:00-05:00"]


def test_a_facilitys_months_are_read_through_its_index(projector: Projector, clock: FakeClock) -> None:
    """At size, one facility's notices are an index range scan of (facility, due_at), not a scan of every clock."""
    rows = [{"incident_id": f"{n:08d}-0000-4000-8000-000000000000", "key": clock_name, "clock": clock_name,
             "facility": f"F-{n % 40:03d}", "program": "Unit", "jc_case_number": None, "code": "an.neglect",
             "length": 24, "unit": "hours", "provisional": False, "start_at": NOW - timedelta(hours=n % 20_000),
             "due_at": NOW - timedelta(hours=n % 20_000 - 24), "warn_at": NOW, "set_at": NOW,
             "met_at": NOW if n % 3 else None}
            for n in range(10_000) for clock_name in ("qualified_person_notice", "investigation")]
    with projector.engine.begin() as connection:
        connection.execute(overdue.clocks.insert(), rows)
        connection.exec_driver_sql("ANALYZE view_overdue_clocks" if connection.dialect.name == "postgresql" else "ANALYZE")
    statement = notice_timeliness.statement("F-007", NOW, notice_timeliness.month_starts(NOW, 12))
    with projector.engine.connect() as connection:
        compiled = statement.compile(connection, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "
        plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + str(compiled)))
        result = notice_timeliness.report(connection, facility="F-007", now=NOW)
    assert "ix_overdue_by_facility" in plan, plan
    assert "SCAN view_overdue_clocks\n" not in plan + "\n" and "Seq Scan" not in plan, plan
    first = notice_timeliness.month_starts(NOW, 12)[0]
    expected = sum(1 for n in range(7, 10_000, 40) if NOW - timedelta(hours=n) >= first)
    assert 0 < sum(row["owed"] for row in result["months"]) == expected < 250  # its notices of the last 12 months
