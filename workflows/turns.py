"""One command at a time per incident within a process, so concurrent commands on one incident queue instead of
colliding: the loser of a collision would have loaded, checked and decided for nothing. Commands on different
incidents never wait for each other (their saves still share a transaction: ``adapters.persistence.group_commit``).
Other processes' commands can still collide; the use cases retry those (``workflows.service``)."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager


class Turns:
    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}  # key -> its lock, and how many hold or wait

    @contextmanager
    def of(self, key: Hashable) -> Iterator[None]:
        with self._guard:
            lock, users = self._locks.get(key) or (threading.Lock(), 0)
            self._locks[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]  # nobody waits: the table stays as small as the commands in flight
                else:
                    self._locks[key] = (lock, users - 1)
