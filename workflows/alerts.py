"""Alerts by email, decided without I/O: a facility's alert rules, who gets which alert, and the mail they get.

An *alert* is a stored event worth telling people about (a clock due soon or missed, Email OMH, the Report
of Death). A facility's ``AlertRule``s say which alerts go to which addresses; ``mails_for`` turns one alert
into one ``OutgoingMail`` per distinct address. Each mail's ``message_id`` comes from the event's stable id
and the address, so routing the same event again (after a crash) yields the same ids, and the outbox
(``adapters.persistence.mail_outbox``) keeps only the first. The default body carries no patient details:
the JC case number (or the incident id), the clock, the due time in New York time and a link; the program
and summary only when the rule asks for ``details``. Subjects never carry them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from typing_extensions import TypedDict

from domain.deadlines import LOCAL_ZONE
from domain.errors import PermissionDenied, ValidationFailed
from domain.incident import Incident
from domain.vocabulary import Category, Route
from workflows.accounts import Principal
from workflows.email_addresses import is_address

EVENTS_NAMESPACE = uuid5(NAMESPACE_URL, "urn:nimrs:events")  # event ids (``<incident>/<version>``) as UUIDs
MAX_RULES = 100
CLOCK_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class AlertKind(StrEnum):
    CLOCK_DUE_SOON = "clock_due_soon"
    CLOCK_MISSED = "clock_missed"
    EMAILED_TO_OMH = "emailed_to_omh"
    REPORT_OF_DEATH_SUBMITTED = "report_of_death_submitted"


# The stored events that are alerts, by topic.
ALERT_TOPICS: Mapping[str, AlertKind] = {
    "nimrs.Incident.ClockDueSoon": AlertKind.CLOCK_DUE_SOON,
    "nimrs.Incident.ClockMissed": AlertKind.CLOCK_MISSED,
    "nimrs.Incident.EmailedToOmh": AlertKind.EMAILED_TO_OMH,
    "nimrs.Incident.ReportOfDeathSubmitted": AlertKind.REPORT_OF_DEATH_SUBMITTED,
}
# After these, the user who took the step gets a receipt (when an address is known for them).
RECEIPT_KINDS = frozenset({AlertKind.EMAILED_TO_OMH, AlertKind.REPORT_OF_DEATH_SUBMITTED})
CLOCK_KINDS = frozenset({AlertKind.CLOCK_DUE_SOON, AlertKind.CLOCK_MISSED})


@dataclass(frozen=True)
class AlertRule:
    """Who is told of which alerts of a facility. Empty filters match everything."""

    on: tuple[AlertKind, ...]
    to: tuple[str, ...]
    clocks: tuple[str, ...] = ()  # for clock alerts only: these clocks (names)
    categories: tuple[str, ...] = ()  # incident categories (domain.vocabulary.Category)
    routes: tuple[str, ...] = ()  # reporting routes (domain.vocabulary.Route)
    serious_harm_only: bool = False
    details: bool = False  # the program and summary in the body

    def matches(self, alert: Alert, facts: AlertFacts) -> bool:
        route = alert.route or facts.route
        return (alert.kind in self.on
                and (not self.clocks or alert.kind not in CLOCK_KINDS or alert.clock in self.clocks)
                and (not self.categories or facts.category in self.categories)
                and (not self.routes or route in self.routes)
                and (not self.serious_harm_only or facts.serious_harm is True))

    def as_dict(self) -> dict[str, Any]:
        return {"on": [kind.value for kind in self.on], "to": list(self.to), "clocks": list(self.clocks),
                "categories": list(self.categories), "routes": list(self.routes),
                "serious_harm_only": self.serious_harm_only, "details": self.details}


RULE_FIELDS = frozenset(AlertRule.__dataclass_fields__)


def _strings(entry: Mapping[str, Any], name: str, where: str, problems: list[str]) -> tuple[str, ...]:
    value = entry.get(name, [])
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        problems.append(f"{where}: {name} must be a list of text")
        return ()
    return tuple(dict.fromkeys(item.strip() for item in value))


def _flag(entry: Mapping[str, Any], name: str, where: str, problems: list[str]) -> bool:
    value = entry.get(name, False)
    if not isinstance(value, bool):
        problems.append(f"{where}: {name} must be true or false")
        return False
    return value


def _rule(entry: Any, where: str, problems: list[str]) -> AlertRule | None:
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: must be an object")
        return None
    before = len(problems)
    unknown = sorted(set(entry) - RULE_FIELDS)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(map(str, unknown))}")
    on = _strings(entry, "on", where, problems)
    kinds = [kind for kind in on if kind in AlertKind.__members__.values()]
    if not on:
        problems.append(f"{where}: on must name at least one of {', '.join(AlertKind)}")
    for kind in on:
        if kind not in kinds:
            problems.append(f"{where}: on: {kind!r} is not one of {', '.join(AlertKind)}")
    to = tuple(dict.fromkeys(address.lower() for address in _strings(entry, "to", where, problems)))
    if not to:
        problems.append(f"{where}: to must list at least one email address")
    for address in to:
        if not is_address(address):
            problems.append(f"{where}: to: {address!r} is not an email address")
    clocks = _strings(entry, "clocks", where, problems)
    problems.extend(f"{where}: clocks: {clock!r} is not a clock name" for clock in clocks if not CLOCK_NAME.match(clock))
    categories = _strings(entry, "categories", where, problems)
    problems.extend(f"{where}: categories: {category!r} is not one of {', '.join(Category)}"
                    for category in categories if category not in Category.__members__.values())
    routes = _strings(entry, "routes", where, problems)
    problems.extend(f"{where}: routes: {route!r} is not one of {', '.join(Route)}"
                    for route in routes if route not in Route.__members__.values())
    serious, details = _flag(entry, "serious_harm_only", where, problems), _flag(entry, "details", where, problems)
    if len(problems) > before:
        return None
    return AlertRule(tuple(AlertKind(kind) for kind in kinds), to, clocks, categories, routes, serious, details)


def parse_alert_rules(data: Any) -> tuple[AlertRule, ...]:
    """Rules from JSON-like data (a list of objects); ``ValidationFailed`` naming every problem."""
    if not isinstance(data, list | tuple):
        raise ValidationFailed("alert rules must be a list of rules")
    if len(data) > MAX_RULES:
        raise ValidationFailed(f"at most {MAX_RULES} alert rules, got {len(data)}")
    problems: list[str] = []
    rules = [_rule(entry, f"rule {number}", problems) for number, entry in enumerate(data, 1)]
    if problems:
        raise ValidationFailed("the alert rules are not valid", problems=problems)
    return tuple(rule for rule in rules if rule is not None)


@dataclass(frozen=True)
class AlertFacts:
    """What the router knows of the incident; ``summary`` and ``program`` go only where a rule asks for details."""

    incident_id: str
    facility: str
    code: str
    category: str
    route: str | None
    serious_harm: bool | None
    jc_case_number: str | None
    summary: str | None = field(default=None, repr=False)
    program: str | None = field(default=None, repr=False)


def facts_of(incident: Incident) -> AlertFacts:
    """An incident's facts as the alert rules filter on them."""
    serious = incident.details.get("serious_harm")
    return AlertFacts(
        incident_id=str(incident.id), facility=incident.facility, code=incident.code,
        category=incident.rules.entry(incident.code).category.value, route=incident.route,
        serious_harm=serious if isinstance(serious, bool) else None, jc_case_number=incident.jc_case_number,
        summary=incident.summary, program=incident.program)


