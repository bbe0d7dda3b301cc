"""The live log: one reader of the event log per server process, for every open event stream (``GET /events/stream``).

One thread reads the events after its position, decodes each once (``Feed.entries``), encodes its Server-Sent Event
once, and hands the batch to the event loop, which offers it to every open stream. Each stream keeps what its reader
may see (its facility's events, or every facility's for a state reviewer; its types) in a bounded queue.

- Woken on PostgreSQL by the NOTIFY every insert sends on the events' channel (from any process), polling every
  PUSHED_POLL_SECONDS only in case one is missed. SQLite cannot push: every POLL_SECONDS the reader asks SQLite
  whether anything was committed since it last looked (``PRAGMA data_version``, cheaper than a query), and reads
  only then; ``wake()`` makes it read at once.
- Every TOKEN_CHECK_SECONDS, and at once when this process ends a user's sessions, the open streams' tokens are
  checked in one query; a stream whose token expired or was revoked ends with the error a request would get.
- A stream with more than QUEUE_LIMIT events waiting while its client holds it up (reading too slowly) ends with an
  ``overflow`` event; its client reconnects with ``Last-Event-ID`` and catches up from the log on its own. A stream
  sent more at once than its queue holds, while its client keeps up, reads what it missed from the log instead.
- One timer (every second) sends the quiet streams' keep-alives, rather than a timer per stream and wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from adapters.integrations.feed import CloudEvent, Feed, LogEntry, facility_seen_by, topics_of
from domain.actor import Actor
from domain.errors import NimrsError
from workflows.accounts import AccountService

log = logging.getLogger("nimrs.live")
POLL_SECONDS = 0.02  # SQLite: how often the reader asks whether anything was committed (half a percent of a core)
PUSHED_POLL_SECONDS = 1.0  # PostgreSQL: a look at the log in case a NOTIFY was missed
TOKEN_CHECK_SECONDS = 10.0
HEARTBEAT_SECONDS = 15.0  # a stream quiet this long sends a keep-alive comment (checked every second)
QUEUE_LIMIT = 1000  # events that may wait for a stream's slow client before the stream is ended
BATCH = 500
RETRY_SECONDS = 2.0  # after the store failed


def sse_frame(event: CloudEvent) -> bytes:
    """One event as a Server-Sent Event: its position as the id, its CloudEvents type, the CloudEvent as data."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event["position"], event["type"].encode(), orjson.dumps(event))


def end_frame(kind: str, detail: str) -> bytes:
    """The last event of a stream: ``error`` or ``overflow``, with a detail for a person."""
    return b"event: %s\ndata: %s\n\n" % (kind.encode(), orjson.dumps({"detail": detail}))


def overflow_frame(limit: int) -> bytes:
    return end_frame("overflow", f"more than {limit} events waited for this client, which reads too slowly: the stream "
                                 "ended. Reconnect with Last-Event-ID set to the id of the last event received to "
                                 "resume without a gap")


