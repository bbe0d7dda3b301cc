"""Statistics for management reports: incident counts by type and subtype, route, harm and risk
rating, program setting, month and facility.

Each incident counts once per dimension in the month it was reported (New York time): to the
JC for imported incidents, when entered for "New Incident" ones. Counts are counters the
projection moves when an incident's type, route or ratings change; a report sums a few
counter rows per month.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer, String, Table, func, select
from sqlalchemy.engine import Connection
from typing_extensions import TypedDict

from domain.deadlines import LOCAL_ZONE
from domain.errors import NimrsError, ValidationFailed
from domain.incident import DETAILS_CHANGED, Incident
from domain.rules import RULE_SETS
from projections.schema import metadata
from projections.view import Counters, EventKinds, Logged, Rows, View, Write
from workflows.spreadsheets import csv_text

incidents = Table(
    "view_stats_incidents", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("month", String(7), nullable=False),
    Column("type", String(64), nullable=False),
    Column("route", String(32), nullable=False),
    Column("harm_rating", String(8), nullable=False),
    Column("risk_rating", String(8), nullable=False),
    Column("setting", String(32), nullable=False),
)
counts = Table(
    "view_stats_counts", metadata,
    Column("facility", String(64), primary_key=True),
    Column("dimension", String(16), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("count", Integer, nullable=False),
)
DIMENSIONS = ("type", "route", "harm_rating", "risk_rating", "setting")
BY = (*DIMENSIONS, "month")
NOT_SUBMITTED, UNRATED = "not_submitted", "unrated"
COUNTED_FIELDS = frozenset({"code", "harm_rating", "risk_rating"})  # the details whose changes move a count
DETAILS, CREATED = EventKinds(DETAILS_CHANGED), EventKinds(Incident.Created)
COUNTED_EVENTS = EventKinds(Incident.Created, Incident.EmailedToOmh)


def _contributions(row: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(row["facility"], dimension, row[dimension], row["month"]) for dimension in DIMENSIONS]


class StatisticsView(View):
    name = "statistics"
    tables = (incidents, counts)

    def __init__(self) -> None:
        self.rows = Rows(incidents)
        self.counters = Counters(counts, ("facility", "dimension", "value", "month"))

    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        relevant = [item for item in batch if self._matters(item)]
        wanted = {item.key for item in relevant if not CREATED[type(item.event)]}
        known, missing = self.memo.recall(wanted)
        known.update((key, rows[0]) for key, rows in self.rows.load(connection, missing).items())
        before = {key: _contributions(row) for key, row in known.items()}
        for _, key, _, event in relevant:
            if CREATED[type(event)]:
                reported = getattr(event, "jc_reported_at", None) or event.timestamp
                known[key] = {"incident_id": key, "facility": event.facility,
                              "month": reported.astimezone(LOCAL_ZONE).strftime("%Y-%m"),
                              "type": event.incident_code, "route": NOT_SUBMITTED,
                              "harm_rating": UNRATED, "risk_rating": UNRATED, "setting": event.setting}
            elif isinstance(event, Incident.EmailedToOmh):
                known[key]["route"] = event.route
            else:
                fields, row = event.fields, known[key]
                row["type"] = fields.get("code", row["type"])
                for rating in ("harm_rating", "risk_rating"):
                    if rating in fields:
                        row[rating] = str(fields[rating])
        deltas: Counter[tuple[Any, ...]] = Counter()
        for key, row in known.items():
            for contribution in before.get(key, []):
                deltas[contribution] -= 1
            for contribution in _contributions(row):
                deltas[contribution] += 1
        self.memo.keep(known, known)
        dialect = connection.dialect.name
        return [self.rows.upsert(dialect, list(known.values())), *self.counters.writes(dialect, deltas)]

    @staticmethod
    def _matters(item: Logged) -> bool:
        kind = type(item.event)
        if DETAILS[kind]:
            return not COUNTED_FIELDS.isdisjoint(item.event.fields)
        return COUNTED_EVENTS[kind]


class Count(TypedDict):
    facility: str | None  # None: summed over every facility (a state reviewer's roll-up)
    dimension: str
    value: str
    label: str
    count: int


def _label(dimension: str, value: str) -> str:
    if dimension != "type":
        return value
    for rules in RULE_SETS.values():  # the current chart first: its label wins where a code is in both
        try:
            entry = rules.entry(value)
        except NimrsError:
            continue
        return f"{entry.type}: {entry.subtype}" if entry.subtype else entry.type
    return value


def report(connection: Connection, *, facility: str | None, by: str, from_month: str | None = None,
           to_month: str | None = None) -> list[Count]:
    """Counts of one facility's incidents (``None``: every facility's) by one dimension (or by month), largest
    first."""
    if by not in BY:
        raise ValidationFailed(f"unknown dimension {by!r}; expected one of: {', '.join(BY)}")
    for month in (from_month, to_month):
        if month is not None and not _is_month(month):
            raise ValidationFailed(f"a month must be written YYYY-MM, got {month!r}")
    dimension = "type" if by == "month" else by  # every incident has exactly one type: a month total
    group = counts.c.month if by == "month" else counts.c.value
    query = select(group, func.sum(counts.c["count"])).where(counts.c.dimension == dimension)
    if facility is not None:
        query = query.where(counts.c.facility == facility)
    if from_month:
        query = query.where(counts.c.month >= from_month)
    if to_month:
        query = query.where(counts.c.month <= to_month)
    rows = connection.execute(query.group_by(group)).all()
    result: list[Count] = [{"facility": facility, "dimension": by, "value": value, "label": _label(by, value), "count": int(total)}
              for value, total in rows]
    if by == "month":
        return sorted(result, key=lambda r: r["value"])
    return sorted(result, key=lambda r: (-r["count"], r["value"]))


def _is_month(text: str) -> bool:
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        return False
    return len(text) == 7


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    return csv_text(("facility", "dimension", "value", "label", "count"), rows)
