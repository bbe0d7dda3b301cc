"""The event feed for integrators: stored events as CloudEvents 1.0, in log order.

- ``id`` is ``<incident id>/<version>``: stable across stores, migrations and redeliveries.
- ``type`` is the stored topic and the data's version, e.g. ``nimrs.Incident.Closed.v1``.
- ``subject`` is the incident id; ``position`` (an extension) is the log position, the cursor
  to resume from. Nothing personal is in the envelope: names, details and narratives stay in
  ``data``, which is the event's own fields (``adapters.integrations.event_schemas``: a JSON Schema per
  type, in ``docs/events.md``).

The feed reads the stored JSON straight into the envelope (no domain objects) because it must
serve tens of thousands of events a second; events stored at an older class version are
decoded and upcast first, so ``data`` always has the current schema.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Notification
from eventsourcing.sqlite import SQLiteApplicationRecorder
from typing_extensions import TypedDict

from adapters.integrations.event_schemas import ENVELOPE, SOURCE, TOPIC_OF
from domain.actor import Actor
from domain.clock import Clock, utc_now
from domain.errors import StoredEventsUnreadable, ValidationFailed
from projections.decoding import LeanDecoder, event_class
from workflows.permissions import Action, require_level
from workflows.read_audit import NOT_RECORDED, ReadRecorder, ReadView, reads_of
from workflows.store import IncidentStore

MAX_LIMIT = 5000
SCAN_FACTOR = 20  # a facility's events may be sparse in the shared log: scan up to 20 pages per request


def _plain(value: Any) -> Any:
    """Transcoded values ({"_type_", "_data_"}) as JSON text: datetimes ISO 8601, UUIDs canonical."""
    if isinstance(value, dict):
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            return str(UUID(value["_data_"])) if value["_type_"] == "uuid_hex" else value["_data_"]
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _canonical(uuid_text: str) -> str:
    """The library stores ids on SQLite as 32 hex digits: the canonical 8-4-4-4-12 form, cheaply."""
    h = uuid_text
    if len(h) != 32:
        return str(UUID(h))
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


Row = tuple[int, str, int, str, bytes]


class CloudEvent(TypedDict):
    """One stored event as a CloudEvent 1.0 (structured JSON); ``data`` has the type's schema (docs/events.md)."""

    specversion: str
    id: str  # <incident id>/<version>
    source: str
    type: str  # e.g. nimrs.Incident.Closed.v1
    subject: str  # the incident id
    time: str
    datacontenttype: str
    position: int  # the feed position: resume after it
    data: dict[str, Any]  # the event's own fields and incident_version


