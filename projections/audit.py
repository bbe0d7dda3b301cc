"""Audit trail: one row per event: who, when, with what level, state before and after, each
changed field with its old and new value, and the reason given.

``audit_entries`` is a pure function of an incident's events, so the same rows come from this
view (across incidents, by actor or time) and from a replay of one incident's stream.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text, select
from sqlalchemy.engine import Connection
from typing_extensions import TypedDict

from domain.deadlines import LOCAL_ZONE
from domain.incident import DETAILS_CHANGED, Incident
from projections.encryption import PLAIN, FieldCipher
from projections.schema import UtcDateTime, metadata
from projections.view import EventKinds, Logged, Rows, View, Write
from workflows.spreadsheets import csv_text

entries = Table(
    "view_audit_entries", metadata,
    # On SQLite an INTEGER primary key is the rowid itself: no second index to maintain.
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("incident_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("facility", String(64), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("actor_facility", String(64), nullable=False),
    Column("actor_level", Integer, nullable=False),
    Column("event_type", String(48), nullable=False),
    Column("state_before", String(32), nullable=True),
    Column("state_after", String(32), nullable=False),
    # Patient details: encrypted when a key is set (``projections.encryption``).
    Column("changes", Text, nullable=False),  # JSON: {field: [old, new]}
    Column("reason", Text, nullable=True),
    Index("ix_audit_incident", "incident_id", "version"),
    Index("ix_audit_facility_time", "facility", "recorded_at"),
    Index("ix_audit_actor_time", "actor_id", "recorded_at"),
    Index("ix_audit_time", "recorded_at"),  # a state reviewer's trail of every facility
)
incidents = Table(
    "view_audit_incidents", metadata,
    Column("incident_id", String(36), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("fields", Text, nullable=False),  # JSON: the incident's field values, for "old value"; encrypted too
)
CSV_COLUMNS = ("position", "incident_id", "version", "facility", "recorded_at", "actor_id", "actor_facility",
               "actor_level", "event_type", "state_before", "state_after", "field", "old", "new", "reason")


class Known(NamedTuple):
    """What the audit trail knows of an incident between two events."""

    facility: str = ""
    state: str | None = None
    fields: dict[str, Any] = {}  # never mutated: each change makes a new dict


class AuditEntry(TypedDict):
    """One row of the audit trail: who did what to which incident, when, and the values it changed."""

    position: int
    incident_id: str
    version: int
    facility: str
    recorded_at: str
    actor_id: str
    actor_facility: str
    actor_level: int
    event_type: str
    state_before: str | None
    state_after: str
    changes: dict[str, list[Any]]  # field: [old, new]
    reason: str | None


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _created(event: Any) -> dict[str, Any]:
    received = {"jc_case_number": event.jc_case_number, "jc_reported_at": _plain(event.jc_reported_at)} \
        if isinstance(event, Incident.VpcrReportReceived) else {}
    return {**received, "facility": event.facility, "program": event.program, "setting": event.setting,
            "code": event.incident_code, "summary": event.summary, "rule_set": event.rule_set}


def _no_values(event: Any) -> dict[str, Any]:
    return {}


NEW_VALUES: tuple[tuple[type | tuple[type, ...], Callable[[Any], dict[str, Any]]], ...] = (
    (Incident.Created, _created),
    (DETAILS_CHANGED, lambda event: dict(event.fields)),
    (Incident.EmailedToOmh, lambda event: {"route": event.route}),
    (Incident.DeadlineSet, lambda event: {f"{event.clock}_due": _plain(event.due)}),
    (Incident.FindingsDocumented, lambda event: {"findings": event.findings}),
)


CREATED = EventKinds(Incident.Created)


class _ValuesOf(dict[type, Callable[[Any], dict[str, Any]]]):
    """How to read the fields an event of a class sets, worked out once per class (this runs for every event)."""

    def __missing__(self, kind: type) -> Callable[[Any], dict[str, Any]]:
        found = self[kind] = next((values for classes, values in NEW_VALUES if issubclass(kind, classes)), _no_values)
        return found


VALUES_OF = _ValuesOf()


def _new_values(event: Any) -> dict[str, Any]:
    return VALUES_OF[type(event)](event)


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


ENTRY_COLUMNS = ("incident_id", "version", "facility", "recorded_at", "actor_id", "actor_facility", "actor_level",
                 "event_type", "state_before", "state_after", "changes", "reason")


def entry_values(event: Any, known: Known, name: str, key: str) -> tuple[tuple[Any, ...], Known]:
    """The audit row for one event, its values in ``ENTRY_COLUMNS`` order (no dict: this runs for every event of
    a rebuild), and what is known of the incident after it."""
    new = _new_values(event)
    fields = known.fields
    changes = {}
    if new:
        for field, value in new.items():
            old = fields.get(field)
            if old != value:
                changes[field] = [old, value]
        fields = {**fields, **new}
    state_after = event.initial_state.value if CREATED[type(event)] \
        else getattr(event, "to_state", None) or known.state
    facility = new.get("facility", known.facility)
    actor = event.actor
    return ((key, event.originator_version, facility, event.timestamp, actor["user_id"], actor["facility"],
             actor["level"], name, known.state, state_after, changes, getattr(event, "reason", None)),
            Known(facility, state_after, fields))


def audit_entry(event: Any, known: Known, name: str | None = None, key: str | None = None,
                ) -> tuple[dict[str, Any], Known]:
    """The audit row for one event, and what is known of the incident after it."""
    values, after = entry_values(event, known, name or type(event).__name__, key or str(event.originator_id))
    return dict(zip(ENTRY_COLUMNS, values, strict=True)), after


def incident_trail(events: Iterable[Any]) -> list[dict[str, Any]]:
    """One incident's audit rows, replayed from its stored events."""
    known, rows = Known(), []
    for event in events:
        row, known = audit_entry(event, known)
        rows.append(row)
    return rows


