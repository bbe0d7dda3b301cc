"""The overdue list: a facility's obligations and reporting clocks by status (every facility for a state reviewer),
a page at a time. Every clock of every released set of obligations may be chosen."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from adapters.http.context import context
from adapters.http.pages.obligations_shown import clock_title
from adapters.http.pages.rendering import render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser
from domain.obligations.sets import ALL_CLOCK_NAMES

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE_SIZE = 50
STATUSES = {"overdue": "Overdue", "due_soon": "Due soon", "open": "Open", "unmet": "Not met yet",
            "met_on_time": "Met on time", "met_late": "Met late", "waived": "Waived", "all": "All"}
CLOCKS = {name: clock_title(name) for name in ALL_CLOCK_NAMES}  # every clock of every released set


@router.get("/web/overdue")
def overdue(request: Request, who: PageUser,
            status: Annotated[Literal["overdue", "due_soon", "open", "unmet", "met_on_time", "met_late", "waived", "all"],
                              Query()] = "overdue",
            clock: Annotated[str, Query(max_length=40)] = "",
            facility: Annotated[str, Query(max_length=64)] = "",
            offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    # As GET /overdue: an empty facility is the user's own, or every facility for a state reviewer.
    found = context(request).reads.overdue(who.actor, facility=facility or None, status=status, clock=clock or None,
                                          limit=PAGE_SIZE, offset=offset)
    return render(request, "overdue.html", title="Overdue", clocks=found["clocks"], facility=found["facility"],
                  clock_status=status, clock=clock, chosen_facility=facility, offset=offset, page_size=PAGE_SIZE,
                  statuses=STATUSES, clock_names=CLOCKS, may_choose_facility=who.actor.state_reviewer)
