"""Password hashing and bearer tokens: the cryptography behind ``workflows.accounts``.

- Passwords: Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile), rehashed at sign-in
  when the defaults change.
- Tokens: 32 random bytes (URL-safe text), handed out once; only their SHA-256 is stored, so a
  stolen table holds no usable token.
- One-time passwords (a security administrator's reset): 20 characters from an alphabet without
  look-alikes (about 100 bits), in groups of five to read out; stored only as their Argon2id hash.
"""

from __future__ import annotations

import hashlib
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """``workflows.accounts.PasswordHasher`` with Argon2id."""

    def __init__(self) -> None:
        self._hasher = argon2.PasswordHasher()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no i, l, o, 0, 1


class OpaqueTokens:
    """``workflows.accounts.BearerTokens``: random tokens, stored as their SHA-256."""

    def new(self) -> str:
        return secrets.token_urlsafe(32)

    def digest(self, token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def one_time_password(self) -> str:
        groups = ("".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(5)) for _ in range(4))
        return "-".join(groups)
