"""Account use cases: adding users, unlocking and re-establishing them, sign-in, bearer tokens, sign-out.

The NIMRS FAQ's security groups and sign-in rules. The lock rules themselves are pure
(``domain.accounts``); the rule of this layer is who may manage whom: a security administrator
manages only its own facility's users (another facility's are "not found"). Every sign-in, lock,
unlock and account change is written to the security log in the same transaction as the change.

Where accounts are stored, how passwords are hashed (Argon2id) and how tokens are made (32 random
bytes, of which only the SHA-256 is stored) are the adapters' business, behind the protocols below
(``adapters.persistence.accounts``, ``adapters.credentials``).
"""

from __future__ import annotations

import contextlib
import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from domain import accounts
from domain.accounts import AccountStatus, SignInFacts
from domain.actor import Actor
from domain.clock import Clock
from domain.errors import Conflict, NimrsError, NotFound, PermissionDenied, Unauthenticated, ValidationFailed
from domain.vocabulary import Level
from workflows.permissions import require_facility

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
    status: AccountStatus
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


# -- the ports: what the use cases need from the adapters ------------------------------------------

@dataclass(frozen=True)
class StoredUser:
    """A user as stored."""

    user_id: str
    facility: str
    level: int
    security_admin: bool = False
    state_reviewer: bool = False
    password_hash: str | None = None
    failed_attempts: int = 0
    locked_out: bool = False
    last_active_at: datetime | None = None  # last sign-in, creation, unlock or re-establishment
    last_sign_in_at: datetime | None = None


class UserExists(Exception):
    """The repository already holds a user of that name."""


class AccountChanges(Protocol):
    """One transaction on the accounts and the security log: all of it is stored, or none."""

    def user(self, user_id: str) -> StoredUser | None: ...

    def add_user(self, user: StoredUser) -> None:
        """Raises ``UserExists`` if the name is taken."""

    def update_user(self, user_id: str, **fields: Any) -> None:
        """Set the named ``StoredUser`` fields."""

    def add_token(self, digest: str, user_id: str, issued_at: datetime, expires_at: datetime) -> None: ...

    def revoke_tokens(self, user_id: str) -> None: ...

    def drop_expired_tokens(self, now: datetime) -> None: ...

    def log(self, at: datetime, actor: Actor | None, action: str, target: str | None, outcome: str,
            detail: str | None = None, *, status: int | None = None, facility: str | None = None) -> None:
        """Append to the security log."""


class AccountRepository(Protocol):
    def transaction(self) -> AbstractContextManager[AccountChanges]: ...

    def user(self, user_id: str) -> StoredUser | None: ...

    def users(self, facility: str | None = None) -> list[StoredUser]:
        """Every user (of a facility), by name."""

    def token_holder(self, digest: str) -> tuple[StoredUser, datetime] | None:
        """The user a token (by its digest) was issued to, and when it expires."""

    def revoke_token(self, digest: str) -> None: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool: ...

    def needs_rehash(self, password_hash: str) -> bool: ...


class BearerTokens(Protocol):
    def new(self) -> str:
        """A fresh, unguessable token, handed out once."""

    def digest(self, token: str) -> str:
        """What is stored and looked up instead of the token."""


# -- the use cases ---------------------------------------------------------------------------------

def _check_name(what: str, value: str) -> None:
    if not NAME.match(value or ""):
        raise ValidationFailed(f"{what} {value!r} must be 1-64 letters, digits or . _ @ -")


def _check_password(password: str) -> None:
    if problems := accounts.password_problems(password):
        raise ValidationFailed("the password is not acceptable", problems=problems)


def _require_admin(by: Principal, facility: str, what: str) -> None:
    """The admin rule: a security administrator manages only its own facility's users."""
    if not by.security_admin:
        raise PermissionDenied(f"only a security administrator may {what}; {by.user_id!r} is not one")
    require_facility(by.actor, facility, f"facility {facility!r}")


