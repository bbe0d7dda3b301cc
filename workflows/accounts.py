"""Account use cases: adding, changing, disabling, unlocking and re-establishing users, resetting and changing
passwords, sign-in (rate-limited, with an atomic lockout), bearer tokens, sign-out and revoking sessions.

The NIMRS FAQ's security groups and sign-in rules. The lock rules themselves are pure
(``domain.accounts``); the rule of this layer is who may manage whom: a security administrator
manages only its own facility's users (another facility's are "not found"). Every sign-in, lock,
unlock and account change is written to the security log in the same transaction as the change.
A security administrator does not disable, change or reset its own account (another one, or the
operator on the command line, does); only the operator grants the state reviewer role, which reads
every facility. Locking, disabling or changing a user, or resetting its password, ends its sessions:
its tokens are deleted in the same transaction, and ``sessions_ended`` listeners (the HTTP server's
token cache) are told at once.

A user may have an email address, where the receipts of its Email OMH and Report of Death go; it is
personal data, so it is shown only to the user, its security administrators and the operator, and the
security log says that it changed, never what it is.

Where accounts are stored, how passwords are hashed (Argon2id) and how tokens are made (32 random
bytes, of which only the SHA-256 is stored) are the adapters' business, behind the protocols below
(``adapters.persistence.accounts``, ``adapters.credentials``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

from typing_extensions import TypedDict

from domain import accounts
from domain.accounts import AccountStatus, SignInFacts
from domain.actor import Actor
from domain.clock import Clock
from domain.deadlines import LOCAL_ZONE
from domain.errors import (
    Conflict,
    NimrsError,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from domain.vocabulary import Level
from workflows.email_addresses import checked_address
from workflows.permissions import require_facility

NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
TOKEN_LIFETIME = timedelta(hours=8)
WRONG = accounts.SIGN_IN_REFUSED
CHANGE_PASSWORD_FIRST = "choose a new password first: POST /auth/password with your current and a new password"


class PasswordReset(TypedDict):
    """Who reset the user's password, and when: shown to the user at the sign-in after."""

    by: str
    at: str


class AccountRecord(TypedDict):
    """A user as security administrators (and the user) see it: never the password or its hash."""

    user_id: str
    facility: str
    level: int
    security_admin: bool
    state_reviewer: bool
    status: AccountStatus
    failed_attempts: int
    last_sign_in_at: str | None
    can_sign_in: bool  # has a password (users added without one exist only for the command line)
    must_change_password: bool  # a one-time password: the user may do nothing but change it
    password_reset: PasswordReset | None  # until the user changes the one-time password
    email: str | None  # where the user's receipts go (Email OMH, Report of Death)


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
    must_change_password: bool = False
    password_reset_by: str | None = None
    password_reset_at: datetime | None = None
    email: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.facility, Level(self.level), state_reviewer=self.state_reviewer)

    def as_dict(self) -> AccountRecord:
        return {"user_id": self.user_id, "facility": self.facility, "level": self.level,
                "security_admin": self.security_admin, "state_reviewer": self.state_reviewer,
                "status": self.status, "failed_attempts": self.failed_attempts,
                "last_sign_in_at": self.last_sign_in_at.isoformat() if self.last_sign_in_at else None,
                "can_sign_in": self.has_password, "must_change_password": self.must_change_password,
                "password_reset": {"by": self.password_reset_by, "at": self.password_reset_at.isoformat()}
                if self.password_reset_by and self.password_reset_at else None, "email": self.email}

    def reset_notice(self) -> str | None:
        """What the user is told at sign-in after a reset (New York time, as every time shown to a person)."""
        if not (self.must_change_password and self.password_reset_by and self.password_reset_at):
            return None
        when = self.password_reset_at.astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M %Z")
        return f"your password was set by {self.password_reset_by} at {when}; {CHANGE_PASSWORD_FIRST}"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: the actor, plus the roles that are not recorded on events."""

    actor: Actor
    security_admin: bool = False
    must_change_password: bool = False  # may only change its password (and sign out)

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
    disabled: bool = False
    must_change_password: bool = False
    password_reset_by: str | None = None
    password_reset_at: datetime | None = None
    email: str | None = None  # encrypted at rest when a key is set


class UserExists(Exception):
    """The repository already holds a user of that name."""


class AccountChanges(Protocol):
    """One transaction on the accounts and the security log: all of it is stored, or none."""

    def user(self, user_id: str) -> StoredUser | None: ...

    def add_user(self, user: StoredUser) -> None:
        """Raises ``UserExists`` if the name is taken."""

    def update_user(self, user_id: str, **fields: Any) -> None:
        """Set the named ``StoredUser`` fields."""

    def update_user_if(self, user_id: str, expected: dict[str, Any], **fields: Any) -> bool:
        """Set the fields if the user's ``expected`` fields still hold; whether it did."""

    def reserve_sign_in(self, user_id: str, max_failed: int) -> bool:
        """Atomically count a sign-in as failed before its password is checked, unless the account is locked
        out or ``max_failed`` are counted already; whether it was counted (only then is the password checked)."""

    def lock_if_failed(self, user_id: str, max_failed: int) -> bool:
        """Lock the account out if ``max_failed`` failures are counted; whether this call locked it."""

    def add_token(self, digest: str, user_id: str, issued_at: datetime, expires_at: datetime) -> None: ...

    def revoke_tokens(self, user_id: str) -> int:
        """Delete the user's tokens; how many there were."""

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

    def tokens_in_force(self, digests: Collection[str], now: datetime) -> set[str]:
        """Of these token digests, those that expire after ``now`` and whose user is neither disabled nor locked out."""

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

    def one_time_password(self) -> str:
        """A random password a security administrator hands to a user, who must change it at sign-in."""


