"""The home page: my facility's work — the JC import queue, drafts (and which are ready for a Level 1 user to
submit), what has been emailed to OMH, and the clocks overdue or due soon."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from adapters.http.context import context
from adapters.http.pages.rendering import render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser
from domain.lifecycle import State, Step
from workflows.permissions import Action, may

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SHOWN = 10


@router.get("/")
def home(request: Request, who: PageUser) -> Response:
    reads = context(request).reads
    actor = who.actor
    queue = reads.board(actor, state=State.JC_IMPORT_QUEUE, limit=SHOWN)
    drafts = reads.board(actor, state=State.DRAFT, limit=SHOWN)
    emailed = reads.board(actor, state=State.EMAILED_TO_OMH, limit=SHOWN)
    due_soon = reads.overdue(actor, status="due_soon", limit=SHOWN)
    overdue = reads.overdue(actor, status="overdue", limit=SHOWN)
    counts = {entry["state"]: entry["count"] for entry in queue["states"]}
    # What waits for a Level 1 user: drafts with nothing missing. The board lists ids and states only; each shown
    # draft is loaded to count what it still lacks (no read is recorded: nothing of its content is shown).
    missing = {row["incident_id"]: len(context(request).service.load(UUID(row["incident_id"])).missing_details())
               for row in drafts.get("incidents", [])}
    return render(request, "home.html", title="My facility's work", queue=queue.get("incidents", []),
                  drafts=drafts.get("incidents", []), missing=missing, emailed=emailed.get("incidents", []), counts=counts,
                  due_soon=due_soon["clocks"], overdue=overdue["clocks"], facility=queue["facility"],
                  may_import=may(actor, Step.IMPORT_REPORT), may_create=may(actor, Action.CREATE),
                  may_submit=may(actor, Step.EMAIL_OMH), changed=request.query_params.get("changed") == "1")
