"""The read audit's store (table ``nimrs_read_audit``): reads are buffered in memory and written in batches.

A read is recorded on the request's path by appending to a list (microseconds); the rows are written
off it, in one transaction per batch: by a background thread in a server (every ``FLUSH_SECONDS``, or
sooner once ``FLUSH_SIZE`` reads are waiting), and at the end of a command on the command line
(``Runtime.close``). A query flushes first, so it sees every read this process has recorded.

If the database is unavailable the batch is kept and written at the next attempt; past
``MAX_BUFFERED`` waiting reads the oldest are dropped, and the server log says how many (a reader
is never refused because the audit cannot be written).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from adapters.persistence.schema import read_audit
from workflows.read_audit import Read

FLUSH_SECONDS = 0.5
FLUSH_SIZE = 1000
MAX_BUFFERED = 200_000
log = logging.getLogger("nimrs.read_audit")


class BufferedReadLog:
    """A ``ReadRecorder`` (``record``) and a ``ReadLog`` (``reads``) on the events' database."""

    def __init__(self, engine: Engine, channel: str) -> None:
        self.engine = engine
        self.channel = channel  # "http" or "cli": stamped on every read this process records
        self._waiting: list[Read] = []
        self._lock = threading.Lock()  # guards _waiting
        self._writing = threading.Lock()  # one batch written at a time, in order
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- recording --------------------------------------------------------------------------------

    def record(self, reads: Sequence[Read]) -> None:
        if not reads:
            return
        with self._lock:
            self._waiting.extend(reads)
            full = len(self._waiting) >= FLUSH_SIZE
        if full:
            self._wake.set()

    def flush(self) -> int:
        """Write every waiting read now; the number written. A failed write keeps them for the next attempt."""
        with self._writing:
            with self._lock:
                batch, self._waiting = self._waiting, []
            if not batch:
                return 0
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(read_audit), [self._row(read) for read in batch])
            except BaseException:
                self._keep(batch)
                raise
            return len(batch)

    def _keep(self, batch: list[Read]) -> None:
        with self._lock:
            self._waiting[:0] = batch
            excess = len(self._waiting) - MAX_BUFFERED
            if excess > 0:
                del self._waiting[:excess]
                log.error("the read audit could not be written; %d recorded reads were dropped", excess)

    def _row(self, read: Read) -> dict[str, object]:
        return {"at": read.at, "user_id": read.user_id, "level": read.level, "facility": read.facility,
                "incident_id": read.incident_id, "incident_facility": read.incident_facility, "view": read.view,
                "channel": read.channel or self.channel}

    # -- the background writer (servers) ------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="read-audit", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # the store, or anything else: keep the writer alive, the batch is kept
                log.exception("could not write the read audit; retrying in %s s", FLUSH_SECONDS)

    def close(self) -> None:
        """Stop the background writer, then write what is still waiting."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()

    # -- the query ----------------------------------------------------------------------------------

    def reads(self, *, incident_id: str | None = None, user_id: str | None = None,
              incident_facility: str | None = None, since: datetime | None = None, until: datetime | None = None,
              limit: int = 1000) -> list[Read]:
        self.flush()
        table = read_audit.c
        query = select(read_audit).order_by(table.at, table.entry).limit(limit)
        if incident_id is not None:
            query = query.where(table.incident_id == incident_id)
        if incident_facility is not None:
            query = query.where(table.incident_facility == incident_facility)
        if user_id is not None:
            query = query.where(table.user_id == user_id)
        if since is not None:
            query = query.where(table.at >= since)
        if until is not None:
            query = query.where(table.at <= until)
        with self.engine.connect() as connection:
            return [Read(row.at, row.user_id, row.level, row.facility, row.incident_id, row.incident_facility,
                         row.view, row.channel) for row in connection.execute(query)]
