"""The NIMRS details screens as HTML forms: what each field looks like, and the form's values as the domain's JSON.

The domain checks the values (``domain.details.validate_screen``); this module only turns form text into the
JSON shapes the screens take (New York local times into ISO 8601 with offset, yes/no into booleans, one name
per line into lists, numbered rows into lists of objects), and attaches each of the domain's messages to the
field it names, so a form shows them inline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import severity
from domain.deadlines import LOCAL_ZONE
from domain.details import SCREENS
from domain.reportability import label
from domain.taxonomy import RuleSet

ROWS = 3  # numbered rows offered for clients and notifications; more can be recorded through the API
SCREEN_TITLES = {"incident": "Incident", "clients": "Clients", "staff": "Staff and witnesses",
                 "narrative": "Narrative", "notifications": "Notifications", "severity": "Severity"}
FIELD_LABELS = {
    "occurred_at": "When it occurred (New York time)",
    "discovered_at": "When it was discovered (New York time; Part 524's 24 hours to the JC run from it)",
    "location": "Location",
    "on_premises_or_supervised": "On premises or under the provider's supervision", "code": "Incident type",
    "clients": "Clients involved", "staff_involved": "Staff involved (one per line)",
    "witnesses": "Witnesses (one per line)", "narrative": "What happened", "immediate_actions": "Immediate actions taken",
    "notifications_made": "Notifications made", "harm_rating": "Harm rating", "risk_rating": "Risk rating",
    "serious_harm": "Serious injury or harm", "serious_harm_basis": "Basis for serious harm",
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


def code_choices(rules: RuleSet) -> list[Choice]:
    return [Choice(entry.code, f"{label(entry)} ({entry.code})") for entry in rules.entries]


def rating_choices(factor: str) -> list[Choice]:
    ratings = severity.HARM_RATINGS if factor == "harm" else severity.RISK_RATINGS
    return [Choice(str(r.value), f"{r.value} - {r.label}") for r in ratings]


def rating_help(factor: str) -> list[tuple[str, tuple[str, ...]]]:
    ratings = severity.HARM_RATINGS if factor == "harm" else severity.RISK_RATINGS
    return [(f"{r.value} - {r.label}", r.descriptors) for r in ratings]


BASIS_CHOICES = [Choice(key, text) for key, text in severity.SERIOUS_HARM_BASES.items()]


def local_input(value: str | None) -> str:
    """An ISO 8601 time as a ``datetime-local`` input shows it: New York wall time, to the minute."""
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")


def _moment(text: str) -> str:
    """A ``datetime-local`` value is New York wall time; anything else goes to the domain as typed, to be refused."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_ZONE)).isoformat()


def _yes_no(text: str) -> bool | str:
    return {"yes": True, "no": False}.get(text, text)


def _whole(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text


def fields_from_form(screen: str, form: Mapping[str, str]) -> dict[str, Any]:
    """The screen's fields the user filled in (an empty input is left out, so it does not overwrite)."""
    value = {name: str(form.get(name, "")).strip() for name in form}
    fields: dict[str, Any] = {}
    if screen == "incident":
        for name in ("occurred_at", "discovered_at"):
            if value.get(name):
                fields[name] = _moment(value[name])
        for name in ("location", "code"):
            if value.get(name):
                fields[name] = value[name]
        if value.get("on_premises_or_supervised"):
            fields["on_premises_or_supervised"] = _yes_no(value["on_premises_or_supervised"])
    elif screen == "clients":
        clients = []
        for row in range(1, ROWS + 1):
            client_id, age, role = (value.get(f"{part}_{row}", "") for part in ("client_id", "age", "role"))
            if client_id or age or role:
                client: dict[str, Any] = {"client_id": client_id, "age": _whole(age)}
                if role:
                    client["role"] = role
                clients.append(client)
        fields["clients"] = clients
    elif screen == "staff":
        for name in ("staff_involved", "witnesses"):
            fields[name] = [line.strip() for line in str(form.get(name, "")).splitlines() if line.strip()]
    elif screen == "narrative":
        for name in ("narrative", "immediate_actions"):
            if value.get(name):
                fields[name] = value[name]
    elif screen == "notifications":
        made = []
        for row in range(1, ROWS + 1):
            party, at = value.get(f"party_{row}", ""), value.get(f"notified_at_{row}", "")
            if party or at:
                made.append({"party": party, "notified_at": _moment(at) if at else at})
        fields["notifications_made"] = made
    elif screen == "severity":
        for name in ("harm_rating", "risk_rating"):
            if value.get(name):
                fields[name] = _whole(value[name])
        if value.get("serious_harm"):
            fields["serious_harm"] = _yes_no(value["serious_harm"])
        if value.get("serious_harm_basis"):
            fields["serious_harm_basis"] = value["serious_harm_basis"]
    return fields


def errors_by_field(screen: str, problems: list[str]) -> dict[str, list[str]]:
    """Each of the domain's messages under the field it begins with (``clients[0].age must ...`` → clients)."""
    names = sorted(SCREENS.get(screen, {}), key=len, reverse=True)
    placed: dict[str, list[str]] = {}
    for problem in problems:
        field = next((n for n in names if problem.startswith((n + " ", n + "[", n + ":"))), "")
        placed.setdefault(field, []).append(problem)
    return placed
