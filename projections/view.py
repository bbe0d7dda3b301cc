"""The parts every read model is built from: the View contract, rows keyed by incident, counters.

A view reads what it needs for a batch of decoded events, works out the new rows in memory,
and returns its writes: each changed row once per batch (set-based), never once per event.
The projector runs the writes of every view with the views' new positions in one short
transaction. Writes are plain ``executemany`` of upserts compiled once per dialect: rebuilds
spend their time in the database, not in per-row statement processing. A rebuild (the only
writer of fresh tables) loads PostgreSQL's big writes with ``COPY`` instead (``execute``), and
lets each view remember what it wrote (``Memo``) rather than read it back every batch.
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
BULK_ROWS = 100  # from this many rows, a rebuild's write to PostgreSQL goes through COPY


class Bulk(NamedTuple):
    """The same rows as a ``Write``, for a bulk load: the table, its columns and, for an upsert, the conflict
    clause ("" for a plain insert) and the positions of the key (to keep the last row of a key, as ``executemany``
    would)."""

    table: str
    columns: tuple[str, ...]
    conflict: str = ""
    key: tuple[int, ...] = ()


class Write(NamedTuple):
    sql: str
    params: list[tuple[Any, ...]]
    bulk: Bulk | None = None


class Logged(NamedTuple):
    position: int  # the notification id in the event log
    key: str  # the incident id, as text
    name: str  # the event's class name, e.g. "DeadlineSet"
    event: Any  # the decoded domain event


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Memo:
    """What a view knows of each incident after the batches it wrote, kept in memory by a projector that is the
    only writer of the view's tables (a rebuild into fresh ones), so the next batch need not read it back.

    The projector forgets it whenever a batch does not commit as the view computed it (the view changes the
    remembered values in place while it computes). At most ``size`` incidents, the least recently written
    forgotten first; ``size`` 0 remembers nothing (a live projector: others may write the same views).
    """

    def __init__(self, size: int = 0) -> None:
        self.size = size
        self.known: dict[str, Any] = {}

    def recall(self, keys: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
        """What is remembered of ``keys``, and the keys to read from the database."""
        if not self.known:
            return {}, list(keys)
        known, found, missing = self.known, {}, []
        for key in keys:
            if key in known:
                found[key] = known[key]
            else:
                missing.append(key)
        return found, missing

    def keep(self, values: dict[str, Any], keys: Iterable[str]) -> None:
        if not self.size:
            return
        known = self.known
        for key in keys:
            known.pop(key, None)  # to the end: the most recently written
            known[key] = values[key]
        if len(known) > self.size:
            for key in list(known)[:len(known) - self.size]:
                del known[key]

    def forget(self) -> None:
        self.known.clear()


class EventKinds(dict[type, bool]):
    """Whether an event class is one of ``classes`` (or of a subclass): ``kinds[type(event)]``, worked out once per
    class, is one lookup where ``isinstance(event, classes)`` tries each class in turn, for every event of a rebuild.
    """

    def __init__(self, *classes: type | tuple[type, ...]) -> None:
        super().__init__()
        self.classes = classes

    def __missing__(self, kind: type) -> bool:
        found = self[kind] = issubclass(kind, self.classes)
        return found


class View(ABC):
    """A read model: its tables, and how a batch of events changes them."""

    name: str
    tables: tuple[Table, ...]
    memo: Memo = Memo()  # remembers nothing unless a projector gives the view its own (``Projector``)

    @abstractmethod
    def apply(self, connection: Connection, batch: Sequence[Logged]) -> list[Write]:
        """Read what the events (in log order) change and return the writes that change it."""


def execute(connection: Connection, writes: Iterable[Write], *, bulk: bool = False) -> None:
    """The driver's own executemany, inside the connection's transaction (no per-row SQLAlchemy work).

    ``bulk`` (a rebuild, the only writer of its tables): on PostgreSQL a big write goes through ``COPY``, straight
    into the table for an insert, through a temporary table for an upsert: the same rows, in a few statements.
    """
    cursor = connection.connection.cursor()
    copying = bulk and connection.dialect.name == "postgresql"
    try:
        for write in writes:
            if not write.params:
                continue
            if copying and write.bulk is not None and len(write.params) >= BULK_ROWS:
                _copy(cursor, write.bulk, write.params)
            else:
                cursor.executemany(write.sql, write.params)
    finally:
        cursor.close()


def _copy(cursor: Any, bulk: Bulk, params: list[tuple[Any, ...]]) -> None:
    columns = ", ".join(map(q, bulk.columns))
    if not bulk.conflict:
        _copy_rows(cursor, f"{q(bulk.table)} ({columns})", params)
        return
    if bulk.key:  # one row per key, the last, as executemany's upserts would leave it
        by_key = itemgetter(*bulk.key)
        params = list({by_key(row): row for row in params}.values())
    loading = q(f"bulk_{bulk.table}")
    # The session's own table, made again if the transaction that made it rolled back; emptied after each use.
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {loading} (LIKE {q(bulk.table)})")
    _copy_rows(cursor, f"{loading} ({columns})", params)
    cursor.execute(f"INSERT INTO {q(bulk.table)} ({columns}) SELECT {columns} FROM {loading}{bulk.conflict}")
    cursor.execute(f"TRUNCATE {loading}")


def _copy_rows(cursor: Any, target: str, params: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {target} FROM STDIN") as copy:
        write_row = copy.write_row
        for row in params:
            write_row(row)


def _utc_text(value: datetime) -> str:
    # The text SQLAlchemy's SQLite DateTime reads: sortable, UTC, always with microseconds.
    if value.tzinfo is not timezone.utc:
        value = value.astimezone(timezone.utc)
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_time(value: datetime | None) -> str | None:
    return None if value is None else _utc_text(value)


def _sqlite_time_out(value: datetime | None) -> str | None:
    # ``_sqlite_time``, made once per moment: an incident's rows carry the same moments batch after batch.
    if value is None:
        return None
    text = _TIMES_AS_TEXT.get(value)
    if text is None:
        if len(_TIMES_AS_TEXT) >= TIMES_KEPT:
            _TIMES_AS_TEXT.clear()
        text = _TIMES_AS_TEXT[value] = _utc_text(value)
    return text


TIMES_KEPT = 100_000
_TIMES_AS_TEXT: dict[datetime, str] = {}


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
        self._sql: dict[tuple[str, bool], str] = {}
        self._bulk: dict[tuple[str, bool], Bulk] = {}

    def _writers(self, dialect: str) -> list[Callable[[Any], Any]]:
        sqlite = dialect == "sqlite"
        return [_sqlite_time_out if sqlite and name in self._times else _identity for name in self.columns]

    def _readers(self, dialect: str) -> list[Callable[[Any], Any]]:
        sqlite = dialect == "sqlite"
        return [_sqlite_time_in if sqlite and name in self._times else bool if name in self._flags else _identity
                for name in self.columns]

    def upsert(self, dialect: str, rows: Iterable[dict[str, Any]], *, insert_only: bool = False) -> Write:
        """Insert rows, replacing those with the same key (SQLite >= 3.24 and PostgreSQL share the syntax)."""
        return self.insert(dialect, self._params(dialect, rows), insert_only=insert_only)

    def insert(self, dialect: str, params: list[tuple[Any, ...]], *, insert_only: bool = False) -> Write:
        """``upsert`` of rows already in the table's column order and converted (``writer``)."""
        if (dialect, insert_only) not in self._bulk:
            conflict = ""
            if not insert_only:
                others = [name for name in self.columns if name not in self.key]
                conflict = (f" ON CONFLICT ({', '.join(map(q, self.key))}) DO UPDATE SET "
                            + ", ".join(f"{q(name)} = excluded.{q(name)}" for name in others))
            mark = placeholder(dialect)
            self._sql[(dialect, insert_only)] = (f"INSERT INTO {q(self.table.name)} ({', '.join(map(q, self.columns))}) "
                                                 f"VALUES ({', '.join(mark for _ in self.columns)}){conflict}")
            key = () if insert_only else tuple(self.columns.index(name) for name in self.key)
            self._bulk[(dialect, insert_only)] = Bulk(self.table.name, tuple(self.columns), conflict, key)
        return Write(self._sql[(dialect, insert_only)], params, self._bulk[(dialect, insert_only)])

    def writer(self, dialect: str, column: str) -> Callable[[Any], Any]:
        """How ``column``'s values are written on ``dialect`` (times as text on SQLite; most values as they are),
        for values written once (not kept from batch to batch, as ``upsert`` expects)."""
        write = self._writers(dialect)[self.columns.index(column)]
        return _sqlite_time if write is _sqlite_time_out else write

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
        name, counted = q(table.name), q(count)
        self.adding = Bulk(table.name, (*self.keys, count), f" ON CONFLICT ({', '.join(map(q, self.keys))}) "
                                                           f"DO UPDATE SET {counted} = {name}.{counted} + excluded.{counted}")
        self._sql: dict[str, tuple[str, str]] = {}

    def writes(self, dialect: str, deltas: dict[tuple[Any, ...], int]) -> list[Write]:
        changed = [(key, delta) for key, delta in deltas.items() if delta]
        if not changed:
            return []
        if dialect not in self._sql:
            mark = placeholder(dialect)
            columns = self.adding.columns
            bump = (f"INSERT INTO {q(self.table.name)} ({', '.join(map(q, columns))}) "
                    f"VALUES ({', '.join(mark for _ in columns)}){self.adding.conflict}")
            drop = (f"DELETE FROM {q(self.table.name)} WHERE "
                    + " AND ".join(f"{q(k)} = {mark}" for k in self.keys) + f" AND {q(self.count)} = 0")
            self._sql[dialect] = (bump, drop)
        bump, drop = self._sql[dialect]
        writers = dict(zip(self.rows.columns, self.rows._writers(dialect), strict=True))
        write = [writers[k] for k in self.keys]
        if all(w is _identity for w in write):
            return [Write(bump, [(*key, delta) for key, delta in changed], self.adding),
                    Write(drop, [key for key, delta in changed if delta < 0])]

        def bound(key: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(w(v) for w, v in zip(write, key, strict=True))

        return [Write(bump, [(*bound(key), delta) for key, delta in changed], self.adding),
                Write(drop, [bound(key) for key, delta in changed if delta < 0])]
