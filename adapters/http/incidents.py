"""The incident workflow over HTTP: the JC import queue, each step, and an incident's history and past states.

Every response about one incident carries its version as a strong ETag; a write may send it
back in ``If-Match`` and is refused with 409 (changing nothing) if the incident has moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response
from typing_extensions import TypedDict

from adapters.http.conditions import expected_versions, not_modified
from adapters.http.context import Context, Ctx, JsonResponse, Who
from adapters.http.limits import client_address
from adapters.http.problems import WRONG_STATE, refusals
from adapters.http.schemas import documented
from adapters.integrations.vpcr import parse_vpcr_reports
from domain.actor import Actor
from domain.deadlines import parse_moment
from domain.errors import ValidationFailed
from domain.incident import Incident
from domain.lifecycle import State, Step
from domain.rules import DEFAULT_RULE_SET
from domain.vpcr import incident_id_for as incident_id
from projections.board import InState
from workflows.replay import ChangesReport, IncidentAsOf, changes_between, state_as_of
from workflows.screens import EventRecord, IncidentScreen, describe, event_record
from workflows.service import ExpectedVersion, IncidentService

router = APIRouter(tags=["incidents"])
Ref = Annotated[str, Path(description="The incident id, or its JC case number", max_length=100,
                                 examples=["2026-015501"])]
IfMatch = Annotated[str | None, Header(description='The ETag you read, e.g. "3" (or a list, or *): refused with 412 '
                                                   'if the incident has moved on')]
ETAG = {"ETag": {"description": 'The incident\'s version, e.g. "3": send it back in If-Match', "schema": {"type": "string"}}}
READ = refusals(401, 404, 422)
MAX_VERSION = 2**31 - 1  # an incident's version is stored as a 32-bit integer or wider: beyond is a typing error
SCREEN = documented(IncidentScreen)
STEP = {200: {"headers": ETAG}, **refusals(401, 403, 404, 409, 412, 422, described={409: WRONG_STATE})}
ATTESTED_STEP = {**STEP, **refusals(403, 429, described={
    403: "Not allowed for your security group, or the password you entered to attest is not right (nothing is "
         "recorded; three wrong in a row lock the account, as at sign-in)",
    429: "Too many password attempts for your user name or from your address: wait `Retry-After` seconds"})}
ATTESTING = ("Send `{\"password\": \"...\"}` to attest the step: your password is checked as at sign-in (a wrong "
             "one is refused with 403 and nothing is recorded; three wrong in a row lock the account) and the event "
             "records `attested: true`. Without a body the step is recorded with `attested: false`.")


class Receipt(TypedDict):
    """The incident ids of the VPCR reports received now, and of those received before (re-deliveries)."""

    received: list[str]
    duplicates: list[str]


class JcQueue(TypedDict):
    """The JC import queue of one facility: received reports waiting to be imported, longest waiting first."""

    facility: str | None  # None: every facility's (a state reviewer's default)
    incidents: list[InState]


class NewIncident(BaseModel):
    program: str = Field(min_length=1, max_length=200)
    setting: str = Field(description="inpatient, residential, cpep or outpatient", max_length=40)
    code: str = Field(description="A taxonomy code, e.g. si.fall (GET /taxonomy)", max_length=80)
    summary: str = Field(min_length=1, max_length=4000)
    rules: str = Field(DEFAULT_RULE_SET, max_length=40)


class Findings(BaseModel):
    findings: str = Field(min_length=1, max_length=20000)


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=4000)


class Attestation(BaseModel):
    """The acting user's password, entered again to confirm the step."""

    password: str = Field(min_length=1, max_length=256)


Attest = Annotated[Attestation | None, Body(description="Optional: your password, to attest the step")]


class Amendment(BaseModel):
    screen: str = Field(max_length=40)
    fields: dict[str, Any]
    reason: str = Field(min_length=1, max_length=4000)


def shown(ctx: Context, incident: Incident, actor: Actor, status: int = 200) -> Response:
    headers = {"ETag": f'"{incident.version}"'}
    if status == 201:
        headers["Location"] = f"/incidents/{incident.id}"
    return JsonResponse(describe(incident, actor, ctx.clock()), status_code=status, headers=headers)