class AccountService:
    """The accounts, as the CLI (acting for the operator: ``by=None``) and the HTTP API (``by=`` an administrator) use them."""

    def __init__(self, repository: AccountRepository, hasher: PasswordHasher, tokens: BearerTokens, clock: Clock,
                 token_lifetime: timedelta = TOKEN_LIFETIME) -> None:
        self.repository = repository
        self.hasher = hasher
        self.tokens = tokens
        self.clock = clock
        self.token_lifetime = token_lifetime

    # -- accounts ------------------------------------------------------------------------------

    def add(self, user_id: str, facility: str, level: int, *, password: str | None = None,
            security_admin: bool = False, state_reviewer: bool = False, by: Principal | None = None) -> Account:
        if by is not None:
            _require_admin(by, facility, "add users")
        _check_name("user name", user_id)
        _check_name("facility", facility)
        if isinstance(level, bool) or level not in {int(known) for known in Level}:
            *others, last = (str(int(known)) for known in Level)
            raise ValidationFailed(f"level must be {', '.join(others)} or {last}, got {level!r}")
        if password is not None:
            _check_password(password)
        now = self.clock()
        try:
            with self.repository.transaction() as changes:
                changes.add_user(StoredUser(
                    user_id=user_id, facility=facility, level=level, security_admin=security_admin,
                    state_reviewer=state_reviewer, password_hash=self.hasher.hash(password) if password else None,
                    failed_attempts=0, locked_out=False, last_active_at=now))
                changes.log(now, by.actor if by else None, "user.added", user_id, "done",
                            f"facility {facility}, Level {level}"
                            + (", security administrator" if security_admin else "")
                            + (", state reviewer" if state_reviewer else ""), facility=facility)
        except UserExists:
            raise Conflict(f"user {user_id!r} already exists") from None
        return self.account(user_id)

    def ensure(self, actor: Actor) -> None:
        """Add the user unless one of that name exists."""
        with contextlib.suppress(Conflict):
            self.add(actor.user_id, actor.facility, int(actor.level))

    def _account(self, user: StoredUser) -> Account:
        facts = SignInFacts(user.failed_attempts, user.last_active_at or self.clock(), user.locked_out)
        return Account(user.user_id, user.facility, user.level, bool(user.security_admin), bool(user.state_reviewer),
                       user.password_hash is not None, accounts.status(facts, self.clock()), user.failed_attempts,
                       user.last_sign_in_at)

    def account(self, user_id: str) -> Account:
        user = self.repository.user(user_id)
        if user is None:
            raise NotFound(f"unknown user {user_id!r}; add one with: nimrs users add NAME --facility F --level 1|2|3")
        return self._account(user)

    def get(self, user_id: str) -> Actor:
        return self.account(user_id).actor

    def all(self, facility: str | None = None) -> list[Account]:
        return [self._account(user) for user in self.repository.users(facility)]

    def listed_for(self, by: Principal) -> list[Account]:
        _require_admin(by, by.actor.facility, "list users")
        return self.all(by.actor.facility)

    def _managed(self, changes: AccountChanges, by: Principal | None, user_id: str, what: str) -> StoredUser:
        user = changes.user(user_id)
        if by is not None:
            _require_admin(by, by.actor.facility, what)
        if user is None or (by is not None and user.facility != by.actor.facility):
            raise NotFound(f"user {user_id!r} not found" + (f" in facility {by.actor.facility!r}" if by else ""))
        return user

    def unlock(self, user_id: str, by: Principal | None = None) -> Account:
        """Clear a lockout or an inactivity lock; a year-old account needs re-establishing instead."""
        now = self.clock()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, "unlock users")
            if self._account(user).status == AccountStatus.EXPIRED:
                raise Conflict(f"user {user_id!r} has not signed in for a year: re-establish the account with a "
                               "new password instead of unlocking it")
            changes.update_user(user_id, failed_attempts=0, locked_out=False, last_active_at=now)
            changes.log(now, by.actor if by else None, "user.unlocked", user_id, "done", facility=user.facility)
        return self.account(user_id)

    def reestablish(self, user_id: str, password: str, by: Principal | None = None) -> Account:
        """Give the account a new password and make it active again (any lock is cleared, its tokens revoked)."""
        _check_password(password)
        now = self.clock()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, "re-establish users")
            changes.update_user(user_id, password_hash=self.hasher.hash(password), failed_attempts=0,
                                locked_out=False, last_active_at=now)
            changes.revoke_tokens(user_id)
            changes.log(now, by.actor if by else None, "user.re_established", user_id, "done", facility=user.facility)
        return self.account(user_id)

    # -- sign-in and tokens ----------------------------------------------------------------------

    def sign_in(self, user_id: str, password: str) -> IssuedToken:
        now = self.clock()
        with self.repository.transaction() as changes:
            user = changes.user(user_id) if NAME.match(user_id or "") else None
            if user is None or user.password_hash is None:
                self.hasher.hash("timing: an unknown user costs as much as a known one")
                changes.log(now, None, "sign_in", user_id[:64], "refused", WRONG, status=401)
                outcome: IssuedToken | NimrsError = Unauthenticated(WRONG)
            else:
                outcome = self._check_sign_in(changes, user, password, now)
        # A refusal is raised only after the transaction commits, so the failed attempt is counted.
        if isinstance(outcome, IssuedToken):
            return outcome
        raise outcome

    def _check_sign_in(self, changes: AccountChanges, user: StoredUser, password: str,
                       now: datetime) -> IssuedToken | NimrsError:
        assert user.password_hash is not None
        actor = Actor(user.user_id, user.facility, Level(user.level))
        current = self._account(user).status
        if current != AccountStatus.ACTIVE:
            changes.log(now, actor, "sign_in", user.user_id, "refused", current, status=403)
            return PermissionDenied(accounts.explain(current))
        if not self.hasher.verify(user.password_hash, password):
            failed = user.failed_attempts + 1
            locked = failed >= accounts.MAX_FAILED_SIGN_INS
            changes.update_user(user.user_id, failed_attempts=failed, locked_out=locked)
            changes.log(now, actor, "sign_in", user.user_id, "refused", f"wrong password ({failed} in a row)", status=401)
            if locked:
                changes.log(now, actor, "user.locked_out", user.user_id, "done", f"{failed} failed sign-ins in a row")
                return Unauthenticated(f"{WRONG}; {accounts.explain(AccountStatus.LOCKED_OUT)}")
            return Unauthenticated(WRONG)
        token = self.tokens.new()
        expires = now + self.token_lifetime
        values: dict[str, Any] = {"failed_attempts": 0, "last_active_at": now, "last_sign_in_at": now}
        if self.hasher.needs_rehash(user.password_hash):
            values["password_hash"] = self.hasher.hash(password)
        changes.update_user(user.user_id, **values)
        changes.add_token(self.tokens.digest(token), user.user_id, now, expires)
        changes.drop_expired_tokens(now)
        changes.log(now, actor, "sign_in", user.user_id, "done")
        signed_in = changes.user(user.user_id)
        assert signed_in is not None
        return IssuedToken(token, expires, self._account(signed_in))

    def authenticate(self, token: str) -> tuple[Principal, datetime]:
        """The principal a bearer token stands for, and when the token expires."""
        now = self.clock()
        found = self.repository.token_holder(self.tokens.digest(token))
        if found is None or found[1] <= now:
            raise Unauthenticated("the bearer token is unknown or has expired; sign in again at POST /auth/token")
        user, expires_at = found
        actor = Actor(user.user_id, user.facility, Level(user.level), state_reviewer=bool(user.state_reviewer))
        return Principal(actor, bool(user.security_admin)), expires_at

    def sign_out(self, token: str) -> None:
        self.repository.revoke_token(self.tokens.digest(token))