@dataclass(frozen=True)
class Alert:
    """One stored event that is an alert; ``event_id`` (``<incident id>/<version>``) names it forever."""

    kind: AlertKind
    event_id: str
    incident_id: str
    facility: str
    recorded_at: datetime
    actor_id: str
    clock_key: str | None = None  # the obligation's key (clock alerts)
    clock: str | None = None
    due: datetime | None = None
    provisional: bool = False
    route: str | None = None  # as the event recorded it, where it did

    @property
    def notification_id(self) -> UUID:
        return uuid5(EVENTS_NAMESPACE, self.event_id)


@dataclass(frozen=True)
class OutgoingMail:
    message_id: str  # the same on every routing of the same event to the same address
    facility: str
    to: str
    subject: str
    body: str = field(repr=False)


def local_time(at: datetime) -> str:
    """``Mon 5 Jan 2026, 11:59 pm EST``: as ``adapters.local_time`` writes it (workflows may not import adapters)."""
    local = at.astimezone(LOCAL_ZONE)
    hour = local.hour % 12 or 12
    return f"{local:%a} {local.day} {local:%b} {local.year}, {hour}:{local:%M} {'am' if local.hour < 12 else 'pm'} {local.tzname()}"


def _reference(facts: AlertFacts) -> str:
    return f"JC case {facts.jc_case_number}" if facts.jc_case_number else f"incident {facts.incident_id}"


