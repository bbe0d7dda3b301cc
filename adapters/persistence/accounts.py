"""Users and bearer tokens in SQL (tables ``nimrs_users``, ``nimrs_tokens``, beside the events).

The account repository the use cases (``workflows.accounts``) run on: the same on SQLite and
PostgreSQL. A transaction's changes and its security log entries are committed together. A user's
email address (personal data) is encrypted with the column cipher when a key is set.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
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
from projections.encryption import PLAIN, FieldCipher
from workflows.accounts import StoredUser, UserExists

COLUMNS = tuple(field.name for field in fields(StoredUser))
IN_LIST = 1000  # digests per query: well within every database's limit on bound parameters
ENCRYPTED = frozenset({"email"})  # personal data: stored through the column cipher


def _stored(row: Any, cipher: FieldCipher) -> StoredUser:
    values: dict[str, Any] = {name: getattr(row, name) for name in COLUMNS}
    for name in ENCRYPTED:
        if values[name] is not None:
            values[name] = cipher.decrypt(values[name])
    return StoredUser(**values)


def _columns(cipher: FieldCipher, values: dict[str, Any]) -> dict[str, Any]:
    """The values as stored: the personal ones encrypted."""
    unknown = set(values) - set(COLUMNS)
    assert not unknown, f"no such user fields: {unknown}"
    return {name: cipher.encrypt(value) if name in ENCRYPTED and value is not None else value
            for name, value in values.items()}


class SqlAccountChanges:
    """One transaction (``workflows.accounts.AccountChanges``)."""

    def __init__(self, connection: Connection, security_log: SecurityLog, cipher: FieldCipher = PLAIN) -> None:
        self.connection = connection
        self.security_log = security_log
        self.cipher = cipher

    def user(self, user_id: str) -> StoredUser | None:
        row = self.connection.execute(select(users).where(users.c.user_id == user_id)).first()
        return None if row is None else _stored(row, self.cipher)

    def add_user(self, user: StoredUser) -> None:
        try:
            self.connection.execute(insert(users).values(
                **_columns(self.cipher, {name: getattr(user, name) for name in COLUMNS})))
        except IntegrityError:  # the transaction is rolled back as the error leaves it
            raise UserExists(user.user_id) from None

    def update_user(self, user_id: str, **values: Any) -> None:
        self.connection.execute(update(users).where(users.c.user_id == user_id).values(**_columns(self.cipher, values)))

    def update_user_if(self, user_id: str, expected: dict[str, Any], **values: Any) -> bool:
        unknown = set(expected) - set(COLUMNS)
        assert not unknown, f"no such user fields: {unknown}"
        assert not ENCRYPTED & set(expected), "an encrypted field is never the same ciphertext twice: not a condition"
        values = _columns(self.cipher, values)
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

    def __init__(self, engine: Engine, security_log: SecurityLog | None = None, cipher: FieldCipher = PLAIN) -> None:
        self.engine = engine
        self.security_log = security_log or SecurityLog(engine, cipher)  # the runtime's: with its cipher
        self.cipher = cipher  # the runtime's column cipher, for the email addresses

    @contextmanager
    def transaction(self) -> Iterator[SqlAccountChanges]:
        with self.engine.begin() as connection:
            yield SqlAccountChanges(connection, self.security_log, self.cipher)

    def user(self, user_id: str) -> StoredUser | None:
        with self.engine.connect() as connection:
            return SqlAccountChanges(connection, self.security_log, self.cipher).user(user_id)

    def users(self, facility: str | None = None) -> list[StoredUser]:
        query = select(users).order_by(users.c.user_id)
        if facility is not None:
            query = query.where(users.c.facility == facility)
        with self.engine.connect() as connection:
            return [_stored(row, self.cipher) for row in connection.execute(query)]

    def token_holder(self, digest: str) -> tuple[StoredUser, datetime] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(users, tokens.c.expires_at).join(tokens, tokens.c.user_id == users.c.user_id)
                .where(tokens.c.token_hash == digest)).first()
        return None if row is None else (_stored(row, self.cipher), row.expires_at)

    def tokens_in_force(self, digests: Collection[str], now: datetime) -> set[str]:
        chosen = list(digests)
        found: set[str] = set()
        with self.engine.connect() as connection:
            for start in range(0, len(chosen), IN_LIST):
                found.update(connection.execute(
                    select(tokens.c.token_hash).join(users, users.c.user_id == tokens.c.user_id)
                    .where(tokens.c.token_hash.in_(chosen[start:start + IN_LIST]), tokens.c.expires_at > now,
                           users.c.disabled.is_(False), users.c.locked_out.is_(False))).scalars())
        return found

    def revoke_token(self, digest: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(tokens).where(tokens.c.token_hash == digest))
