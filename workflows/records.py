"""Records for a qualified person: the redacted copy of the incident report a written request asks for, and its
release (MHL § 33.23; ADR 0014 §9). A Level 1 user previews the copy (free text can name people in no list), then
releases it: the release is ``RecordsReleased`` with the file's SHA-256 and the labels used, which meets the
request's 10-day clock."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.incident import Incident
from domain.lifecycle import Step
from domain.obligations.clocks import RequestKind
from workflows.permissions import require_incident_facility, require_level
from workflows.read_audit import ReadView
from workflows.redaction import RedactedReport, redacted_report
from workflows.service import IncidentService


@dataclass(frozen=True)
class StoredCopy:
    sha256: str
    size: int
    location: str


@dataclass(frozen=True)
class CopyFor:
    """What the cover letter needs: to whom, and the report."""

    recipient_name: str
    report: RedactedReport


def redacted_copy(service: IncidentService, actor: Actor, incident_id: UUID, request_id: str,
                  consents: Collection[str]) -> CopyFor:
    """The copy a request asks for, as it would be released now; recorded as a read of the incident."""
    require_level(actor, Step.RELEASE_RECORDS)
    incident = service.load(incident_id)
    require_incident_facility(actor, incident_id, incident.facility)
    request = incident.requests.get(request_id)
    if request is None or request["kind"] != RequestKind.INCIDENT_REPORT_COPY:
        raise ValidationFailed(f"no request for a copy of the incident report {request_id!r} is recorded on this incident")
    recipient = incident.recipients[request["requested_by"]]
    service.record_read(actor, ReadView.SHOW, incident_id, incident.facility)
    client_id = recipient.get("client_id") or None
    known = {c["client_id"] for c in incident.details.get("clients", [])}
    others = [r["name"] for key, r in incident.recipients.items() if key != request["requested_by"]]
    report = redacted_report(incident, recipient_client_id=client_id if client_id in known else None,
                             consents=consents, prepared_at=service.clock(), others=others)
    return CopyFor(recipient["name"], report)


def release_copy(service: IncidentService, actor: Actor, incident_id: UUID, request_id: str, consents: Collection[str],
                 *, method: str, store: Callable[[CopyFor], StoredCopy], expected_version: Any = None) -> Incident:
    """Build the copy, keep the file (``store``: render and write it), and record its release."""
    copy = redacted_copy(service, actor, incident_id, request_id, consents)
    stored = store(copy)
    return service.release_records(
        actor, incident_id, request_id=request_id, released_at=service.clock(), method=method,
        document={"sha256": stored.sha256, "size": stored.size, "location": stored.location},
        redactions={"labels": copy.report.labels_by_kind(), "consents": list(copy.report.consents)},
        expected_version=expected_version)
