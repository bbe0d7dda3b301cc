"""Supervisor board: per facility, incidents per workflow state and how long they have been in
it, the JC import queue's waiting count and oldest item, and how many clocks are overdue or due
soon.

Counts are counters the projection keeps (``view_board_states``; open clocks per due day in
``view_board_open_clocks``), so the board reads a handful of rows at any size instead of
grouping a million incidents.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, NotRequired

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, bindparam, func, select
from sqlalchemy.engine import Connection
from typing_extensions import TypedDict

from domain.incident import DETAILS_CHANGED, Incident
from domain.lifecycle import State, parse_state
from domain.obligations.sets import ALL_CLOCK_NAMES
from domain.vocabulary import ClockName
from projections import open_obligations
from projections.schema import UtcDateTime, metadata
from projections.view import Counters, EventKinds, Logged, Rows, View, Write

incidents = Table(
    "view_board_incidents", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("jc_case_number", String(64), nullable=True),
    Column("code", String(64), nullable=False),
    Column("obligations", String(32), nullable=False),  # the pinned obligation rules
    Column("open_obligations", Text, nullable=True),  # {key: [clock, due]} while open (projections.open_obligations)
    Column("report_of_death_submitted", Boolean, nullable=False),
    Column("closed_once", Boolean, nullable=False),
    Index("ix_board_state_since", "facility", "state", "since"),
    Index("ix_board_state_since_everywhere", "state", "since"),  # a state reviewer's board of every facility
)
states = Table(
    "view_board_states", metadata,
    Column("facility", String(64), primary_key=True),
    Column("state", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
)
open_clocks = Table(
    "view_board_open_clocks", metadata,
    Column("facility", String(64), primary_key=True),
    Column("clock", String(32), primary_key=True),
    Column("due_at", UtcDateTime, primary_key=True),
    Column("count", Integer, nullable=False),
)


class StateCount(TypedDict):
    state: str
    count: int
    oldest_since: str | None
    longest_hours_in_state: float | None
    oldest_incident_id: NotRequired[str]  # present when some incident is in the state (closed excepted)


class OldestWaiting(TypedDict):
    incident_id: str
    jc_case_number: str | None
    waiting_since: str
    hours_waiting: float


class QueueSummary(TypedDict):
    waiting: int
    oldest: OldestWaiting | None


class ClockCounts(TypedDict):
    overdue: int
    due_soon: int


class InState(TypedDict):
    incident_id: str
    jc_case_number: str | None
    code: str
    state: str
    since: str
    hours_in_state: float


class Board(TypedDict):
    """The supervisor's board of one facility, or of every facility (``facility`` null: a state reviewer's roll-up)."""

    facility: str | None
    as_of: str
    states: list[StateCount]
    jc_import_queue: QueueSummary
    clocks: dict[str, ClockCounts]  # clock name: counts
    incidents: NotRequired[list[InState]]  # with ``state=``: the incidents in that state, longest waiting first


CHART_CLOCKS = {clock.value for clock in ClockName}
DETAILS, CREATED = EventKinds(DETAILS_CHANGED), EventKinds(Incident.Created)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


class BoardView(View):
    name = "board"
    tables = (incidents, states, open_clocks)

    def __init__(self) -> None:
        self.rows = Rows(incidents)
        self.state_counts = Counters(states, ("facility", "state"))
        self.clock_counts = Counters(open_clocks, ("facility", "clock", "due_at"))

    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        wanted = {item.key for item in batch if not CREATED[type(item.event)]}
        known, missing = self.memo.recall(wanted)
        known.update((key, rows[0]) for key, rows in self.rows.load(connection, missing).items())
        state_deltas: Counter[tuple[Any, ...]] = Counter()
        clock_deltas: Counter[tuple[Any, ...]] = Counter()
        dirty: set[str] = set()
        # Each incident's open obligations, read once a batch and written once at its end (if they changed).
        opened: dict[str, open_obligations.OpenObligations] = {}
        changed: set[str] = set()
        for _, key, _, event in batch:
            if CREATED[type(event)]:
                state = event.initial_state
                known[key] = {"incident_id": key, "facility": event.facility, "state": state, "since": event.timestamp,
                              "jc_case_number": getattr(event, "jc_case_number", None), "code": event.incident_code,
                              "obligations": event.obligations, "open_obligations": None,
                              "report_of_death_submitted": False, "closed_once": False}
                state_deltas[(event.facility, state)] += 1
                opened[key] = open_obligations.started_with(event) if event.deadlines else {}
                for clock, due in opened[key].values():
                    clock_deltas[(event.facility, clock, due)] += 1
                changed.add(key)
                dirty.add(key)
                continue
            row = known[key]
            facility = row["facility"]
            to_state = getattr(event, "to_state", None)
            if to_state is not None and to_state != row["state"]:
                state_deltas[(facility, row["state"])] -= 1
                state_deltas[(facility, to_state)] += 1
                row["state"], row["since"] = to_state, event.timestamp
            if open_obligations.CHANGING[type(event)]:
                before = opened.get(key)
                if before is None:
                    before = opened[key] = open_obligations.decode(row["open_obligations"])
                after = dict(before)
                open_obligations.change(after, row, event)
                if after != before:
                    for clock, due in before.values():
                        clock_deltas[(facility, clock, due)] -= 1
                    for clock, due in after.values():
                        clock_deltas[(facility, clock, due)] += 1
                    opened[key] = after
                    changed.add(key)
            elif DETAILS[type(event)] and "code" in event.fields:
                row["code"] = event.fields["code"]
            dirty.add(key)
        for key in changed:
            known[key]["open_obligations"] = open_obligations.encode(opened[key])
        self.memo.keep(known, dirty)
        dialect = connection.dialect.name
        return [self.rows.upsert(dialect, [known[key] for key in dirty]),
                *self.state_counts.writes(dialect, state_deltas), *self.clock_counts.writes(dialect, clock_deltas)]


def _statements(everywhere: bool) -> dict[str, Any]:
    """The board's queries for one facility (``:facility``), or for every facility (a state reviewer's roll-up);
    built once: building a statement costs more than running it."""
    def where(table: Table) -> list[Any]:
        return [] if everywhere else [table.c.facility == bindparam("facility")]

    return {
        "oldest": (select(incidents.c.incident_id, incidents.c.jc_case_number, incidents.c.since)
                   .where(*where(incidents), incidents.c.state == bindparam("state"))
                   .order_by(incidents.c.since, incidents.c.incident_id).limit(1)),
        "counts": select(states.c.state, func.sum(states.c["count"])).where(*where(states)).group_by(states.c.state),
        "open_clocks": (select(open_clocks.c.clock, func.sum(open_clocks.c["count"]))
                        .where(*where(open_clocks), open_clocks.c.due_at >= bindparam("low"),
                               open_clocks.c.due_at < bindparam("high")).group_by(open_clocks.c.clock)),
    }


ONE_FACILITY, EVERY_FACILITY = _statements(False), _statements(True)


def _queries(facility: str | None) -> dict[str, Any]:
    return EVERY_FACILITY if facility is None else ONE_FACILITY


def _oldest(connection: Connection, facility: str | None, state: str) -> Any:
    return connection.execute(_queries(facility)["oldest"], {"facility": facility, "state": state}).first()


def _hours(since: datetime, now: datetime) -> float:
    return round((now - since).total_seconds() / 3600, 1)


def board(connection: Connection, facility: str | None, now: datetime, soon_days: int = 2) -> Board:
    """The board of one facility (``None``: of every facility, counts summed) as of ``now``."""
    counted = connection.execute(_queries(facility)["counts"], {"facility": facility}).all()
    counts = {state: int(total) for state, total in counted}
    by_state: list[StateCount] = []
    oldest_by_state = {}
    for state in State:
        count = counts.get(state, 0)
        entry: StateCount = {"state": state, "count": count, "oldest_since": None, "longest_hours_in_state": None}
        oldest = _oldest(connection, facility, state) if count and state != State.CLOSED else None
        if oldest is not None:  # None: the projector moved it between the two reads (PostgreSQL reads per statement)
            oldest_by_state[state] = oldest
            entry["oldest_since"] = oldest.since.isoformat()
            entry["longest_hours_in_state"] = _hours(oldest.since, now)
            entry["oldest_incident_id"] = oldest.incident_id
        by_state.append(entry)
    queue = next(e for e in by_state if e["state"] == State.JC_IMPORT_QUEUE)
    oldest_waiting = oldest_by_state.get(State.JC_IMPORT_QUEUE)
    return {
        "facility": facility,
        "as_of": now.isoformat(),
        "states": by_state,
        "jc_import_queue": {
            "waiting": queue["count"],
            "oldest": None if oldest_waiting is None else {
                "incident_id": oldest_waiting.incident_id, "jc_case_number": oldest_waiting.jc_case_number,
                "waiting_since": oldest_waiting.since.isoformat(), "hours_waiting": _hours(oldest_waiting.since, now)},
        },
        "clocks": _clock_counts(connection, facility, now, soon_days),
    }


def _clock_counts(connection: Connection, facility: str | None, now: datetime,
                  soon_days: int) -> dict[str, ClockCounts]:
    def summed(low: datetime, high: datetime) -> dict[str, int]:
        rows = connection.execute(_queries(facility)["open_clocks"], {"facility": facility, "low": low, "high": high})
        return {clock: int(total) for clock, total in rows.all()}

    overdue = summed(datetime(1900, 1, 1, tzinfo=timezone.utc), now)
    soon = summed(now, now + timedelta(days=soon_days))
    # The charts' two clocks always; the others (Part 524's) when any is overdue or due soon.
    shown = [clock for clock in ALL_CLOCK_NAMES if clock in CHART_CLOCKS or clock in overdue or clock in soon]
    return {clock: {"overdue": overdue.get(clock, 0), "due_soon": soon.get(clock, 0)} for clock in shown}


def in_state(connection: Connection, facility: str | None, state: str, now: datetime, limit: int = 50,
             offset: int = 0) -> list[InState]:
    """The incidents in one state (of one facility, or of every one), longest waiting first, with how long
    each has been in it."""
    parse_state(state)
    query = (select(incidents).where(*([] if facility is None else [incidents.c.facility == facility]),
                                     incidents.c.state == state)
             .order_by(incidents.c.since, incidents.c.incident_id).limit(limit).offset(offset))
    return [{"incident_id": row.incident_id, "jc_case_number": row.jc_case_number, "code": row.code,
             "state": row.state, "since": row.since.isoformat(), "hours_in_state": _hours(row.since, now)}
            for row in connection.execute(query)]
