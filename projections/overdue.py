"""Overdue: one row per obligation (a clock running on an incident: ``DeadlineSet``), keyed by its ``key``.

A row keeps when the clock was set and when it was met or waived, so "what was overdue as of X" is
answered as it stood then: a clock counts at X if it was set by X, and is open at X if it was not
met or waived by X. The status (overdue, due soon, open, met on time, met late, waived) and the days
late or left are worked out at query time with the domain's own ``Deadline.status``. The clock
process (``workflows.clocks``) reads the open rows past their warning or due time through two
partial indexes, and marks the rows whose ClockDueSoon or ClockMissed it has recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, String, Table, Text, and_, bindparam, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from typing_extensions import TypedDict

from domain.deadlines import Deadline, local_date
from domain.errors import ValidationFailed
from domain.incident import DETAILS_CHANGED, Incident
from domain.obligations.sets import ALL_CLOCK_NAMES, CHARTS_ONLY, OBLIGATION_SETS
from domain.vocabulary import ClockName
from projections.encryption import PLAIN, FieldCipher
from projections.schema import UtcDateTime, metadata
from projections.view import EventKinds, Logged, Rows, View, Write, placeholder

clocks = Table(
    "view_overdue_clocks", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("key", String(100), primary_key=True),  # the obligation: the clock's name[:request id]
    Column("clock", String(32), nullable=False),
    Column("facility", String(64), nullable=False),
    Column("program", Text, nullable=False),  # free text: encrypted when a key is set (``projections.encryption``)
    Column("jc_case_number", String(64), nullable=True),
    Column("code", String(64), nullable=False),
    Column("length", Integer, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("provisional", Boolean, nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("warn_at", UtcDateTime, nullable=False),  # when ClockDueSoon is due to be recorded
    Column("set_at", UtcDateTime, nullable=False),
    Column("met_at", UtcDateTime, nullable=True),
    Column("waived_at", UtcDateTime, nullable=True),
    Column("due_soon_recorded_at", UtcDateTime, nullable=True),  # for the current due time
    Column("missed_recorded_at", UtcDateTime, nullable=True),
)
# The supervisor's question ("what is late in my facility now") reads open clocks only:
# partial indexes keep that first page a short index range scan at any size.
OPEN = and_(clocks.c.met_at.is_(None), clocks.c.waived_at.is_(None))
Index("ix_overdue_open_by_facility", clocks.c.facility, clocks.c.due_at, sqlite_where=OPEN, postgresql_where=OPEN)
Index("ix_overdue_open", clocks.c.due_at, sqlite_where=OPEN, postgresql_where=OPEN)
Index("ix_overdue_by_facility", clocks.c.facility, clocks.c.due_at)  # as-of queries into the past
# The clock process's two scans: open obligations past due with no ClockMissed, or past their warning time with
# no ClockDueSoon, for their current due time.
MISS_PENDING = and_(OPEN, clocks.c.missed_recorded_at.is_(None))
WARN_PENDING = and_(OPEN, clocks.c.due_soon_recorded_at.is_(None))
Index("ix_overdue_miss_pending", clocks.c.due_at, sqlite_where=MISS_PENDING, postgresql_where=MISS_PENDING)
Index("ix_overdue_warn_pending", clocks.c.warn_at, sqlite_where=WARN_PENDING, postgresql_where=WARN_PENDING)

incidents = Table(
    "view_overdue_incidents", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("program", Text, nullable=False),  # encrypted as in the clocks
    Column("jc_case_number", String(64), nullable=True),
    Column("code", String(64), nullable=False),
    Column("obligations", String(32), nullable=False),  # the pinned obligation rules
    Column("first_closed_at", UtcDateTime, nullable=True),
    Column("report_of_death_at", UtcDateTime, nullable=True),
)
STATUSES = ("overdue", "due_soon", "open", "met_on_time", "met_late", "waived", "all", "unmet")
# What `nimrs obligations` and GET /obligations take: "open" is every obligation neither met nor waived
# (the overdue page's "unmet"), whether overdue, due soon or due later.
OBLIGATION_STATUSES = ("open", "overdue", "due_soon", "met_on_time", "met_late", "waived", "all")
NEEDS_INCIDENT = (*DETAILS_CHANGED, Incident.DeadlineSet, Incident.DeadlineWithdrawn, Incident.ObligationMet,
                  Incident.ObligationWaived, Incident.ObligationExtended, Incident.ClockAlert,
                  Incident.ReportOfDeathSubmitted, Incident.Closed)
NEEDING, CREATED = EventKinds(NEEDS_INCIDENT), EventKinds(Incident.Created)


class OverdueClock(TypedDict):
    """One reporting clock on the overdue page."""

    incident_id: str
    jc_case_number: str | None
    facility: str
    program: str
    code: str
    key: str
    clock: str
    set_at: str
    status: str
    length: int
    unit: str
    provisional: bool
    start: str
    due: str
    met_at: str | None
    days_late: int
    days_left: int | None


def _met_at(incident: dict[str, Any], clock: str) -> datetime | None:
    # As Incident.clock_met_at under charts@1: the Report of Death meets its clock, the first closing the other.
    if incident["obligations"] != CHARTS_ONLY:
        return None  # met by ObligationMet
    return incident["report_of_death_at"] if clock == ClockName.REPORT_OF_DEATH.value else incident["first_closed_at"]


def _warn_at(clock: str, due: datetime) -> datetime:
    definition = CLOCKS.get(clock)
    return due - timedelta(hours=definition.due_soon_hours if definition else 48)


class OverdueView(View):
    name = "overdue"
    tables = (clocks, incidents)

    def __init__(self, cipher: FieldCipher = PLAIN) -> None:
        self.incident_rows = Rows(incidents)
        self.clock_rows = Rows(clocks)
        self.cipher = cipher

    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        wanted = {item.key for item in batch if NEEDING[type(item.event)]}
        remembered, missing = self.memo.recall(wanted)
        known = {key: incident for key, (incident, _) in remembered.items()}
        set_clocks = {key: rows for key, (_, rows) in remembered.items()}
        known.update((key, rows[0]) for key, rows in self.incident_rows.load(connection, missing).items())
        set_clocks.update(self.clock_rows.load(connection, missing))
        dirty: set[str] = set()
        withdrawn: list[tuple[str, str]] = []
        for _, key, _, event in batch:
            if CREATED[type(event)]:
                # Encrypted once, when the incident is created: its rows carry the stored text from then on.
                program = self.cipher.encrypt(event.program)
                incident = {"incident_id": key, "facility": event.facility, "program": program,
                            "jc_case_number": getattr(event, "jc_case_number", None), "code": event.incident_code,
                            "obligations": event.obligations, "first_closed_at": None, "report_of_death_at": None}
                known[key] = incident
                set_clocks[key] = [self._row(key, incident, fields, event.timestamp) for fields in event.deadlines]
                dirty.add(key)
                continue
            if not NEEDING[type(event)]:
                continue
            incident, rows = known[key], set_clocks.setdefault(key, [])
            if isinstance(event, DETAILS_CHANGED):
                if "code" not in event.fields:
                    continue
                incident["code"] = event.fields["code"]
                for row in rows:
                    row["code"] = incident["code"]
            elif isinstance(event, Incident.DeadlineSet):
                # A provisional clock set again (or fixed at Email OMH): at the same due time, what was recorded of it
                # (its alerts, a waiver) still stands, as it does in the incident.
                earlier = next((row for row in rows if row["key"] == event.key), None)
                rows[:] = [row for row in rows if row["key"] != event.key]
                row = self._row(key, incident, event.__dict__, event.timestamp)
                if earlier is not None and earlier["due_at"] == row["due_at"]:
                    row.update({name: earlier[name] for name in KEPT_WHEN_SET_AGAIN})
                rows.append(row)
            elif isinstance(event, Incident.DeadlineWithdrawn):
                rows[:] = [row for row in rows if row["key"] != event.key]
                withdrawn.append((key, event.key))
            elif isinstance(event, (Incident.ObligationMet, Incident.ObligationWaived, Incident.ObligationExtended,
                                    Incident.ClockAlert)):
                for row in rows:
                    if row["key"] != event.key:
                        continue
                    if isinstance(event, Incident.ObligationMet):
                        row["met_at"] = event.met_at
                    elif isinstance(event, Incident.ObligationWaived):
                        row["waived_at"] = event.timestamp
                    elif isinstance(event, Incident.ObligationExtended):
                        row.update(due_at=event.due, warn_at=_warn_at(row["clock"], event.due),
                                   due_soon_recorded_at=None, missed_recorded_at=None)
                    elif event.due == row["due_at"]:  # recorded for the current due time
                        if isinstance(event, Incident.ClockMissed):
                            row["missed_recorded_at"] = event.timestamp
                            # a missed clock is past warning too: it leaves both of the clock process's scans
                            row["due_soon_recorded_at"] = row["due_soon_recorded_at"] or event.timestamp
                        else:
                            row["due_soon_recorded_at"] = event.timestamp
            elif isinstance(event, Incident.ReportOfDeathSubmitted) and incident["report_of_death_at"] is None:
                incident["report_of_death_at"] = event.timestamp
                if incident["obligations"] == CHARTS_ONLY:
                    self._meet(rows, ClockName.REPORT_OF_DEATH.value, event.timestamp)
            elif isinstance(event, Incident.Closed) and incident["first_closed_at"] is None:
                incident["first_closed_at"] = event.timestamp
                if incident["obligations"] == CHARTS_ONLY:
                    self._meet(rows, ClockName.INVESTIGATION.value, event.timestamp)
            dirty.add(key)
        self.memo.keep({key: (known[key], set_clocks.setdefault(key, [])) for key in dirty}, dirty)
        dialect = connection.dialect.name
        mark = placeholder(dialect)
        return [self.incident_rows.upsert(dialect, [known[key] for key in dirty]),
                Write(f"DELETE FROM view_overdue_clocks WHERE incident_id = {mark} AND key = {mark}", withdrawn),
                self.clock_rows.upsert(dialect, [row for key in dirty for row in set_clocks.get(key, [])])]

    @staticmethod
    def _row(key: str, incident: dict[str, Any], deadline: dict[str, Any], set_at: datetime) -> dict[str, Any]:
        """A row for an obligation started by ``DeadlineSet`` or with the incident (the creation event's ``deadlines``)."""
        return {"incident_id": key, "key": deadline["key"], "clock": deadline["clock"], "facility": incident["facility"],
                "program": incident["program"], "jc_case_number": incident["jc_case_number"], "code": incident["code"],
                "length": deadline["length"], "unit": deadline["unit"], "provisional": deadline["provisional"],
                "start_at": deadline["start"], "due_at": deadline["due"], "warn_at": _warn_at(deadline["clock"], deadline["due"]),
                "set_at": set_at, "met_at": _met_at(incident, deadline["clock"]), "waived_at": None,
                "due_soon_recorded_at": None, "missed_recorded_at": None}

    @staticmethod
    def _meet(rows: list[dict[str, Any]], clock: str, at: datetime) -> None:
        for row in rows:
            if row["clock"] == clock and row["met_at"] is None:
                row["met_at"] = at


KEPT_WHEN_SET_AGAIN = ("met_at", "waived_at", "due_soon_recorded_at", "missed_recorded_at")
CLOCKS = {clock.name: clock for rules in OBLIGATION_SETS.values() for clock in rules.clocks}
AS_OF, SOON_END = bindparam("as_of", type_=UtcDateTime), bindparam("soon_end", type_=UtcDateTime)


def _filter(statement: Select[Any], status: str, current: bool) -> Select[Any]:
    c = clocks.c
    # Before "now" a clock may have been met or waived later: open at X means neither by X.
    open_at = OPEN if current else and_(or_(c.met_at.is_(None), c.met_at > AS_OF),
                                        or_(c.waived_at.is_(None), c.waived_at > AS_OF))
    if status == "unmet":
        return statement.where(open_at).order_by(c.due_at, c.incident_id)
    if status == "waived":
        return statement.where(c.waived_at <= AS_OF).order_by(c.waived_at.desc(), c.incident_id)
    if status == "overdue":
        return statement.where(open_at, c.due_at < AS_OF).order_by(c.due_at, c.incident_id)
    if status == "due_soon":
        return statement.where(open_at, c.due_at >= AS_OF, c.due_at < SOON_END).order_by(c.due_at, c.incident_id)
    if status == "open":
        return statement.where(open_at, c.due_at >= AS_OF).order_by(c.due_at, c.incident_id)
    if status == "met_on_time":
        return statement.where(c.met_at <= AS_OF, c.met_at <= c.due_at, c.waived_at.is_(None)).order_by(c.met_at.desc(), c.incident_id)
    if status == "met_late":
        return statement.where(c.met_at <= AS_OF, c.met_at > c.due_at).order_by(c.met_at.desc(), c.incident_id)
    return statement.order_by(c.due_at, c.incident_id)


@lru_cache(maxsize=128)
def _statement(status: str, current: bool, by_facility: bool, by_clock: bool) -> Select[Any]:
    """Built once per shape, then run with parameters: building a statement costs more than running it."""
    statement = select(clocks)
    if by_facility:
        statement = statement.where(clocks.c.facility == bindparam("facility"))
    if by_clock:
        statement = statement.where(clocks.c.clock == bindparam("clock"))
    if not current:
        statement = statement.where(clocks.c.set_at <= AS_OF)
    return _filter(statement, status, current).limit(bindparam("limit", type_=Integer)).offset(
        bindparam("offset", type_=Integer))


def page(connection: Connection, *, facility: str | None, as_of: datetime, current: bool, status: str = "overdue",
         clock: str | None = None, soon_days: int = 2, limit: int = 50, offset: int = 0,
         cipher: FieldCipher = PLAIN) -> list[OverdueClock]:
    """Clocks as they stood at ``as_of``, most overdue first (met ones: most recently met first).

    ``current`` says that ``as_of`` is at or after every event the view has applied, so a
    clock open now is simply one never met (the partial index answers it).
    """
    if status not in STATUSES:
        raise ValidationFailed(f"unknown status {status!r}; expected one of: {', '.join(STATUSES)}")
    if clock is not None and clock not in ALL_CLOCK_NAMES:
        raise ValidationFailed(f"unknown clock {clock!r}; expected one of: {', '.join(ALL_CLOCK_NAMES)}")
    if not 1 <= limit <= 1000 or offset < 0 or soon_days < 0:
        raise ValidationFailed("limit must be 1-1000, offset and soon days not negative")
    soon = timedelta(days=soon_days)
    statement = _statement(status, current, facility is not None, clock is not None)
    parameters = {"as_of": as_of, "soon_end": as_of + soon, "facility": facility, "clock": clock, "limit": limit,
                  "offset": offset}
    today = local_date(as_of)
    return [_as_output(row, as_of, today, soon, cipher)
            for row in connection.execute(statement, parameters).mappings().all()]


def _as_output(row: Any, as_of: datetime, today: date, soon: timedelta, cipher: FieldCipher) -> OverdueClock:
    deadline = Deadline(row["key"], row["length"], row["start_at"], row["due_at"], row["clock"], row["unit"],
                        row["provisional"])
    met_at = row["met_at"] if row["met_at"] is not None and row["met_at"] <= as_of else None
    waived = row["waived_at"] is not None and row["waived_at"] <= as_of
    status = deadline.status(met_at, as_of, today, waived=waived)
    if status["status"] == "open" and row["due_at"] < as_of + soon:
        status["status"] = "due_soon"
    return {
        "incident_id": row["incident_id"], "jc_case_number": row["jc_case_number"], "facility": row["facility"],
        "program": cipher.decrypt(row["program"]), "code": row["code"], "key": row["key"], "clock": row["clock"],
        "set_at": row["set_at"].isoformat(),
        **{k: status[k] for k in ("status", "length", "unit", "provisional", "start", "due", "met_at", "days_late",  # type: ignore[typeddict-item]
                                  "days_left")},
    }


def first_page_statement(facility: str, as_of: datetime) -> Select[Any]:
    """The supervisor's first page of overdue clocks now (the query the plan test checks)."""
    return _statement("overdue", True, True, False).params(facility=facility, as_of=as_of, limit=50, offset=0)



def pending_clock_alerts(connection: Connection, now: datetime, limit: int = 500) -> list[str]:
    """Incidents with an open obligation past due and no ClockMissed, or past its warning time and no ClockDueSoon,
    for its current due time: the clock process's work, read by two range scans of partial indexes, soonest first.
    """
    found = [incident_id for statement in pending_clock_statements(now, limit)
             for incident_id in connection.execute(statement).scalars()]
    return list(dict.fromkeys(found))


def pending_clock_statements(now: datetime, limit: int) -> tuple[Select[Any], Select[Any]]:
    """Missed first (past due, no ClockMissed), then due soon (past the warning time, not yet due, no ClockDueSoon)."""
    c = clocks.c
    missed = select(c.incident_id).where(MISS_PENDING, c.due_at < now).order_by(c.due_at).limit(limit)
    warned = (select(c.incident_id).where(WARN_PENDING, c.warn_at <= now, c.due_at >= now)
              .order_by(c.warn_at).limit(limit))
    return missed, warned
