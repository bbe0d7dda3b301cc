"""The incident workflow over HTTP: the JC import queue, each step, and an incident's history and past states.

Every response about one incident carries its version as a strong ETag; a write may send it
back in ``If-Match`` and is refused with 409 (changing nothing) if the incident has moved on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Header, Path, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from adapters.http.context import Context, Ctx, JsonResponse, Who
from adapters.integrations.vpcr import parse_vpcr_reports
from domain.actor import Actor
from domain.deadlines import parse_moment
from domain.errors import ValidationFailed
from domain.incident import Incident
from domain.lifecycle import State
from domain.rules import DEFAULT_RULE_SET
from domain.vpcr import incident_id_for as incident_id
from workflows.replay import changes_between, state_as_of
from workflows.screens import describe, event_record
from workflows.service import IncidentService

router = APIRouter(tags=["incidents"])
Ref = Annotated[str, Path(description="The incident id, or its JC case number", max_length=100,
                                 examples=["2026-015501"])]
IfMatch = Annotated[str | None, Header(description='The ETag you read, e.g. "3": refused with 409 if stale')]


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


class Amendment(BaseModel):
    screen: str = Field(max_length=40)
    fields: dict[str, Any]
    reason: str = Field(min_length=1, max_length=4000)


def expected_version(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise ValidationFailed(f'If-Match must be the incident\'s ETag, such as "3"; got {if_match!r}')
    return int(tag)


def shown(ctx: Context, incident: Incident, actor: Actor, status: int = 200) -> Response:
    headers = {"ETag": f'"{incident.version}"'}
    if status == 201:
        headers["Location"] = f"/incidents/{incident.id}"
    return JsonResponse(describe(incident, actor, ctx.clock()), status_code=status, headers=headers)


def step(ctx: Context, actor: Actor, reference: str, if_match: str | None,
         command: Callable[[IncidentService, UUID, int | None], Incident]) -> Response:
    with ctx.writing():
        incident = command(ctx.service, incident_id(reference), expected_version(if_match))
    return shown(ctx, incident, actor)


@router.post("/vpcr-reports", status_code=201, summary="Receive VPCR reports into the JC import queue")
def receive(who: Who, ctx: Ctx, body: Annotated[Any, Body(description="One VPCR report, or a list (bulk)")]) -> Response:
    reports = parse_vpcr_reports(body, "the request body")
    with ctx.writing():
        receipt = ctx.service.receive_vpcr_reports(who.actor, reports)
    return JsonResponse({"received": [str(i) for i in receipt.received],
                         "duplicates": [str(i) for i in receipt.duplicates]},
                        status_code=201 if receipt.received else 200)


@router.get("/jc-queue", summary="The JC import queue: received reports waiting to be imported")
def jc_queue(who: Who, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50,
             facility: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    result = ctx.reads.board(who.actor, facility=facility, state=State.JC_IMPORT_QUEUE, limit=limit)
    return JsonResponse({"facility": result["facility"], "incidents": result["incidents"]})


@router.post("/incidents", status_code=201, summary="New Incident (OMH-only, or a local record)")
def create(body: NewIncident, who: Who, ctx: Ctx) -> Response:
    with ctx.writing():
        new_id = ctx.service.create_incident(who.actor, program=body.program, setting=body.setting, code=body.code,
                                             summary=body.summary, rules=body.rules)
    return shown(ctx, ctx.service.incident(who.actor, new_id), who.actor, 201)


@router.get("/incidents/{reference}", summary="An incident: state, details, clocks and the actions you may take")
def show(reference: Ref, who: Who, ctx: Ctx,
         version: Annotated[int | None, Query(ge=1, description="As it stood at this version")] = None) -> Response:
    return shown(ctx, ctx.service.incident(who.actor, incident_id(reference), version), who.actor)


@router.get("/incidents/{reference}/history", summary="Every event of the incident: what, when and who")
def history(reference: Ref, who: Who, ctx: Ctx) -> Response:
    return JsonResponse([event_record(e) for e in ctx.service.history(who.actor, incident_id(reference))])


@router.get("/incidents/{reference}/as-of", summary="The incident as it stood at a time or a version (auditors)")
def as_of(reference: Ref, who: Who, ctx: Ctx,
          at: Annotated[str | None, Query(description="ISO 8601; a bare date is the end of that New York day")] = None,
          version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    if (at is None) == (version is None):
        raise ValidationFailed("give exactly one of at (a time) or version")
    moment = parse_moment(at, "at") if at else None
    return JsonResponse(state_as_of(ctx.service, who.actor, incident_id(reference), as_of=moment, version=version))


@router.get("/incidents/{reference}/changes", summary="What changed between two versions (auditors)")
def changes(reference: Ref, who: Who, ctx: Ctx, from_version: Annotated[int, Query(alias="from", ge=1)],
            to_version: Annotated[int, Query(alias="to", ge=1)]) -> Response:
    return JsonResponse(changes_between(ctx.service, who.actor, incident_id(reference), start=(None, from_version),
                                        end=(None, to_version)))


@router.post("/incidents/{reference}/import-report", summary="Import from the JC queue as a draft")
def import_report(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.import_report(who.actor, i, v))


@router.patch("/incidents/{reference}/record-details/{screen}", summary="Record details on one screen of a draft")
def record_details(reference: Ref, screen: Annotated[str, Path(max_length=40)], who: Who, ctx: Ctx,
                   fields: Annotated[dict[str, Any], Body(description="Field names to values")],
                   if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.record_details(who.actor, i, screen, fields, v))


@router.post("/incidents/{reference}/email-omh", summary="Submit to OMH (Level 1)")
def email_omh(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.email_omh(who.actor, i, v))


@router.post("/incidents/{reference}/submit-report-of-death", summary="Submit the Report of Death to the JC (Level 1)")
def submit_report_of_death(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.submit_report_of_death(who.actor, i, v))


@router.post("/incidents/{reference}/start-investigation", summary="Start the investigation")
def start_investigation(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.start_investigation(who.actor, i, v))


@router.post("/incidents/{reference}/document-findings", summary="Document the investigation's findings")
def document_findings(reference: Ref, body: Findings, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.document_findings(who.actor, i, body.findings, v))


@router.post("/incidents/{reference}/close", summary="Close (Level 1); needs documented findings")
def close(reference: Ref, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.close(who.actor, i, v))


@router.post("/incidents/{reference}/reopen", summary="Reopen a closed incident, with a reason (Level 1)")
def reopen(reference: Ref, body: Reason, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match, lambda s, i, v: s.reopen(who.actor, i, body.reason, v))


@router.post("/incidents/{reference}/amend", summary="Amend a submitted incident, with a reason (Level 1)")
def amend(reference: Ref, body: Amendment, who: Who, ctx: Ctx, if_match: IfMatch = None) -> Response:
    return step(ctx, who.actor, reference, if_match,
                lambda s, i, v: s.amend(who.actor, i, body.screen, body.fields, body.reason, v))
