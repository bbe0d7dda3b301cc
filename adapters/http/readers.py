"""The read audit over HTTP: who read an incident, and what a user read (security administrators, Level 1,
state reviewers). The record itself is written by the use cases that return incidents' content."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from adapters.http.context import Ctx, JsonResponse, Who
from adapters.http.problems import refusals
from domain.vpcr import incident_id_for as incident_id
from workflows.read_audit import ReadRecord
from workflows.readers import MAX_LIMIT, period

router = APIRouter(tags=["read audit"])
Ref = Annotated[str, Path(description="The incident id, or its JC case number", max_length=100,
                                 examples=["2026-015501"])]
User = Annotated[str | None, Query(max_length=64, description="Only this user's reads")]
Since = Annotated[str | None, Query(max_length=40, description="ISO 8601; a bare date is the start of that New York day")]
Until = Annotated[str | None, Query(max_length=40, description="ISO 8601; a bare date is the end of that New York day")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
READERS = refusals(401, 403, 404, 422, described={
    403: "Not a security administrator, Level 1 or state reviewer",
    404: "No such incident, or another facility's incident or facility (never told apart)"})


def _answer(ctx: Ctx, who: Who, *, incident: UUID | None = None, user: str | None = None,
            since: str | None = None, until: str | None = None, facility: str | None = None,
            limit: int = 1000) -> Response:
    start, end = period(since, until, ctx.clock())
    reads = ctx.runtime.read_audit.readers(who, incident_id=incident, user=user, since=start, until=end,
                                           facility=facility, limit=limit)
    return JsonResponse([read.as_dict() for read in reads])


@router.get("/incidents/{reference}/readers", summary="Who read the incident: each read with who, when and what",
            response_model=list[ReadRecord], responses=READERS)
def readers(reference: Ref, who: Who, ctx: Ctx, user: User = None, since: Since = None, until: Until = None,
            limit: Limit = 1000) -> Response:
    return _answer(ctx, who, incident=incident_id(reference), user=user, since=since, until=until, limit=limit)


@router.get("/read-audit", summary="Reads of a facility's incidents, by user and time",
            response_model=list[ReadRecord], responses=READERS)
def read_audit(who: Who, ctx: Ctx, user: User = None, since: Since = None, until: Until = None,
               facility: Annotated[str | None, Query(max_length=64, description="Default: yours; state reviewers: every facility, or the one named")]
               = None, limit: Limit = 1000) -> Response:
    return _answer(ctx, who, user=user, since=since, until=until, facility=facility, limit=limit)
