"""Tamper evidence over the stored event log: a hash chain, its sealer, and the check (docs/adr/0010).

Each stored event gets a link: SHA-256 over the previous link and the event exactly as stored (its
position in the log, originator id, version, topic and state bytes; the bytes are encrypted when
``NIMRS_CIPHER_KEY`` is set, so the chain needs no key and survives a key being shredded). The sealer
appends the links of new events, in log order, to ``nimrs_event_chain``; ``verify`` recomputes the chain
from the events and names the first position where it differs from the links or from a signed checkpoint.

Positions are the library's notification ids. PostgreSQL may skip one after a rolled-back insert: the
chain covers the positions that exist, so a gap nobody sealed is no finding, while a sealed position
whose event is gone is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from adapters.persistence.schema import event_chain

GENESIS = bytes(32)  # the "previous link" of the first event
PAGE = 2000  # events read, hashed and sealed per transaction
SEAL_INTERVAL = 0.2  # seconds between a running sealer's looks at the log: it lags well under a second
SEAL_LOCK = 0x6E696D7273_01  # PostgreSQL advisory lock: one sealer at a time per database


def link_hash(previous: bytes, event: Notification) -> bytes:
    """The link of ``event``: every field length-prefixed, so no two different events hash alike."""
    digest = sha256(previous)
    digest.update(event.id.to_bytes(8, "big"))
    for part in (str(event.originator_id).encode(), event.topic.encode(), bytes(event.state)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(event.originator_version.to_bytes(8, "big", signed=True))
    return digest.digest()


@dataclass(frozen=True)
class Link:
    position: int
    hash: str  # hex


@dataclass(frozen=True)
class Break:
    """The first position where the log does not match its seal (or a checkpoint)."""

    position: int
    kind: str  # changed | missing | unsealed | checkpoint
    message: str


@dataclass(frozen=True)
class Verdict:
    checked: int  # events whose links were recomputed
    sealed_through: int  # the last sealed position (0: none)
    unsealed: int  # events after it, not sealed yet
    checkpoint: Link | None
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None

    def as_dict(self) -> dict[str, Any]:
        found = self.first_break
        return {
            "ok": self.ok, "checked_events": self.checked, "sealed_through": self.sealed_through,
            "unsealed_events": self.unsealed,
            "checkpoint": None if self.checkpoint is None else {"position": self.checkpoint.position,
                                                                 "hash": self.checkpoint.hash},
            "first_break": None if found is None else {"position": found.position, "kind": found.kind,
                                                       "message": found.message},
        }


Turn = Callable[[], AbstractContextManager[Any]]


@dataclass
class _Tally:
    checked: int = 0
    unsealed: int = 0


class EventChain:
    """The chain over one event store's log, kept in the events' database."""

    def __init__(self, engine: Engine, recorder: ApplicationRecorder, *, page: int = PAGE) -> None:
        self.engine = engine
        self.recorder = recorder
        self.page = page

    def head(self) -> Link | None:
        with self.engine.connect() as connection:
            return _head(connection)

    # -- sealing -----------------------------------------------------------------------------------

    def seal(self, turn: Turn = nullcontext) -> int:
        """Seal every event not sealed yet; how many. ``turn`` is held while writing (a server's write lock)."""
        total = 0
        while True:
            sealed = self._seal_page(turn)
            total += max(sealed, 0)
            if sealed < self.page:  # caught up (or a rival sealer got there first: it sealed the same events)
                return total

    def _seal_page(self, turn: Turn) -> int:
        head = self.head()
        previous, after = (bytes.fromhex(head.hash), head.position) if head else (GENESIS, 0)
        events = self.recorder.select_notifications(after, self.page, inclusive_of_start=False)
        if not events:
            return 0
        rows = []
        for event in events:
            previous = link_hash(previous, event)
            rows.append({"position": event.id, "hash": previous.hex()})
        try:
            with turn(), self.engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEAL_LOCK})
                if _head(connection) != head:
                    return -1  # a rival sealer moved on meanwhile
                connection.execute(insert(event_chain), rows)
        except IntegrityError:  # a rival on SQLite sealed these positions first
            return -1
        return len(rows)

    def follow(self, stop: threading.Event, interval: float = SEAL_INTERVAL, turn: Turn = nullcontext) -> None:
        """Keep sealing until ``stop`` is set."""
        while not stop.is_set():
            self.seal(turn)
            stop.wait(interval)

    # -- checking ----------------------------------------------------------------------------------

    def verify(self, checkpoint: Link | None = None) -> Verdict:
        """Recompute the chain from the stored events; the first position that does not match, if any."""
        head = self.head()
        sealed_through = head.position if head else 0
        # Both streams end where the log ended when we started: later writes and seals are for the next run.
        end = max(self.recorder.max_notification_id() or 0, sealed_through)
        tally = _Tally()
        problem = self._first_break(_merged(self._events(end), self._links(end)), sealed_through, checkpoint, tally)
        return Verdict(tally.checked, sealed_through, tally.unsealed, checkpoint, problem)

    @staticmethod
    def _first_break(positions: Iterator[tuple[int, Notification | None, str | None]], sealed_through: int,
                     checkpoint: Link | None, tally: _Tally) -> Break | None:
        running, reached = GENESIS, checkpoint is None
        for position, event, seal in positions:
            if not reached and checkpoint is not None and position > checkpoint.position:
                return _checkpoint_gone(checkpoint)
            if event is None:
                return Break(position, "missing", f"position {position} was sealed but its event is gone "
                                                  "(deleted, or moved to another position)")
            running = link_hash(running, event)
            tally.checked += 1
            if seal is None and position < sealed_through:
                return Break(position, "unsealed", f"the event at position {position} was never sealed although "
                                                   "later ones were: it was inserted or moved there")
            if seal is None:
                tally.unsealed += 1
            elif seal != running.hex():
                return Break(position, "changed", f"the event at position {position} is not the one sealed there: "
                                                  "it was changed, an event before it was removed or changed, or "
                                                  "events were reordered")
            if checkpoint is not None and position == checkpoint.position:
                reached = True
                if running.hex() != checkpoint.hash:
                    return Break(position, "checkpoint", f"the log up to position {position} does not reproduce the "
                                                         "checkpoint: events at or before it were changed, removed or "
                                                         "reordered, and the chain was rewritten to hide it")
        return None if reached or checkpoint is None else _checkpoint_gone(checkpoint)

    def _events(self, end: int) -> Iterator[Notification]:
        after = 0
        while True:
            page = self.recorder.select_notifications(after, self.page, stop=end, inclusive_of_start=False)
            yield from page
            if len(page) < self.page:
                return
            after = page[-1].id

    def _links(self, end: int) -> Iterator[Link]:
        after = 0
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(event_chain.c.position, event_chain.c.hash)
                    .where(event_chain.c.position > after, event_chain.c.position <= end)
                    .order_by(event_chain.c.position).limit(self.page)).all()
            yield from (Link(int(position), str(hash_)) for position, hash_ in rows)
            if len(rows) < self.page:
                return
            after = int(rows[-1][0])


def _head(connection: Connection) -> Link | None:
    last = connection.execute(select(event_chain.c.position, event_chain.c.hash)
                              .order_by(event_chain.c.position.desc()).limit(1)).first()
    return None if last is None else Link(int(last[0]), str(last[1]))


def _checkpoint_gone(checkpoint: Link) -> Break:
    return Break(checkpoint.position, "checkpoint", f"the checkpoint's position {checkpoint.position} is no longer "
                                                    "in the log: its event was removed, or the log was cut short")


def _merged(events: Iterator[Notification], links: Iterator[Link]) -> Iterator[tuple[int, Notification | None, str | None]]:
    """Positions in order, each with its event and its sealed hash (either may be missing)."""
    event, link = next(events, None), next(links, None)
    while event is not None or link is not None:
        if link is None or (event is not None and event.id < link.position):
            assert event is not None
            yield event.id, event, None
            event = next(events, None)
        elif event is None or link.position < event.id:
            yield link.position, None, link.hash
            link = next(links, None)
        else:
            yield event.id, event, link.hash
            event, link = next(events, None), next(links, None)
