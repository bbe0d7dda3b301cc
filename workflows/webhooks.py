"""Webhook use cases: subscribing a URL to events, listing, unsubscribing, the deliveries, redelivering.

Only security administrators manage webhooks, each its own facility's; a state reviewer
administrator's subscription covers every facility. Where subscriptions and their delivery queue
are stored (``adapters.persistence.webhooks``), which event types exist, how a URL is checked and
how a signing secret is made (``adapters.integrations``) are handed in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import uuid4

from typing_extensions import TypedDict

from domain.actor import Actor
from domain.clock import Clock
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.vocabulary import Level
from workflows.accounts import Principal

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"


class SubscriptionRecord(TypedDict):
    """A webhook subscription as its administrators see it (the signing secret only when subscribing)."""

    id: str
    url: str
    types: list[str]  # CloudEvents types; empty: all
    owner: str
    facility: str | None  # whose events: null = every facility (a state reviewer's subscription)
    cursor: int  # the feed position copied into the delivery queue so far
    active: bool


class NewSubscriptionRecord(SubscriptionRecord):
    """A subscription just made, with its signing secret: shown this once."""

    secret: str


class DeliveryRecord(TypedDict):
    """One event's delivery to a subscription."""

    position: int  # the event's feed position
    message_id: str  # the CloudEvent id, the same on every attempt (webhook-id)
    type: str
    status: str  # pending, delivered or dead
    attempts: int
    next_attempt_at: str
    last_error: str | None
    delivered_at: str | None


@dataclass(frozen=True)
class Subscription:
    subscription_id: str
    owner: str
    facility: str | None  # whose events: None = every facility (a state reviewer's subscription)
    url: str
    types: tuple[str, ...]  # CloudEvents types; empty = all
    secret: str
    cursor: int  # log position copied into the queue so far
    active: bool

    @property
    def reader(self) -> Actor:
        """Whose view of the feed the subscription gets: its facility, or every facility."""
        return Actor(self.owner, self.facility or "*", Level.READER, state_reviewer=self.facility is None)

    def as_dict(self) -> SubscriptionRecord:
        return {"id": self.subscription_id, "url": self.url, "types": list(self.types), "owner": self.owner,
                "facility": self.facility, "cursor": self.cursor, "active": self.active}

    def as_new(self) -> NewSubscriptionRecord:
        """As shown once, when subscribing: with the signing secret."""
        return {**self.as_dict(), "secret": self.secret}


class WebhookRepository(Protocol):
    def add(self, subscription: Subscription, owner_facility: str, created_at: datetime) -> None: ...

    def subscription(self, subscription_id: str, owner_facility: str) -> Subscription | None:
        """The subscription (active or not) if a user of ``owner_facility`` made it."""

    def subscriptions(self, owner_facility: str) -> list[Subscription]:
        """The facility's active subscriptions, oldest first."""

    def deactivate(self, subscription_id: str) -> None: ...

    def deliveries(self, subscription_id: str, status: str | None, limit: int) -> list[DeliveryRecord]:
        """Deliveries in log order, as shown to the administrator."""

    def requeue_dead(self, subscription_id: str, positions: list[int] | None, at: datetime) -> int:
        """Put dead-lettered deliveries (all, or those at ``positions``) back in the queue; how many."""


class WebhookService:
    def __init__(self, repository: WebhookRepository, clock: Clock, *,
                 event_types: Callable[[str | None], tuple[str, ...]], check_url: Callable[[str], str],
                 new_secret: Callable[[], str]) -> None:
        self.repository = repository
        self.clock = clock
        self.event_types = event_types  # comma-separated CloudEvents types -> the known ones, or ValidationFailed
        self.check_url = check_url
        self.new_secret = new_secret

    def subscribe(self, by: Principal, url: str, types: str | None, start: int) -> Subscription:
        if not by.security_admin:
            raise PermissionDenied(f"only a security administrator may subscribe webhooks; {by.user_id!r} is not one")
        chosen = self.event_types(types)
        subscription = Subscription(
            subscription_id="sub_" + uuid4().hex, owner=by.user_id,
            facility=None if by.actor.state_reviewer else by.actor.facility, url=self.check_url(url), types=chosen,
            secret=self.new_secret(), cursor=start, active=True)
        self.repository.add(subscription, by.actor.facility, self.clock())
        return self.get(by, subscription.subscription_id)

    def _facility(self, by: Principal) -> str:
        """The facility whose subscriptions ``by`` manages."""
        if not by.security_admin:
            raise PermissionDenied(f"only a security administrator may manage webhooks; {by.user_id!r} is not one")
        return by.actor.facility

    def get(self, by: Principal, subscription_id: str) -> Subscription:
        found = self.repository.subscription(subscription_id, self._facility(by))
        if found is None:
            raise NotFound(f"webhook subscription {subscription_id!r} not found in facility {by.actor.facility!r}")
        return found

    def listed(self, by: Principal) -> list[Subscription]:
        return self.repository.subscriptions(self._facility(by))

    def unsubscribe(self, by: Principal, subscription_id: str) -> None:
        self.get(by, subscription_id)
        self.repository.deactivate(subscription_id)

    def deliveries(self, by: Principal, subscription_id: str, status: str | None, limit: int = 100) -> list[DeliveryRecord]:
        self.get(by, subscription_id)
        if status not in (None, PENDING, DELIVERED, DEAD):
            raise ValidationFailed(f"status must be pending, delivered or dead, got {status!r}")
        return self.repository.deliveries(subscription_id, status, max(1, min(limit, 1000)))

    def redeliver(self, by: Principal, subscription_id: str, positions: list[int] | None) -> int:
        """Put dead-lettered deliveries (all, or those at ``positions``) back in the queue."""
        self.get(by, subscription_id)
        return self.repository.requeue_dead(subscription_id, positions, self.clock())