class AuditView(View):
    name = "audit"
    tables = (entries, incidents)

    def __init__(self, cipher: FieldCipher = PLAIN) -> None:
        self.entries = Rows(entries)
        self.incidents = Rows(incidents)
        self.cipher = cipher

    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        encrypt, decrypt = self.cipher.encrypt, self.cipher.decrypt
        touched = {item.key for item in batch}
        known, missing = self.memo.recall(touched)
        for key, rows in self.incidents.load(connection, missing).items():
            known[key] = Known(rows[0]["facility"], rows[0]["state"], orjson.loads(decrypt(rows[0]["fields"])))
        dialect = connection.dialect.name
        time_out = self.entries.writer(dialect, "recorded_at")
        new_entries = []
        unknown = Known()
        for position, key, name, event in batch:
            (_, version, facility, recorded_at, actor_id, actor_facility, actor_level, _, state_before, state_after,
             changes, reason), known[key] = entry_values(event, known.get(key, unknown), name, key)
            # Once per event: only what can hold patient details, and nothing to hide in no change at all.
            new_entries.append((position, key, version, facility, time_out(recorded_at), actor_id, actor_facility,
                                actor_level, name, state_before, state_after,
                                encrypt(dumps(changes)) if changes else "{}",
                                None if reason is None else encrypt(reason)))
        self.memo.keep(known, touched)
        return [self.entries.insert(dialect, new_entries, insert_only=True),
                self.incidents.insert(dialect, [(key, known[key].facility, known[key].state,
                                                 encrypt(dumps(known[key].fields))) for key in touched])]


def as_output(row: Any, cipher: FieldCipher = PLAIN) -> AuditEntry:
    record = dict(row)
    record["recorded_at"] = record["recorded_at"].isoformat()
    if isinstance(record["changes"], str):
        record["changes"] = orjson.loads(cipher.decrypt(record["changes"]))
    if record["reason"] is not None:
        record["reason"] = cipher.decrypt(record["reason"])
    return record  # type: ignore[return-value]


def query(connection: Connection, *, facility: str | None, incident_id: str | None = None, actor_id: str | None = None,
          since: datetime | None = None, until: datetime | None = None, limit: int | None = 1000,
          cipher: FieldCipher = PLAIN) -> list[AuditEntry]:
    """Audit rows of one facility's incidents (``None``: of every facility's), oldest first, filtered by
    incident, actor and time."""
    statement = select(entries)
    if facility is not None:
        statement = statement.where(entries.c.facility == facility)
    if incident_id is not None:
        statement = statement.where(entries.c.incident_id == incident_id)
    if actor_id is not None:
        statement = statement.where(entries.c.actor_id == actor_id)
    if since is not None:
        statement = statement.where(entries.c.recorded_at >= since)
    if until is not None:
        statement = statement.where(entries.c.recorded_at <= until)
    statement = statement.order_by(entries.c.recorded_at, entries.c.position).limit(limit)
    return [as_output(row, cipher) for row in connection.execute(statement).mappings()]


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """For a spreadsheet, the same from the CLI and the pages: one line per changed field (an event that changed
    none: one line), so a column sorts by field; times ISO 8601 with New York's offset."""
    def lines() -> Iterable[dict[str, Any]]:
        for row in rows:
            at = row["recorded_at"] if isinstance(row["recorded_at"], datetime) else datetime.fromisoformat(row["recorded_at"])
            base = {**row, "recorded_at": at.astimezone(LOCAL_ZONE).isoformat()}
            for field, (old, new) in row["changes"].items() or [(None, (None, None))]:
                yield {**base, "field": field, "old": _cell(old), "new": _cell(new)}

    return csv_text(CSV_COLUMNS, lines())


def _cell(value: Any) -> Any:
    return dumps(value) if isinstance(value, (list, dict, bool)) else value
