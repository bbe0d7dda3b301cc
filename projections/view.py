"""The parts every read model is built from: the View contract, rows keyed by incident, counters.

A view reads what it needs for a batch of decoded events, works out the new rows in memory,
and returns its writes: each changed row once per batch (set-based), never once per event.
The projector runs the writes of every view with the views' new positions in one short
transaction. Writes are plain ``executemany`` of upserts compiled once per dialect: rebuilds
spend their time in the database, not in per-row statement processing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Table
from sqlalchemy.engine import Connection

from projections.schema import UtcDateTime

CHUNK = 400  # ids per IN (...) list: under every dialect's parameter limit


class Write(NamedTuple):
    sql: str
    params: list[tuple[Any, ...]]


class Logged(NamedTuple):
    position: int  # the notification id in the event log
    key: str  # the incident id, as text
    name: str  # the event's class name, e.g. "DeadlineSet"
    event: Any  # the decoded domain event


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class View(ABC):
    """A read model: its tables, and how a batch of events changes them."""

    name: str
    tables: tuple[Table, ...]

    @abstractmethod
    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        """Read what the events (in log order) change and return the writes that change it."""


def execute(connection: Connection, writes: Iterable[Write]) -> None:
    """The driver's own executemany, inside the connection's transaction (no per-row SQLAlchemy work)."""
    cursor = connection.connection.cursor()
    try:
        for write in writes:
            if write.params:
                cursor.executemany(write.sql, write.params)
    finally:
        cursor.close()


def _sqlite_time_out(value: datetime | None) -> str | None:
    # The text SQLAlchemy's SQLite DateTime reads: sortable, UTC, always with microseconds.
    if value is None:
        return None
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_time_in(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _identity(value: Any) -> Any:
    return value


def placeholder(dialect: str) -> str:
    return "?" if dialect == "sqlite" else "%s"


def q(name: str) -> str:
    """A quoted identifier (both SQLite and PostgreSQL take double quotes)."""
    return f'"{name}"'


class Rows:
    """Raw reads and upserts of one table, compiled per dialect."""

    def __init__(self, table: Table, key: Sequence[str] | None = None) -> None:
        self.table = table
        self.columns = [column.name for column in table.columns]
        self.key = list(key or [column.name for column in table.primary_key.columns])
        self._times = {c.name for c in table.columns if isinstance(c.type, UtcDateTime)}
        self._flags = {c.name for c in table.columns if isinstance(c.type, Boolean)}
        self._sql: dict[tuple[str, str], str] = {}

    def _writers(self, dialect: str) -> list[Callable[[Any], Any]]:
        sqlite = dialect == "sqlite"
        return [_sqlite_time_out if sqlite and name in self._times else _identity for name in self.columns]

    def _readers(self, dialect: str) -> list[Callable[[Any], Any]]:
        sqlite = dialect == "sqlite"
        return [_sqlite_time_in if sqlite and name in self._times else bool if name in self._flags else _identity
                for name in self.columns]

    def upsert(self, dialect: str, rows: Iterable[dict[str, Any]], *, insert_only: bool = False) -> Write:
        """Insert rows, replacing those with the same key (SQLite >= 3.24 and PostgreSQL share the syntax)."""
        sql_key = (dialect, "insert" if insert_only else "upsert")
        if sql_key not in self._sql:
            mark = placeholder(dialect)
            sql = (f"INSERT INTO {q(self.table.name)} ({', '.join(map(q, self.columns))}) "
                   f"VALUES ({', '.join(mark for _ in self.columns)})")
            others = [name for name in self.columns if name not in self.key]
            if not insert_only:
                sql += (f" ON CONFLICT ({', '.join(map(q, self.key))}) DO UPDATE SET "
                        + ", ".join(f"{q(name)} = excluded.{q(name)}" for name in others))
            self._sql[sql_key] = sql
        return Write(self._sql[sql_key], self._params(dialect, rows))

    def _params(self, dialect: str, rows: Iterable[dict[str, Any]]) -> list[Any]:
        """Rows as parameter tuples, converting only the columns that need it (this loop is hot)."""
        get = itemgetter(*self.columns)
        converting = [(i, w) for i, w in enumerate(self._writers(dialect)) if w is not _identity]
        if not converting:
            return [get(row) for row in rows]
        params = []
        for row in rows:
            values = list(get(row))
            for index, write in converting:
                values[index] = write(values[index])
            params.append(tuple(values))
        return params

    def load(self, connection: Connection, ids: Iterable[str], by: str = "incident_id") -> dict[str, list[dict[str, Any]]]:
        """Rows whose ``by`` column is one of ``ids``, grouped by it."""
        found: dict[str, list[dict[str, Any]]] = {}
        dialect = connection.dialect.name
        mark, readers, names = placeholder(dialect), self._readers(dialect), self.columns
        position = names.index(by)
        for chunk in chunks(sorted(ids)):
            sql = (f"SELECT {', '.join(map(q, names))} FROM {q(self.table.name)} "
                   f"WHERE {q(by)} IN ({', '.join(mark for _ in chunk)})")
            for row in connection.exec_driver_sql(sql, tuple(chunk)).fetchall():
                found.setdefault(row[position], []).append(
                    {name: read(value) for name, read, value in zip(names, readers, row, strict=True)})
        return found


class Counters:
    """Counts kept by the projection, keyed by some columns; a count that reaches zero is removed.

    Removing zeros keeps a view applied batch by batch identical to a fresh rebuild, whose
    batches may net a key to zero without ever writing it.
    """

    def __init__(self, table: Table, keys: Sequence[str], count: str = "count") -> None:
        self.table, self.keys, self.count = table, tuple(keys), count
        self.rows = Rows(table, keys)
        self._sql: dict[str, tuple[str, str]] = {}

    def writes(self, dialect: str, deltas: dict[tuple[Any, ...], int]) -> list[Write]:
        changed = [(key, delta) for key, delta in deltas.items() if delta]
        if not changed:
            return []
        if dialect not in self._sql:
            mark = placeholder(dialect)
            columns = (*self.keys, self.count)
            table, count = q(self.table.name), q(self.count)
            bump = (f"INSERT INTO {table} ({', '.join(map(q, columns))}) VALUES ({', '.join(mark for _ in columns)}) "
                    f"ON CONFLICT ({', '.join(map(q, self.keys))}) DO UPDATE SET {count} = "
                    f"{table}.{count} + excluded.{count}")
            drop = (f"DELETE FROM {table} WHERE "
                    + " AND ".join(f"{q(k)} = {mark}" for k in self.keys) + f" AND {count} = 0")
            self._sql[dialect] = (bump, drop)
        bump, drop = self._sql[dialect]
        writers = dict(zip(self.rows.columns, self.rows._writers(dialect), strict=True))
        write = [writers[k] for k in self.keys]

        def bound(key: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(w(v) for w, v in zip(write, key, strict=True))

        return [Write(bump, [(*bound(key), delta) for key, delta in changed]),
                Write(drop, [bound(key) for key, delta in changed if delta < 0])]


def add(deltas: dict[tuple[Any, ...], int], key: tuple[Any, ...], delta: int) -> None:
    deltas[key] = deltas.get(key, 0) + delta
