"""Group commit: the saves of concurrent commands in one process share one transaction, and so one fsync.

Each command is still decided on its own (loaded, checked, its own optimistic version check, its own error): only
the write is shared. The first save to arrive leads a round: it takes every save waiting, writes them in one
transaction, and hands each its outcome. Saves that arrive meanwhile wait for the next round, which the first of
them leads. A save returns only after the commit that holds its events, so durability is unchanged
(``synchronous=FULL`` in SQLite's WAL, fsync on PostgreSQL) and nothing is acknowledged before it is on disk.

A round is first written as one insert (the usual case: nobody else wrote those incidents). If that insert meets a
version already taken, the round is written again with each save in its own savepoint: the save that lost fails
alone with ``IntegrityError`` (the use case retries it or reports the conflict), the others are committed.
The PostgreSQL recorder is in ``adapters.persistence.postgres_store`` (a SQLite process never imports psycopg).
See docs/adr/0015-group-commit.md.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

# SQLite allows one writer at a time and makes the others sleep and retry: the process's writers of the events database
# take turns instead (measured 10-15% more commands/s than SQLite's busy back-off). A round of saves takes it too.
SQLITE_WRITE_TURN = threading.Lock()

# The most events one round writes together (a save with more is written alone). Past a few megabytes in one insert,
# psycopg's pipeline can hang for good with the events table locked (psycopg/psycopg#685): ten concurrent bulk
# deliveries of 1,000 reports grouped into one round did. A delivery of 1,000 (workflows.service.MAX_BULK_REPORTS)
# is known to be safe.
ROUND_EVENTS = 1000

# A save's outcome: its events' positions in the log, or the error that refused it alone.
Outcome = Sequence[int] | None | IntegrityError
WriteTogether = Callable[[list[StoredEvent]], Sequence[int] | None]
WriteApart = Callable[[list[list[StoredEvent]]], list[Outcome]]


def keeps_library_path(events: Sequence[StoredEvent], options: dict[str, Any]) -> bool:
    """Saves with a tracking record (a process application's), or with nothing, keep the library's own path."""
    return not events or any(value is not None for value in options.values())


class _Save:
    __slots__ = ("done", "error", "events", "leads", "positions")

    def __init__(self, events: list[StoredEvent]) -> None:
        self.events = events
        self.done = threading.Event()
        self.leads = False  # woken to lead the next round, not with an outcome
        self.positions: Sequence[int] | None = None
        self.error: BaseException | None = None

    def outcome(self) -> Sequence[int] | None:
        if self.error is not None:
            raise self.error
        return self.positions


class GroupCommit:
    """Rounds of saves, one transaction each; ``submit`` blocks until its own save is committed or refused."""

    def __init__(self, write_together: WriteTogether, write_apart: WriteApart) -> None:
        self._write_together = write_together
        self._write_apart = write_apart
        self._lock = threading.Lock()
        self._waiting: list[_Save] = []
        self._leading = False
        self.rounds = 0  # rounds written, and saves in them: how well saves were grouped
        self.saves = 0
        # Called after each round that committed something (the live stream's reader is woken so): quick, no I/O.
        self.after_round: list[Callable[[], None]] = []

    @property
    def waiting(self) -> int:
        """Saves waiting for the next round."""
        with self._lock:
            return len(self._waiting)

    def submit(self, events: Sequence[StoredEvent]) -> Sequence[int] | None:
        save = _Save(list(events))
        with self._lock:
            self._waiting.append(save)
            leads = not self._leading
            self._leading = True
        if not leads:
            save.done.wait()
            if not save.leads:
                return save.outcome()
        self._lead_round()
        return save.outcome()

    def _lead_round(self) -> None:
        with self._lock:
            saves = self._next_round()
        try:
            self._write(saves)
        except BaseException as error:  # the round as a whole failed (the database is gone, the lock timed out)
            for save in saves:
                save.error = save.error or error
        finally:
            with self._lock:
                self.rounds, self.saves = self.rounds + 1, self.saves + len(saves)
                if self._waiting:  # hand the lead to the first save that arrived during this round
                    self._waiting[0].leads = True
                    self._waiting[0].done.set()
                else:
                    self._leading = False
            for save in saves:
                save.done.set()
        if any(save.error is None for save in saves):
            for call in self.after_round:
                call()

    def _next_round(self) -> list[_Save]:
        """The saves waiting, oldest first (the leader's own first), up to ``ROUND_EVENTS`` events (at least one save):
        the rest wait for the next round."""
        taken, events = 0, 0
        for save in self._waiting:
            if taken and events + len(save.events) > ROUND_EVENTS:
                break
            taken, events = taken + 1, events + len(save.events)
        saves, self._waiting = self._waiting[:taken], self._waiting[taken:]
        return saves

    def _write(self, saves: list[_Save]) -> None:
        together = [event for save in saves for event in save.events]
        try:
            positions = self._write_together(together)
        except IntegrityError as error:
            if len(saves) == 1:
                saves[0].error = error
                return
        else:
            offset = 0
            for save in saves:
                save.positions = None if positions is None else positions[offset:offset + len(save.events)]
                offset += len(save.events)
            return
        for save, outcome in zip(saves, self._write_apart([save.events for save in saves]), strict=True):
            if isinstance(outcome, IntegrityError):
                save.error = outcome
            else:
                save.positions = outcome


class GroupCommitSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, its inserts grouped (its connection keeps WAL and ``synchronous=FULL``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_commit = GroupCommit(self._write_together, self._write_apart)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if keeps_library_path(stored_events, kwargs):
            return super().insert_events(stored_events, **kwargs)
        return self.group_commit.submit(stored_events)

    def _write_together(self, events: list[StoredEvent]) -> Sequence[int] | None:
        with SQLITE_WRITE_TURN:
            return super().insert_events(events)

    def _write_apart(self, saves: list[list[StoredEvent]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with SQLITE_WRITE_TURN, self.datastore.transaction(commit=True) as cursor:
            for events in saves:
                cursor.execute("SAVEPOINT save")
                try:
                    outcomes.append(self._insert_events(cursor, events))
                except sqlite3.IntegrityError as error:
                    cursor.execute("ROLLBACK TO save")
                    outcomes.append(IntegrityError(error))
                cursor.execute("RELEASE save")
        return outcomes