class RateLimits(Protocol):
    def hit(self, buckets: list[tuple[str, int]], window: timedelta, now: datetime) -> timedelta | None:
        """Count a hit on each ``(bucket, limit)``; how long to wait if any is over its limit."""


@dataclass(frozen=True)
class SignInLimits:
    """Sign-in attempts allowed per user name and per client address in each window (shared by every process)."""

    per_user: int = 10
    per_address: int = 30
    window: timedelta = timedelta(minutes=1)


# -- the use cases ---------------------------------------------------------------------------------

def _check_name(what: str, value: str) -> None:
    if not NAME.match(value or ""):
        raise ValidationFailed(f"{what} {value!r} must be 1-64 letters, digits or . _ @ -")


def _check_password(password: str) -> None:
    if problems := accounts.password_problems(password):
        raise ValidationFailed("the password is not acceptable", problems=problems)


def _check_level(level: int) -> None:
    if isinstance(level, bool) or level not in {int(known) for known in Level}:
        *others, last = (str(int(known)) for known in Level)
        raise ValidationFailed(f"level must be {', '.join(others)} or {last}, got {level!r}")


class Keep(Enum):
    """``AccountService.change``'s "leave it as it is" for a field that ``None`` clears."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _email(email: str | None) -> str | None:
    """A user's address as stored: checked, lower case (as alert rules store theirs); None or blank: none."""
    if email is None or not email.strip():
        return None
    return checked_address("the address", email).lower()


def _email_change(before: str | None, after: str | None) -> str:
    """What the security log says of an address change: never the address (personal data)."""
    return "email address removed" if after is None else "email address set" if before is None else "email address changed"


def _require_admin(by: Principal, facility: str, what: str) -> None:
    """The admin rule: a security administrator manages only its own facility's users."""
    if not by.security_admin:
        raise PermissionDenied(f"only a security administrator may {what}; {by.user_id!r} is not one")
    require_facility(by.actor, facility, f"facility {facility!r}")


def _not_self(by: Principal | None, user_id: str, what: str) -> None:
    if by is not None and by.user_id == user_id:
        raise PermissionDenied(f"a security administrator may not {what} its own account; another security "
                               "administrator (or the operator, with nimrs users) must")


def _roles(level: int, security_admin: bool, state_reviewer: bool) -> str:
    return (f"Level {level}" + (", security administrator" if security_admin else "")
            + (", state reviewer" if state_reviewer else ""))