def attested(ctx: Context, who: Who, request: Request, attestation: Attestation | None, reference: str,
             step: Step) -> bool:
    """Check the password of an attested step before anything is recorded; True if it was attested. What the
    step would refuse anyway (not found, the level, the state) is refused first, without asking for it."""
    if attestation is None:
        return False
    ctx.service.check_step(who.actor, incident_id(reference), step)
    ctx.accounts.attest(who.user_id, attestation.password, client=client_address(request))
    return True


def step(ctx: Context, actor: Actor, reference: str, if_match: str | None,
         command: Callable[[IncidentService, UUID, ExpectedVersion], Incident]) -> Response:
    expected = expected_versions(if_match)
    incident = command(ctx.service, incident_id(reference), expected)
    return shown(ctx, incident, actor)


@router.post("/vpcr-reports", status_code=201, summary="Receive VPCR reports into the JC import queue",
             response_model=Receipt, response_description="At least one report was new",
             responses={200: {"model": Receipt, "description": "Every report had been received before: nothing new"},
                        **refusals(401, 403, 404, 409, 422, described={
                            409: "A report was received before (or appears twice) with different content"})})
def receive(who: Who, ctx: Ctx, body: Annotated[Any, Body(description="One VPCR report, or a list (bulk)")]) -> Response:
    reports = parse_vpcr_reports(body, "the request body", ctx.clock())
    receipt = ctx.service.receive_vpcr_reports(who.actor, reports)
    shown: Receipt = {"received": [str(i) for i in receipt.received], "duplicates": [str(i) for i in receipt.duplicates]}
    return JsonResponse(shown, status_code=201 if receipt.received else 200)


@router.get("/jc-queue", summary="The JC import queue: received reports waiting to be imported",
            response_model=JcQueue, responses=READ)
def jc_queue(who: Who, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
             facility: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    result = ctx.reads.board(who.actor, facility=facility, state=State.JC_IMPORT_QUEUE, limit=limit)
    shown: JcQueue = {"facility": result["facility"], "incidents": result["incidents"]}
    return JsonResponse(shown)


@router.post("/incidents", status_code=201, summary="New Incident (OMH-only, or a local record)",
             response_model=SCREEN,
             responses={201: {"headers": {**ETAG, "Location": {"description": "The new incident",
                                                               "schema": {"type": "string"}}}},
                        **refusals(401, 403, 422)})
def create(body: NewIncident, who: Who, ctx: Ctx) -> Response:
    new_id = ctx.service.create_incident(who.actor, program=body.program, setting=body.setting, code=body.code,
                                         summary=body.summary, rules=body.rules)
    return shown(ctx, ctx.service.load(new_id), who.actor, 201)  # a write's answer, not a read


@router.get("/incidents/{reference}", summary="An incident: state, details, clocks and the actions you may take",
            response_model=SCREEN, responses={200: {"headers": ETAG}, 304: {
                "description": "Not modified: If-None-Match named the current ETag", "headers": ETAG}, **READ})
def show(reference: Ref, who: Who, ctx: Ctx,
         version: Annotated[int | None, Query(ge=1, le=MAX_VERSION, description="As it stood at this version")] = None,
         if_none_match: Annotated[str | None, Header(description='ETags you hold, e.g. "3": 304 if one is current')]
         = None) -> Response:
    incident = ctx.service.incident(who.actor, incident_id(reference), version)
    if not_modified(if_none_match, incident.version):
        return Response(status_code=304, headers={"ETag": f'"{incident.version}"'})
    return shown(ctx, incident, who.actor)


@router.get("/incidents/{reference}/history", summary="Every event of the incident: what, when and who",
            response_model=list[EventRecord], responses=READ)
def history(reference: Ref, who: Who, ctx: Ctx) -> Response:
    return JsonResponse([event_record(e) for e in ctx.service.history(who.actor, incident_id(reference))])


@router.get("/incidents/{reference}/as-of", summary="The incident as it stood at a time or a version (auditors)",
            response_model=documented(IncidentAsOf),
            responses=refusals(401, 404, 422, described={404: "Not found, another facility's, or it did not exist yet then"}))
def as_of(reference: Ref, who: Who, ctx: Ctx,
          at: Annotated[str | None, Query(description="ISO 8601; a bare date is the end of that New York day")] = None,
          version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None) -> Response:
    if (at is None) == (version is None):
        raise ValidationFailed("give exactly one of at (a time) or version")
    moment = parse_moment(at, "at", now=ctx.clock()) if at else None
    return JsonResponse(state_as_of(ctx.service, who.actor, incident_id(reference), as_of=moment, version=version))


@router.get("/incidents/{reference}/changes", summary="What changed between two versions (auditors)",
            response_model=ChangesReport, responses=READ)
def changes(reference: Ref, who: Who, ctx: Ctx, from_version: Annotated[int, Query(alias="from", ge=1, le=MAX_VERSION)],
            to_version: Annotated[int, Query(alias="to", ge=1, le=MAX_VERSION)]) -> Response:
    return JsonResponse(changes_between(ctx.service, who.actor, incident_id(reference), start=(None, from_version),
                                        end=(None, to_version)))


@router.post("/incidents/{reference}/import-report", summary="Import from the JC queue as a draft",
             response_model=SCREEN, responses=STEP)
def import_report(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.import_report(who.actor, i, v))


@router.patch("/incidents/{reference}/record-details/{screen}", summary="Record details on one screen of a draft",
              response_model=SCREEN, responses=STEP)
def record_details(reference: Ref, screen: Annotated[str, Path(max_length=40)], who: Who, ctx: Ctx,
                   fields: Annotated[dict[str, Any], Body(description="Field names to values")],
                   if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.record_details(who.actor, i, screen, fields, v))


@router.post("/incidents/{reference}/email-omh", summary="Submit to OMH (Level 1), optionally attested with your password",
             description=ATTESTING, response_model=SCREEN, responses=ATTESTED_STEP)
def email_omh(reference: Ref, who: Who, ctx: Ctx, request: Request, attestation: Attest = None,
              if_match: IfMatch = None) -> Response:
    confirmed = attested(ctx, who, request, attestation, reference, Step.EMAIL_OMH)
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.email_omh(who.actor, i, v, attested=confirmed))


