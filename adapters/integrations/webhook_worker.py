"""The webhook delivery worker (``nimrs webhooks run``): one asyncio task per subscription.

Each round reads the new events once and copies those each subscription matches into its queue
(``DeliveryQueue.enqueue``), and each subscription's task sends its oldest pending delivery, signed as Standard Webhooks
specifies. A failure (a non-2xx answer, a timeout, a refused connection) is retried after the
backoff; after ``max_attempts`` the delivery is dead-lettered and the next one goes. All of it
is in the database, so a restarted worker carries on where the last one stopped; a delivery
sent just before a crash is sent again (at least once: receivers dedupe on ``webhook-id``).
Before each attempt the host is resolved and checked (``adapters.integrations.destinations``); a
refused address is a failed attempt that never connects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx

from adapters.integrations.destinations import Destinations
from adapters.integrations.feed import Feed, facility_seen_by, topics_of
from adapters.integrations.webhooks import sign
from domain.clock import Clock, utc_now
from domain.errors import ValidationFailed
from workflows.webhooks import Subscription

log = logging.getLogger("nimrs.webhooks")
DEFAULT_BACKOFF = (5.0, 30.0, 120.0, 600.0, 1800.0, 7200.0)


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 8
    backoff: Sequence[float] = DEFAULT_BACKOFF  # seconds after the 1st, 2nd... failure (the last repeats)
    timeout: float = 10.0
    poll: float = 0.2
    batch: int = 500

    def delay(self, failures: int) -> timedelta:
        return timedelta(seconds=self.backoff[min(failures, len(self.backoff)) - 1])


class DeliveryQueue(Protocol):
    """The subscriptions' queues, where the worker keeps its state (``adapters.persistence.webhooks``)."""

    def active(self) -> list[Subscription]: ...

    def enqueue(self, subscription: Subscription, events: Sequence[Mapping[str, Any]], cursor: int, at: datetime) -> bool:
        """Queue the events and move the cursor, unless another worker moved it first."""

    def head(self, subscription_id: str) -> Any:
        """The oldest pending delivery (``position``, ``message_id``, ``payload``, ``attempts``, ``next_attempt_at``)."""

    def delivered(self, subscription_id: str, position: int, at: datetime) -> None: ...

    def failed(self, subscription_id: str, position: int, attempts: int, error: str, next_at: datetime,
               dead: bool) -> None: ...


class WebhookWorker:
    def __init__(self, store: DeliveryQueue, feed: Feed, policy: DeliveryPolicy | None = None,
                 clock: Clock = utc_now, destinations: Destinations | None = None) -> None:
        self.store = store
        self.feed = feed
        self.policy = policy or DeliveryPolicy()
        self.clock = clock
        self.destinations = destinations or Destinations()  # where deliveries may go, checked at each one

    def fan_out(self, subscription: Subscription) -> int:
        """Copy the events after the subscription's cursor into its queue; how many were queued."""
        return self.fan_out_all([subscription])

    def fan_out_all(self, subscriptions: Sequence[Subscription]) -> int:
        """Copy the events after each subscription's cursor into its queue (its reader's facility, its types),
        reading and decoding the log once for all of them; how many were queued."""
        queued = 0
        behind = list(subscriptions)
        while behind:
            entries, last = self.feed.entries(min(s.cursor for s in behind), self.policy.batch)
            still = []
            for subscription in behind:
                if subscription.cursor >= last:
                    still.append(subscription)
                    continue
                facility, topics = facility_seen_by(subscription.reader), topics_of(subscription.types)
                events = [entry.event for entry in entries
                          if entry.event["position"] > subscription.cursor and entry.shown_to(facility, topics)]
                if not self.store.enqueue(subscription, events, last, self.clock()):
                    continue  # another worker moved the cursor first
                self.feed.shown(subscription.reader, ((e["subject"], e["data"]["actor"]["facility"]) for e in events))
                queued += len(events)
                still.append(replace(subscription, cursor=last))
            if len(entries) < self.policy.batch:
                return queued
            behind = still
        return queued

    async def run(self, stop: asyncio.Event) -> None:
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            while not stop.is_set():
                active = await asyncio.to_thread(self.store.active)
                await asyncio.to_thread(self.fan_out_all, active)
                current = {s.subscription_id: s for s in active}
                for gone in set(tasks) - set(current):
                    tasks.pop(gone).cancel()
                for subscription_id, subscription in current.items():
                    if subscription_id not in tasks or tasks[subscription_id].done():
                        tasks[subscription_id] = asyncio.create_task(self._deliver(subscription, stop))
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.policy.poll)
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    async def _deliver(self, subscription: Subscription, stop: asyncio.Event) -> None:
        # A client per subscription: its kept-alive connections (made to a checked address, with this
        # subscription's host name for TLS) are never reused for another subscription's host.
        async with httpx.AsyncClient(timeout=self.policy.timeout, follow_redirects=False) as client:
            await self._deliver_with(subscription, client, stop)

    async def _deliver_with(self, subscription: Subscription, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
        while not stop.is_set():
            head = await asyncio.to_thread(self.store.head, subscription.subscription_id)
            if head is None or head.next_attempt_at > self.clock():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.policy.poll)
                continue
            error = await self._send(subscription, head, client)
            if error is None:
                await asyncio.to_thread(self.store.delivered, subscription.subscription_id, head.position, self.clock())
                continue
            failures = head.attempts + 1
            dead = failures >= self.policy.max_attempts
            log.warning("webhook %s delivery %s failed (%d): %s", subscription.subscription_id, head.message_id,
                        failures, error)
            await asyncio.to_thread(self.store.failed, subscription.subscription_id, head.position, failures, error,
                                    self.clock() + self.policy.delay(failures), dead)

    async def _send(self, subscription: Subscription, delivery: Any, client: httpx.AsyncClient) -> str | None:
        body = delivery.payload.encode()
        timestamp = int(self.clock().timestamp())
        headers = {
            "content-type": "application/cloudevents+json",
            "webhook-id": delivery.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(subscription.secret, delivery.message_id, timestamp, body),
            "user-agent": "nimrs-webhooks/1",
        }
        try:
            target = await self.destinations.resolve(subscription.url, self.policy.timeout)
        except ValidationFailed as refused:  # never connected: a private address, or a host that does not resolve
            return f"refused: {refused.message}"
        headers["host"] = target.host_header
        extensions = {"sni_hostname": target.sni_hostname} if target.sni_hostname else {}
        try:
            response = await client.post(target.url, content=body, headers=headers, extensions=extensions)
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}".rstrip(": ")
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"
