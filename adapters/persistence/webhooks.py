"""Webhook subscriptions and their delivery queue in SQL (tables beside the events).

A subscription has a cursor into the event log. The worker (``adapters.integrations.webhook_worker``)
copies each new matching event into the subscription's queue as a delivery and moves the cursor, in
one transaction; it then sends each subscription's oldest pending delivery until it succeeds or has
failed ``max_attempts`` times (then it is dead-lettered and the next one goes). So deliveries are at
least once and in log order per subscription, and a restart loses nothing: the queue and the cursor
are in the database.

``SqlWebhookRepository`` is both the use cases' repository (``workflows.webhooks.WebhookRepository``)
and the worker's queue (``adapters.integrations.webhook_worker.DeliveryQueue``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import orjson
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Engine

from adapters.persistence.schema import deliveries, subscriptions
from projections.encryption import PLAIN, FieldCipher
from workflows.webhooks import DEAD, DELIVERED, PENDING, DeliveryRecord, Subscription

STORED_POSITION_MAX = 2**31 - 1  # deliveries.position is an INTEGER column

class QueuedDelivery(NamedTuple):
    """A pending delivery as the worker sends it: the payload decrypted."""

    position: int
    message_id: str
    payload: str
    attempts: int
    next_attempt_at: datetime


class SqlWebhookRepository:
    def __init__(self, engine: Engine, cipher: FieldCipher = PLAIN) -> None:
        self.engine = engine
        self.cipher = cipher  # payloads (patient data) and signing secrets are encrypted when a key is set

    def _subscription(self, row: Any) -> Subscription:
        return Subscription(row.subscription_id, row.owner, row.facility, row.url,
                            tuple(t for t in row.types.split(",") if t), self.cipher.decrypt(row.secret), row.cursor,
                            bool(row.active))

    # -- subscriptions (the use cases' side) -------------------------------------------------------

    def add(self, subscription: Subscription, owner_facility: str, created_at: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(subscriptions).values(
                subscription_id=subscription.subscription_id, owner=subscription.owner, owner_facility=owner_facility,
                facility=subscription.facility, url=subscription.url, types=",".join(subscription.types),
                secret=self.cipher.encrypt(subscription.secret), cursor=subscription.cursor, active=subscription.active,
                created_at=created_at))

    def subscription(self, subscription_id: str, owner_facility: str) -> Subscription | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(subscriptions).where(and_(
                subscriptions.c.subscription_id == subscription_id,
                subscriptions.c.owner_facility == owner_facility))).first()
        return None if row is None else self._subscription(row)

    def subscriptions(self, owner_facility: str) -> list[Subscription]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(subscriptions).where(
                and_(subscriptions.c.owner_facility == owner_facility, subscriptions.c.active))
                .order_by(subscriptions.c.created_at))
            return [self._subscription(row) for row in rows]

    def deactivate(self, subscription_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(subscriptions).where(subscriptions.c.subscription_id == subscription_id)
                               .values(active=False))

    def deliveries(self, subscription_id: str, status: str | None, limit: int) -> list[DeliveryRecord]:
        query = (select(deliveries).where(deliveries.c.subscription_id == subscription_id)
                 .order_by(deliveries.c.position).limit(limit))
        if status:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as connection:
            return [{"position": r.position, "message_id": r.message_id, "type": r.type, "status": r.status,
                     "attempts": r.attempts, "next_attempt_at": r.next_attempt_at.isoformat(),
                     "last_error": r.last_error,
                     "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None}
                    for r in connection.execute(query)]

    def requeue_dead(self, subscription_id: str, positions: list[int] | None, at: datetime) -> int:
        condition = and_(deliveries.c.subscription_id == subscription_id, deliveries.c.status == DEAD)
        if positions:
            # No delivery can sit beyond the column's range (32-bit): asking PostgreSQL about one is an error.
            storable = [position for position in positions if position <= STORED_POSITION_MAX]
            if not storable:
                return 0
            condition = and_(condition, deliveries.c.position.in_(storable))
        with self.engine.begin() as connection:
            result = connection.execute(update(deliveries).where(condition).values(
                status=PENDING, attempts=0, next_attempt_at=at, last_error=None))
        return int(result.rowcount)

    # -- the queue (the worker's side) ---------------------------------------------------------------

    def active(self) -> list[Subscription]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(subscriptions).where(subscriptions.c.active))
            return [self._subscription(row) for row in rows]

    def enqueue(self, subscription: Subscription, events: Sequence[Mapping[str, Any]], cursor: int, at: datetime) -> bool:
        """Queue the events and move the cursor, only if it has not moved meanwhile (another worker)."""
        with self.engine.begin() as connection:
            moved = connection.execute(update(subscriptions).where(and_(
                subscriptions.c.subscription_id == subscription.subscription_id,
                subscriptions.c.cursor == subscription.cursor)).values(cursor=cursor))
            if moved.rowcount != 1:
                connection.rollback()
                return False
            if events:
                connection.execute(insert(deliveries), [
                    {"subscription_id": subscription.subscription_id, "position": e["position"],
                     "message_id": e["id"], "type": e["type"], "payload": self.cipher.encrypt(orjson.dumps(e).decode()),
                     "status": PENDING, "attempts": 0, "next_attempt_at": at} for e in events])
        return True

    def head(self, subscription_id: str) -> QueuedDelivery | None:
        """The oldest pending delivery: nothing later goes before it succeeds or is dead-lettered."""
        with self.engine.connect() as connection:
            row = connection.execute(select(deliveries).where(and_(
                deliveries.c.subscription_id == subscription_id, deliveries.c.status == PENDING))
                .order_by(deliveries.c.position).limit(1)).first()
        if row is None:
            return None
        return QueuedDelivery(row.position, row.message_id, self.cipher.decrypt(row.payload), row.attempts,
                              row.next_attempt_at)

    def delivered(self, subscription_id: str, position: int, at: datetime) -> None:
        self._update(subscription_id, position, status=DELIVERED, delivered_at=at, last_error=None,
                     attempts=deliveries.c.attempts + 1)

    def failed(self, subscription_id: str, position: int, attempts: int, error: str, next_at: datetime,
               dead: bool) -> None:
        self._update(subscription_id, position, status=DEAD if dead else PENDING, attempts=attempts,
                     last_error=error[:500], next_attempt_at=next_at)

    def _update(self, subscription_id: str, position: int, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(deliveries).where(and_(
                deliveries.c.subscription_id == subscription_id, deliveries.c.position == position)).values(**values))

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
            return {status: count for status, count in rows}
