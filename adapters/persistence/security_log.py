"""The security log: every sign-in, account change and refused command, with who tried what.

Append-only (table ``nimrs_security_log`` in ``adapters.persistence.schema``, beside the events).
Refused commands are not incident events: a refusal changes nothing, and recording it on the
incident would move its version (and disclose another facility's incident to its history).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Engine
from typing_extensions import TypedDict

from adapters.persistence.schema import security_log
from domain.actor import Actor
from projections.encryption import PLAIN, FieldCipher


class SecurityLogEntry(TypedDict):
    """One entry: a sign-in, an account change or a refusal, with who and when."""

    entry: int
    at: str
    user_id: str  # who: the user, or "anonymous" / "cli" when none is known
    facility: str | None
    level: int | None
    action: str  # e.g. sign_in, user.unlocked, or the refused route: POST /incidents/{reference}/close
    target: str | None
    outcome: str  # done or refused
    status: int | None  # the HTTP status of a refusal
    detail: str | None


class SecurityLog:
    def __init__(self, engine: Engine, cipher: FieldCipher = PLAIN) -> None:
        self.engine = engine
        self.cipher = cipher  # ``detail`` is encrypted at rest when a key is set: a refusal may echo what was sent

    def record(self, connection: Connection, at: datetime, actor: Actor | None, action: str, target: str | None,
               outcome: str, detail: str | None = None, *, status: int | None = None,
               facility: str | None = None, user_id: str | None = None) -> None:
        detail = (detail or "")[:2000] or None
        connection.execute(insert(security_log).values(
            at=at, user_id=actor.user_id if actor else (user_id or "cli"),
            facility=facility or (actor.facility if actor else None), level=int(actor.level) if actor else None,
            action=action, target=target, outcome=outcome, status=status,
            detail=None if detail is None else self.cipher.encrypt(detail)))

    def refused(self, at: datetime, actor: Actor | None, action: str, target: str | None, status: int,
                detail: str, user_id: str | None = None) -> None:
        with self.engine.begin() as connection:
            self.record(connection, at, actor, action, target, "refused", detail, status=status, user_id=user_id)

    def entries(self, *, facility: str | None, since: datetime | None = None, outcome: str | None = None,
                limit: int = 200) -> list[SecurityLogEntry]:
        query = select(security_log).order_by(security_log.c.entry.desc()).limit(limit)
        if facility is not None:
            query = query.where(security_log.c.facility == facility)
        if since is not None:
            query = query.where(security_log.c.at >= since)
        if outcome is not None:
            query = query.where(security_log.c.outcome == outcome)
        with self.engine.connect() as connection:
            return [{"entry": row.entry, "at": row.at.isoformat(), "user_id": row.user_id, "facility": row.facility,
                     "level": row.level, "action": row.action, "target": row.target, "outcome": row.outcome,
                     "status": row.status, "detail": None if row.detail is None else self.cipher.decrypt(row.detail)}
                    for row in connection.execute(query)]