@dataclass
class AccountService:
    """The accounts, as the CLI (acting for the operator: ``by=None``) and the HTTP API (``by=`` an administrator) use them."""

    repository: AccountRepository
    hasher: PasswordHasher
    tokens: BearerTokens
    clock: Clock
    token_lifetime: timedelta = TOKEN_LIFETIME
    limits: RateLimits | None = None  # None: sign-ins are not rate-limited (the command line's own use)
    sign_in_limits: SignInLimits = SignInLimits()
    sessions_ended: list[Callable[[str], None]] = field(default_factory=list)  # told the user whose tokens went
    _decoy_hash: str | None = field(default=None, init=False, repr=False)

    # -- accounts ------------------------------------------------------------------------------

    def add(self, user_id: str, facility: str, level: int, *, password: str | None = None,
            security_admin: bool = False, state_reviewer: bool = False, email: str | None = None,
            by: Principal | None = None) -> Account:
        if by is not None:
            _require_admin(by, facility, "add users")
            if state_reviewer:
                raise PermissionDenied("only the operator (nimrs users add --state-reviewer) makes state reviewers")
        _check_name("user name", user_id)
        _check_name("facility", facility)
        _check_level(level)
        if password is not None:
            _check_password(password)
        address = _email(email)
        one_time = by is not None and password is not None
        now = self.clock()
        try:
            with self.repository.transaction() as changes:
                changes.add_user(StoredUser(
                    user_id=user_id, facility=facility, level=level, security_admin=security_admin,
                    state_reviewer=state_reviewer, password_hash=self.hasher.hash(password) if password else None,
                    failed_attempts=0, locked_out=False, last_active_at=now,
                    # A password a security administrator chose is one-time: the user chooses its own first.
                    must_change_password=one_time, password_reset_by=by.user_id if one_time and by else None,
                    password_reset_at=now if one_time else None, email=address))
                changes.log(now, by.actor if by else None, "user.added", user_id, "done",
                            f"facility {facility}, {_roles(level, security_admin, state_reviewer)}"
                            + (", with an email address" if address else ""), facility=facility)
        except UserExists:
            # User names are one name space for every facility: say it is taken, never where.
            raise Conflict(f"the user name {user_id!r} is taken; choose another") from None
        return self.account(user_id)

    def ensure(self, actor: Actor) -> None:
        """Add the user unless one of that name exists."""
        with contextlib.suppress(Conflict):
            self.add(actor.user_id, actor.facility, int(actor.level))

    def _account(self, user: StoredUser) -> Account:
        facts = SignInFacts(user.failed_attempts, user.last_active_at or self.clock(), user.locked_out,
                            bool(user.disabled))
        return Account(user.user_id, user.facility, user.level, bool(user.security_admin), bool(user.state_reviewer),
                       user.password_hash is not None, accounts.status(facts, self.clock()), user.failed_attempts,
                       user.last_sign_in_at, bool(user.must_change_password), user.password_reset_by,
                       user.password_reset_at, user.email)

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

    def _end_sessions(self, changes: AccountChanges, user_id: str) -> int:
        """Delete the user's tokens (in the caller's transaction); ``_told`` tells the listeners after it commits."""
        return changes.revoke_tokens(user_id)

    def _told(self, user_id: str) -> None:
        for listener in self.sessions_ended:
            listener(user_id)

    def unlock(self, user_id: str, by: Principal | None = None) -> Account:
        """Clear a lockout or an inactivity lock; a year-old account needs re-establishing instead."""
        _not_self(by, user_id, "unlock")
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
        """Give an account locked by a year without signing in a new password the user must change at sign-in.

        Only such an account: re-establishing an active one would let an administrator take it over.
        """
        _check_password(password)
        now = self.clock()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, "re-establish users")
            if self._account(user).status != AccountStatus.EXPIRED:
                raise Conflict(f"only an account locked by a year without signing in is re-established; {user_id!r} "
                               f"is {self._account(user).status}: unlock it, or reset its password")
            self._set_one_time_password(changes, user, password, by, now)
            changes.log(now, by.actor if by else None, "user.re_established", user_id, "done", facility=user.facility)
        self._told(user_id)
        return self.account(user_id)

    def _set_one_time_password(self, changes: AccountChanges, user: StoredUser, password: str,
                               by: Principal | None, now: datetime) -> None:
        changes.update_user(user.user_id, password_hash=self.hasher.hash(password), failed_attempts=0, locked_out=False,
                            last_active_at=now, must_change_password=True,
                            password_reset_by=by.user_id if by else "the operator", password_reset_at=now)
        self._end_sessions(changes, user.user_id)

    def reset_password(self, user_id: str, by: Principal | None = None) -> tuple[Account, str]:
        """A one-time password (returned once, never stored but as its hash) the user must change at sign-in.

        Clears a lockout or an inactivity lock and ends the user's sessions; a year-old account is
        re-established instead, and a disabled one stays disabled.
        """
        now = self.clock()
        password = self.tokens.one_time_password()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, "reset passwords")
            _not_self(by, user_id, "reset the password of")
            if self._account(user).status == AccountStatus.EXPIRED:
                raise Conflict(f"user {user_id!r} has not signed in for a year: re-establish the account instead")
            self._set_one_time_password(changes, user, password, by, now)
            changes.log(now, by.actor if by else None, "user.password_reset", user_id, "done",
                        "a one-time password the user must change at sign-in", facility=user.facility)
        self._told(user_id)
        return self.account(user_id), password

    def disable(self, user_id: str, by: Principal | None = None) -> Account:
        """The account can no longer sign in, and its sessions end at once."""
        return self._set_disabled(user_id, True, by)

    def enable(self, user_id: str, by: Principal | None = None) -> Account:
        return self._set_disabled(user_id, False, by)

    def _set_disabled(self, user_id: str, disabled: bool, by: Principal | None) -> Account:
        what = "disable" if disabled else "enable"
        now = self.clock()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, f"{what} users")
            _not_self(by, user_id, what)
            if bool(user.disabled) != disabled:
                # Enabling lifts no other lock: an account idle for six months (or a year) while disabled still
                # needs unlocking (or re-establishing).
                changes.update_user(user_id, disabled=disabled)
                if disabled:
                    self._end_sessions(changes, user_id)
                changes.log(now, by.actor if by else None, f"user.{what}d", user_id, "done", facility=user.facility)
        self._told(user_id)
        return self.account(user_id)

    def change(self, user_id: str, *, level: int | None = None, security_admin: bool | None = None,
               state_reviewer: bool | None = None, email: str | None | Keep = KEEP,
               by: Principal | None = None) -> Account:
        """Change a user's security group (level), roles or email address (``None`` or blank removes it).

        A new level or role ends the user's sessions, so the change holds at once; a new address alone does not.
        """
        if level is not None:
            _check_level(level)
        address = None if email is KEEP else _email(email)
        now = self.clock()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, "change users")
            _not_self(by, user_id, "change")
            if by is not None and state_reviewer is not None:
                raise PermissionDenied("only the operator (nimrs users change --state-reviewer) grants or removes "
                                       "the state reviewer role")
            after = (level if level is not None else user.level,
                     bool(user.security_admin) if security_admin is None else security_admin,
                     bool(user.state_reviewer) if state_reviewer is None else state_reviewer)
            before = (user.level, bool(user.security_admin), bool(user.state_reviewer))
            new_email = user.email if email is KEEP else address
            if after == before and new_email == user.email:
                raise ValidationFailed("nothing to change: give a new level, role or email address")
            said = []
            if after != before:
                changes.update_user(user_id, level=after[0], security_admin=after[1], state_reviewer=after[2])
                self._end_sessions(changes, user_id)
                said.append(f"{_roles(*before)} -> {_roles(*after)}")
            if new_email != user.email:
                changes.update_user(user_id, email=new_email)
                said.append(_email_change(user.email, new_email))
            changes.log(now, by.actor if by else None, "user.changed", user_id, "done", "; ".join(said),
                        facility=user.facility)
        if after != before:
            self._told(user_id)
        return self.account(user_id)

    def revoke_sessions(self, user_id: str, by: Principal | None = None) -> int:
        """End every session (token) of the user at once; how many there were."""
        now = self.clock()
        with self.repository.transaction() as changes:
            user = self._managed(changes, by, user_id, "revoke sessions")
            _not_self(by, user_id, "revoke the sessions of")  # its own: change its password, or sign out
            ended = self._end_sessions(changes, user_id)
            changes.log(now, by.actor if by else None, "user.sessions_revoked", user_id, "done",
                        f"{ended} session{'s' if ended != 1 else ''}", facility=user.facility)
        self._told(user_id)
        return ended

    # -- sign-in and tokens ----------------------------------------------------------------------

    def _limit(self, user_id: str, client: str | None, now: datetime) -> None:
        if self.limits is None:
            return
        policy = self.sign_in_limits
        buckets = [(f"sign-in user {user_id[:64]}", policy.per_user)]
        if client:
            buckets.append((f"sign-in address {client}", policy.per_address))
        wait = self.limits.hit(buckets, policy.window, now)
        if wait is not None:
            raise TooManyRequests("too many sign-in attempts; try again later",
                                  retry_after_seconds=int(wait.total_seconds() + 0.999))

    def _decoy(self) -> str:
        """A hash to check a password against when there is no account to check (the same cost, so timing tells nothing)."""
        if self._decoy_hash is None:
            self._decoy_hash = self.hasher.hash("a decoy: no account has this password")
        return self._decoy_hash

    def sign_in(self, user_id: str, password: str, *, client: str | None = None) -> IssuedToken:
        """A token for the right password of an active account.

        Every refusal reads the same (``WRONG``) and costs one password check, whether the user is
        unknown, the password wrong or the account locked out. A sign-in is counted as failed before
        its password is checked (``reserve_sign_in``): however many arrive at once, at most
        ``MAX_FAILED_SIGN_INS`` wrong passwords are checked before the lock, and none is accepted
        after it. A right password being checked counts as failed until it is settled, so two wrong
        ones at the same moment as it lock the account (only under such a storm of guesses). Only the
        right password learns why an account that is not locked out cannot sign in.
        """
        now = self.clock()
        self._limit(user_id or "", client, now)
        user = self.repository.user(user_id) if NAME.match(user_id or "") else None
        if user is None or user.password_hash is None:
            self.hasher.verify(self._decoy(), password)
            raise Unauthenticated(WRONG)
        checked, right = self._check(user, password)
        locked = False
        with self.repository.transaction() as changes:
            if right:
                outcome = self._signed_in(changes, user, password, now)
            else:
                locked = self._wrong(changes, user, checked, "sign_in", now)
                outcome = Unauthenticated(WRONG)
        if locked:
            self._told(user.user_id)  # the lock ended the user's sessions: this process forgets them at once
        if isinstance(outcome, IssuedToken):
            return outcome
        raise outcome  # only after the transaction commits, so the failed attempt is counted

    def _check(self, user: StoredUser, password: str) -> tuple[bool, bool]:
        """Whether the password was checked (False: the account is locked out) and whether it was right.

        The check is counted as failed before the password is verified (``reserve_sign_in``), so a
        burst of guesses cannot outrun the lock; the caller settles the count afterwards.
        """
        assert user.password_hash is not None
        with self.repository.transaction() as changes:
            checked = changes.reserve_sign_in(user.user_id, accounts.MAX_FAILED_SIGN_INS)
        right = self.hasher.verify(user.password_hash if checked else self._decoy(), password) and checked
        return checked, right

    def _wrong(self, changes: AccountChanges, user: StoredUser, checked: bool, action: str, now: datetime,
               status: int = 401) -> bool:
        """Log a refused password check; the third in a row locks the account out and ends its sessions (True)."""
        actor = Actor(user.user_id, user.facility, Level(user.level))
        if not checked:
            changes.log(now, actor, action, user.user_id, "refused", "locked out: the password was not checked",
                        status=status)
            return False
        current = changes.user(user.user_id)
        failed = current.failed_attempts if current else accounts.MAX_FAILED_SIGN_INS
        changes.log(now, actor, action, user.user_id, "refused", f"wrong password ({failed} in a row)", status=status)
        if changes.lock_if_failed(user.user_id, accounts.MAX_FAILED_SIGN_INS):
            ended = self._end_sessions(changes, user.user_id)
            changes.log(now, actor, "user.locked_out", user.user_id, "done",
                        f"{accounts.MAX_FAILED_SIGN_INS} wrong passwords in a row; {ended} sessions ended")
            return True
        return False

    def _signed_in(self, changes: AccountChanges, user: StoredUser, password: str,
                   now: datetime) -> IssuedToken | NimrsError:
        assert user.password_hash is not None
        actor = Actor(user.user_id, user.facility, Level(user.level))
        # The right password: the count starts again, unless the lock or the password changed meanwhile.
        if not changes.update_user_if(user.user_id, {"password_hash": user.password_hash, "locked_out": False},
                                      failed_attempts=0):
            changes.log(now, actor, "sign_in", user.user_id, "refused", "locked out while the password was checked",
                        status=401)
            return Unauthenticated(WRONG)
        fresh = changes.user(user.user_id)
        assert fresh is not None
        current_status = self._account(fresh).status
        if current_status != AccountStatus.ACTIVE:
            changes.log(now, actor, "sign_in", user.user_id, "refused", current_status, status=403)
            return PermissionDenied(accounts.explain(current_status))
        if self.hasher.needs_rehash(user.password_hash):
            changes.update_user(user.user_id, password_hash=self.hasher.hash(password))
        changes.log(now, actor, "sign_in", user.user_id, "done",
                    "with a one-time password: must change it" if fresh.must_change_password else None)
        return self._issue(changes, user.user_id, now)

    def _issue(self, changes: AccountChanges, user_id: str, now: datetime) -> IssuedToken:
        token = self.tokens.new()
        expires = now + self.token_lifetime
        changes.update_user(user_id, last_active_at=now, last_sign_in_at=now)
        changes.add_token(self.tokens.digest(token), user_id, now, expires)
        changes.drop_expired_tokens(now)
        signed_in = changes.user(user_id)
        assert signed_in is not None
        return IssuedToken(token, expires, self._account(signed_in))

    def change_password(self, user_id: str, current: str, new: str, *, client: str | None = None) -> IssuedToken:
        """The user's own change: the current password checked as at sign-in (wrong ones count towards the
        lock), then every session of the user ends and a fresh token is issued for the new password."""
        _check_password(new)
        if new == current:
            raise ValidationFailed("the new password must differ from the current one")
        now = self.clock()
        self._limit(user_id, client, now)
        user = self.repository.user(user_id)
        if user is None or user.password_hash is None:
            raise Unauthenticated("the bearer token is unknown or has expired; sign in again at POST /auth/token")
        checked, right = self._check(user, current)
        issued: IssuedToken | None = None
        new_hash = self.hasher.hash(new) if right else ""
        with self.repository.transaction() as changes:
            if right and changes.update_user_if(
                    user_id, {"password_hash": user.password_hash, "locked_out": False}, password_hash=new_hash,
                    failed_attempts=0, must_change_password=False, password_reset_by=None, password_reset_at=None):
                self._end_sessions(changes, user_id)
                changes.log(now, Actor(user.user_id, user.facility, Level(user.level)), "user.password_changed",
                            user_id, "done", "every session ended; a new one started")
                issued = self._issue(changes, user_id, now)
            else:
                self._wrong(changes, user, checked, "user.password_changed", now, status=403)
        self._told(user_id)
        if issued is None:
            raise PermissionDenied("the current password is not right (three wrong passwords in a row lock the account, "
                                   "as at sign-in)")
        return issued

    def attest(self, user_id: str, password: str, *, client: str | None = None) -> None:
        """The signed-in user confirms a step by entering the password again, checked as at sign-in and as
        ``change_password`` checks the current one: three wrong in a row lock the account."""
        now = self.clock()
        self._limit(user_id, client, now)
        user = self.repository.user(user_id)
        if user is None or user.password_hash is None:
            raise Unauthenticated("the bearer token is unknown or has expired; sign in again at POST /auth/token")
        checked, right = self._check(user, password)
        locked = False
        with self.repository.transaction() as changes:
            if right and changes.update_user_if(user_id, {"password_hash": user.password_hash, "locked_out": False},
                                                failed_attempts=0):
                changes.log(now, Actor(user.user_id, user.facility, Level(user.level)), "attest", user_id, "done", None)
            else:
                right = False
                locked = self._wrong(changes, user, checked, "attest", now, status=403)
        if locked:
            self._told(user_id)  # the lock ended the user's sessions: this process forgets them at once
        if not right:
            raise PermissionDenied("the password is not right, so the step was not recorded (three wrong passwords "
                                   "in a row lock the account, as at sign-in)")

    def authenticate(self, token: str) -> tuple[Principal, datetime]:
        """The principal a bearer token stands for, and when the token expires."""
        now = self.clock()
        found = self.repository.token_holder(self.tokens.digest(token))
        if found is None or found[1] <= now or found[0].disabled or found[0].locked_out:
            raise Unauthenticated("the bearer token is unknown or has expired; sign in again at POST /auth/token")
        user, expires_at = found
        actor = Actor(user.user_id, user.facility, Level(user.level), state_reviewer=bool(user.state_reviewer))
        return Principal(actor, bool(user.security_admin), bool(user.must_change_password)), expires_at

    def still_valid(self, tokens: Collection[str]) -> set[str]:
        """Of these bearer tokens, those ``authenticate`` would still accept: one query for all of them (the live
        streams re-check their tokens together)."""
        digests = {self.tokens.digest(token): token for token in tokens}
        return {digests[d] for d in self.repository.tokens_in_force(list(digests), self.clock())}

    def sign_out(self, token: str) -> None:
        self.repository.revoke_token(self.tokens.digest(token))