class SQLiteCommits:
    """Whether anything was committed to a SQLite file since the last look: ``PRAGMA data_version`` on a connection of
    its own changes with every other connection's commit, and costs a fraction of a query through the library."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.connection: sqlite3.Connection | None = None  # opened in the thread that looks
        self.seen: int | None = None

    def since_last_look(self) -> bool:
        if self.connection is None:
            self.connection = sqlite3.connect(self.path, isolation_level=None, uri=self.path.startswith("file:"))
        version = self.connection.execute("PRAGMA data_version").fetchone()[0]
        changed, self.seen = version != self.seen, version
        return changed

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _commits_of(feed: Feed) -> SQLiteCommits | None:
    pool = getattr(getattr(feed.recorder, "datastore", None), "pool", None)
    if feed.sqlite_table is None or pool is None or pool.is_sqlite_memory_mode:
        return None
    return SQLiteCommits(pool.db_name)


def _pushes(recorder: object) -> bool:
    """Whether the log pushes new events: PostgreSQL's recorder (checked without importing PostgreSQL's driver)."""
    return any(kind.__module__ == "eventsourcing.postgres" for kind in type(recorder).__mro__)


class LiveEvent:
    __slots__ = ("entry", "frame", "position")

    def __init__(self, entry: LogEntry) -> None:
        self.entry = entry
        self.position = entry.event["position"]
        self.frame = sse_frame(entry.event)


class LiveStream:
    """One open stream's share of the live log: the events its reader may see, queued for it (bounded).

    A queue that would pass its limit while the stream is held up sending to its client (``sending``: the client
    reads too slowly) ends the stream with ``overflow``. Otherwise the stream is merely ``behind`` (more events came at
    once than its queue holds, before it could run): it drops the queue, reads what it missed from the log itself and
    subscribes again.
    """

    def __init__(self, actor: Actor, topics: frozenset[str], token: str, limit: int) -> None:
        self.actor = actor
        self.token = token
        self.facility = facility_seen_by(actor)
        self.topics = topics
        self.limit = limit
        self.pending: deque[LiveEvent] = deque()
        self.ending: bytes | None = None  # once set, the stream sends it (b"": nothing) and ends
        self.sending = False  # set by the stream around each write to its client
        self.last_sent = 0.0  # when it last wrote to its client (the event loop's time)
        self.beat = False  # a keep-alive is due
        self.behind = False
        self.overflowed = False
        self._ready = asyncio.Event()

    def offer(self, events: Sequence[LiveEvent]) -> None:
        """Queue the events this stream's reader may see (in the event loop)."""
        if self.ending is not None or self.behind:
            return
        before = len(self.pending)
        for event in events:
            if event.entry.shown_to(self.facility, self.topics):
                if len(self.pending) >= self.limit:
                    if self.sending:
                        self.overflowed = True
                        self.end(overflow_frame(self.limit))
                    else:
                        self.behind = True
                        self.pending.clear()
                        self._ready.set()
                    return
                self.pending.append(event)
        if len(self.pending) > before:
            self._ready.set()

    def end(self, frame: bytes) -> None:
        """End the stream with this last frame (in the event loop); what was queued is dropped."""
        if self.ending is None:
            self.ending = frame
            self.pending.clear()
            self._ready.set()

    def sent(self, now: float) -> None:
        """The stream wrote to its client at ``now`` (the event loop's time)."""
        self.last_sent = now
        self.beat = False

    def quiet_since(self, since: float) -> None:
        """Nothing was written since ``since``: send a keep-alive (in the event loop)."""
        if self.last_sent <= since and self.ending is None:
            self.beat = True
            self._ready.set()

    async def next(self) -> list[LiveEvent] | None:
        """The events queued since the last call, waiting for one: None when a keep-alive is due. Check ``ending`` and
        ``behind`` after each call."""
        if not self.pending and self.ending is None and not self.behind and not self.beat:
            await self._ready.wait()
        self._ready.clear()
        if not self.pending:
            return None if self.beat and self.ending is None and not self.behind else []
        events = list(self.pending)
        self.pending.clear()
        return events


