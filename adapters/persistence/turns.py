"""One process at a time for work that every server process could do but only one should (the live projector):
a PostgreSQL session advisory lock, held on its own connection for as long as the process does the work. If the
process dies, its connection closes, the lock is released, and another process takes the turn within
``TURN_RETRY_SECONDS``. SQLite has one server process: its turn is always granted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine

TURN_RETRY_SECONDS = 2.0
LIVE_PROJECTOR_TURN = 0x6E696D7273_02  # the lock's key (the sealer's is ..._01)


@contextmanager
def process_turn(engine: Engine, key: int, stop: threading.Event) -> Iterator[bool]:
    """Wait for the turn (or for ``stop``); yields whether it was granted, and holds it until the block ends."""
    if engine.dialect.name != "postgresql":
        yield not stop.is_set()
        return
    with engine.connect() as connection:
        while not stop.is_set():
            granted = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
            connection.commit()
            if granted:
                try:
                    yield True
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
                return
            stop.wait(TURN_RETRY_SECONDS)
        yield False
