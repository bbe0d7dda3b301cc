"""The projector: reads the event log in batches and applies each batch to the views, writing the
views' rows and their new positions in one transaction (exactly once, whatever kills it).

Several projectors may run against one store: each batch first moves the views' positions
with a compare-and-set, so a batch another projector already applied rolls back here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from eventsourcing.persistence import MapperDeserialisationError, Notification
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.schema import CreateTable

from domain.clock import Clock, utc_now
from domain.errors import NotFound, StoredEventsUnreadable
from projections.audit import AuditView
from projections.board import BoardView
from projections.decoding import LeanDecoder
from projections.encryption import PLAIN, FieldCipher
from projections.incident_list import IncidentListView
from projections.overdue import OverdueView
from projections.schema import failures, positions
from projections.statistics import StatisticsView
from projections.view import Logged, Memo, View, Write, execute
from workflows.store import IncidentStore

OUR_TOPICS = "nimrs.Incident."
log = logging.getLogger("nimrs.projector")
Progress = Callable[[int, int], None]  # (events applied so far, events to apply in all)
ReadLog = Callable[[int, int], Sequence[Any]]  # (after position, at most): notifications, or rows read alike


SUBSCRIPTION_CHECK_SECONDS = 1.0  # how long a following projector trusts a quiet subscription
# Incidents an exclusive projector's views remember (``Memo``): more than are in progress at once in a big log.
MEMO_INCIDENTS = 50_000
LOGGED = partial(tuple.__new__, Logged)  # Logged(*values) without a Python call: it runs for every event

def all_views(cipher: FieldCipher = PLAIN) -> list[View]:
    """Every view; ``cipher`` encrypts the columns that hold patient details (when a key is set)."""
    return [OverdueView(cipher), AuditView(cipher), BoardView(), StatisticsView(), IncidentListView()]


VIEW_NAMES = tuple(view.name for view in all_views())


class PositionMoved(Exception):
    """Another projector applied this batch first; this one rolls back and reads on."""


# PEP 249 names, whatever the driver (the views write through the raw driver cursor, so its own errors
# arrive unwrapped): the database is unreachable, busy or not as expected. That is no event's fault: the
# batch is retried, never skipped. Any other error applying an event (a value a view cannot compute or the
# database refuses) is that event's.
STORE_TROUBLE = frozenset({"OperationalError", "InterfaceError", "ProgrammingError", "InternalError",
                           "NotSupportedError", "DisconnectionError", "TimeoutError", "PoolTimeout"})


def event_failure(error: Exception) -> bool:
    """Whether a view working out an event's rows raised ``error`` because of the event (record it and go
    on), rather than because of the store (retry)."""
    if isinstance(error, (PositionMoved, StoredEventsUnreadable)):
        return False
    return not any(kind.__name__ in STORE_TROUBLE for kind in type(error).__mro__)


def refused_write(error: Exception) -> bool:
    """Whether the database refused a view's rows for what they hold (PEP 249 DataError or IntegrityError: a
    value out of range, a missing one). Anything else while writing is the store's or the process's: retry."""
    return any(kind.__name__ in ("DataError", "IntegrityError") for kind in type(error).__mro__)


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:1000]


@dataclass(frozen=True)
class Position:
    view: str
    position: int
    last_event_at: datetime | None


@dataclass(frozen=True)
class Batch:
    """The events of a batch after a view's position, and the latest time among them."""

    items: list[Logged]
    latest: datetime | None

    @classmethod
    def of(cls, logged: list[Logged], after: int) -> Batch:
        items = logged if not logged or logged[0].position > after else [i for i in logged if i.position > after]
        return cls(items, max((item.event.timestamp for item in items), default=None))


