"""Webhook subscriptions and their delivery queue (tables beside the events), and Standard Webhooks signing.

A subscription has a cursor into the event log. The worker (``adapters.webhook_worker``) copies
each new matching event into the subscription's queue as a delivery and moves the cursor, in
one transaction; it then sends each subscription's oldest pending delivery until it succeeds
or has failed ``max_attempts`` times (then it is dead-lettered and the next one goes). So
deliveries are at least once and in log order per subscription, and a restart loses nothing:
the queue and the cursor are in the database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import orjson
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, and_, func, insert, select, update
from sqlalchemy.engine import Engine

from adapters.feed import parse_types
from adapters.users import Principal
from domain.actor import Actor
from domain.clock import Clock
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.vocabulary import Level
from projections.schema import UtcDateTime

metadata = MetaData()
subscriptions = Table(
    "nimrs_webhook_subscriptions", metadata,
    Column("subscription_id", String(40), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("owner_facility", String(64), nullable=False, index=True),
    Column("facility", String(64)),  # whose events: NULL = every facility (a state reviewer's subscription)
    Column("url", String(2000), nullable=False),
    Column("types", Text, nullable=False),  # comma-separated CloudEvents types; empty = all
    Column("secret", String(100), nullable=False),
    Column("cursor", Integer, nullable=False),  # log position copied into the queue so far
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
deliveries = Table(
    "nimrs_webhook_deliveries", metadata,
    Column("subscription_id", String(40), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("message_id", String(100), nullable=False),  # the CloudEvent id: the same on every attempt
    Column("type", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending | delivered | dead
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", String(500)),
    Column("delivered_at", UtcDateTime),
)
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature header value: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(f"url {url!r} must be an absolute http or https URL")
    if parts.username or parts.password:
        raise ValidationFailed("url must not carry credentials; deliveries are authenticated by their signature")
    return url


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    owner: str
    facility: str | None
    url: str
    types: tuple[str, ...]
    secret: str
    cursor: int
    active: bool

    @property
    def reader(self) -> Actor:
        """Whose view of the feed the subscription gets: its facility, or every facility."""
        return Actor(self.owner, self.facility or "*", Level.READER, state_reviewer=self.facility is None)

    def as_dict(self, with_secret: bool = False) -> dict[str, Any]:
        shown = {"id": self.subscription_id, "url": self.url, "types": list(self.types), "owner": self.owner,
                 "facility": self.facility, "cursor": self.cursor, "active": self.active}
        if with_secret:
            shown["secret"] = self.secret
        return shown


def _subscription(row: Any) -> Subscription:
    return Subscription(row.subscription_id, row.owner, row.facility, row.url,
                        tuple(t for t in row.types.split(",") if t), row.secret, row.cursor, bool(row.active))


class WebhookStore:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        metadata.create_all(engine)

    # -- subscriptions (security administrators; a state reviewer's cover every facility) --------

    def subscribe(self, by: Principal, url: str, types: str | None, start: int) -> Subscription:
        if not by.security_admin:
            raise PermissionDenied(f"only a security administrator may subscribe webhooks; {by.user_id!r} is not one")
        chosen = parse_types(types)
        subscription_id = "sub_" + uuid4().hex
        with self.engine.begin() as connection:
            connection.execute(insert(subscriptions).values(
                subscription_id=subscription_id, owner=by.user_id, owner_facility=by.actor.facility,
                facility=None if by.actor.state_reviewer else by.actor.facility, url=check_url(url),
                types=",".join(chosen), secret=new_secret(), cursor=start, active=True, created_at=self.clock()))
        return self.get(by, subscription_id)

    def _visible(self, by: Principal) -> Any:
        if not by.security_admin:
            raise PermissionDenied(f"only a security administrator may manage webhooks; {by.user_id!r} is not one")
        return subscriptions.c.owner_facility == by.actor.facility

    def get(self, by: Principal, subscription_id: str) -> Subscription:
        with self.engine.connect() as connection:
            row = connection.execute(select(subscriptions).where(
                and_(subscriptions.c.subscription_id == subscription_id, self._visible(by)))).first()
        if row is None:
            raise NotFound(f"webhook subscription {subscription_id!r} not found in facility {by.actor.facility!r}")
        return _subscription(row)

    def listed(self, by: Principal) -> list[Subscription]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(subscriptions).where(
                and_(self._visible(by), subscriptions.c.active)).order_by(subscriptions.c.created_at))
            return [_subscription(row) for row in rows]

    def unsubscribe(self, by: Principal, subscription_id: str) -> None:
        self.get(by, subscription_id)
        with self.engine.begin() as connection:
            connection.execute(update(subscriptions).where(subscriptions.c.subscription_id == subscription_id)
                               .values(active=False))

    def deliveries(self, by: Principal, subscription_id: str, status: str | None, limit: int = 100) -> list[dict[str, Any]]:
        self.get(by, subscription_id)
        if status not in (None, PENDING, DELIVERED, DEAD):
            raise ValidationFailed(f"status must be pending, delivered or dead, got {status!r}")
        query = (select(deliveries).where(deliveries.c.subscription_id == subscription_id)
                 .order_by(deliveries.c.position).limit(max(1, min(limit, 1000))))
        if status:
            query = query.where(deliveries.c.status == status)
        with self.engine.connect() as connection:
            return [{"position": r.position, "message_id": r.message_id, "type": r.type, "status": r.status,
                     "attempts": r.attempts, "next_attempt_at": r.next_attempt_at.isoformat(),
                     "last_error": r.last_error,
                     "delivered_at": r.delivered_at.isoformat() if r.delivered_at else None}
                    for r in connection.execute(query)]

    def redeliver(self, by: Principal, subscription_id: str, positions: list[int] | None) -> int:
        """Put dead-lettered deliveries (all, or those at ``positions``) back in the queue."""
        self.get(by, subscription_id)
        condition = and_(deliveries.c.subscription_id == subscription_id, deliveries.c.status == DEAD)
        if positions:
            condition = and_(condition, deliveries.c.position.in_(positions))
        with self.engine.begin() as connection:
            result = connection.execute(update(deliveries).where(condition).values(
                status=PENDING, attempts=0, next_attempt_at=self.clock(), last_error=None))
        return int(result.rowcount)

    # -- the worker's side ---------------------------------------------------------------------------

    def active(self) -> list[Subscription]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(subscriptions).where(subscriptions.c.active))
            return [_subscription(row) for row in rows]

    def enqueue(self, subscription: Subscription, events: list[dict[str, Any]], cursor: int) -> bool:
        """Queue the events and move the cursor, only if it has not moved meanwhile (another worker)."""
        now = self.clock()
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
                     "message_id": e["id"], "type": e["type"], "payload": orjson.dumps(e).decode(),
                     "status": PENDING, "attempts": 0, "next_attempt_at": now} for e in events])
        return True

    def head(self, subscription_id: str) -> Any:
        """The oldest pending delivery: nothing later goes before it succeeds or is dead-lettered."""
        with self.engine.connect() as connection:
            return connection.execute(select(deliveries).where(and_(
                deliveries.c.subscription_id == subscription_id, deliveries.c.status == PENDING))
                .order_by(deliveries.c.position).limit(1)).first()

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
