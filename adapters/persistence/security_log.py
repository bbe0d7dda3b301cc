"""The security log: every sign-in, account change and refused command, with who tried what.

Append-only (table ``nimrs_security_log`` in ``adapters.persistence.schema``, beside the events).
Refused commands are not incident events: a refusal changes nothing, and recording it on the
incident would move its version (and disclose another facility's incident to its history).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine

from adapters.persistence.schema import security_log
from domain.actor import Actor


class SecurityLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def record(connection: Connection, at: datetime, actor: Actor | None, action: str, target: str | None,
               outcome: str, detail: str | None = None, *, status: int | None = None,
               facility: str | None = None, user_id: str | None = None) -> None:
        connection.execute(insert(security_log).values(
            at=at, user_id=actor.user_id if actor else (user_id or "cli"),
            facility=facility or (actor.facility if actor else None), level=int(actor.level) if actor else None,
            action=action, target=target, outcome=outcome, status=status, detail=(detail or "")[:2000] or None))

    def refused(self, at: datetime, actor: Actor | None, action: str, target: str | None, status: int,
                detail: str, user_id: str | None = None) -> None:
        with self.engine.begin() as connection:
            self.record(connection, at, actor, action, target, "refused", detail, status=status, user_id=user_id)

    def entries(self, *, facility: str | None, since: datetime | None = None, outcome: str | None = None,
                limit: int = 200) -> list[dict[str, Any]]:
        query = select(security_log).order_by(security_log.c.entry.desc()).limit(limit)
        if facility is not None:
            query = query.where(security_log.c.facility == facility)
        if since is not None:
            query = query.where(security_log.c.at >= since)
        if outcome is not None:
            query = query.where(security_log.c.outcome == outcome)
        with self.engine.connect() as connection:
            return [{**row._asdict(), "at": row.at.isoformat()} for row in connection.execute(query)]
