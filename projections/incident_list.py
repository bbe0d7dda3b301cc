"""Incident list: one row per incident, to list and search them (by state, code, reported date, JC case
number and where their reporting clocks stand), newest reported first.

It holds no patient details: ids, codes, states, routes and times only, so nothing in it is encrypted.
An incident's ``reported_at`` is when it was reported to the JC for a VPCR report, else when it was
entered ("New Incident"). The two clocks' due times are kept while the clock is open (``None`` once
met); ``next_due`` is the earlier of them, so "overdue" and "due soon" are ranges of one column.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import Boolean, Column, Index, String, Table, Text, func, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Select
from typing_extensions import TypedDict

from domain.deadlines import LOCAL_ZONE
from domain.errors import ValidationFailed
from domain.incident import DETAILS_CHANGED, Incident
from domain.lifecycle import parse_state
from domain.moments import require_askable
from projections import open_obligations
from projections.schema import UtcDateTime, metadata
from projections.view import EventKinds, Logged, Rows, View, Write

incidents = Table(
    "view_incident_list", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("jc_case_number", String(64), nullable=True),
    Column("code", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("state_since", UtcDateTime, nullable=False),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("route", String(32), nullable=True),  # once emailed to OMH
    Column("obligations", String(32), nullable=False),  # the pinned obligation rules
    Column("open_obligations", Text, nullable=True),  # {key: [clock, due]} while open (projections.open_obligations)
    Column("next_due", UtcDateTime, nullable=True),  # the earliest open obligation's due time
    Column("report_of_death_submitted", Boolean, nullable=False),
    Column("closed_once", Boolean, nullable=False),
    Index("ix_incident_list_facility_state", "facility", "state", "reported_at"),
    Index("ix_incident_list_facility_reported", "facility", "reported_at"),
    Index("ix_incident_list_reported", "reported_at"),  # a state reviewer's list across facilities
    Index("ix_incident_list_jc_case", "jc_case_number"),
)
CLOCK_STATUSES = ("overdue", "due_soon", "open", "none")
CODE = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The events that change a row; the others (findings, details without a code) are skipped unread.
CHANGES = (Incident.Created, Incident.ImportedFromJcQueue, Incident.EmailedToOmh, Incident.InvestigationStarted,
           Incident.Reopened, *open_obligations.CHANGES)


class IncidentListed(TypedDict):
    """One incident in a list: where it stands, when it was reported, and its next due clock."""

    incident_id: str
    facility: str
    jc_case_number: str | None
    code: str
    state: str
    state_since: str
    reported_at: str
    route: str | None
    next_due: str | None  # the earliest open clock's due time
    clock_status: str | None  # overdue, due_soon or open; None when no clock is open


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


DETAILS, CHANGING, CREATED = EventKinds(DETAILS_CHANGED), EventKinds(CHANGES), EventKinds(Incident.Created)


def _changes(item: Logged) -> bool:
    kind = type(item.event)
    if DETAILS[kind]:
        return "code" in item.event.fields
    return CHANGING[kind]


class IncidentListView(View):
    name = "incident_list"
    tables = (incidents,)

    def __init__(self) -> None:
        self.rows = Rows(incidents)

    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        relevant = [item for item in batch if _changes(item)]
        wanted = {item.key for item in relevant if not CREATED[type(item.event)]}
        known, missing = self.memo.recall(wanted)
        known.update((key, rows[0]) for key, rows in self.rows.load(connection, missing).items())
        # Each incident's open obligations, read once a batch and written once at its end.
        opened: dict[str, open_obligations.OpenObligations] = {}
        for _, key, _, event in relevant:
            if CREATED[type(event)]:
                reported = getattr(event, "jc_reported_at", None) or event.timestamp
                known[key] = {"incident_id": key, "facility": event.facility,
                              "jc_case_number": getattr(event, "jc_case_number", None), "code": event.incident_code,
                              "state": event.initial_state.value, "state_since": event.timestamp,
                              "reported_at": _utc(reported), "created_at": event.timestamp, "route": None,
                              "obligations": event.obligations, "open_obligations": None, "next_due": None,
                              "report_of_death_submitted": False, "closed_once": False}
                opened[key] = open_obligations.started_with(event) if event.deadlines else {}
                continue
            row = known[key]
            to_state = getattr(event, "to_state", None)
            if to_state is not None and to_state != row["state"]:
                row["state"], row["state_since"] = to_state, event.timestamp
            if isinstance(event, Incident.EmailedToOmh):
                row["route"] = event.route
            elif open_obligations.CHANGING[type(event)]:
                still_open = opened.get(key)
                if still_open is None:
                    still_open = opened[key] = open_obligations.decode(row["open_obligations"])
                open_obligations.change(still_open, row, event)
            elif DETAILS[type(event)]:
                row["code"] = event.fields["code"]
        for key, still_open in opened.items():
            known[key]["open_obligations"] = open_obligations.encode(still_open)
            known[key]["next_due"] = min((due for _, due in still_open.values()), default=None)
        touched = {item.key for item in relevant}
        self.memo.keep(known, touched)
        return [self.rows.upsert(connection.dialect.name, [known[key] for key in touched])]


# -- queries ------------------------------------------------------------------------------------


def parse_day(text: str, what: str) -> date:
    """A New York calendar date as people type it: ``2026-03-01``."""
    try:
        if DAY.fullmatch(text.strip()):
            return date.fromisoformat(text.strip())
    except ValueError:
        pass
    raise ValidationFailed(f"{what} must be a date written YYYY-MM-DD, got {text[:40]!r}")


def reported_between(reported_from: date | None, reported_to: date | None,
                     now: datetime) -> tuple[datetime | None, datetime | None]:
    """The UTC bounds of New York days ``reported_from`` to ``reported_to``, both included (the end exclusive)."""
    start = end = None
    if reported_from is not None:
        start = require_askable(datetime.combine(reported_from, time.min, LOCAL_ZONE), "reported_from", now)
    if reported_to is not None:
        last = require_askable(datetime.combine(reported_to, time.min, LOCAL_ZONE), "reported_to", now)
        end = datetime.combine(last.date() + timedelta(days=1), time.min, LOCAL_ZONE)
    if start is not None and end is not None and start >= end:
        raise ValidationFailed(f"reported_from ({reported_from}) is after reported_to ({reported_to})")
    return (None if start is None else _utc(start)), (None if end is None else _utc(end))


def _code_matches(code: str) -> Any:
    """A code, or a node of the taxonomy's dotted names: ``an`` or ``an.`` is every abuse or neglect
    code, ``si.crime`` that type and its subtypes."""
    if not CODE.fullmatch(code):
        raise ValidationFailed(f"code must be a taxonomy code or its start (e.g. si.fall, si., an), got {code[:40]!r}")
    node = code.rstrip(".")
    if code.endswith("."):
        return incidents.c.code.startswith(f"{node}.", autoescape=True)
    return or_(incidents.c.code == node, incidents.c.code.startswith(f"{node}.", autoescape=True))


def _clock_filter(statement: Select[Any], clock_status: str, now: datetime, soon_end: datetime) -> Select[Any]:
    due = incidents.c.next_due
    if clock_status == "overdue":
        return statement.where(due < now)
    if clock_status == "due_soon":
        return statement.where(due >= now, due < soon_end)
    if clock_status == "open":
        return statement.where(due >= soon_end)
    return statement.where(due.is_(None))


def search(connection: Connection, *, facility: str | None, now: datetime, state: str | None = None,
           code: str | None = None, reported_since: datetime | None = None, reported_before: datetime | None = None,
           jc_case_number: str | None = None, clock_status: str | None = None, soon_days: int = 2,
           limit: int = 50, offset: int = 0) -> tuple[int, list[IncidentListed]]:
    """How many incidents match (``facility`` None: in every facility), and one page of them, newest
    reported first. A clock status is as of ``now``: "open" is due later than ``soon_days`` from now."""
    if clock_status is not None and clock_status not in CLOCK_STATUSES:
        raise ValidationFailed(f"unknown clock status {clock_status!r}; expected one of: {', '.join(CLOCK_STATUSES)}")
    if not 1 <= limit <= 1000 or offset < 0 or soon_days < 0:
        raise ValidationFailed("limit must be 1-1000, offset and soon days not negative")
    soon_end = now + timedelta(days=soon_days)
    statement = select(incidents)
    if facility is not None:
        statement = statement.where(incidents.c.facility == facility)
    if state is not None:
        statement = statement.where(incidents.c.state == parse_state(state).value)
    if code is not None:
        statement = statement.where(_code_matches(code))
    if reported_since is not None:
        statement = statement.where(incidents.c.reported_at >= reported_since)
    if reported_before is not None:
        statement = statement.where(incidents.c.reported_at < reported_before)
    if jc_case_number is not None:
        statement = statement.where(incidents.c.jc_case_number == jc_case_number)
    if clock_status is not None:
        statement = _clock_filter(statement, clock_status, now, soon_end)
    total = connection.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    page = statement.order_by(incidents.c.reported_at.desc(), incidents.c.incident_id.desc()).limit(limit).offset(offset)
    return int(total), [_listed(row, now, soon_end) for row in connection.execute(page)]


def _listed(row: Any, now: datetime, soon_end: datetime) -> IncidentListed:
    due = row.next_due
    status = None if due is None else "overdue" if due < now else "due_soon" if due < soon_end else "open"
    return {"incident_id": row.incident_id, "facility": row.facility, "jc_case_number": row.jc_case_number,
            "code": row.code, "state": row.state, "state_since": row.state_since.isoformat(),
            "reported_at": row.reported_at.isoformat(), "route": row.route,
            "next_due": None if due is None else due.isoformat(), "clock_status": status}
