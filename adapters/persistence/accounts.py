"""Users and bearer tokens in SQL (tables ``nimrs_users``, ``nimrs_tokens``, beside the events).

The account repository the use cases (``workflows.accounts``) run on: the same on SQLite and
PostgreSQL. A transaction's changes and its security log entries are committed together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from adapters.persistence.schema import tokens, users
from adapters.persistence.security_log import SecurityLog
from domain.actor import Actor
from workflows.accounts import StoredUser, UserExists

COLUMNS = tuple(field.name for field in fields(StoredUser))


def _stored(row: Any) -> StoredUser:
    return StoredUser(**{name: getattr(row, name) for name in COLUMNS})


class SqlAccountChanges:
    """One transaction (``workflows.accounts.AccountChanges``)."""

    def __init__(self, connection: Connection, security_log: SecurityLog) -> None:
        self.connection = connection
        self.security_log = security_log

    def user(self, user_id: str) -> StoredUser | None:
        row = self.connection.execute(select(users).where(users.c.user_id == user_id)).first()
        return None if row is None else _stored(row)

    def add_user(self, user: StoredUser) -> None:
        try:
            self.connection.execute(insert(users).values(**{name: getattr(user, name) for name in COLUMNS}))
        except IntegrityError:  # the transaction is rolled back as the error leaves it
            raise UserExists(user.user_id) from None

    def update_user(self, user_id: str, **values: Any) -> None:
        unknown = set(values) - set(COLUMNS)
        assert not unknown, f"no such user fields: {unknown}"
        self.connection.execute(update(users).where(users.c.user_id == user_id).values(**values))

    def update_user_if(self, user_id: str, expected: dict[str, Any], **values: Any) -> bool:
        unknown = (set(values) | set(expected)) - set(COLUMNS)
        assert not unknown, f"no such user fields: {unknown}"
        conditions = [users.c[name] == value for name, value in expected.items()]
        result = self.connection.execute(update(users).where(users.c.user_id == user_id, *conditions).values(**values))
        return result.rowcount == 1

    def reserve_sign_in(self, user_id: str, max_failed: int) -> bool:
        # One statement: concurrent sign-ins queue on the row (PostgreSQL) or the write lock (SQLite),
        # and each sees the count the one before it left, so at most ``max_failed`` get through.
        result = self.connection.execute(
            update(users)
            .where(users.c.user_id == user_id, users.c.failed_attempts < max_failed, users.c.locked_out.is_(False))
            .values(failed_attempts=users.c.failed_attempts + 1))
        return result.rowcount == 1

    def lock_if_failed(self, user_id: str, max_failed: int) -> bool:
        result = self.connection.execute(
            update(users)
            .where(users.c.user_id == user_id, users.c.failed_attempts >= max_failed, users.c.locked_out.is_(False))
            .values(locked_out=True))
        return result.rowcount == 1

    def add_token(self, digest: str, user_id: str, issued_at: datetime, expires_at: datetime) -> None:
        self.connection.execute(insert(tokens).values(token_hash=digest, user_id=user_id, issued_at=issued_at,
                                                      expires_at=expires_at))

    def revoke_tokens(self, user_id: str) -> int:
        return self.connection.execute(delete(tokens).where(tokens.c.user_id == user_id)).rowcount

    def drop_expired_tokens(self, now: datetime) -> None:
        self.connection.execute(delete(tokens).where(tokens.c.expires_at < now))

    def log(self, at: datetime, actor: Actor | None, action: str, target: str | None, outcome: str,
            detail: str | None = None, *, status: int | None = None, facility: str | None = None) -> None:
        self.security_log.record(self.connection, at, actor, action, target, outcome, detail, status=status,
                                 facility=facility)


class SqlAccountRepository:
    """``workflows.accounts.AccountRepository`` on a SQLAlchemy engine (the events' database)."""

    def __init__(self, engine: Engine, security_log: SecurityLog | None = None) -> None:
        self.engine = engine
        self.security_log = security_log or SecurityLog(engine)  # the runtime's: with its cipher

    @contextmanager
    def transaction(self) -> Iterator[SqlAccountChanges]:
        with self.engine.begin() as connection:
            yield SqlAccountChanges(connection, self.security_log)

    def user(self, user_id: str) -> StoredUser | None:
        with self.engine.connect() as connection:
            return SqlAccountChanges(connection, self.security_log).user(user_id)

    def users(self, facility: str | None = None) -> list[StoredUser]:
        query = select(users).order_by(users.c.user_id)
        if facility is not None:
            query = query.where(users.c.facility == facility)
        with self.engine.connect() as connection:
            return [_stored(row) for row in connection.execute(query)]

    def token_holder(self, digest: str) -> tuple[StoredUser, datetime] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(users, tokens.c.expires_at).join(tokens, tokens.c.user_id == users.c.user_id)
                .where(tokens.c.token_hash == digest)).first()
        return None if row is None else (_stored(row), row.expires_at)

    def revoke_token(self, digest: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(tokens).where(tokens.c.token_hash == digest))
