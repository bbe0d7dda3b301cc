"""A rebuild's reader of the event log: the rows the library's ``select_notifications`` reads, without its objects.

The library makes a ``Notification`` and a ``UUID`` of every row, which costs a rebuild process as much as reading
it; a rebuild reads the whole log once per process. This reader runs the same query on the library's own
connections and table (``events_table_name``) and hands the projector plain rows (``Entry``), the incident id as
text. ``tests/projections/test_rebuild_load.py`` checks it reads what the library reads.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row

Read = Callable[[int, int], Sequence["Entry"]]


class Entry(NamedTuple):
    """One row of the log, as the projector and ``LeanDecoder`` read a notification."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


def _entries(rows: list[tuple[Any, ...]]) -> list[Entry]:
    return list(map(tuple.__new__, repeat(Entry), rows))  # Entry._make, without a Python call per row


def log_reader(recorder: Any) -> Read | None:
    """Entries after a position, at most ``limit`` of them; None for a recorder of another kind (read it the
    library's way)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _sqlite(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        return _postgres(recorder)
    return None


def _sqlite(recorder: SQLiteApplicationRecorder) -> Read:
    sql = (f"SELECT rowid, originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
           "WHERE rowid > ? ORDER BY rowid LIMIT ?")

    def read(after: int, limit: int) -> list[Entry]:
        with recorder.datastore.transaction(commit=False) as transaction:
            cursor = transaction.sqlite_cursor
            cursor.row_factory = None  # plain tuples, not the library's sqlite3.Row
            cursor.execute(sql, (after, limit))
            return _entries(cursor.fetchall())

    return read


def _postgres(recorder: PostgresApplicationRecorder) -> Read:
    table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
    sql = (f"SELECT notification_id, originator_id::text, originator_version, topic, state FROM {table} "
           "WHERE notification_id > %s ORDER BY notification_id LIMIT %s")

    def read(after: int, limit: int) -> list[Entry]:
        with recorder.datastore.get_connection() as connection, connection.cursor(row_factory=tuple_row) as cursor:
            cursor.execute(sql, (after, limit), prepare=True)
            return _entries(cursor.fetchall())

    return read
