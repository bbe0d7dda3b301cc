"""Replay for auditors: an incident as it stood at any time or version, and what changed between
two points. Everything is replayed from the event store (the record), never from a view.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from typing_extensions import TypedDict

from domain.actor import Actor
from domain.errors import NotFound, ValidationFailed
from workflows.read_audit import ReadView
from workflows.screens import EventRecord, IncidentScreen, describe, event_record
from workflows.service import IncidentService


class IncidentAsOf(IncidentScreen):
    """The incident as it stood at a point, with that point and the latest version."""

    as_of: str
    latest_version: int


class Point(TypedDict):
    version: int
    as_of: str


class FieldChange(TypedDict):
    field: str
    old: Any
    new: Any


# What changed between two points of an incident's history (functional form: "from" is a keyword).
ChangesReport = TypedDict("ChangesReport", {  # noqa: UP013
    "incident_id": str, "from": Point, "to": Point, "changes": list[FieldChange], "events": list[EventRecord]})


# What an auditor compares between two points (allowed actions depend on who asks, not on history).
COMPARED = ("state", "route", "facility", "program", "setting", "summary", "findings", "jc_case_number")


def version_at(events: list[Any], moment: datetime) -> int | None:
    """The last version recorded at or before ``moment`` (None: the incident did not exist yet)."""
    versions = [e.originator_version for e in events if e.timestamp <= moment]
    return versions[-1] if versions else None


def _point(events: list[Any], as_of: datetime | None, version: int | None) -> tuple[int, datetime]:
    if as_of is not None and version is not None:
        raise ValidationFailed("give a time or a version, not both")
    last = events[-1].originator_version
    if version is not None:
        if not 1 <= version <= last:
            raise ValidationFailed(f"version must be from 1 to {last}, got {version}")
        return version, events[version - 1].timestamp
    if as_of is None:
        return last, events[-1].timestamp
    found = version_at(events, as_of)
    if found is None:
        raise NotFound(f"the incident did not exist yet at {as_of.isoformat()} "
                       f"(first recorded {events[0].timestamp.isoformat()})")
    return found, as_of


def state_as_of(service: IncidentService, actor: Actor, incident_id: UUID, *, as_of: datetime | None = None,
                version: int | None = None) -> IncidentAsOf:
    """The incident as it stood: its state, details and clocks (with their status then); recorded as a read."""
    state = _state(service, actor, service.readable_events(actor, incident_id), as_of, version)
    service.record_read(actor, ReadView.AS_OF, incident_id, state["facility"])
    return state


def _state(service: IncidentService, actor: Actor, events: list[Any], as_of: datetime | None,
           version: int | None) -> IncidentAsOf:
    incident_id = events[0].originator_id
    at_version, moment = _point(events, as_of, version)
    incident = service.load(incident_id, at_version)
    return {**describe(incident, actor, moment), "as_of": moment.isoformat(),  # type: ignore[typeddict-item]
            "latest_version": events[-1].originator_version}


def changes_between(service: IncidentService, actor: Actor, incident_id: UUID, *, start: tuple[datetime | None, int | None],
                    end: tuple[datetime | None, int | None]) -> ChangesReport:
    """What changed between two points: fields with their old and new values, and the events in between;
    recorded as a read."""
    history = service.readable_events(actor, incident_id)  # checks the level and the facility
    before = _state(service, actor, history, *start)
    after = _state(service, actor, history, *end)
    changes: list[FieldChange] = [{"field": name, "old": before[name], "new": after[name]}  # type: ignore[literal-required]
                                  for name in COMPARED if before[name] != after[name]]  # type: ignore[literal-required]
    for name in sorted(set(before["details"]) | set(after["details"])):
        old, new = before["details"].get(name), after["details"].get(name)
        if old != new:
            changes.append({"field": f"details.{name}", "old": old, "new": new})
    events = history[before["version"]:after["version"]]
    service.record_read(actor, ReadView.CHANGES, incident_id, after["facility"])
    return {
        "incident_id": str(incident_id),
        "from": {"version": before["version"], "as_of": before["as_of"]},
        "to": {"version": after["version"], "as_of": after["as_of"]},
        "changes": changes,
        "events": [event_record(e) for e in events],
    }