class Projector:
    def __init__(self, source: IncidentStore, engine: Engine, views: Sequence[View] | None = None,
                 batch_size: int = 1000, clock: Clock = utc_now, cipher: FieldCipher = PLAIN, *,
                 exclusive: bool = False, read: ReadLog | None = None) -> None:
        """The views' tables must exist: schema migrations make them (``adapters.persistence.migrate``).

        ``cipher`` is the one the views were made with: their readers decrypt with it. ``exclusive``: no one
        else writes these views while this projector runs (a rebuild into fresh tables), so each view remembers
        the rows it wrote (``Memo``) and big writes go in bulk (``execute``); the views are the same. ``read``:
        the log's entries after a position, at most so many (default: the library's ``select_notifications``).
        """
        self.source = source
        self.read = read or self._select_notifications
        self.engine = engine
        self.cipher = cipher
        self.views = list(views) if views is not None else all_views(cipher)
        self.batch_size = batch_size
        self.clock = clock
        self.decode = LeanDecoder(source.mapper)
        self.exclusive = exclusive
        if exclusive:
            for view in self.views:
                view.memo = Memo(MEMO_INCIDENTS)
        # The position each view's memo is as of (what this projector last committed): any other, and it is stale.
        self._remembered: dict[str, int] = {}
        self._keys: dict[int | str, str] = {}  # incident ids as text, made once per incident
        with engine.begin() as connection:
            present = set(connection.execute(select(positions.c.view)).scalars())
            missing = [{"view": v.name, "position": 0, "last_event_at": None} for v in self.views if v.name not in present]
            if missing:
                connection.execute(insert(positions), missing)

    # -- positions -----------------------------------------------------------------------------

    def positions(self) -> dict[str, Position]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(positions)).all()
        found = {row.view: Position(row.view, row.position, row.last_event_at) for row in rows}
        return {view.name: found[view.name] for view in self.views}

    def as_of(self) -> datetime | None:
        """The latest event time every view has applied (None before the first event)."""
        times = [p.last_event_at for p in self.positions().values()]
        return None if any(t is None for t in times) else min(t for t in times if t is not None)

    # -- applying batches -----------------------------------------------------------------------

    def _decode(self, notifications: Sequence[Notification]) -> list[Logged]:
        to_event, keys, logged_as = self.decode, self._keys, LOGGED
        if len(keys) > MEMO_INCIDENTS:
            keys.clear()
        logged = []
        try:
            for n in notifications:
                if n.topic.startswith(OUR_TOPICS):
                    event = to_event(n)
                    originator = n.originator_id
                    handle = originator if isinstance(originator, str) else originator.int  # a UUID hashes in Python
                    key = keys.get(handle)
                    if key is None:
                        key = keys[handle] = str(event.originator_id)
                    logged.append(logged_as((n.id, key, type(event).__name__, event)))
            return logged
        except MapperDeserialisationError:
            raise StoredEventsUnreadable(
                "the event log cannot be read: NIMRS_CIPHER_KEY is missing or is not the key it was written with",
            ) from None

    def apply(self, notifications: Sequence[Notification], current: dict[str, Position] | None = None) -> int:
        """Apply one batch to every view it is news to; returns how many events it applied.

        The views read and compute first; then one short transaction moves their positions
        (compare-and-set) and runs their writes, so the write lock is held only while writing.
        ``current`` may be positions the caller just read: a stale one only makes this a no-op.
        """
        if not notifications:
            return 0
        try:
            return self._apply(notifications, current)
        except BaseException:
            self._forget(self.views)  # what the views computed was not (all) written
            raise

    def _apply(self, notifications: Sequence[Notification], current: dict[str, Position] | None) -> int:
        logged = self._decode(notifications)
        last_id = notifications[-1].id
        current = current or self.positions()
        news: list[tuple[View, Position, Batch, list[Write]]] = []
        failing: list[tuple[View, Position, Batch]] = []
        batches: dict[int, Batch] = {}  # by the position a view is at: most often one for every view
        with self.engine.connect() as reading:
            for view in self.views:
                before = current[view.name]
                if before.position < last_id:
                    if self._remembered.get(view.name) != before.position:
                        view.memo.forget()  # another projector or a rebuild wrote the view since
                    batch = batches.get(before.position)
                    if batch is None:
                        batch = batches[before.position] = Batch.of(logged, before.position)
                    try:
                        news.append((view, before, batch, view.apply(reading, batch.items) if batch.items else []))
                    except Exception as error:
                        if not event_failure(error):
                            raise
                        failing.append((view, before, batch))  # some event of the batch: find it below
        if not news and not failing:
            return 0
        self._forget([view for view, *_ in failing])
        try:
            if news:
                with self.engine.begin() as connection:
                    self._relax_durability(connection)
                    # Positions first: on PostgreSQL the row lock orders rival projectors, on SQLite
                    # the write lock does, and a rival that got here first makes this a no-op.
                    for _, before, batch, _ in news:
                        self._move(connection, before, last_id, batch.latest)
                    writes = [write for *_, view_writes in news for write in view_writes]
                    if self.exclusive:
                        execute(connection, writes, bulk=True)
                    else:
                        execute(connection, writes)
                self._remembered.update((view.name, last_id) for view, *_ in news)
        except PositionMoved:
            self._forget([view for view, *_ in news])
            return 0
        except Exception as error:
            if not refused_write(error):
                raise
            self._forget([view for view, *_ in news])
            failing += [(view, before, batch) for view, before, batch, _ in news]  # the database refused a write
        for view, before, batch in failing:
            try:
                self._apply_one_by_one(view, before, last_id, batch)
            except PositionMoved:
                return 0
        return max([len(batch.items) for _, _, batch, _ in news] + [len(batch.items) for _, _, batch in failing])

    def _forget(self, views: Sequence[View]) -> None:
        for view in views:
            view.memo.forget()
            self._remembered.pop(view.name, None)

    def _apply_one_by_one(self, view: View, before: Position, last_id: int, batch: Batch) -> None:
        """Apply a batch one event at a time, each in a savepoint; an event the view cannot apply is recorded
        in ``projection_failures`` and skipped by this view only. The view is deterministic, so a rebuild
        meets the same failures and reaches the same rows. The view remembers nothing meanwhile: each event
        reads what the ones before it wrote."""
        with self.engine.begin() as connection:
            self._relax_durability(connection)
            self._move(connection, before, last_id, batch.latest)
            for item in batch.items:
                view.memo.forget()
                try:
                    writes = view.apply(connection, [item])
                except Exception as error:
                    if not event_failure(error):
                        raise
                    self._skip(connection, view, item, error)
                    continue
                try:
                    with connection.begin_nested():
                        execute(connection, writes)
                except Exception as error:
                    if not refused_write(error):
                        raise
                    self._skip(connection, view, item, error)
            view.memo.forget()

    def _skip(self, connection: Connection, view: View, item: Logged, error: Exception) -> None:
        log.error("view %s cannot apply event %d (%s of incident %s): %s; skipped", view.name, item.position,
                  item.name, item.key, _described(error))
        connection.execute(insert(failures).values(
            view=view.name, position=item.position, incident_id=item.key[:36], event_type=item.name[:48],
            error=_described(error), failed_at=self.clock()))

    @staticmethod
    def _relax_durability(connection: Connection) -> None:
        # Views are rebuildable and commit rows and position together, so a commit lost in a
        # crash loses both: durability may be relaxed, exactly-once still holds.
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL synchronous_commit TO OFF"))

    @staticmethod
    def _move(connection: Connection, before: Position, last_id: int, latest: datetime | None) -> None:
        if before.last_event_at is not None and (latest is None or latest < before.last_event_at):
            latest = before.last_event_at
        moved = connection.execute(
            update(positions).where(positions.c.view == before.view, positions.c.position == before.position)
            .values(position=last_id, last_event_at=latest))
        if moved.rowcount != 1:
            raise PositionMoved(before.view)

    def step(self) -> int:
        """Read and apply the next batch; returns the number of log entries read (0: caught up)."""
        current = self.positions()
        start = min(p.position for p in current.values())
        notifications = self.read(start, self.batch_size)
        self.apply(notifications, current)
        return len(notifications)

    def _select_notifications(self, after: int, limit: int) -> Sequence[Notification]:
        return self.source.recorder.select_notifications(after, limit, inclusive_of_start=False)

    def catch_up(self, progress: Progress | None = None, stop: threading.Event | None = None) -> int:
        """Apply everything recorded so far; returns how many log entries were read."""
        total = self.lag_events() if progress else 0
        done = 0
        while not (stop and stop.is_set()):
            read = self.step()
            if not read:
                break
            done += read
            if progress:
                progress(done, max(total, done))
        return done

    # -- following the log live -------------------------------------------------------------------

    def follow(self, stop: threading.Event, poll_seconds: float = 0.1,
               on_batch: Callable[[int], None] | None = None) -> None:
        """Catch up, then apply new events as they are recorded until ``stop`` is set.

        PostgreSQL pushes them (the library's LISTEN/NOTIFY subscription); SQLite cannot, so
        the log is polled every ``poll_seconds``.
        """
        while not stop.is_set():
            read = self.catch_up(stop=stop)
            if on_batch and read:
                on_batch(read)
            if _pushes(self.source.recorder):
                self._follow_subscription(stop, on_batch)
            else:
                stop.wait(poll_seconds)

    def _follow_subscription(self, stop: threading.Event, on_batch: Callable[[int], None] | None) -> None:
        start = min(p.position for p in self.positions().values())
        arrived: queue.Queue[Notification] = queue.Queue()
        with self.source.recorder.subscribe(gt=start) as subscription:
            feeder = threading.Thread(target=_feed, args=(subscription, arrived), daemon=True)
            feeder.start()
            expected = start
            quiet_since = time.monotonic()
            while not stop.is_set() and feeder.is_alive():
                batch = _drain(arrived, self.batch_size, timeout=0.1)
                if not batch:
                    # A NOTIFY can be missed (e.g. one sent while the subscription was starting): after a
                    # quiet second, look at the log itself and catch up from it if it has moved on.
                    if time.monotonic() - quiet_since >= SUBSCRIPTION_CHECK_SECONDS:
                        if (self.source.recorder.max_notification_id() or 0) > expected:
                            break
                        quiet_since = time.monotonic()
                    continue
                quiet_since = time.monotonic()
                # A view behind what the stream has passed was reset (a rebuild elsewhere):
                # leave the stream and catch up from the log instead.
                if any(p.position < expected for p in self.positions().values()):
                    break
                self.apply(batch)
                expected = batch[-1].id
                if on_batch:
                    on_batch(len(batch))

    # -- rebuild and status ------------------------------------------------------------------------

    def reset(self, names: Sequence[str]) -> None:
        """Drop and recreate the named views' tables without their secondary indexes (a bulk load
        fills a table faster and indexes it afterwards), and set their positions back to the start."""
        chosen = self._chosen(names)
        self._forget(chosen)
        with self.engine.begin() as connection:
            for view in chosen:
                for table in reversed(view.tables):
                    table.drop(connection, checkfirst=True)
                for table in view.tables:
                    connection.execute(CreateTable(table))
            connection.execute(update(positions).where(positions.c.view.in_([v.name for v in chosen]))
                               .values(position=0, last_event_at=None))
            connection.execute(delete(failures).where(failures.c.view.in_([v.name for v in chosen])))

    def ensure_indexes(self) -> None:
        """Create any secondary index a rebuild has not created yet (also after one was killed)."""
        with self.engine.begin() as connection:
            for view in self.views:
                for table in view.tables:
                    for index in table.indexes:
                        index.create(connection, checkfirst=True)

    def rebuild(self, names: Sequence[str], progress: Progress | None = None) -> int:
        self.reset(names)
        read = self.catch_up(progress)
        self.ensure_indexes()
        return read

    def _chosen(self, names: Sequence[str]) -> list[View]:
        unknown = [name for name in names if name not in {v.name for v in self.views}]
        if unknown:
            raise NotFound(f"no view named {', '.join(unknown)}; views: {', '.join(v.name for v in self.views)}")
        return [view for view in self.views if view.name in names]

    def failures(self, limit: int = 100) -> list[dict[str, Any]]:
        """Events the views could not apply and skipped, newest first."""
        query = (select(failures).where(failures.c.view.in_([v.name for v in self.views]))
                 .order_by(failures.c.position.desc()).limit(limit))
        with self.engine.connect() as connection:
            return [{"view": row.view, "position": row.position, "incident_id": row.incident_id,
                     "event_type": row.event_type, "error": row.error, "failed_at": row.failed_at.isoformat()}
                    for row in connection.execute(query)]

    def failed_events(self) -> dict[str, int]:
        """How many events each view skipped because it could not apply them (0 for most, always)."""
        query = select(failures.c.view, func.count()).group_by(failures.c.view)
        with self.engine.connect() as connection:
            counted: dict[str, int] = {view: count for view, count in connection.execute(query)}
        return {view.name: int(counted.get(view.name, 0)) for view in self.views}

    def lag_events(self) -> int:
        head = self.source.recorder.max_notification_id() or 0
        return max(0, head - min((p.position for p in self.positions().values()), default=0))

    def status(self) -> list[dict[str, Any]]:
        """Each view's position, and how far behind the log it is in events and in seconds."""
        head = self.source.recorder.max_notification_id() or 0
        now = self.clock()
        failed = self.failed_events()
        result = []
        for position in self.positions().values():
            lag_seconds = 0.0
            if head > position.position:
                waiting = self._decode(self.source.recorder.select_notifications(position.position, 1,
                                                                                 inclusive_of_start=False))
                if waiting:
                    lag_seconds = max(0.0, (now - waiting[0].event.timestamp).total_seconds())
            result.append({
                "view": position.view, "position": position.position, "log_head": head,
                "lag_events": max(0, head - position.position), "lag_seconds": round(lag_seconds, 3),
                "as_of": position.last_event_at.isoformat() if position.last_event_at else None,
                "failed_events": failed[position.view],
            })
        return result


def _pushes(recorder: object) -> bool:
    """Whether the log pushes new events (the library's PostgreSQL recorder, or one derived from it)."""
    return any(kind.__module__ == "eventsourcing.postgres" for kind in type(recorder).__mro__)


def _feed(subscription: Any, arrived: queue.Queue[Notification]) -> None:
    try:
        for notification in subscription:
            arrived.put(notification)
    except Exception:  # the subscription failed (connection lost): the follow loop starts over
        return


def _drain(arrived: queue.Queue[Notification], limit: int, timeout: float) -> list[Notification]:
    try:
        batch = [arrived.get(timeout=timeout)]
    except queue.Empty:
        return []
    while len(batch) < limit:
        try:
            batch.append(arrived.get_nowait())
        except queue.Empty:
            break
    return batch