def _what(alert: Alert, reference: str) -> tuple[str, list[str]]:
    """The subject and the body's first lines: which alert, which incident, which clock, when."""
    if alert.kind in CLOCK_KINDS:
        verb = "is due soon" if alert.kind is AlertKind.CLOCK_DUE_SOON else "was missed"
        subject = f"nimrs: clock {alert.clock} {verb} ({reference})"
        due = local_time(alert.due) if alert.due is not None else "unknown"
        lines = [f"The clock {alert.clock} {verb} for {reference}.", f"Clock: {alert.clock} (key {alert.clock_key})",
                 f"Due: {due}" + (" (provisional: the incident is still a draft)" if alert.provisional else "")]
        return subject, lines
    step = "emailed to OMH" if alert.kind is AlertKind.EMAILED_TO_OMH else "Report of Death submitted"
    subject = f"nimrs: {reference} {step}"
    return subject, [f"{reference[0].upper()}{reference[1:]}: {step}.", f"Recorded: {local_time(alert.recorded_at)}"]


def mail_body(alert: Alert, facts: AlertFacts, link_base: str, details: bool) -> tuple[str, str]:
    """The subject and body of an alert's mail: no patient details unless ``details``."""
    subject, lines = _what(alert, _reference(facts))
    lines.append(f"Incident: {link_base.rstrip('/')}/web/incidents/{facts.incident_id}")
    if details:
        lines += ["", f"Program: {facts.program or ''}", f"Type: {facts.code}", f"Summary: {facts.summary or ''}"]
    else:
        lines += ["", "This message carries no patient details: sign in to nimrs to read the incident."]
    return subject, "\n".join(lines) + "\n"


def mails_for(alert: Alert, facts: AlertFacts, rules: Sequence[AlertRule], link_base: str,
              extra_recipients: Iterable[str] = ()) -> list[OutgoingMail]:
    """One mail per distinct address the matching rules (and ``extra_recipients``, e.g. a receipt) name."""
    wants_details: dict[str, bool] = {}
    for rule in rules:
        if rule.matches(alert, facts):
            for address in rule.to:
                wants_details[address] = wants_details.get(address, False) or rule.details
    for address in extra_recipients:
        if is_address(address):
            wants_details.setdefault(address.lower(), False)
    mails = []
    for address, details in wants_details.items():
        subject, body = mail_body(alert, facts, link_base, details)
        mails.append(OutgoingMail(str(uuid5(alert.notification_id, address)), alert.facility, address, subject, body))
    return mails


def dead_letters_facility(by: Principal) -> str | None:
    """Whose undeliverable alerts ``by`` may list and retry: its facility's (None: every facility's)."""
    if not by.security_admin:
        raise PermissionDenied(f"only a security administrator may manage alert mail; {by.user_id!r} is not one")
    return None if by.actor.state_reviewer else by.actor.facility


PENDING, SENT, DEAD = "pending", "sent", "dead"


@dataclass(frozen=True)
class QueuedMail:
    """A mail due to be sent, as the worker sends it: the body decrypted."""

    mail: OutgoingMail
    attempts: int  # failed attempts so far


class MailRecord(TypedDict):
    """One outbox row as administrators see it: never the body."""

    message_id: str
    facility: str
    to: str
    subject: str
    status: str  # pending, sent or dead
    attempts: int
    created_at: str
    next_attempt_at: str
    last_error: str | None
    sent_at: str | None
    smtp_reply: str | None
