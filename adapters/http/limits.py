"""Requests without a valid token: counted per client address and minute, and limited.

Each server process counts the refusals of callers it cannot name (no token, an unknown or
expired one, a refused sign-in) in memory, per client address and minute, and adds the counts to
the security log's ``nimrs_anonymous_refusals`` (``adapters.persistence.anonymous_refusals``) at
most every ``FLUSH_SECONDS``, at shutdown, and before that table is read: one short write per
address and interval, whatever the traffic, instead of a row (and the write lock) per request.

Past ``NIMRS_ANONYMOUS_LIMIT_PER_ADDRESS`` refusals in a minute, an address's further requests
without a valid token are refused with 429 and ``Retry-After`` before any lookup. The count is the
process's own: with N server processes an address gets at most N times the limit (sign-ins are
limited in the database, shared by every process: ``adapters.persistence.rate_limits``). A valid
token is never refused here, so colleagues behind the same address as an attacker keep working.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from datetime import datetime

from fastapi import Request

from adapters.persistence.anonymous_refusals import AnonymousRefusalLog
from adapters.persistence.errors import STORE_ERRORS
from domain.clock import Clock
from domain.errors import TooManyRequests

FLUSH_SECONDS = 5.0
MAX_ADDRESSES = 50_000  # per minute in memory; beyond it, refusals are counted under OVERFLOW
OVERFLOW = "(other addresses)"
log = logging.getLogger("nimrs.http")


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy: uvicorn's ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else "unknown"


class AnonymousGate:
    def __init__(self, log_: AnonymousRefusalLog, limit: int, clock: Clock) -> None:
        self.log = log_
        self.limit = limit
        self.clock = clock
        self._lock = threading.Lock()
        self._minute: datetime | None = None
        self._this_minute: dict[str, int] = defaultdict(int)  # refusals per address in the current minute
        self._unwritten: dict[tuple[str, datetime], list[int]] = {}  # (address, minute) -> [refused, rate limited]
        self._written_at = time.monotonic()

    def _current(self, now: datetime) -> datetime:
        minute = now.replace(second=0, microsecond=0)
        if minute != self._minute:
            self._minute = minute
            self._this_minute.clear()
        return minute

    def check(self, address: str) -> None:
        """Refuse with 429 an address past its limit this minute (it sent no valid token)."""
        now = self.clock()
        with self._lock:
            self._current(now)
            over = self._this_minute.get(address, 0) >= self.limit
        if over:
            wait = 60 - now.second
            raise TooManyRequests(f"too many refused requests without a valid token from {address}; sign in "
                                  f"(POST /auth/token) and send the token, or try again in {wait} s",
                                  retry_after_seconds=wait)

    def refused(self, address: str, *, rate_limited: bool) -> None:
        """Count one refusal of a caller without a valid token."""
        now = self.clock()
        with self._lock:
            minute = self._current(now)
            if address not in self._this_minute and len(self._this_minute) >= MAX_ADDRESSES:
                address = OVERFLOW
            self._this_minute[address] += 1
            counts = self._unwritten.setdefault((address, minute), [0, 0])
            counts[1 if rate_limited else 0] += 1
            due = time.monotonic() - self._written_at >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Add the counts so far to the security log (kept for the next try if the store is down)."""
        with self._lock:
            unwritten, self._unwritten = self._unwritten, {}
            self._written_at = time.monotonic()
        if not unwritten:
            return
        try:
            self.log.add({key: (refused, limited) for key, (refused, limited) in unwritten.items()})
        except STORE_ERRORS:
            log.exception("could not add anonymous refusals to the security log; kept for the next try")
            with self._lock:
                if len(self._unwritten) + len(unwritten) > MAX_ADDRESSES:  # down for long: memory comes first
                    return
                for key, (refused, limited) in unwritten.items():
                    counts = self._unwritten.setdefault(key, [0, 0])
                    counts[0] += refused
                    counts[1] += limited

