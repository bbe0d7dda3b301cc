"""The incident page's obligations and notification ledger as a person reads them: each obligation's title,
citation and status in words (met on time, met late, waived with its reason, overdue N days, due soon), and the
ledger's people, notifications and requests with names instead of ids.

Only presentation: what may be done is still decided by the lifecycle and the user's level (the screen's
``allowed_actions``), and every step is refused again by the use case if the page was wrong or out of date.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from adapters.http.pages.details_form import Choice
from domain.actor import Actor
from domain.lifecycle import Step
from domain.obligations.clocks import RequestKind, obligation_key
from domain.obligations.ledger import JUSTICE_CENTER, Method, Outcome, RecipientRole, SentToJcWhat
from domain.obligations.sets import ALL_CLOCK_NAMES, OBLIGATION_SETS, obligation_rules
from workflows.screens import IncidentScreen


def _first_titles() -> dict[str, str]:
    """Each clock's name as lists and the board show it: its title in the first released set that defines it."""
    titles: dict[str, str] = {}
    for rules in OBLIGATION_SETS.values():
        for clock in rules.clocks:
            titles.setdefault(clock.name, clock.title)
    return {name: titles[name] for name in ALL_CLOCK_NAMES}


CLOCK_TITLES = _first_titles()

ROLES: dict[str, str] = {RecipientRole.QUALIFIED_PERSON: "Qualified person", RecipientRole.DIRECTOR: "Director",
         RecipientRole.LAW_ENFORCEMENT: "Law enforcement"}
METHODS: dict[str, str] = {Method.PHONE: "Phone", Method.LETTER: "Letter", Method.EMAIL: "Email", Method.IN_PERSON: "In person"}
OUTCOMES: dict[str, str] = {Outcome.REACHED: "Reached", Outcome.MESSAGE_LEFT: "Message left", Outcome.REFUSED: "Refused",
            Outcome.NOT_REACHED: "Not reached"}
REQUEST_KINDS: dict[str, str] = {RequestKind.INCIDENT_REPORT_COPY: "Copy of the incident report",
                 RequestKind.INVESTIGATION_RECORDS: "Investigation records",
                 RequestKind.JC_INFORMATION: "Additional information (from the JC)"}
SENT_TO_JC: dict[str, str] = {SentToJcWhat.AUTOPSY_REPORT: "Autopsy report", SentToJcWhat.ADDITIONAL_INFORMATION: "Additional information"}
# The forms' pick lists, in the words above.
LEDGER_CHOICES = {name: [Choice(str(value), label) for value, label in words.items()]
                  for name, words in (("role", ROLES), ("method", METHODS), ("outcome", OUTCOMES),
                                      ("kind", REQUEST_KINDS), ("what", SENT_TO_JC))}


def clock_title(name: str) -> str:
    """``qualified_person_notice`` → "Notice to the qualified person (Jonathan's Law)"; an unknown name as words."""
    return CLOCK_TITLES.get(name, name.replace("_", " "))


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class ObligationRow:
    key: str
    title: str
    citation: str
    due: str  # ISO 8601, shown through the pages' ``due`` and ``local_time`` helpers
    met_at: str | None
    status: str  # the CSS class: met_on_time, met_late, waived, overdue, due_soon or open
    words: str
    provisional: bool
    blocks_closing: bool
    may_waive: bool
    may_extend: bool


def status_words(shown: Mapping[str, Any], due_soon: bool) -> tuple[str, str]:
    """The status's class and its words."""
    status = shown["status"]
    if status == "met_on_time":
        return status, "met on time"
    if status == "met_late":
        return status, f"met late, {_plural(shown['days_late'], 'day')} after the due date"
    if status == "waived":
        return status, f"waived: {shown['waived_reason']}"
    if status == "overdue":
        late = shown["days_late"]
        return status, f"overdue {_plural(late, 'day')}" if late else "overdue since earlier today"
    if due_soon:
        return "due_soon", "due soon"
    return "open", "open"


