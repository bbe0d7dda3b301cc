"""Incident list and search: by state, type, New York dates reported, JC case number and clock status, with paging.

The same query as ``GET /incidents`` and ``nimrs incidents`` (``ReadModels.incidents``); a bad filter is the
same 422 with the same words.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from adapters.http.context import context
from adapters.http.pages.rendering import render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser
from domain.lifecycle import State
from projections.incident_list import parse_day

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = 50
Text = Annotated[str, Query(max_length=80)]



@router.get("/web/incidents")
def incident_list(request: Request, who: PageUser, state: Text = "", code: Text = "", reported_from: Text = "",
                  reported_to: Text = "", jc_case_number: Text = "",
                  clock_status: Annotated[Literal["", "overdue", "due_soon", "open", "none"], Query()] = "",
                  facility: Annotated[str, Query(max_length=64)] = "",
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    found = context(request).reads.incidents(
        who.actor, facility=facility or None, state=state or None, code=code or None,
        reported_from=parse_day(reported_from, "reported_from") if reported_from else None,
        reported_to=parse_day(reported_to, "reported_to") if reported_to else None,
        jc_case_number=jc_case_number or None, clock_status=clock_status or None, limit=PAGE, offset=offset)
    filters = {"state": state, "code": code, "reported_from": reported_from, "reported_to": reported_to,
               "jc_case_number": jc_case_number, "clock_status": clock_status, "facility": facility}
    return render(request, "incident_list.html", title="Incidents", found=found, filters=filters,
                  states=[s.value for s in State], offset=offset, page=PAGE)
