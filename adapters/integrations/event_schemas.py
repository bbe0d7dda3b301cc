"""The CloudEvents types of the feed and webhooks, and the JSON Schema of each type's ``data`` (docs/events.md).

A type is the stored topic and the data's version, e.g. ``nimrs.Incident.Closed.v2``. Every earlier
version stays a known type: it selects the same topic's events (delivered at the current version, as
stored events are upcast), so subscriptions made before a version bump keep working.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime
from typing import Any

from domain.errors import ValidationFailed
from domain.incident import Incident

SOURCE = "/nimrs/incidents"
ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic", "class_version")


def event_kinds() -> dict[str, type]:
    """Every incident event class by its CloudEvents types, the current version's and every earlier one's."""
    kinds = {}
    for name in dir(Incident):
        cls = getattr(Incident, name)
        if isinstance(cls, type) and issubclass(cls, Incident.Event) and name not in ("Event", "Created"):
            for version in range(1, getattr(cls, "class_version", 1) + 1):
                kinds[f"{cls.TOPIC}.v{version}"] = cls
    return kinds


class _Probe(dict[str, Any]):
    """A stored event's state that has every field: an upcast reads or removes what it likes, and what is left
    is what it added."""

    def __missing__(self, key: str) -> None:
        return None

    def pop(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().pop(key, default)


def _added_since(cls: type, version: int) -> set[str]:
    """The fields the upcasts from ``version`` to the current one add (DeadlineSet v2 also renamed ``days``)."""
    state = _Probe()
    for older in range(version, getattr(cls, "class_version", 1)):
        getattr(cls, f"upcast_v{older}_v{older + 1}")(state)
    return set(state)


KINDS = event_kinds()
TOPIC_OF: dict[str, str] = {kind: getattr(cls, "TOPIC") for kind, cls in KINDS.items()}  # noqa: B009


def parse_types(types: str | None) -> tuple[str, ...]:
    if not types:
        return ()
    chosen = tuple(t.strip() for t in types.split(",") if t.strip())
    unknown = [t for t in chosen if t not in TOPIC_OF]
    if unknown:
        raise ValidationFailed(f"unknown event type(s): {', '.join(unknown)}",
                               problems=[f"known types: {', '.join(sorted(TOPIC_OF))}"])
    return chosen


ACTOR_SCHEMA = {
    "type": "object", "description": "Who did it: the user, their facility and security group (Level 1-3)",
    "properties": {"user_id": {"type": "string"}, "facility": {"type": "string"},
                   "level": {"type": "integer", "enum": [1, 2, 3]}},
    "required": ["user_id", "facility", "level"], "additionalProperties": False,
}


def _field_schema(name: str, annotation: Any) -> dict[str, Any]:
    if name == "actor":
        return ACTOR_SCHEMA
    if annotation is datetime:
        return {"type": "string", "format": "date-time"}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "integer"}
    if annotation is str:
        return {"type": "string"}
    if typing.get_origin(annotation) is list:
        return {"type": "array", "items": {"type": "object"}}  # e.g. the obligations an incident starts with
    return {"type": "object"}  # screen fields: see docs/rules.md for each screen's names


def data_schema(kind: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of a CloudEvents type's ``data``."""
    cls = KINDS[kind]
    hints = typing.get_type_hints(cls, localns={"Incident": Incident})
    added = _added_since(cls, int(kind.rsplit(".v", 1)[1]))
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in ENVELOPE and f.name not in added]
    properties = {name: _field_schema(name, hints.get(name)) for name in fields}
    properties["incident_version"] = {"type": "integer", "minimum": 1,
                                      "description": "The event's position in the incident's history"}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"urn:nimrs:event-data:{kind}",
            "title": kind, "type": "object", "properties": properties, "required": sorted(properties),
            "additionalProperties": False}
