"""The read audit: who read each incident's content, when, and through which view.

Every use case that returns an incident's content (show, history, as of, changes, the audit trail,
the event feed) tells a ``ReadRecorder`` once the read has succeeded; a refused or not-found read is
the security log's business, not this one's. The recorder is an adapter
(``adapters.persistence.read_audit``) that buffers reads and writes them in batches, off the request.

Who may see the record, and how they ask: ``workflows.readers``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from typing_extensions import TypedDict  # pydantic documents these in OpenAPI; typing's needs Python 3.12

from domain.actor import Actor


class ReadView(StrEnum):
    """What the reader was shown (stored in the record: never rename a value)."""

    SHOW = "show"  # the incident: state, details, clocks
    HISTORY = "history"  # every event (and `nimrs audit history`)
    AS_OF = "as_of"  # the incident as it stood at a time or version
    CHANGES = "changes"  # what changed between two points
    AUDIT_TRAIL = "audit_trail"  # rows of the audit trail across incidents
    FEED = "feed"  # a page of the event feed (or the live stream) holding its events


class ReadRecord(TypedDict):
    """One recorded read as JSON shows it (``at`` in ISO 8601, UTC)."""

    at: str
    user_id: str  # who read
    level: int  # their level then
    facility: str  # their facility
    incident_id: str
    incident_facility: str
    view: str  # show, history, as_of, changes, audit_trail or feed
    channel: str  # http (a signed-in user) or cli (whoever `--as` named)


@dataclass(frozen=True)
class Read:
    """One recorded read: who (user, level, facility), which incident (and its facility), what, when, how."""

    at: datetime
    user_id: str
    level: int
    facility: str
    incident_id: str
    incident_facility: str
    view: str
    channel: str = ""  # "http" or "cli": on the command line, "who" is whoever `--as` names

    def as_dict(self) -> ReadRecord:
        return {"at": self.at.isoformat(), "user_id": self.user_id, "level": self.level, "facility": self.facility,
                "incident_id": self.incident_id, "incident_facility": self.incident_facility, "view": self.view,
                "channel": self.channel}


class ReadRecorder(Protocol):
    """Where successful reads go; recording must be cheap (the reader is waiting)."""

    def record(self, reads: Sequence[Read]) -> None: ...


class NotRecorded:
    """For use cases built without a recorder (unit tests, benchmarks' set-up): reads go nowhere."""

    def record(self, reads: Sequence[Read]) -> None:
        pass


NOT_RECORDED = NotRecorded()


def reads_of(actor: Actor, view: ReadView, incidents: Iterable[tuple[str, str]], at: datetime) -> list[Read]:
    """One ``Read`` per (incident id, incident facility), each incident once."""
    seen = dict(incidents)
    return [Read(at, actor.user_id, int(actor.level), actor.facility, incident_id, facility, view.value)
            for incident_id, facility in seen.items()]
