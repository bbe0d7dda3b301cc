"""Rate limits kept in the database (table ``nimrs_rate_limits``), so every server process shares them.

A fixed window per bucket: the first hit of a window starts it, each hit adds one in a single
``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` (atomic on SQLite and PostgreSQL alike), and a
hit past the limit is refused until the window ends. Buckets are stored as the SHA-256 of what is
limited, so the table holds no user name (or password typed into the name field) and no address.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, literal
from sqlalchemy.engine import Engine

from adapters.persistence.schema import rate_limits
from projections.schema import UtcDateTime

SWEEP_EVERY = timedelta(minutes=10)  # ended windows are deleted at most this often per process


class SqlRateLimits:
    """``workflows.accounts.RateLimits``: fixed windows in the events' database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._swept_at: datetime | None = None

    def hit(self, buckets: list[tuple[str, int]], window: timedelta, now: datetime) -> timedelta | None:
        """Count one hit on each ``(bucket, limit)``; how long until the caller may try again, if any is over."""
        from sqlalchemy.dialects import postgresql, sqlite  # imported here: a command that never signs in pays nothing

        dialect: Any = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        ended = rate_limits.c.window_start <= literal(now - window, UtcDateTime)
        wait: timedelta | None = None
        with self.engine.begin() as connection:
            for bucket, limit in buckets:
                key = hashlib.sha256(bucket.encode()).hexdigest()
                # A new window starts at the first hit after the last one ended.
                statement = dialect.insert(rate_limits).values(bucket=key, window_start=now, hits=1)
                statement = statement.on_conflict_do_update(index_elements=[rate_limits.c.bucket], set_={
                    "window_start": case((ended, statement.excluded.window_start), else_=rate_limits.c.window_start),
                    "hits": case((ended, 1), else_=rate_limits.c.hits + 1),
                }).returning(rate_limits.c.window_start, rate_limits.c.hits)
                row = connection.execute(statement).one()
                if row.hits > limit:
                    left = row.window_start + window - now
                    wait = left if wait is None else max(wait, left)
            if self._swept_at is None or now - self._swept_at >= SWEEP_EVERY:
                self._swept_at = now
                connection.execute(delete(rate_limits).where(rate_limits.c.window_start < now - window))
        return wait