class LiveLog:
    """The process's one reader of the log for its open streams; ``start`` in the server's event loop, ``stop`` at
    the end. Streams subscribe and unsubscribe in the event loop."""

    def __init__(self, feed: Feed, accounts: AccountService, stopping: threading.Event, *,
                 poll_seconds: float | None = None, token_check_seconds: float | None = None,
                 queue_limit: int | None = None) -> None:
        self.feed = feed
        self.accounts = accounts
        self.stopping = stopping  # set when the server is asked to stop: every stream ends
        self.pushes = _pushes(feed.recorder)
        self.poll_seconds = poll_seconds or (PUSHED_POLL_SECONDS if self.pushes else POLL_SECONDS)
        self.token_check_seconds = token_check_seconds or TOKEN_CHECK_SECONDS
        self.queue_limit = queue_limit or QUEUE_LIMIT
        self.commits = None if self.pushes else _commits_of(feed)  # SQLite: a look at the log only after a commit
        self.position = 0  # the last position handed to the streams (read and written in the event loop)
        self._streams: frozenset[LiveStream] = frozenset()  # replaced, never changed: the reader takes it as it is
        self._read_position = 0  # the last position read (the reader thread's)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._heartbeat: asyncio.TimerHandle | None = None
        self._wake = threading.Event()
        self._check_now = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- in the event loop ------------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._heartbeat = loop.call_later(1.0, self._beat)
        self.position = self._read_position = self.feed.last_position()
        self._threads = [threading.Thread(target=self._read, name="live-log", daemon=True)]
        if self.pushes:
            self._threads.append(threading.Thread(target=self._listen, name="live-log-listen", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._end_all(b"")

    @property
    def streams(self) -> frozenset[LiveStream]:
        """The open streams."""
        return self._streams

    def subscribe(self, actor: Actor, types: Sequence[str], token: str) -> LiveStream:
        """A stream of the events after ``position``, from now on; subscribe before the last read of a catch-up."""
        stream = LiveStream(actor, topics_of(types), token, self.queue_limit)
        stream.sent(self._loop.time() if self._loop is not None else 0.0)  # quiet from now on, as far as keep-alives go
        if self.stopping.is_set():
            stream.end(b"")
        else:
            self._streams = self._streams | {stream}
        return stream

    def unsubscribe(self, stream: LiveStream) -> None:
        self._streams = self._streams - {stream}

    def _beat(self) -> None:
        """One timer for every stream's keep-alive, rather than one per stream and wait."""
        assert self._loop is not None
        since = self._loop.time() - HEARTBEAT_SECONDS
        for stream in self._streams:
            stream.quiet_since(since)
        self._heartbeat = self._loop.call_later(1.0, self._beat)

    def _publish(self, events: list[LiveEvent], position: int) -> None:
        self.position = position
        for stream in self._streams:
            stream.offer(events)

    def _end_all(self, frame: bytes) -> None:
        for stream in self._streams:
            stream.end(frame)

    def _end_held(self, token: str, frame: bytes) -> None:
        for stream in self._streams:
            if stream.token == token:
                stream.end(frame)

    # -- from any thread --------------------------------------------------------------------------------

    def wake(self) -> None:
        """Read the log now (something was written)."""
        self._wake.set()

    def end_streams(self) -> None:
        """End every stream now (the server is stopping); safe in a signal handler."""
        self._call(self._end_all, b"")

    def check_tokens_soon(self, user_id: str | None = None) -> None:
        """Re-check the streams' tokens now (a user's sessions were ended)."""
        self._check_now.set()
        self._wake.set()

    def _call(self, function: Callable[..., None], *args: Any) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
                self._loop.call_soon_threadsafe(function, *args)

    # -- the reader thread ------------------------------------------------------------------------------

    def _read(self) -> None:
        checked, told = time.monotonic(), False
        while not self._stop.is_set():
            woken = self._wake.wait(self.poll_seconds)
            self._wake.clear()
            if self.stopping.is_set() and not told:
                told = True
                self._call(self._end_all, b"")
            try:
                if woken or self.commits is None or self.commits.since_last_look():
                    self._read_new()
                if self._check_now.is_set() or time.monotonic() - checked >= self.token_check_seconds:
                    self._check_now.clear()
                    checked = time.monotonic()
                    self._check_tokens()
            except NimrsError as error:  # an event nobody can read (the cipher key): every stream ends saying why
                log.error("the live log cannot go on: %s", error.message)
                self._call(self._end_all, end_frame("error", error.message))
                self._stop.wait(RETRY_SECONDS)
            except Exception:  # the store is down: the streams wait, and get every event once it is back
                log.exception("the live log could not read the event log; retrying in %s s", RETRY_SECONDS)
                self._stop.wait(RETRY_SECONDS)
        if self.commits is not None:
            self.commits.close()

    def _read_new(self) -> None:
        while not self._stop.is_set():
            entries, last = self.feed.entries(self._read_position, BATCH)
            if entries:
                self._read_position = last
                self._call(self._publish, [LiveEvent(entry) for entry in entries], last)
            if len(entries) < BATCH:
                return

    def _check_tokens(self) -> None:
        tokens = {stream.token for stream in self._streams}
        if not tokens:
            return
        for token in tokens - self.accounts.still_valid(tokens):
            try:
                self.accounts.authenticate(token)  # for the reason, in the words a request would get
            except NimrsError as error:
                self._call(self._end_held, token, end_frame("error", error.message))

    def _listen(self) -> None:
        """PostgreSQL: wake the reader at each NOTIFY on the events' channel."""
        from eventsourcing.postgres import PostgresApplicationRecorder
        from psycopg.sql import SQL, Identifier

        recorder = self.feed.recorder
        assert isinstance(recorder, PostgresApplicationRecorder)
        while not self._stop.is_set():
            try:
                with recorder.datastore.get_connection() as connection:
                    connection.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                    try:
                        self._wake.set()  # whatever was written before listening
                        while not self._stop.is_set():
                            for _ in connection.notifies(timeout=0.5, stop_after=1):
                                self._wake.set()
                    finally:
                        connection.execute("UNLISTEN *")
            except Exception:
                log.exception("the live log lost its LISTEN connection; polling meanwhile, retrying in %s s",
                              RETRY_SECONDS)
                self._stop.wait(RETRY_SECONDS)
