"""The supervisor's board, live: counts per state, the JC queue, overdue and due soon, each a link to the list
behind it. An open board follows the board view through Server-Sent Events (htmx's SSE extension): when the
view moves, the board is sent again, so a change anywhere in the facility shows within a second, without reload.
Without JavaScript the page is the same board, as of when it was loaded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from adapters.http.context import context
from adapters.http.pages.rendering import environment, render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser, session_holder
from workflows.accounts import Principal

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Facility = Annotated[str | None, Query(max_length=64)]
POLL_SECONDS = 0.3  # how often an open board looks at the board view's position (one small SELECT)
SESSION_CHECK_SECONDS = 5.0  # a stream ends soon after its session does


def _board(request: Request, who: Principal, facility: str | None) -> dict[str, Any]:
    return dict(context(request).reads.board(who.actor, facility=facility or None))


@router.get("/web/board")
def board_page(request: Request, who: PageUser, facility: Facility = None) -> Response:
    return render(request, "board.html", title="Board", board=_board(request, who, facility), facility=facility or "")


def _event(name: str, html: str) -> str:
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in html.splitlines()) + "\n"


async def _follow(request: Request, who: Principal, facility: str | None) -> AsyncIterator[str]:
    ctx = context(request)
    fragment = environment.get_template("_board.html")
    last_position = None
    checked = asyncio.get_running_loop().time()
    yield ": following the board\n\n"
    while not ctx.stopping.is_set() and not await request.is_disconnected():
        position = (await run_in_threadpool(ctx.projector.positions))["board"].position
        if position != last_position:
            if last_position is not None:
                board = await run_in_threadpool(_board, request, who, facility)
                yield _event("board", fragment.render(board=board, facility=facility or "", now=ctx.clock()))
            last_position = position
        now = asyncio.get_running_loop().time()
        if now - checked > SESSION_CHECK_SECONDS:
            checked = now
            if await run_in_threadpool(session_holder, request) is None:
                yield _event("signed-out", "<p>Your session has ended: reload to sign in.</p>")
                return
        await asyncio.sleep(POLL_SECONDS)


@router.get("/web/board/stream")
def board_stream(request: Request, who: PageUser, facility: Facility = None) -> StreamingResponse:
    _board(request, who, facility)  # refused here (not found) before the stream starts, as the page is
    return StreamingResponse(_follow(request, who, facility), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
