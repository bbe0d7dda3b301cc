"""For integrators: the event feed, its live stream (Server-Sent Events) and webhook subscriptions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from adapters.http.context import Context, Ctx, JsonResponse, Who
from adapters.integrations.event_schemas import parse_types
from adapters.integrations.feed import MAX_LIMIT
from domain.errors import NimrsError, ValidationFailed
from workflows.accounts import Principal

router = APIRouter(tags=["integrations"])
Types = Annotated[str | None, Query(max_length=2000, description="Comma-separated CloudEvents types; default all")]
STREAM_POLL_SECONDS = 0.2
HEARTBEAT_SECONDS = 15.0


class NewSubscription(BaseModel):
    url: str = Field(max_length=2000, description="Where to POST each event (http or https)")
    types: list[str] = Field(default_factory=list, description="CloudEvents types to send; empty: all")
    after: int | None = Field(None, ge=0, description="Start after this feed position; default: from now on")


class Redelivery(BaseModel):
    positions: list[int] | None = Field(None, description="Dead-lettered deliveries to resend; default: all of them")


@router.get("/events", summary="The event feed: CloudEvents 1.0 in log order, from a cursor")
def events(who: Who, ctx: Ctx, after: Annotated[int, Query(ge=0, description="Resume after this position")] = 0,
           limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 500, types: Types = None) -> Response:
    page = ctx.feed.page(who.actor, after, limit, parse_types(types))
    headers = {"Link": f'</events?after={page.next}&limit={limit}>; rel="next"'}
    return JsonResponse({"events": page.events, "next": page.next, "has_more": page.has_more}, headers=headers)


def _resume_point(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None:
        if not last_event_id.strip().isdigit():
            raise ValidationFailed(f"Last-Event-ID must be a feed position (a whole number), got {last_event_id!r}")
        return int(last_event_id)
    return after or 0


@router.get("/events/stream", summary="The live event stream (Server-Sent Events), resumable with Last-Event-ID",
            response_class=StreamingResponse)
async def stream(request: Request, who: Who, ctx: Ctx,
                 after: Annotated[int | None, Query(ge=0, description="Start after this position")] = None,
                 types: Types = None,
                 last_event_id: Annotated[str | None, Header(max_length=40)] = None) -> StreamingResponse:
    chosen = parse_types(types)
    start = _resume_point(after, last_event_id)
    return StreamingResponse(_sse(request, ctx, who, request.state.token, start, chosen), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _sse(request: Request, ctx: Context, who: Principal, token: str, cursor: int,
               types: tuple[str, ...]) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    quiet = 0.0
    while not await request.is_disconnected():
        try:
            await run_in_threadpool(ctx.authenticate, token)  # the stream ends when the token expires
            page = await run_in_threadpool(ctx.feed.page, who.actor, cursor, 500, types)
        except NimrsError as error:
            yield b"event: error\ndata: " + orjson.dumps({"detail": error.message}) + b"\n\n"
            return
        for event in page.events:
            yield b"id: %d\nevent: %s\ndata: %s\n\n" % (event["position"], event["type"].encode(), orjson.dumps(event))
        cursor = page.next
        if page.has_more:
            continue
        await asyncio.sleep(STREAM_POLL_SECONDS)
        quiet = 0.0 if page.events else quiet + STREAM_POLL_SECONDS
        if quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield b": keep-alive\n\n"


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to events (security administrators)")
def subscribe(body: NewSubscription, who: Who, ctx: Ctx) -> Response:
    start = ctx.feed.last_position() if body.after is None else body.after
    subscription = ctx.webhooks.subscribe(who, body.url, ",".join(body.types), start)
    return JsonResponse(subscription.as_dict(with_secret=True), status_code=201,
                        headers={"Location": f"/webhooks/{subscription.subscription_id}"})


@router.get("/webhooks", summary="Your facility's webhook subscriptions")
def subscriptions(who: Who, ctx: Ctx) -> Response:
    return JsonResponse([s.as_dict() for s in ctx.webhooks.listed(who)])


@router.get("/webhooks/{subscription_id}", summary="One subscription")
def subscription(subscription_id: str, who: Who, ctx: Ctx) -> Response:
    return JsonResponse(ctx.webhooks.get(who, subscription_id).as_dict())


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Unsubscribe")
def unsubscribe(subscription_id: str, who: Who, ctx: Ctx) -> Response:
    ctx.webhooks.unsubscribe(who, subscription_id)
    return Response(status_code=204)


@router.get("/webhooks/{subscription_id}/deliveries", summary="Deliveries: pending, delivered or dead-lettered")
def deliveries(subscription_id: str, who: Who, ctx: Ctx,
               status: Annotated[str | None, Query(max_length=20)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    return JsonResponse(ctx.webhooks.deliveries(who, subscription_id, status, limit))


@router.post("/webhooks/{subscription_id}/redeliver", summary="Put dead-lettered deliveries back in the queue")
def redeliver(subscription_id: str, body: Redelivery, who: Who, ctx: Ctx) -> Response:
    count = ctx.webhooks.redeliver(who, subscription_id, body.positions)
    return JsonResponse({"requeued": count})

