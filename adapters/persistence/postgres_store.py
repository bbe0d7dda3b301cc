"""The event store on PostgreSQL: the library's persistence, its saves grouped, with the connection parameters of
the URL's query (``sslmode``, ``sslrootcert``, ``application_name``...) passed to every connection of its pool (the
library itself has no setting for them). Imported by name from ``adapters.persistence.event_store`` only when a
PostgreSQL store is opened."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl

import psycopg
from eventsourcing import postgres
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import Environment

from adapters.persistence.event_store import CONNECT_OPTIONS
from adapters.persistence.group_commit import GroupCommit, Outcome, keeps_library_path


class GroupCommitPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, its inserts grouped: one table lock, one NOTIFY and one commit per round."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_commit = GroupCommit(super().insert_events, self._write_apart)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if keeps_library_path(stored_events, kwargs):
            return super().insert_events(stored_events, **kwargs)
        return self.group_commit.submit(stored_events)

    def _write_apart(self, saves: list[list[StoredEvent]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with self.datastore.get_connection() as connection, connection.transaction(), connection.cursor() as cursor:
            self._lock_table(cursor)
            self._notify_channel(cursor)
            for events in saves:
                try:
                    with connection.transaction():  # a savepoint: a version taken fails this save alone
                        PostgresAggregateRecorder._insert_stored_events(self, cursor, events)
                        outcomes.append([row["notification_id"] for row in cursor.fetchall()])
                except psycopg.IntegrityError as error:
                    outcomes.append(IntegrityError(str(error)))
        return outcomes


class PostgresFactory(postgres.PostgresFactory):
    """The library's PostgreSQL persistence, its saves grouped, with the connection parameters of the URL's query
    added."""

    application_recorder_class = GroupCommitPostgresRecorder

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        options = dict(parse_qsl(env.get(CONNECT_OPTIONS) or ""))
        pool_kwargs = self.datastore.pool.kwargs
        if options and isinstance(pool_kwargs, dict):  # the pool is not open yet: no connection was made
            pool_kwargs.update(options)
