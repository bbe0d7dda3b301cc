"""The notification ledger's facts, checked: the people owed notice, each notification made, the
requests that start clocks, records released and what was sent to the JC.

Every value is stored in events as plain JSON (text, lists, dicts), so years of stored events decode
without these functions. Names and contacts are protected health information: never logged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from domain.deadlines import require_aware
from domain.errors import ValidationFailed
from domain.moments import require_happened

MAX_FIELD = 500
MAX_NOTE = 4_000
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
JUSTICE_CENTER = "justice_center"  # who a JC request is from


class RecipientRole(StrEnum):
    QUALIFIED_PERSON = "qualified_person"
    DIRECTOR = "director"
    LAW_ENFORCEMENT = "law_enforcement"


class Method(StrEnum):
    PHONE = "phone"
    LETTER = "letter"
    EMAIL = "email"
    IN_PERSON = "in_person"


class Outcome(StrEnum):
    REACHED = "reached"
    MESSAGE_LEFT = "message_left"
    REFUSED = "refused"
    NOT_REACHED = "not_reached"


# What counts as notice given (ADR 0014's open question: whether message_left meets Jonathan's Law).
NOTICE_GIVEN = frozenset({Outcome.REACHED, Outcome.MESSAGE_LEFT})


class SentToJcWhat(StrEnum):
    AUTOPSY_REPORT = "autopsy_report"
    ADDITIONAL_INFORMATION = "additional_information"


def _choice(kind: type[StrEnum], field: str, value: Any) -> str:
    try:
        return kind(value).value
    except ValueError:
        raise ValidationFailed(f"{field} must be one of: {', '.join(kind)}; got {value!r}") from None


def text(field: str, value: Any, limit: int = MAX_FIELD, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise ValidationFailed(f"{field} must be non-empty text")
    if len(value) > limit:
        raise ValidationFailed(f"{field} is longer than {limit} characters")
    return value.strip()


def identifier(field: str, value: Any) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ValidationFailed(f"{field} must be 1-64 letters, digits, dots, dashes or underscores")
    return value


def moment(field: str, value: Any, now: datetime) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(f"{field} must be an ISO 8601 date and time with offset, got {value!r}") from None
    if not isinstance(value, datetime):
        raise ValidationFailed(f"{field} must be an ISO 8601 date and time with offset")
    return require_happened(require_aware(value, field), field, now)


def recipient(data: Mapping[str, Any]) -> dict[str, Any]:
    """A person owed notice: ``{recipient_id, role, name, relationship, client_id, contacts, preferred}``."""
    allowed = {"recipient_id", "role", "name", "relationship", "client_id", "contacts", "preferred"}
    if unknown := sorted(set(data) - allowed):
        raise ValidationFailed(f"unknown recipient fields: {', '.join(unknown)} (fields: {', '.join(sorted(allowed))})")
    contacts = data.get("contacts") or {}
    if not isinstance(contacts, Mapping) or any(m not in Method.__members__.values() for m in contacts):
        raise ValidationFailed(f"contacts must map a method ({', '.join(Method)}) to an address or number")
    preferred = data.get("preferred") or []
    if not isinstance(preferred, list):
        raise ValidationFailed("preferred must be a list of methods")
    return {
        "recipient_id": identifier("recipient_id", data.get("recipient_id")),
        "role": _choice(RecipientRole, "role", data.get("role")),
        "name": text("name", data.get("name")),
        "relationship": text("relationship", data.get("relationship"), required=False),
        "client_id": text("client_id", data.get("client_id"), 64, required=False),
        "contacts": {_choice(Method, "contacts", m): text(f"contacts.{m}", v) for m, v in contacts.items()},
        "preferred": [_choice(Method, "preferred", m) for m in preferred],
    }


def evidence(value: Any) -> dict[str, Any] | None:
    """A file kept as evidence: its SHA-256, size and where it is kept (the file itself is not in the event)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"sha256", "size", "location"}:
        raise ValidationFailed("evidence must be an object with sha256, size and location")
    if not isinstance(value["sha256"], str) or not SHA256.match(value["sha256"]):
        raise ValidationFailed("evidence.sha256 must be 64 lowercase hexadecimal digits")
    if not isinstance(value["size"], int) or isinstance(value["size"], bool) or value["size"] < 0:
        raise ValidationFailed("evidence.size must be a number of bytes")
    return {"sha256": value["sha256"], "size": value["size"], "location": text("evidence.location", value["location"])}


def notification(data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    allowed = {"recipient_id", "notified_at", "method", "outcome", "note", "evidence"}
    if unknown := sorted(set(data) - allowed):
        raise ValidationFailed(f"unknown notification fields: {', '.join(unknown)} (fields: {', '.join(sorted(allowed))})")
    return {
        "recipient_id": identifier("recipient_id", data.get("recipient_id")),
        "notified_at": moment("notified_at", data.get("notified_at"), now),
        "method": _choice(Method, "method", data.get("method")),
        "outcome": _choice(Outcome, "outcome", data.get("outcome")),
        "note": text("note", data.get("note"), MAX_NOTE, required=False),
        "evidence": evidence(data.get("evidence")),
    }
