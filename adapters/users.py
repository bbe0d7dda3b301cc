"""Users, passwords, sign-in and bearer tokens (NIMRS FAQ security groups and sign-in rules).

Kept in the same database as the events (tables ``nimrs_users``, ``nimrs_tokens``), so it
works the same on SQLite and PostgreSQL. Passwords are hashed with Argon2id; a token is 32
random bytes handed out once, of which only the SHA-256 is stored, and it expires. Every
sign-in, lock, unlock and account change is written to the security log (``adapters.security_log``).
The lock rules themselves are pure: ``domain.accounts``.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from adapters.security_log import SecurityLog
from adapters.storage import StoreConfig
from domain import accounts
from domain.accounts import AccountStatus, SignInFacts
from domain.actor import Actor
from domain.clock import Clock, utc_now
from domain.errors import Conflict, NimrsError, NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from domain.vocabulary import Level
from projections.schema import UtcDateTime
from workflows.permissions import require_facility

metadata = MetaData()
users = Table(
    "nimrs_users", metadata,
    Column("user_id", String(64), primary_key=True),
    Column("facility", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("security_admin", Boolean, nullable=False, server_default=text("false")),
    Column("state_reviewer", Boolean, nullable=False, server_default=text("false")),
    Column("password_hash", String(200)),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_out", Boolean, nullable=False, server_default=text("false")),
    Column("last_active_at", UtcDateTime),  # last sign-in, creation, unlock or re-establishment
    Column("last_sign_in_at", UtcDateTime),
)
tokens = Table(
    "nimrs_tokens", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", String(64), nullable=False, index=True),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
TOKEN_LIFETIME = timedelta(hours=8)
WRONG = "wrong user name or password"


@dataclass(frozen=True)
class Account:
    user_id: str
    facility: str
    level: int
    security_admin: bool
    state_reviewer: bool
    has_password: bool
    status: str
    failed_attempts: int
    last_sign_in_at: datetime | None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.facility, Level(self.level), state_reviewer=self.state_reviewer)

    def as_dict(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "facility": self.facility, "level": self.level,
                "security_admin": self.security_admin, "state_reviewer": self.state_reviewer,
                "status": self.status, "failed_attempts": self.failed_attempts,
                "last_sign_in_at": self.last_sign_in_at.isoformat() if self.last_sign_in_at else None,
                "can_sign_in": self.has_password}


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the actor, plus the roles that are not recorded on events."""

    actor: Actor
    security_admin: bool = False

    @property
    def user_id(self) -> str:
        return self.actor.user_id


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    account: Account


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_name(what: str, value: str) -> None:
    if not NAME.match(value or ""):
        raise ValidationFailed(f"{what} {value!r} must be 1-64 letters, digits or . _ @ -")


def _check_password(password: str) -> None:
    if problems := accounts.password_problems(password):
        raise ValidationFailed("the password is not acceptable", problems=problems)


