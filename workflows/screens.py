"""What the incident screens show: state, details, clocks and the steps this user may take now."""

from __future__ import annotations

from dataclasses import replace
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
    """An obligation's clock as a screen shows it (``Deadline.status``): ``name`` is the obligation's key."""

    name: str
    clock: str
    title: str
    citation: str
    length: int
    unit: str
    blocks_closing: bool
    start: str
    due: str
    met_at: str | None
    days_late: int
    days_left: int | None
    status: str
    provisional: bool
    waived_reason: str | None


class NotificationShown(TypedDict):
    recipient_id: str
    notified_at: str
    method: str
    outcome: str
    note: str
    evidence: dict[str, Any] | None
    by: str


class LedgerShown(TypedDict):
    """The notification ledger: who is owed notice, every notification, the requests and what was released."""

    recipients: list[dict[str, Any]]
    notifications: list[NotificationShown]
    requests: list[dict[str, Any]]
    releases: dict[str, dict[str, Any]]
    sent_to_jc: list[dict[str, Any]]
    wsir_reference: str | None


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
    obligation_rules: str
    clocks: list[ClockShown]
    ledger: LedgerShown
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


def _shown(incident: Incident, deadline: Deadline, now: datetime) -> ClockShown:
    clock = incident.obligation_rules.clock(deadline.clock)
    status = deadline.status(incident.clock_met_at(deadline.name), now, waived=deadline.name in incident.waived)
    return {**status, "title": clock.title if clock else deadline.clock,  # type: ignore[typeddict-item]
            "citation": clock.citation if clock else "", "blocks_closing": bool(clock and clock.blocks_closing),
            "waived_reason": incident.waived.get(deadline.name)}


def clocks(incident: Incident, now: datetime) -> list[ClockShown]:
    """Every started obligation with its status. Under charts@1 a draft's clocks are not recorded before Email OMH:
    those the details would set are shown, provisional."""
    shown = [_shown(incident, deadline, now) for deadline in incident.deadlines.values()]
    classification = incident.classification() if incident.submitted_route is None else None
    if classification is not None and not incident.obligation_rules.provisional_drafts:
        for rule in classification.clocks:
            deadline = replace(Deadline.starting(rule.name.value, rule.days, incident.clock_start), provisional=True)
            shown.append(_shown(incident, deadline, now))
    return shown


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def ledger(incident: Incident) -> LedgerShown:
    return {
        "recipients": list(incident.recipients.values()),
        "notifications": [_plain(n) for n in incident.notifications],
        "requests": [_plain(r) for r in incident.requests.values()],
        "releases": _plain(incident.releases),
        "sent_to_jc": [_plain(s) for s in incident.sent_to_jc],
        "wsir_reference": incident.wsir_reference,
    }


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
        "obligation_rules": incident.obligation_rules_id,
        "clocks": clocks(incident, now),
        "ledger": ledger(incident),
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
