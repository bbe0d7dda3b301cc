"""The details recorded on each NIMRS screen, their validation, and what Email OMH requires.

Details are stored in events as plain JSON values (strings, numbers, booleans, lists, dicts)
so that years of stored events decode without the classes that wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.deadlines import require_aware
from domain.errors import ValidationFailed
from domain.moments import require_happened
from domain.severity import SERIOUS_HARM_BASES, check_rating
from domain.taxonomy import RuleSet
from domain.vocabulary import MAX_AGE

MAX_TEXT = 20_000



@dataclass(frozen=True)
class Checking:
    """What a field's check may need besides its value: the incident's rule set, and the time now."""

    rules: RuleSet
    now: datetime


Checker = Callable[[str, Any, Checking], Any]


def text(field: str, value: Any, _checking: Checking) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{field} must be non-empty text")
    if len(value) > MAX_TEXT:
        raise ValidationFailed(f"{field} is longer than {MAX_TEXT} characters")
    return value.strip()


def flag(field: str, value: Any, _checking: Checking) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailed(f"{field} must be true or false, got {value!r}")
    return value


def moment(field: str, value: Any, checking: Checking) -> str:
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed(f"{field} must be an ISO 8601 date and time with offset, got {value!r}")
    return require_happened(require_aware(parsed, field), field, checking.now).isoformat()


def rating(field: str, value: Any, _checking: Checking) -> int:
    return check_rating(field.removesuffix("_rating"), value)


def code(field: str, value: Any, checking: Checking) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(f"{field} must be a taxonomy code, got {value!r}")
    checking.rules.entry(value)  # raises ValidationFailed naming the code and rule set
    return value


def basis(field: str, value: Any, _checking: Checking) -> str:
    if value not in SERIOUS_HARM_BASES:
        raise ValidationFailed(f"{field} must be one of {', '.join(SERIOUS_HARM_BASES)}, got {value!r}")
    return str(value)


def names(field: str, value: Any, checking: Checking) -> list[str]:
    if not isinstance(value, list):
        raise ValidationFailed(f"{field} must be a list (empty if none)")
    return [text(f"{field}[{i}]", item, checking) for i, item in enumerate(value)]


def clients(field: str, value: Any, checking: Checking) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValidationFailed(f"{field} must list at least one client with client_id and age")
    result = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - {"client_id", "age", "role"}:
            raise ValidationFailed(f"{field}[{i}] must be an object with client_id, age and optional role")
        age = item.get("age")
        if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= MAX_AGE:
            raise ValidationFailed(f"{field}[{i}].age must be a whole number from 0 to {MAX_AGE}, got {age!r}")
        client = {"client_id": text(f"{field}[{i}].client_id", item.get("client_id"), checking), "age": age}
        if "role" in item:
            client["role"] = text(f"{field}[{i}].role", item["role"], checking)
        result.append(client)
    return result


def notifications(field: str, value: Any, checking: Checking) -> list[dict[str, str]]:
    if not isinstance(value, list):
        raise ValidationFailed(f"{field} must be a list (empty if none)")
    result = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"party", "notified_at"}:
            raise ValidationFailed(f"{field}[{i}] must be an object with party and notified_at")
        result.append({
            "party": text(f"{field}[{i}].party", item["party"], checking),
            "notified_at": moment(f"{field}[{i}].notified_at", item["notified_at"], checking),
        })
    return result


SCREENS: Mapping[str, Mapping[str, Checker]] = {
    "incident": {"occurred_at": moment, "discovered_at": moment, "location": text, "on_premises_or_supervised": flag,
                 "code": code},
    "clients": {"clients": clients},
    "staff": {"staff_involved": names, "witnesses": names},
    "narrative": {"narrative": text, "immediate_actions": text},
    "notifications": {"notifications_made": notifications},
    "severity": {"harm_rating": rating, "risk_rating": rating, "serious_harm": flag, "serious_harm_basis": basis},
}
# discovered_at is needed only where a clock starts at discovery (the lifecycle asks for it then).
OPTIONAL = ("serious_harm_basis", "discovered_at")
REQUIRED = tuple(name for fields in SCREENS.values() for name in fields if name not in OPTIONAL)


def validate_screen(screen: str, fields: Mapping[str, Any], rules: RuleSet, now: datetime) -> dict[str, Any]:
    """Check one screen's fields (times against ``now``: ``domain.moments``); every problem is listed in one error."""
    checking = Checking(rules, now)
    if screen not in SCREENS:
        raise ValidationFailed(f"unknown screen {screen!r}; expected one of: {', '.join(SCREENS)}")
    if not isinstance(fields, Mapping) or not fields:
        raise ValidationFailed(f"screen {screen!r} needs at least one field: {', '.join(SCREENS[screen])}")
    checkers = SCREENS[screen]
    problems: list[str] = []
    clean: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in checkers:
            problems.append(f"{name} is not a field of screen {screen!r} (fields: {', '.join(checkers)})")
            continue
        try:
            clean[name] = checkers[name](name, value, checking)
        except ValidationFailed as error:
            problems.append(error.message)
    if problems:
        raise ValidationFailed(f"screen {screen!r} has invalid fields", problems=problems)
    return clean


def missing_for_submission(details: Mapping[str, Any]) -> list[str]:
    missing = [name for name in REQUIRED if name not in details]
    if details.get("serious_harm") and "serious_harm_basis" not in details:
        missing.append("serious_harm_basis (required when serious_harm is true)")
    return missing


def youngest_age(details: Mapping[str, Any]) -> int | None:
    ages = [c["age"] for c in details.get("clients", [])]
    return min(ages) if ages else None