class UserRegistry:
    def __init__(self, engine: Engine, clock: Clock = utc_now, token_lifetime: timedelta = TOKEN_LIFETIME) -> None:
        self.engine = engine
        self.clock = clock
        self.token_lifetime = token_lifetime
        self.hasher = PasswordHasher()  # Argon2id, RFC 9106 low-memory profile defaults
        self.log = SecurityLog(engine)
        metadata.create_all(engine)
        self._add_missing_columns()

    @classmethod
    def open(cls, config: StoreConfig, clock: Clock = utc_now) -> UserRegistry:
        return cls(create_engine(config.sqlalchemy_url), clock)

    def _add_missing_columns(self) -> None:
        """A registry made before sign-in existed lacks the newer columns: add them (nothing is lost)."""
        present = {c["name"] for c in inspect(self.engine).get_columns("nimrs_users")}
        with self.engine.begin() as connection:
            for column in users.columns:
                if column.name not in present:
                    kind = column.type.compile(self.engine.dialect)
                    default = f" DEFAULT {column.server_default.arg}" if column.server_default is not None else ""  # type: ignore[attr-defined]
                    nullable = " NOT NULL" if not column.nullable and default else ""
                    connection.execute(text(f'ALTER TABLE nimrs_users ADD COLUMN "{column.name}" {kind}{default}{nullable}'))

    # -- accounts ------------------------------------------------------------------------------

    def add(self, user_id: str, facility: str, level: int, *, password: str | None = None,
            security_admin: bool = False, state_reviewer: bool = False, by: Principal | None = None) -> Account:
        if by is not None:
            self._require_admin(by, facility, "add users")
        _check_name("user name", user_id)
        _check_name("facility", facility)
        if level not in (1, 2, 3):
            raise ValidationFailed(f"level must be 1, 2 or 3, got {level!r}")
        if password is not None:
            _check_password(password)
        now = self.clock()
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(users).values(
                    user_id=user_id, facility=facility, level=level, security_admin=security_admin,
                    state_reviewer=state_reviewer, password_hash=self.hasher.hash(password) if password else None,
                    failed_attempts=0, locked_out=False, last_active_at=now))
                self.log.record(connection, now, by.actor if by else None, "user.added", user_id, "done",
                                f"facility {facility}, Level {level}"
                                + (", security administrator" if security_admin else "")
                                + (", state reviewer" if state_reviewer else ""), facility=facility)
        except IntegrityError:
            raise Conflict(f"user {user_id!r} already exists") from None
        return self.account(user_id)

    def ensure(self, actor: Actor) -> None:
        """Add the user unless one of that name exists."""
        with contextlib.suppress(Conflict):
            self.add(actor.user_id, actor.facility, int(actor.level))

    def _row(self, connection: Connection, user_id: str) -> Any:
        return connection.execute(select(users).where(users.c.user_id == user_id)).first()

    def _account(self, row: Any) -> Account:
        facts = SignInFacts(row.failed_attempts, row.last_active_at or self.clock(), row.locked_out)
        return Account(row.user_id, row.facility, row.level, bool(row.security_admin), bool(row.state_reviewer),
                       row.password_hash is not None, accounts.status(facts, self.clock()), row.failed_attempts,
                       row.last_sign_in_at)

    def account(self, user_id: str) -> Account:
        with self.engine.connect() as connection:
            row = self._row(connection, user_id)
        if row is None:
            raise NotFound(f"unknown user {user_id!r}; add one with: nimrs users add NAME --facility F --level 1|2|3")
        return self._account(row)

    def get(self, user_id: str) -> Actor:
        return self.account(user_id).actor

    def all(self, facility: str | None = None) -> list[Account]:
        query = select(users).order_by(users.c.user_id)
        if facility is not None:
            query = query.where(users.c.facility == facility)
        with self.engine.connect() as connection:
            return [self._account(row) for row in connection.execute(query)]

    def listed_for(self, by: Principal) -> list[Account]:
        self._require_admin(by, by.actor.facility, "list users")
        return self.all(by.actor.facility)

    def _require_admin(self, by: Principal, facility: str, what: str) -> None:
        if not by.security_admin:
            raise PermissionDenied(f"only a security administrator may {what}; {by.user_id!r} is not one")
        require_facility(by.actor, facility, f"facility {facility!r}")

    def _managed(self, connection: Connection, by: Principal | None, user_id: str, what: str) -> Any:
        row = self._row(connection, user_id)
        if by is not None:
            self._require_admin(by, by.actor.facility, what)
        if row is None or (by is not None and row.facility != by.actor.facility):
            raise NotFound(f"user {user_id!r} not found" + (f" in facility {by.actor.facility!r}" if by else ""))
        return row

    def unlock(self, user_id: str, by: Principal | None = None) -> Account:
        """Clear a lockout or an inactivity lock; a year-old account needs re-establishing instead."""
        now = self.clock()
        with self.engine.begin() as connection:
            row = self._managed(connection, by, user_id, "unlock users")
            if self._account(row).status == AccountStatus.EXPIRED:
                raise Conflict(f"user {user_id!r} has not signed in for a year: re-establish the account with a "
                               "new password instead of unlocking it")
            connection.execute(update(users).where(users.c.user_id == user_id).values(
                failed_attempts=0, locked_out=False, last_active_at=now))
            self.log.record(connection, now, by.actor if by else None, "user.unlocked", user_id, "done",
                            facility=row.facility)
        return self.account(user_id)

    def reestablish(self, user_id: str, password: str, by: Principal | None = None) -> Account:
        """Give the account a new password and make it active again (any lock is cleared)."""
        _check_password(password)
        now = self.clock()
        with self.engine.begin() as connection:
            row = self._managed(connection, by, user_id, "re-establish users")
            connection.execute(update(users).where(users.c.user_id == user_id).values(
                password_hash=self.hasher.hash(password), failed_attempts=0, locked_out=False, last_active_at=now))
            connection.execute(delete(tokens).where(tokens.c.user_id == user_id))
            self.log.record(connection, now, by.actor if by else None, "user.re_established", user_id, "done",
                            facility=row.facility)
        return self.account(user_id)

    # -- sign-in and tokens ----------------------------------------------------------------------

    def sign_in(self, user_id: str, password: str) -> IssuedToken:
        now = self.clock()
        with self.engine.begin() as connection:
            row = self._row(connection, user_id) if NAME.match(user_id or "") else None
            if row is None or row.password_hash is None:
                self.hasher.hash("timing: an unknown user costs as much as a known one")
                self.log.record(connection, now, None, "sign_in", user_id[:64], "refused", WRONG, status=401)
                outcome: IssuedToken | NimrsError = Unauthenticated(WRONG)
            else:
                outcome = self._check_sign_in(connection, row, password, now)
        # A refusal is raised only after the transaction commits, so the failed attempt is counted.
        if isinstance(outcome, IssuedToken):
            return outcome
        raise outcome

    def _check_sign_in(self, connection: Connection, row: Any, password: str,
                       now: datetime) -> IssuedToken | NimrsError:
        actor = Actor(row.user_id, row.facility, Level(row.level))
        current = self._account(row).status
        if current != AccountStatus.ACTIVE:
            self.log.record(connection, now, actor, "sign_in", row.user_id, "refused", current, status=403)
            return PermissionDenied(accounts.explain(current))
        try:
            self.hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            failed = row.failed_attempts + 1
            locked = failed >= accounts.MAX_FAILED_SIGN_INS
            connection.execute(update(users).where(users.c.user_id == row.user_id).values(
                failed_attempts=failed, locked_out=locked))
            self.log.record(connection, now, actor, "sign_in", row.user_id, "refused", f"wrong password ({failed} in a row)",
                            status=401)
            if locked:
                self.log.record(connection, now, actor, "user.locked_out", row.user_id, "done",
                                f"{failed} failed sign-ins in a row")
                return Unauthenticated(f"{WRONG}; {accounts.explain(AccountStatus.LOCKED_OUT)}")
            return Unauthenticated(WRONG)
        token = secrets.token_urlsafe(32)
        expires = now + self.token_lifetime
        values: dict[str, Any] = {"failed_attempts": 0, "last_active_at": now, "last_sign_in_at": now}
        if self.hasher.check_needs_rehash(row.password_hash):
            values["password_hash"] = self.hasher.hash(password)
        connection.execute(update(users).where(users.c.user_id == row.user_id).values(**values))
        connection.execute(insert(tokens).values(token_hash=_hash_token(token), user_id=row.user_id, issued_at=now,
                                                 expires_at=expires))
        connection.execute(delete(tokens).where(tokens.c.expires_at < now))
        self.log.record(connection, now, actor, "sign_in", row.user_id, "done")
        return IssuedToken(token, expires, self._account(self._row(connection, row.user_id)))

    def authenticate(self, token: str) -> tuple[Principal, datetime]:
        """The principal a bearer token stands for, and when the token expires."""
        now = self.clock()
        with self.engine.connect() as connection:
            row = connection.execute(
                select(users, tokens.c.expires_at).join(tokens, tokens.c.user_id == users.c.user_id)
                .where(tokens.c.token_hash == _hash_token(token))).first()
        if row is None or row.expires_at <= now:
            raise Unauthenticated("the bearer token is unknown or has expired; sign in again at POST /auth/token")
        actor = Actor(row.user_id, row.facility, Level(row.level), state_reviewer=bool(row.state_reviewer))
        return Principal(actor, bool(row.security_admin)), row.expires_at

    def sign_out(self, token: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(tokens).where(tokens.c.token_hash == _hash_token(token)))

    def dispose(self) -> None:
        self.engine.dispose()


def token_lifetime_from(environ: dict[str, str] | Any) -> timedelta:
    raw = environ.get("NIMRS_TOKEN_MINUTES")
    if not raw:
        return TOKEN_LIFETIME
    try:
        minutes = int(raw)
    except ValueError:
        raise ValidationFailed(f"NIMRS_TOKEN_MINUTES must be a whole number of minutes, got {raw!r}") from None
    if not 1 <= minutes <= 24 * 60:
        raise ValidationFailed("NIMRS_TOKEN_MINUTES must be between 1 and 1440")
    return timedelta(minutes=minutes)

