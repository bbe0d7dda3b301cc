"""The CRUD peer of ``nimrs bench core``: nimrs's workflow step done the way a conventional app does it.

One ORM row per incident (id, facility, state, version, details as JSON, updated_at, updated_by) and
an audit table. Recording a detail on a draft is one transaction: load the row, check the user's
level and facility (nimrs's own permission functions), check the state, validate the field as the
form does (the same ``validate_screen``), save the details with the version bumped under an
optimistic check (SQLAlchemy's ``version_id_col``: ``UPDATE ... WHERE id = ? AND version = ?``) and
insert one audit row per changed field (who, when, field, old and new value). It runs on the event
store's database with the same durability (SQLite: WAL, ``synchronous=FULL``, an explicit ``BEGIN``
as the library issues), a pooled connection and a session per step, nothing slowed on purpose.
That is what a good conventional app pays for the same guarantees (checked, validated, audited,
safe under concurrent edits), so it is the fair peer for nimrs's load-decide-save. The bench alone
creates its ``crud_peer_*`` tables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Uuid
from sqlalchemy.engine import URL, Connection
from sqlalchemy.event import listens_for
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from adapters.persistence.engines import build_engine
from adapters.settings import is_sqlite
from domain.actor import Actor
from domain.details import validate_screen
from domain.errors import Conflict, IncidentNotFound, StaleVersion, TransitionRefused, ValidationFailed
from domain.lifecycle import State, Step
from domain.rules import rule_set
from projections.schema import UtcDateTime
from workflows.permissions import require_incident_facility, require_level


class Base(DeclarativeBase):
    """The peer's own metadata: never part of nimrs's schema or migrations."""


class Incident(Base):
    __tablename__ = "crud_peer_incidents"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    facility: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_by: Mapped[str] = mapped_column(String(128))

    __mapper_args__ = {"version_id_col": version}  # every UPDATE checks and bumps it


class AuditEntry(Base):
    __tablename__ = "crud_peer_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("crud_peer_incidents.id"), index=True)
    changed_by: Mapped[str] = mapped_column(String(128))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON)


EDITABLE = frozenset({State.DRAFT.value})  # where nimrs's workflow allows recording details


class CrudPeer:
    """The conventional app's side of the comparison, on the database at ``url``."""

    def __init__(self, url: URL, clock: Callable[[], datetime]) -> None:
        self.engine = build_engine(url)
        if is_sqlite(url):
            listens_for(self.engine, "connect")(_like_the_event_store)
            listens_for(self.engine, "begin")(_begin)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.clock = clock

    def create_tables(self) -> None:
        Base.metadata.create_all(self.engine)

    def add(self, incidents: Iterable[Incident]) -> None:
        with self.sessions.begin() as session:
            session.add_all(incidents)

    def record_details(self, actor: Actor, incident_id: uuid.UUID, screen: str, fields: dict[str, Any],
                       expected_version: int | None = None) -> Incident:
        """Load, check, validate, update with the version checked and bumped, audit: one transaction."""
        require_level(actor, Step.RECORD_DETAILS)
        now = self.clock()
        try:
            with self.sessions.begin() as session:
                incident = session.get(Incident, incident_id)
                if incident is None:
                    raise IncidentNotFound(incident_id)
                require_incident_facility(actor, incident_id, incident.facility)
                if expected_version is not None and incident.version != expected_version:
                    raise StaleVersion(f"incident {incident_id} is at version {incident.version}, "
                                       f"not {expected_version}; reload it and try again")
                if incident.state not in EDITABLE:
                    raise TransitionRefused(f"cannot record details on an incident in state {incident.state!r}")
                clean = validate_screen(screen, fields, rule_set(), now)
                changed = {name: value for name, value in clean.items() if incident.details.get(name) != value}
                if not changed:
                    raise ValidationFailed(f"nothing to record: screen {screen!r} already holds these values")
                session.add_all(AuditEntry(incident_id=incident_id, changed_by=actor.user_id, changed_at=now,
                                           field=name, old_value=incident.details.get(name), new_value=value)
                                for name, value in changed.items())
                incident.details = {**incident.details, **changed}
                incident.updated_at, incident.updated_by = now, actor.user_id
        except StaleDataError:
            raise Conflict("the incident was changed by someone else at the same time; reload it and try again") from None
        return incident

    def close(self) -> None:
        self.engine.dispose()


def _like_the_event_store(connection: Any, _record: Any) -> None:
    """The eventsourcing library's SQLite connection: autocommit with explicit BEGIN, WAL, full sync."""
    connection.isolation_level = None  # pysqlite would otherwise begin only at the first write, after the read
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


def _begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")
