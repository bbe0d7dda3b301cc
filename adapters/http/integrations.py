"""For integrators: the event feed, its live stream (Server-Sent Events) and webhook subscriptions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse
from typing_extensions import TypedDict

from adapters.http.context import Context, Ctx, JsonResponse, Who
from adapters.http.problems import refusals
from adapters.integrations.event_schemas import parse_types
from adapters.integrations.feed import MAX_LIMIT, CloudEvent
from adapters.integrations.live import QUEUE_LIMIT, TOKEN_CHECK_SECONDS, end_frame, sse_frame
from domain.errors import NimrsError, ValidationFailed
from workflows.accounts import Principal
from workflows.webhooks import DeliveryRecord, NewSubscriptionRecord, SubscriptionRecord

router = APIRouter(tags=["integrations"])
Types = Annotated[str | None, Query(max_length=2000, description="Comma-separated CloudEvents types; default all")]
MAX_POSITION = 2**63 - 1  # a feed position is a 64-bit integer in the event log
POSITION = re.compile(r"[0-9]{1,19}")
NOT_ADMIN = {403: "Only a security administrator may manage webhooks"}
SUBSCRIPTION = refusals(401, 403, 404, 422, described={**NOT_ADMIN, 404: "No such subscription in your facility"})
STREAM_FORMAT = (
    "Server-Sent Events, one per stored event in log order: `id:` is its feed position (reconnect with "
    "`Last-Event-ID` to resume after it: the stream catches up from the log, then goes on live, without a gap or a "
    "duplicate), `event:` its CloudEvents type (e.g. nimrs.Incident.Closed.v1) and `data:` the CloudEvent as JSON, "
    "as in GET /events. The stream starts with `retry: 1000`, sends a `: keep-alive` comment after 15 s without "
    "events, and ends with `event: error` (data: {\"detail\": ...}) when the token expires, is signed out or "
    f"revoked (checked every {TOKEN_CHECK_SECONDS:g} s), or with `event: overflow` (data: {{\"detail\": ...}}) when "
    f"more than {QUEUE_LIMIT:,} events wait for a client that reads too slowly: reconnect with `Last-Event-ID` "
    "to resume.")


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
    return StreamingResponse(_sse(ctx, who, request.state.token, start, chosen), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _sse(ctx: Context, who: Principal, token: str, cursor: int, types: tuple[str, ...]) -> AsyncIterator[bytes]:
    """Catch up from the log on its own, then take the process's live log (``adapters.integrations.live``): each event
    once, in log order. The stream subscribes to the live log before its last read from the log and drops the live
    events that read already sent, so nothing falls between the two; one that fell behind catches up again."""
    yield b"retry: 1000\n\n"
    live, loop = ctx.live, asyncio.get_running_loop()
    stream = live.subscribe(who.actor, types, token)
    try:
        while stream.ending is None:
            if stream.behind:
                live.unsubscribe(stream)
                stream = live.subscribe(who.actor, types, token)
            try:
                page = await run_in_threadpool(ctx.feed.page, who.actor, cursor, 500, types)
            except NimrsError as error:
                yield end_frame("error", error.message)
                return
            if page.events:
                stream.sending = True
                yield b"".join(sse_frame(event) for event in page.events)
                stream.sending = False
                stream.sent(loop.time())
            cursor = page.next
            if page.has_more or stream.behind:
                continue
            while stream.ending is None and not stream.behind:  # caught up: live
                events = await stream.next()
                if events is None:
                    yield b": keep-alive\n\n"
                    stream.sent(loop.time())
                    continue
                fresh = [event for event in events if event.position > cursor]
                if not fresh:
                    continue
                cursor = fresh[-1].position
                stream.sending = True
                yield b"".join(event.frame for event in fresh)
                stream.sending = False
                stream.sent(loop.time())
                # Recorded once every stream has had its turn: the audit waits a moment, the delivery does not.
                loop.call_soon(ctx.feed.shown, who.actor, [(e.entry.event["subject"], e.entry.facility) for e in fresh])
        if stream.ending:  # b"": the server is stopping, nothing to say
            yield stream.ending
    finally:
        live.unsubscribe(stream)


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

