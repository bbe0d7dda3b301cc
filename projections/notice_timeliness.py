"""Notifications on time: the 24-hour notice to qualified persons (Jonathan's Law, MHL § 33.23) per New York month.

The 2019 audit's measure, as a query over the overdue view's obligation rows (``projections.overdue``): each
``qualified_person_notice`` counts in the New York month of its start (the initial report) as it stood at a moment:
met on time, met late, waived, open and overdue, or open and not yet due. The share on time leaves out the waived
ones and those not yet due: met on time / (met on time + met late + overdue).

One facility's months are a range scan of the index on (facility, due_at): about 15 ms at 1M incidents on
PostgreSQL. Every facility's (a state reviewer's) is a scan of the obligation rows, about 0.5 s there (measured with
3M rows); no index is added for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from typing_extensions import TypedDict

from domain.deadlines import LOCAL_ZONE
from domain.errors import ValidationFailed
from projections.overdue import clocks
from workflows.spreadsheets import csv_text

CLOCK = "qualified_person_notice"
OUTCOMES = ("met_on_time", "met_late", "waived", "overdue", "not_yet_due")
MAX_MONTHS = 120
CSV_COLUMNS = ("facility", "month", "owed", *OUTCOMES, "on_time_share")


class NoticeMonth(TypedDict):
    """The notices owed for the incidents first reported in one New York month, as they stood ``as_of``."""

    facility: str | None  # None: summed over every facility (a state reviewer's roll-up)
    month: str  # YYYY-MM, New York time
    owed: int
    met_on_time: int
    met_late: int
    waived: int
    overdue: int
    not_yet_due: int
    on_time_share: float | None  # met on time / (owed - waived - not yet due); None when that is 0


class NoticeTimeliness(TypedDict):
    """Every month of the period, oldest first (months with no notice owed included, with a share of None)."""

    facility: str | None
    clock: str
    as_of: str
    months: list[NoticeMonth]


def month_starts(now: datetime, months: int) -> list[datetime]:
    """The first moments (New York time) of the last ``months`` months up to ``now``'s, then of the month after."""
    local = now.astimezone(LOCAL_ZONE)
    index = local.year * 12 + local.month - 1
    return [datetime(n // 12, n % 12 + 1, 1, tzinfo=LOCAL_ZONE) for n in range(index - months + 1, index + 2)]


def _outcome(now: datetime) -> Any:
    """Where a notice stood at ``now`` (as ``Deadline.status``: a waiver first, then a meeting, then the due time)."""
    c = clocks.c
    return case(
        (and_(c.waived_at.is_not(None), c.waived_at <= now), "waived"),
        (and_(c.met_at.is_not(None), c.met_at <= now, c.met_at <= c.due_at), "met_on_time"),
        (and_(c.met_at.is_not(None), c.met_at <= now), "met_late"),
        (c.due_at < now, "overdue"),
        else_="not_yet_due")


def statement(facility: str | None, now: datetime, starts: Sequence[datetime]) -> Select[Any]:
    """Counts by month and outcome: a few rows, whatever the number of notices."""
    c = clocks.c
    month = case(*[(c.start_at >= start, f"{start.year:04d}-{start.month:02d}") for start in reversed(starts[:-1])])
    outcome = _outcome(now)
    query = select(month.label("month"), outcome.label("outcome"), func.count().label("n")).where(
        c.clock == CLOCK, c.start_at >= starts[0], c.start_at < starts[-1], c.set_at <= now,
        # Implied by the start (a due time is never before its start), and lets (facility, due_at) answer a facility.
        c.due_at >= starts[0])
    if facility is not None:
        query = query.where(c.facility == facility)
    return query.group_by(month, outcome)


def report(connection: Connection, *, facility: str | None, now: datetime, months: int = 12) -> NoticeTimeliness:
    """The last ``months`` New York months up to ``now``'s, of one facility (``None``: every facility, summed)."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValidationFailed(f"months must be 1-{MAX_MONTHS}, got {months}")
    starts = month_starts(now, months)
    counts: dict[tuple[str, str], int] = {
        (row.month, row.outcome): int(row.n) for row in connection.execute(statement(facility, now, starts))}
    rows = [_month(facility, f"{start.year:04d}-{start.month:02d}", counts) for start in starts[:-1]]
    return {"facility": facility, "clock": CLOCK, "as_of": now.isoformat(), "months": rows}


def _month(facility: str | None, month: str, counts: dict[tuple[str, str], int]) -> NoticeMonth:
    found = {outcome: counts.get((month, outcome), 0) for outcome in OUTCOMES}
    decided = found["met_on_time"] + found["met_late"] + found["overdue"]
    return {"facility": facility, "month": month, "owed": sum(found.values()), "met_on_time": found["met_on_time"],
            "met_late": found["met_late"], "waived": found["waived"], "overdue": found["overdue"],
            "not_yet_due": found["not_yet_due"],
            "on_time_share": round(found["met_on_time"] / decided, 4) if decided else None}


def to_csv(result: NoticeTimeliness) -> str:
    return csv_text(CSV_COLUMNS, result["months"])
