"""What the incident screens show: state, details, clocks and the steps this user may take now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.actor import Actor
from domain.deadlines import Deadline
from domain.incident import Incident
from domain.lifecycle import Step, available_steps
from workflows.permissions import may

# Fields every event carries that history shows apart from the event's own payload.
ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "actor"}


def allowed_actions(incident: Incident, actor: Actor) -> list[Step]:
    """The lifecycle's available steps that this user may take on this incident."""
    if actor.facility != incident.facility:
        return []
    return [step for step in available_steps(incident) if may(actor, step)]


def clocks(incident: Incident, now: datetime) -> list[dict[str, Any]]:
    """Set clocks with their status; before Email OMH, the clocks the details would set (provisional)."""
    shown = [
        {**deadline.status(incident.clock_met_at(name), now), "provisional": False}
        for name, deadline in incident.deadlines.items()
    ]
    classification = incident.classification() if incident.submitted_route is None else None
    if classification is not None:
        for rule in classification.clocks:
            deadline = Deadline.starting(rule.name.value, rule.days, incident.clock_start)
            shown.append({**deadline.status(incident.clock_met_at(deadline.name), now), "provisional": True})
    return shown


def describe(incident: Incident, actor: Actor, now: datetime) -> dict[str, Any]:
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


def event_record(event: Incident.Event) -> dict[str, Any]:
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