@dataclass(frozen=True)
class FeedPage:
    events: list[CloudEvent]
    next: int  # resume with after=next
    has_more: bool


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A stored event decoded once for every reader (the live stream's, the webhooks'), with what they filter on."""

    event: CloudEvent
    topic: str
    facility: str  # the incident's: its events' actors act in its facility

    def shown_to(self, facility: str | None, topics: Collection[str]) -> bool:
        """Whether a reader of ``facility`` (None: every facility) who chose ``topics`` (empty: all) gets it."""
        return (facility is None or self.facility == facility) and (not topics or self.topic in topics)


def topics_of(types: Iterable[str]) -> frozenset[str]:
    """The stored topics that CloudEvents types select (every version of a type selects its topic)."""
    return frozenset(TOPIC_OF[t] for t in types)


def facility_seen_by(actor: Actor) -> str | None:
    """Whose events ``actor`` reads: its facility's, or every facility's (None) for a state reviewer."""
    return None if actor.state_reviewer else actor.facility


class Feed:
    def __init__(self, store: IncidentStore, *, reads: ReadRecorder = NOT_RECORDED, clock: Clock = utc_now) -> None:
        self.reads = reads  # a page's events are their incidents' content: each incident in it is read
        self.clock = clock
        self.recorder = store.recorder
        self.decoder = LeanDecoder(store.mapper)
        self.sqlite_table = getattr(self.recorder, "events_table_name", None) \
            if isinstance(self.recorder, SQLiteApplicationRecorder) else None

    def page(self, actor: Actor, after: int = 0, limit: int = 500, types: Sequence[str] = ()) -> FeedPage:
        """Up to ``limit`` events after the cursor that ``actor`` may read (its facility; every one for a state
        reviewer); each incident with events in the page is recorded as read."""
        page = self._page(actor, after, limit, types)
        self.shown(actor, ((e["subject"], e["data"]["actor"]["facility"]) for e in page.events))
        return page

    def shown(self, actor: Actor, incidents: Iterable[tuple[str, str]]) -> None:
        """Record that ``actor`` was shown events of these (incident id, facility): each incident is read."""
        reads = reads_of(actor, ReadView.FEED, incidents, self.clock())
        if reads:
            self.reads.record(reads)

    def entries(self, after: int, limit: int) -> tuple[list[LogEntry], int]:
        """Up to ``limit`` stored events after the cursor, every facility's and type's, each decoded once, and the
        position of the last one (``after`` if none). Nobody is checked and no read is recorded: the callers show
        each reader its own (``LogEntry.shown_to``) and record that reader's reads (``shown``)."""
        entries = []
        for row in self._select(after, limit, ()):
            event = self.cloud_event(row, None)
            assert event is not None  # no facility asked: every event is returned
            entries.append(LogEntry(event, row[3], event["data"]["actor"]["facility"]))
        return entries, entries[-1].event["position"] if entries else after

    def _page(self, actor: Actor, after: int, limit: int, types: Sequence[str]) -> FeedPage:
        require_level(actor, Action.READ)
        if after < 0:
            raise ValidationFailed(f"after must be a cursor (0 or more), got {after}")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        facility = facility_seen_by(actor)
        topics = sorted(topics_of(types))
        events: list[CloudEvent] = []
        cursor = after
        for _ in range(SCAN_FACTOR):
            notifications = self._select(cursor, limit, topics)
            for notification in notifications:
                cursor = notification[0]
                event = self.cloud_event(notification, facility)
                if event is not None:
                    events.append(event)
                    if len(events) == limit:
                        return FeedPage(events, cursor, True)
            if len(notifications) < limit:
                return FeedPage(events, cursor, False)
        return FeedPage(events, cursor, True)

    def _select(self, after: int, limit: int, topics: Sequence[str]) -> Sequence[Row]:
        """(position, incident id, version, topic, stored state) rows after the cursor, in log order.

        On SQLite the rows are read with one plain query (the library would build a UUID and a
        Notification for each, a third of the feed's time); elsewhere through the library.
        """
        if self.sqlite_table is None:
            return [(n.id, str(n.originator_id), n.originator_version, n.topic, n.state)
                    for n in self.recorder.select_notifications(after, limit, topics=topics, inclusive_of_start=False)]
        statement = f"SELECT rowid, originator_id, originator_version, topic, state FROM {self.sqlite_table} WHERE rowid>? "
        if topics:
            statement += f"AND topic IN ({','.join('?' * len(topics))}) "
        with self.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
            cursor.execute(statement + "ORDER BY rowid LIMIT ?", [after, *topics, limit])
            return [(n, _canonical(i), v, t, d) for n, i, v, t, d in cursor.fetchall()]

    def cloud_event(self, row: Row, facility: str | None) -> CloudEvent | None:
        """The stored event as a CloudEvent, or None if it belongs to another facility than ``facility``."""
        position, subject, version_number, topic, data = row
        try:
            data = self.decoder.plaintext(data)
            state: dict[str, Any] = orjson.loads(data)
        except Exception as error:
            raise StoredEventsUnreadable(
                f"stored event at position {position} cannot be read: NIMRS_CIPHER_KEY is missing or is "
                "not the key it was written with") from error
        if facility is not None and state["actor"]["facility"] != facility:
            return None
        cls = event_class(topic)
        version = getattr(cls, "class_version", 1)
        if state.get("class_version", 1) < version:  # stored at an older schema: upcast through the domain
            event = self.decoder(Notification(id=position, originator_id=UUID(subject),
                                              originator_version=version_number, topic=topic, state=row[4]))
            time = event.timestamp.isoformat()
            body = _jsonable({k: v for k, v in event.__dict__.items() if k not in ENVELOPE})
        else:
            time = state.pop("timestamp")["_data_"]
            for key in ENVELOPE:
                state.pop(key, None)
            body = state
            nested = data.count(b'"_type_"') - 1  # transcoded values other than the timestamp
            for key, value in state.items():
                if nested and type(value) is dict and len(value) == 2 and "_type_" in value:
                    body[key] = _plain(value)
                    nested -= 1
            if nested:  # some sit deeper than the top level: walk everything
                body = _plain(state)
        body["incident_version"] = version_number
        return {
            "specversion": "1.0",
            "id": f"{subject}/{version_number}",
            "source": SOURCE,
            "type": f"{topic}.v{version}",
            "subject": subject,
            "time": time,
            "datacontenttype": "application/json",
            "position": position,
            "data": body,
        }

    def last_position(self) -> int:
        return self.recorder.max_notification_id() or 0
