"""The notification ledger's steps over HTTP (docs/adr/0014): the people owed notice, each notification,
requests that start clocks, records released, what was sent to the JC, the WSIR, and waivers and extensions.

Each is a POST with a JSON body, answered as the other steps are: the incident shown, with its version as the
ETag, and ``If-Match`` refused with 412 when stale. The bodies only bound their sizes; the domain checks the
values (``domain.obligations.ledger``) and a bad one is refused with 422 and its message. Names, contacts and
notes are protected health information: they go into the event and nowhere else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from adapters.http.context import Ctx, Who
from adapters.http.incidents import SCREEN, STEP, IfMatch, Ref, step

router = APIRouter(tags=["notification ledger"])
MOMENT = 64  # an ISO 8601 date and time with its offset is at most 32 characters; room for fractions
KEY = 96  # an obligation's key: the clock's name, plus ":<request_id>" for clocks started by a request
IDENTIFIER = 64
TEXT = 500
REASON = 2000
METHODS = "phone, letter, email or in_person"
Time = Annotated[str, Field(max_length=MOMENT, description="ISO 8601 with its offset, e.g. 2026-11-19T08:00:00-05:00")]
Identifier = Annotated[str, Field(max_length=IDENTIFIER, description="1-64 letters, digits, dots, dashes or underscores")]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(StrictBody):
    """A file kept as evidence: its SHA-256, size and where it is kept (the file itself is never sent here)."""

    sha256: str = Field(max_length=64, description="64 lowercase hexadecimal digits")
    size: int = Field(ge=0, le=2**53, description="Bytes")
    location: str = Field(max_length=TEXT, description="Where the file is kept")


class NoticeRecipient(StrictBody):
    """A person owed notice. Recorded again with the same recipient_id, the entry is replaced."""

    recipient_id: Identifier
    role: str = Field(max_length=40, description="qualified_person, director or law_enforcement")
    name: str = Field(max_length=TEXT)
    relationship: str | None = Field(None, max_length=TEXT)
    client_id: str | None = Field(None, max_length=IDENTIFIER, description="The client the person is owed notice about")
    contacts: dict[str, Annotated[str, Field(max_length=TEXT)]] = Field(
        default_factory=dict, max_length=4, description=f"Method ({METHODS}) to address or number")
    preferred: list[Annotated[str, Field(max_length=20)]] = Field(default_factory=list, max_length=4,
                                                                  description="Methods, most preferred first")


class Notification(StrictBody):
    recipient_id: Identifier
    notified_at: Time
    method: str = Field(max_length=20, description=METHODS)
    outcome: str = Field(max_length=20, description="reached, message_left, refused or not_reached")
    note: str = Field("", max_length=4000)
    evidence: Evidence | None = None


class RecordRequest(StrictBody):
    """A written request that starts a clock: a qualified person's for records, or the JC's for information."""

    request_id: Identifier
    kind: str = Field(max_length=40, description="incident_report_copy, investigation_records or jc_information")
    requested_by: str = Field(max_length=IDENTIFIER,
                              description="The recipient_id of a qualified person, or justice_center")
    received_at: Time


class ReleaseRecords(StrictBody):
    request_id: Identifier
    released_at: Time
    method: str = Field(max_length=20, description=METHODS)
    document: Evidence


class SendToJc(StrictBody):
    what: str = Field(max_length=40, description="autopsy_report or additional_information")
    sent_at: Time
    request_id: str | None = Field(None, max_length=IDENTIFIER,
                                   description="The JC's request for information this answers (not for an autopsy report)")
    evidence: Evidence | None = None


class Wsir(StrictBody):
    reference: str = Field(max_length=100, description="The WSIR's reference")


class Waiver(StrictBody):
    key: str = Field(max_length=KEY, description="The obligation, as the incident's clocks name it")
    reason: str = Field(max_length=REASON)


class Extension(StrictBody):
    key: str = Field(max_length=KEY, description="The obligation, as the incident's clocks name it")
    due: Time
    reason: str = Field(max_length=REASON)


@router.post("/incidents/{reference}/record-notice-recipient",
             summary="Record a person owed notice (a qualified person, the director, law enforcement)",
             response_model=SCREEN, responses=STEP)
def record_notice_recipient(reference: Ref, body: NoticeRecipient, who: Who, ctx: Ctx,
                            if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.record_notice_recipient(who.actor, i, body.model_dump(), v))


@router.post("/incidents/{reference}/record-notification", summary="Record a notification made to a recorded recipient",
             response_model=SCREEN, responses=STEP)
def record_notification(reference: Ref, body: Notification, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.record_notification(who.actor, i, body.model_dump(), v))


@router.post("/incidents/{reference}/record-request", summary="Record a written request, which starts its clock",
             response_model=SCREEN, responses=STEP)
def record_request(reference: Ref, body: RecordRequest, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.record_request(
        who.actor, i, request_id=body.request_id, kind=body.kind, requested_by=body.requested_by,
        received_at=body.received_at, expected_version=v))


@router.post("/incidents/{reference}/release-records", summary="Record records released for a request (Level 1)",
             response_model=SCREEN, responses=STEP)
def release_records(reference: Ref, body: ReleaseRecords, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.release_records(
        who.actor, i, request_id=body.request_id, released_at=body.released_at, method=body.method,
        document=body.document.model_dump(), redactions={}, expected_version=v))


@router.post("/incidents/{reference}/send-to-jc",
             summary="Record an autopsy report or information sent to the JC (Level 1)",
             response_model=SCREEN, responses=STEP)
def send_to_jc(reference: Ref, body: SendToJc, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    evidence = body.evidence.model_dump() if body.evidence else None
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.send_to_jc(
        who.actor, i, what=body.what, sent_at=body.sent_at, request_id=body.request_id, evidence=evidence,
        expected_version=v))


@router.post("/incidents/{reference}/submit-wsir",
             summary="Record the WSIR submitted for an abuse or neglect investigation (Level 1)",
             response_model=SCREEN, responses=STEP)
def submit_wsir(reference: Ref, body: Wsir, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.submit_wsir(who.actor, i, body.reference, v))


@router.post("/incidents/{reference}/waive-obligation", summary="Waive an open obligation, with a reason (Level 1)",
             response_model=SCREEN, responses=STEP)
def waive_obligation(reference: Ref, body: Waiver, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.waive_obligation(who.actor, i, body.key, body.reason, v))


@router.post("/incidents/{reference}/extend-obligation",
             summary="Extend an open obligation to a later due time, with a reason (Level 1, where its clock allows)",
             response_model=SCREEN, responses=STEP)
def extend_obligation(reference: Ref, body: Extension, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.extend_obligation(who.actor, i, body.key, body.due, body.reason, v))
