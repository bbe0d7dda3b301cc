"""The alert router: reads the event log after its position and puts each alert's mail in the outbox.

It reads only the alert events (``workflows.alerts.ALERT_TOPICS``) as stored JSON, a page at a time,
asks the facility's rules (``rules_for``) and the incident's facts (``facts_for``) and, after Email OMH
or the Report of Death, the acting user's address for a receipt (``receipt_to``). The page's mail and
the new position are written in one transaction (``MailOutbox.route``), so each alert is routed once:
a router that crashed reads the page again and its mail, with the same ids, is not added twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson

from domain.clock import Clock, utc_now
from domain.errors import StoredEventsUnreadable
from projections.decoding import TRANSCODED, LeanDecoder
from workflows.alerts import ALERT_TOPICS, RECEIPT_KINDS, Alert, AlertFacts, AlertRule, OutgoingMail, mails_for
from workflows.store import IncidentStore

ROUTER = "alerts"  # the router's name in the outbox (one log, one router)

RulesFor = Callable[[str], Sequence[AlertRule]]
FactsFor = Callable[[str], AlertFacts]
ReceiptTo = Callable[[str], str | None]


class MailOutbox(Protocol):
    """Where routed mail goes, with the router's position (``adapters.persistence.mail_outbox``)."""

    def position(self, router: str) -> int: ...

    def route(self, router: str, mails: Sequence[OutgoingMail], expected: int, position: int, at: datetime) -> bool:
        """Add the mails and move the position from ``expected``, unless another router moved it first."""


def _value(value: Any) -> Any:
    """A transcoded value (``{"_type_", "_data_"}``) as Python: datetimes, UUIDs."""
    if isinstance(value, dict) and len(value) == 2 and "_type_" in value and "_data_" in value:
        return TRANSCODED[value["_type_"]](value["_data_"])
    return value


def alert_of(topic: str, incident_id: str, version: int, state: Mapping[str, Any]) -> Alert:
    """The alert a stored event is (its topic one of ``ALERT_TOPICS``), from its stored fields."""
    actor = state["actor"]
    return Alert(kind=ALERT_TOPICS[topic], event_id=f"{incident_id}/{version}", incident_id=incident_id,
                 facility=str(actor["facility"]), recorded_at=_value(state["timestamp"]), actor_id=str(actor["user_id"]),
                 clock_key=state.get("key"), clock=state.get("clock"), due=_value(state.get("due")),
                 provisional=bool(state.get("provisional", False)), route=state.get("route"))


class AlertRouter:
    def __init__(self, store: IncidentStore, outbox: MailOutbox, *, rules_for: RulesFor, facts_for: FactsFor,
                 receipt_to: ReceiptTo, link_base: str, clock: Clock = utc_now, batch: int = 500,
                 name: str = ROUTER) -> None:
        self.recorder = store.recorder
        self.decoder = LeanDecoder(store.mapper)
        self.outbox = outbox
        self.rules_for = rules_for
        self.facts_for = facts_for
        self.receipt_to = receipt_to
        self.link_base = link_base
        self.clock = clock
        self.batch = batch
        self.name = name

    def route_new(self) -> int:
        """Route every alert after the position; how many mails were routed (0 if another router got there first)."""
        routed = 0
        while True:
            position = self.outbox.position(self.name)
            last = self.recorder.max_notification_id() or 0
            if last <= position:
                return routed
            alerts, upto = self._page(position, last)
            mails = [mail for alert in alerts for mail in self._mails(alert)]
            if not self.outbox.route(self.name, mails, position, upto, self.clock()):
                return routed  # another router moved the position: it routes these
            routed += len(mails)

    def _page(self, after: int, last: int) -> tuple[list[Alert], int]:
        """The alerts after ``after`` (up to ``batch``), and the position they were read up to."""
        notifications = self.recorder.select_notifications(after, self.batch, stop=last, topics=list(ALERT_TOPICS),
                                                           inclusive_of_start=False)
        alerts = []
        for notification in notifications:
            try:
                state = orjson.loads(self.decoder.plaintext(notification.state))
            except Exception as error:
                raise StoredEventsUnreadable(
                    f"stored event at position {notification.id} cannot be read: NIMRS_CIPHER_KEY is missing or is "
                    "not the key it was written with") from error
            alerts.append(alert_of(notification.topic, str(notification.originator_id),
                                   notification.originator_version, state))
        upto = last if len(notifications) < self.batch else notifications[-1].id  # none skipped beyond the page
        return alerts, upto

    def _mails(self, alert: Alert) -> list[OutgoingMail]:
        rules = [rule for rule in self.rules_for(alert.facility) if alert.kind in rule.on]
        receipt = self.receipt_to(alert.actor_id) if alert.kind in RECEIPT_KINDS else None
        if not rules and receipt is None:
            return []  # nobody to tell: the incident is not even loaded
        facts = self.facts_for(alert.incident_id)
        return mails_for(alert, facts, rules, self.link_base, (receipt,) if receipt else ())
