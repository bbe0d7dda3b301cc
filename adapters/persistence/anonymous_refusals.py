"""The security log's refusals of unidentified callers, counted per client address and minute.

A request without a valid token names no user and no facility: a row for each (as before) let
anyone fill the log and take the write lock at will, and no administrator could see the rows.
Instead a server counts them in memory (``adapters.http.limits``) and adds the counts here, one
row per address and minute (table ``nimrs_anonymous_refusals``). Only counts: never the path, the
body or a user name typed in, so nothing of a patient or another facility's records can land here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from typing_extensions import TypedDict

from adapters.persistence.schema import anonymous_refusals


class AnonymousRefusals(TypedDict):
    """Refusals of callers without a valid token from one address in one minute."""

    address: str
    minute: str  # ISO 8601, the start of the minute
    refusals: int  # refused (401 and the like)
    rate_limited: int  # refused with 429: over the limit for anonymous requests or sign-ins


class AnonymousRefusalLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, counts: Mapping[tuple[str, datetime], tuple[int, int]]) -> None:
        """Add ``(refusals, rate_limited)`` to each ``(address, minute)``, in one transaction."""
        if not counts:
            return
        dialect: Any = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with self.engine.begin() as connection:
            for (address, minute), (refused, limited) in sorted(counts.items()):
                statement = dialect.insert(anonymous_refusals).values(
                    address=address[:64], minute=minute, refusals=refused, rate_limited=limited)
                connection.execute(statement.on_conflict_do_update(
                    index_elements=[anonymous_refusals.c.address, anonymous_refusals.c.minute],
                    set_={"refusals": anonymous_refusals.c.refusals + statement.excluded.refusals,
                          "rate_limited": anonymous_refusals.c.rate_limited + statement.excluded.rate_limited}))

    def entries(self, *, since: datetime | None = None, limit: int = 200) -> list[AnonymousRefusals]:
        query = (select(anonymous_refusals)
                 .order_by(anonymous_refusals.c.minute.desc(), anonymous_refusals.c.address).limit(limit))
        if since is not None:
            query = query.where(anonymous_refusals.c.minute >= since)
        with self.engine.connect() as connection:
            return [{"address": row.address, "minute": row.minute.isoformat(), "refusals": row.refusals,
                     "rate_limited": row.rate_limited} for row in connection.execute(query)]
