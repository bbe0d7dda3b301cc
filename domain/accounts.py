"""Sign-in rules from the NIMRS FAQ: lockout after failed attempts and locks for inactivity.

- Three failed sign-ins in a row lock the account until a security administrator unlocks it.
- An account not signed in for six months is locked (a security administrator unlocks it).
- After a year without signing in, unlocking is not enough: a security administrator must
  re-establish the account with a new password.
- A security administrator may disable an account (and enable it again); a disabled account
  cannot sign in whatever its other state.
- A refused sign-in reads the same whether the user is unknown, the password wrong or the account
  locked (``SIGN_IN_REFUSED``): only someone who gives the right password learns why an
  account that is not locked out by failed sign-ins cannot sign in (``explain``).

Pure functions over the account's facts and an injected ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_FAILED_SIGN_INS = 3
INACTIVITY_LOCK = timedelta(days=183)  # six months
INACTIVITY_EXPIRY = timedelta(days=365)


class AccountStatus(StrEnum):
    ACTIVE = "active"
    DISABLED = "disabled"  # by a security administrator
    LOCKED_OUT = "locked_out"  # too many failed sign-ins
    INACTIVE = "inactive"  # six months without signing in
    EXPIRED = "expired"  # a year without signing in: re-establish


@dataclass(frozen=True)
class SignInFacts:
    failed_attempts: int
    last_active_at: datetime  # last sign-in, or when the account was (re-)established or unlocked
    locked_out: bool
    disabled: bool = False


def status(facts: SignInFacts, now: datetime) -> AccountStatus:
    if facts.disabled:
        return AccountStatus.DISABLED
    idle = now - facts.last_active_at
    if idle >= INACTIVITY_EXPIRY:
        return AccountStatus.EXPIRED
    if facts.locked_out or facts.failed_attempts >= MAX_FAILED_SIGN_INS:
        return AccountStatus.LOCKED_OUT
    if idle >= INACTIVITY_LOCK:
        return AccountStatus.INACTIVE
    return AccountStatus.ACTIVE


SIGN_IN_REFUSED = (f"wrong user name or password (an account is locked after {MAX_FAILED_SIGN_INS} failed sign-ins "
                   "in a row: your facility's security administrator can unlock it)")


def explain(account_status: AccountStatus) -> str:
    return {
        AccountStatus.DISABLED: "the account is disabled; ask your facility's security administrator",
        AccountStatus.LOCKED_OUT: f"the account is locked after {MAX_FAILED_SIGN_INS} failed sign-ins in a row; "
                                  "ask your facility's security administrator to unlock it",
        AccountStatus.INACTIVE: "the account is locked: nobody signed in to it for six months; "
                                "ask your facility's security administrator to unlock it",
        AccountStatus.EXPIRED: "the account has not signed in for a year; your facility's security administrator "
                               "must re-establish it with a new password",
    }.get(account_status, "the account is active")


PASSWORD_MIN_LENGTH = 12


def password_problems(password: str) -> list[str]:
    """NIST SP 800-63B style: length matters, composition rules do not."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(f"a password needs at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > 256:
        problems.append("a password may have at most 256 characters")
    if password != password.strip():
        problems.append("a password may not start or end with white space")
    return problems
