"""For integrators: the event feed, its live stream (Server-Sent Events) and webhook subscriptions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from typing_extensions import TypedDict

from adapters.http.context import Context, Ctx, JsonResponse, Who
from adapters.http.problems import refusals
from adapters.integrations.event_schemas import parse_types
from adapters.integrations.feed import MAX_LIMIT, CloudEvent
from domain.errors import NimrsError, ValidationFailed
from workflows.accounts import Principal
from workflows.webhooks import DeliveryRecord, NewSubscriptionRecord, SubscriptionRecord

router = APIRouter(tags=["integrations"])
Types = Annotated[str | None, Query(max_length=2000, description="Comma-separated CloudEvents types; default all")]
STREAM_POLL_SECONDS = 0.2
MAX_POSITION = 2**63 - 1  # a feed position is a 64-bit integer in the event log
POSITION = re.compile(r"[0-9]{1,19}")
HEARTBEAT_SECONDS = 15.0
NOT_ADMIN = {403: "Only a security administrator may manage webhooks"}
SUBSCRIPTION = refusals(401, 403, 404, 422, described={**NOT_ADMIN, 404: "No such subscription in your facility"})
STREAM_FORMAT = (
    "Server-Sent Events, one per stored event in log order: `id:` is its feed position (reconnect with "
    "`Last-Event-ID` to resume after it), `event:` its CloudEvents type (e.g. nimrs.Incident.Closed.v1) and "
    "`data:` the CloudEvent as JSON, as in GET /events. The stream starts with `retry: 1000`, sends a "
    "`: keep-alive` comment after 15 s without events, and ends with `event: error` (data: {\"detail\": ...}) "
    "when the token expires or is signed out.")


class EventsPage(TypedDict):
    """CloudEvents 1.0 in log order, and the cursor to resume from."""

    events: list[CloudEvent]
    next: int  # resume with after=next
    has_more: bool


class Requeued(TypedDict):
    requeued: int  # how many dead-lettered deliveries are back in the queue


class NewSubscription(BaseModel):
    url: str = Field(max_length=2000, description="Where to POST each event (http or https)")
    types: list[str] = Field(default_factory=list, description="CloudEvents types to send; empty: all")
    after: int | None = Field(None, ge=0, le=MAX_POSITION,
                              description="Start after this feed position (at most the last); default: from now on")


class Redelivery(BaseModel):
    positions: list[Annotated[int, Field(ge=0, le=MAX_POSITION)]] | None = Field(
        None, max_length=10_000, description="Dead-lettered deliveries to resend; default: all of them")


@router.get("/events", summary="The event feed: CloudEvents 1.0 in log order, from a cursor",
            response_model=EventsPage,
            responses={200: {"headers": {"Link": {"description": 'The next page: <...>; rel="next"',
                                                  "schema": {"type": "string"}}}},
                       **refusals(401, 422)})
def events(who: Who, ctx: Ctx,
           after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="Resume after this position")] = 0,
           limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 500, types: Types = None) -> Response:
    page = ctx.feed.page(who.actor, after, limit, parse_types(types))
    headers = {"Link": f'</events?after={page.next}&limit={limit}>; rel="next"'}
    shown: EventsPage = {"events": page.events, "next": page.next, "has_more": page.has_more}
    return JsonResponse(shown, headers=headers)


def _resume_point(after: int | None, last_event_id: str | None) -> int:
    if last_event_id is not None:
        if not POSITION.fullmatch(last_event_id.strip()) or int(last_event_id) > MAX_POSITION:
            raise ValidationFailed(f"Last-Event-ID must be a feed position (a whole number up to {MAX_POSITION}), "
                                   f"got {last_event_id[:40]!r}")
        return int(last_event_id)
    return after or 0


@router.get("/events/stream", summary="The live event stream (Server-Sent Events), resumable with Last-Event-ID",
            response_class=StreamingResponse,
            responses={200: {"description": "The stream: it stays open",
                             "content": {"text/event-stream": {"schema": {"type": "string",
                                                                         "description": STREAM_FORMAT}}}},
                       **refusals(401, 422)})
async def stream(request: Request, who: Who, ctx: Ctx,
                 after: Annotated[int | None, Query(ge=0, le=MAX_POSITION, description="Start after this position")]
                 = None,
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
    while not ctx.stopping.is_set() and not await request.is_disconnected():
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


@router.post("/webhooks", status_code=201, summary="Subscribe a URL to events (security administrators)",
             response_model=NewSubscriptionRecord, responses=refusals(401, 403, 422, described=NOT_ADMIN))
def subscribe(body: NewSubscription, who: Who, ctx: Ctx) -> Response:
    last = ctx.feed.last_position()
    if body.after is not None and body.after > last:
        raise ValidationFailed(f"after must be a feed position already recorded (0 to {last}), got {body.after}")
    start = last if body.after is None else body.after
    subscription = ctx.webhooks.subscribe(who, body.url, ",".join(body.types), start)
    return JsonResponse(subscription.as_new(), status_code=201,
                        headers={"Location": f"/webhooks/{subscription.subscription_id}"})


@router.get("/webhooks", summary="Your facility's webhook subscriptions",
            response_model=list[SubscriptionRecord], responses=refusals(401, 403, described=NOT_ADMIN))
def subscriptions(who: Who, ctx: Ctx) -> Response:
    return JsonResponse([s.as_dict() for s in ctx.webhooks.listed(who)])


@router.get("/webhooks/{subscription_id}", summary="One subscription", response_model=SubscriptionRecord,
            responses=SUBSCRIPTION)
def subscription(subscription_id: str, who: Who, ctx: Ctx) -> Response:
    return JsonResponse(ctx.webhooks.get(who, subscription_id).as_dict())


@router.delete("/webhooks/{subscription_id}", status_code=204, summary="Unsubscribe", responses=SUBSCRIPTION)
def unsubscribe(subscription_id: str, who: Who, ctx: Ctx) -> Response:
    ctx.webhooks.unsubscribe(who, subscription_id)
    return Response(status_code=204)


@router.get("/webhooks/{subscription_id}/deliveries", summary="Deliveries: pending, delivered or dead-lettered",
            response_model=list[DeliveryRecord], responses=SUBSCRIPTION)
def deliveries(subscription_id: str, who: Who, ctx: Ctx,
               status: Annotated[str | None, Query(max_length=20)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    return JsonResponse(ctx.webhooks.deliveries(who, subscription_id, status, limit))


@router.post("/webhooks/{subscription_id}/redeliver", summary="Put dead-lettered deliveries back in the queue",
             response_model=Requeued, responses=SUBSCRIPTION)
def redeliver(subscription_id: str, body: Redelivery, who: Who, ctx: Ctx) -> Response:
    requeued: Requeued = {"requeued": ctx.webhooks.redeliver(who, subscription_id, body.positions)}
    return JsonResponse(requeued)

