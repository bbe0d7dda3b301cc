"""The incident page's forms for obligations and the notification ledger (ADR 0014): waive or extend an
obligation, add a person owed notice, record a notification or a request, submit the WSIR, record what was sent
to the JC, and preview and release the redacted copy of the incident report a qualified person asked for.

Each form is urlencoded with the CSRF token and the version it was made from, and calls the same use case as the
API and the CLI. A refused value shows the page again (422) with the domain's words and the values as typed.
Times come from ``datetime-local`` inputs and are New York time. Names, contacts and notes are protected health
information: they go into the event and are never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path as FilePath
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from adapters.documents.redacted_copy import CoverLetter, render_pdf, store_document
from adapters.http.context import context
from adapters.http.pages.incident import FormValues, back_to_incident, form_version, incident_page, run_command
from adapters.http.pages.obligations_shown import next_identifier
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser, check_csrf
from domain.actor import Actor
from domain.deadlines import parse_moment
from domain.errors import ValidationFailed
from domain.incident import Incident
from domain.lifecycle import Step
from domain.obligations.ledger import Method
from domain.vpcr import incident_id_for
from workflows.accounts import Principal
from workflows.records import CopyFor, StoredCopy, redacted_copy, release_copy
from workflows.service import IncidentService

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reference = Annotated[str, Path(max_length=100)]
RequestId = Annotated[str, Path(max_length=64)]
INCIDENT = "/web/incidents/{reference}"
Command = Callable[[IncidentService, UUID, int, datetime], Incident]
CONTACT_METHODS = ("phone", "email", "letter")  # in person needs no address


def _when(values: dict[str, str], name: str, label: str, now: datetime) -> datetime:
    """A ``datetime-local`` value: New York wall time."""
    text = values.get(name, "").strip()
    if not text:
        raise ValidationFailed(f"{label} is required")
    return parse_moment(text, name, now=now)


def _optional(values: dict[str, str], name: str) -> str | None:
    text = values.get(name, "").strip()
    return text or None


def _ledger_step(request: Request, who: Principal, reference: str, values: dict[str, str], step: Step, anchor: str,
                 command: Command) -> Response:
    check_csrf(request, values.get("csrf_token"))
    ctx = context(request)
    incident_id = incident_id_for(reference)
    expected = form_version(values.get("version"))
    try:
        run_command(ctx, lambda s: command(s, incident_id, expected, ctx.clock()))
    except ValidationFailed as error:
        failed = {"step": step.value, "message": error.message, "values": values}
        return incident_page(request, who, ctx.service.incident(who.actor, incident_id), 422, failed)
    return back_to_incident(incident_id, anchor)


@router.post(f"{INCIDENT}/obligations/waive")
def waive(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    return _ledger_step(request, who, reference, values, Step.WAIVE_OBLIGATION, "#obligations",
                        lambda s, i, v, now: s.waive_obligation(who.actor, i, values.get("key", ""),
                                                                values.get("reason", ""), v))


@router.post(f"{INCIDENT}/obligations/extend")
def extend(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    return _ledger_step(request, who, reference, values, Step.EXTEND_OBLIGATION, "#obligations",
                        lambda s, i, v, now: s.extend_obligation(who.actor, i, values.get("key", ""),
                                                                 _when(values, "due", "The new due time", now),
                                                                 values.get("reason", ""), v))


def _recipient(values: dict[str, str], taken: list[str]) -> dict[str, Any]:
    contacts = {method: value for method in CONTACT_METHODS if (value := values.get(method, "").strip())}
    preferred = _optional(values, "preferred")
    return {"recipient_id": next_identifier("person", taken), "role": values.get("role", ""),
            "name": values.get("name", ""), "relationship": _optional(values, "relationship"),
            "client_id": _optional(values, "client_id"), "contacts": contacts,
            "preferred": [preferred] if preferred else []}


@router.post(f"{INCIDENT}/ledger/recipients")
def add_recipient(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    def command(s: IncidentService, i: UUID, v: int, now: datetime) -> Incident:
        recipient = _recipient(values, list(s.load(i).recipients))
        return s.record_notice_recipient(who.actor, i, recipient, v)

    return _ledger_step(request, who, reference, values, Step.RECORD_NOTICE_RECIPIENT, "#ledger", command)


@router.post(f"{INCIDENT}/ledger/notifications")
def record_notification(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    return _ledger_step(request, who, reference, values, Step.RECORD_NOTIFICATION, "#ledger",
                        lambda s, i, v, now: s.record_notification(who.actor, i, {
                            "recipient_id": values.get("recipient_id", ""),
                            "notified_at": _when(values, "notified_at", "When they were notified", now),
                            "method": values.get("method", ""), "outcome": values.get("outcome", ""),
                            "note": values.get("note", "").strip()}, v))


@router.post(f"{INCIDENT}/ledger/requests")
def record_request(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    def command(s: IncidentService, i: UUID, v: int, now: datetime) -> Incident:
        return s.record_request(who.actor, i, request_id=next_identifier("request", s.load(i).requests),
                                kind=values.get("kind", ""), requested_by=values.get("requested_by", ""),
                                received_at=_when(values, "received_at", "When the request was received", now),
                                expected_version=v)

    return _ledger_step(request, who, reference, values, Step.RECORD_REQUEST, "#ledger", command)


@router.post(f"{INCIDENT}/ledger/wsir")
def submit_wsir(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    return _ledger_step(request, who, reference, values, Step.SUBMIT_WSIR, "#ledger",
                        lambda s, i, v, now: s.submit_wsir(who.actor, i, values.get("reference", ""), v))


@router.post(f"{INCIDENT}/ledger/sent-to-jc")
def send_to_jc(request: Request, reference: Reference, who: PageUser, values: FormValues) -> Response:
    return _ledger_step(request, who, reference, values, Step.SEND_TO_JC, "#ledger",
                        lambda s, i, v, now: s.send_to_jc(
                            who.actor, i, what=values.get("what", ""), sent_at=_when(values, "sent_at", "When it was sent", now),
                            request_id=_optional(values, "request_id"), expected_version=v))


def _pdf(copy: CopyFor, actor: Actor) -> bytes:
    return render_pdf(copy.report, CoverLetter(recipient=copy.recipient_name, signed_by=actor.user_id))


@router.get(f"{INCIDENT}/ledger/requests/{{request_id}}/copy.pdf")
def preview_copy(request: Request, reference: Reference, request_id: RequestId, who: PageUser) -> Response:
    """The redacted copy as it would be released now, to read before releasing it (Level 1; recorded as a read)."""
    ctx = context(request)
    copy = redacted_copy(ctx.service, who.actor, incident_id_for(reference), request_id, ())
    return Response(_pdf(copy, who.actor), media_type="application/pdf", headers={
        "Cache-Control": "no-store", "Content-Disposition": f'inline; filename="redacted-copy-{request_id}.pdf"'})


@router.post(f"{INCIDENT}/ledger/requests/{{request_id}}/release")
def release(request: Request, reference: Reference, request_id: RequestId, who: PageUser,
            values: FormValues) -> Response:
    """Keep the copy in NIMRS_DOCUMENTS_DIR, named by its SHA-256, and record its release (which meets the
    request's clock). The user confirms they read the preview: free text can name people in no list."""
    directory = FilePath(context(request).runtime.settings.documents_dir)

    def keep(copy: CopyFor) -> StoredCopy:
        stored = store_document(directory, _pdf(copy, who.actor))
        return StoredCopy(stored.sha256, stored.size, str(stored.location))

    def command(s: IncidentService, i: UUID, v: int, now: datetime) -> Incident:
        if values.get("reviewed") != "yes":
            raise ValidationFailed("confirm that you read the preview of the redacted copy before releasing it")
        if values.get("method") not in set(Method):
            raise ValidationFailed(f"method must be one of: {', '.join(Method)}")  # before a file is kept
        return release_copy(s, who.actor, i, request_id, (), method=values.get("method", ""), store=keep,
                            expected_version=v)

    return _ledger_step(request, who, reference, {**values, "request_id": request_id}, Step.RELEASE_RECORDS,
                        "#ledger", command)
