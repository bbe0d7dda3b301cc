"""What the incident screens show: state, details, clocks and the steps this user may take now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from typing_extensions import TypedDict  # pydantic documents these in OpenAPI; typing's needs Python 3.12

from domain.actor import Actor
from domain.deadlines import Deadline
from domain.incident import Incident
from domain.lifecycle import Step, available_steps
from domain.reportability import ClassificationRecord
from workflows.permissions import may

# Fields every event carries that history shows apart from the event's own payload.
ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}


def allowed_actions(incident: Incident, actor: Actor) -> list[Step]:
    """The lifecycle's available steps that this user may take on this incident."""
    if actor.facility != incident.facility:
        return []
    return [step for step in available_steps(incident) if may(actor, step)]


class ActorRecord(TypedDict):
    user_id: str
    facility: str
    level: int


class ClockShown(TypedDict):
    """A reporting clock as a screen shows it (``Deadline.status`` plus whether it is provisional)."""

    name: str
    days: int
    start: str
    due: str
    met_at: str | None
    days_late: int
    days_left: int | None
    status: str
    provisional: bool


class IncidentScreen(TypedDict):
    """An incident as its screens show it to one user."""

    id: str
    version: int
    state: str
    origin: str
    jc_case_number: str | None
    jc_reported_at: str | None
    facility: str
    program: str
    setting: str
    summary: str
    rule_set: str
    details: dict[str, Any]
    missing_details: list[str]
    route: str | None
    classification: ClassificationRecord | None
    findings: str | None
    clocks: list[ClockShown]
    allowed_actions: list[Step]
    created_at: str
    modified_at: str


class EventRecord(TypedDict):
    """One stored event as auditors read it."""

    version: int
    event: str
    topic: str
    recorded_at: str
    actor: ActorRecord | None
    data: dict[str, Any]


def clocks(incident: Incident, now: datetime) -> list[ClockShown]:
    """Set clocks with their status; before Email OMH, the clocks the details would set (provisional)."""
    shown: list[ClockShown] = [
        {**deadline.status(incident.clock_met_at(name), now), "provisional": False}  # type: ignore[typeddict-item]
        for name, deadline in incident.deadlines.items()
    ]
    classification = incident.classification() if incident.submitted_route is None else None
    if classification is not None:
        for rule in classification.clocks:
            deadline = Deadline.starting(rule.name.value, rule.days, incident.clock_start)
            shown.append({**deadline.status(incident.clock_met_at(deadline.name), now),  # type: ignore[typeddict-item]
                          "provisional": True})
    return shown


def describe(incident: Incident, actor: Actor, now: datetime) -> IncidentScreen:
    classification = incident.classification()
    return {
        "id": str(incident.id),
        "version": incident.version,
        "state": incident.state,
        "origin": incident.origin,
        "jc_case_number": incident.jc_case_number,
        "jc_reported_at": incident.jc_reported_at.isoformat() if incident.jc_reported_at else None,
        "facility": incident.facility,
        "program": incident.program,
        "setting": incident.setting,
        "summary": incident.summary,
        "rule_set": incident.rule_set_name,
        "details": incident.details,
        "missing_details": incident.missing_details(),
        "route": incident.route,
        "classification": classification.as_dict() if classification else None,
        "findings": incident.findings,
        "clocks": clocks(incident, now),
        "allowed_actions": allowed_actions(incident, actor),
        "created_at": incident.created_on.isoformat(),
        "modified_at": incident.modified_on.isoformat(),
    }


def event_record(event: Incident.Event) -> EventRecord:
    """One event as auditors read it: what, when, who, and its own fields."""
    payload = {k: v for k, v in event.__dict__.items() if k not in ENVELOPE}
    return {
        "version": event.originator_version,
        "event": type(event).__name__,
        "topic": getattr(type(event), "TOPIC", type(event).__qualname__),
        "recorded_at": event.timestamp.isoformat(),
        "actor": getattr(event, "actor", None),
        "data": {k: v.isoformat() if isinstance(v, datetime) else v for k, v in payload.items()},
    }