@router.post("/incidents/{reference}/submit-report-of-death",
             summary="Submit the Report of Death to the JC (Level 1), optionally attested with your password",
             description=ATTESTING, response_model=SCREEN, responses=ATTESTED_STEP)
def submit_report_of_death(reference: Ref, who: Who, ctx: Ctx, request: Request, attestation: Attest = None,
                           if_match: IfMatch = None) -> Response:
    confirmed = attested(ctx, who, request, attestation, reference, Step.SUBMIT_REPORT_OF_DEATH)
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.submit_report_of_death(who.actor, i, v, attested=confirmed))


@router.post("/incidents/{reference}/start-investigation", summary="Start the investigation",
             response_model=SCREEN, responses=STEP)
def start_investigation(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.start_investigation(who.actor, i, v))


@router.post("/incidents/{reference}/document-findings", summary="Document the investigation's findings",
             response_model=SCREEN, responses=STEP)
def document_findings(reference: Ref, body: Findings, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.document_findings(who.actor, i, body.findings, v))


@router.post("/incidents/{reference}/close",
             summary="Close (Level 1); needs documented findings; optionally attested with your password",
             description=ATTESTING, response_model=SCREEN, responses=ATTESTED_STEP)
def close(reference: Ref, who: Who, ctx: Ctx, request: Request, attestation: Attest = None,
          if_match: IfMatch = None) -> Response:
    confirmed = attested(ctx, who, request, attestation, reference, Step.CLOSE)
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.close(who.actor, i, v, attested=confirmed))


@router.post("/incidents/{reference}/reopen", summary="Reopen a closed incident, with a reason (Level 1)",
             response_model=SCREEN, responses=STEP)
def reopen(reference: Ref, body: Reason, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.reopen(who.actor, i, body.reason, v))


@router.post("/incidents/{reference}/amend", summary="Amend a submitted incident, with a reason (Level 1)",
             response_model=SCREEN, responses=STEP)
def amend(reference: Ref, body: Amendment, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.amend(who.actor, i, body.screen, body.fields, body.reason, v))