def obligation_rows(screen: IncidentScreen, recorded: Collection[str], actor: Actor, now: datetime) -> list[ObligationRow]:
    """``recorded``: the obligations started on the incident (a charts@1 draft shows ones not yet recorded, which
    cannot be waived or extended)."""
    rules = obligation_rules(screen["obligation_rules"])
    allowed = {str(step) for step in screen["allowed_actions"]}
    rows = []
    for shown in screen["clocks"]:
        clock = rules.clock(shown["clock"])
        due = datetime.fromisoformat(shown["due"])
        soon = clock is not None and due - timedelta(hours=clock.due_soon_hours) <= now <= due
        status, words = status_words(shown, soon)
        still_open = status in ("overdue", "due_soon", "open") and shown["name"] in recorded
        # a provisional clock is extended once Email OMH has fixed it (the domain refuses it before)
        extendable = (clock is not None and clock.extendable_by is not None and actor.level <= clock.extendable_by
                      and not shown["provisional"])
        rows.append(ObligationRow(
            key=shown["name"], title=shown["title"], citation=shown["citation"], due=shown["due"],
            met_at=shown["met_at"], status=status, words=words, provisional=shown["provisional"],
            blocks_closing=shown["blocks_closing"], may_waive=still_open and Step.WAIVE_OBLIGATION.value in allowed,
            may_extend=still_open and extendable and Step.EXTEND_OBLIGATION.value in allowed))
    return rows


@dataclass(frozen=True)
class RequestRow:
    request_id: str
    kind: str
    kind_words: str
    requested_by: str
    received_at: str
    obligation: ObligationRow | None
    released: Mapping[str, Any] | None
    may_release: bool  # a copy of the incident report, not released, and this user may release it


@dataclass(frozen=True)
class Ledger:
    recipients: list[dict[str, Any]]
    notifications: list[dict[str, Any]]
    requests: list[RequestRow]
    sent_to_jc: list[dict[str, Any]]
    wsir_reference: str | None
    names: dict[str, str]  # recipient_id (or justice_center) to the name shown
    qualified_persons: list[tuple[str, str]]  # (recipient_id, name) for the request form
    jc_requests: list[str]  # the JC's requests for information, for the send-to-JC form

    def name_of(self, recipient_id: str) -> str:
        return self.names.get(recipient_id, recipient_id)


def contacts_text(contacts: Mapping[str, str], preferred: Iterable[str]) -> str:
    first = next(iter(preferred), None)
    return "; ".join(f"{METHODS.get(m, m).lower()} {value}{' (preferred)' if m == first else ''}"
                     for m, value in contacts.items())


def _request_rows(screen: IncidentScreen, obligations: list[ObligationRow]) -> list[RequestRow]:
    releases = screen["ledger"]["releases"]
    may_release = Step.RELEASE_RECORDS.value in {str(step) for step in screen["allowed_actions"]}
    by_key = {row.key: row for row in obligations}
    return [RequestRow(
        request_id=r["request_id"], kind=r["kind"], kind_words=REQUEST_KINDS.get(r["kind"], r["kind"]),
        requested_by=r["requested_by"], received_at=r["received_at"],
        obligation=by_key.get(obligation_key(r["kind"], r["request_id"])), released=releases.get(r["request_id"]),
        may_release=(may_release and r["kind"] == RequestKind.INCIDENT_REPORT_COPY and r["request_id"] not in releases))
        for r in screen["ledger"]["requests"]]


def ledger(screen: IncidentScreen, obligations: list[ObligationRow]) -> Ledger:
    shown = screen["ledger"]
    recipients = [{**r, "role_words": ROLES.get(r["role"], r["role"]),
                   "contacts_text": contacts_text(r.get("contacts") or {}, r.get("preferred") or [])}
                  for r in shown["recipients"]]
    names = {JUSTICE_CENTER: "Justice Center", **{r["recipient_id"]: r["name"] for r in recipients}}
    notifications = [{**n, "who": names.get(n["recipient_id"], n["recipient_id"]),
                      "method_words": METHODS.get(n["method"], n["method"]),
                      "outcome_words": OUTCOMES.get(n["outcome"], n["outcome"])} for n in shown["notifications"]]
    requests = _request_rows(screen, obligations)
    return Ledger(recipients=recipients, notifications=notifications, requests=requests, sent_to_jc=shown["sent_to_jc"],
                  wsir_reference=shown["wsir_reference"], names=names,
                  qualified_persons=[(r["recipient_id"], r["name"]) for r in recipients
                                     if r["role"] == RecipientRole.QUALIFIED_PERSON],
                  jc_requests=[r.request_id for r in requests if r.kind == RequestKind.JC_INFORMATION])


def next_identifier(prefix: str, taken: Iterable[str]) -> str:
    """``person-3``: the first of ``prefix-1``, ``prefix-2``, … not yet used on the incident (people and requests
    are named by the page, so nobody has to invent an id)."""
    used = set(taken)
    number = 1
    while f"{prefix}-{number}" in used:
        number += 1
    return f"{prefix}-{number}"
