"""Encryption at rest with ``NIMRS_CIPHER_KEY``, and older keys kept readable (``NIMRS_CIPHER_OLD_KEYS``).

- ``KeyRingCipher``: the event store's cipher (the library's ``CIPHER_TOPIC``): AES-GCM as the
  library's ``AESCipher``, encrypting with the newest key and decrypting with each known key in turn,
  so an event log written under several keys stays readable after a rotation.
- ``ColumnCipher``: the same keys for the other copies of patient data (view columns, webhook
  payloads and secrets, security log details): text in, ``aesgcm:`` + base64 of AES-GCM out.
  Text without that mark was written before a key was set and is read as it is.
"""

from __future__ import annotations

import binascii
from base64 import b64decode, b64encode
from collections.abc import Sequence
from typing import TYPE_CHECKING

from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

from adapters.settings import Settings
from domain.errors import StoredEventsUnreadable

if TYPE_CHECKING:
    from eventsourcing.cipher import AESCipher

KEY = "CIPHER_KEY"  # the library's name for the newest key
OLD_KEYS = "CIPHER_OLD_KEYS"  # comma-separated older keys, newest first
MARK = "aesgcm:"
UNREADABLE = ("stored data cannot be decrypted: NIMRS_CIPHER_KEY (or one of NIMRS_CIPHER_OLD_KEYS) is missing or "
              "is not the key it was written with")


def _aes(key: str) -> AESCipher:
    from eventsourcing.cipher import AESCipher  # imported here: without a key, a process never loads the crypto

    return AESCipher(Environment(env={KEY: key}))


class KeyRingCipher(Cipher):
    """AES-GCM with the newest key; decrypts with any key it knows (the newest first)."""

    def __init__(self, environment: Environment | None = None, *, keys: Sequence[str] = ()) -> None:
        if environment is not None:
            newest = environment.get(KEY)
            if not newest:
                raise OSError(f"'{KEY}' not in env")
            keys = [newest, *(k.strip() for k in (environment.get(OLD_KEYS) or "").split(",") if k.strip())]
        self.ciphers = [_aes(key) for key in keys]

    def encrypt(self, plaintext: bytes) -> bytes:
        return self.ciphers[0].encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        for cipher in self.ciphers:
            try:
                return cipher.decrypt(ciphertext)
            except ValueError:  # the tag does not verify: another key wrote it
                continue
        raise ValueError("Cipher text is damaged or was written with a key that is not known")


class ColumnCipher:
    """``projections.encryption.FieldCipher`` with the store's keys; no keys: text is stored as it is."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.ring = KeyRingCipher(keys=keys) if keys else None

    def encrypt(self, text: str) -> str:
        if self.ring is None:
            return text
        return MARK + b64encode(self.ring.encrypt(text.encode())).decode()

    def decrypt(self, text: str) -> str:
        if not text.startswith(MARK):
            return text  # written before a key was set
        if self.ring is None:
            raise StoredEventsUnreadable(UNREADABLE)
        try:
            return self.ring.decrypt(b64decode(text[len(MARK):], validate=True)).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise StoredEventsUnreadable(UNREADABLE) from None

    def reencrypt(self, text: str) -> str:
        """The text encrypted with the newest key (a rotation), whichever key wrote it."""
        return self.encrypt(self.decrypt(text))


def cipher_keys(settings: Settings) -> list[str]:
    """The newest key first, then the older ones; empty when no key is set."""
    if settings.cipher_key is None:
        return []
    old = settings.cipher_old_keys.get_secret_value() if settings.cipher_old_keys is not None else ""
    return [settings.cipher_key.get_secret_value(), *(k.strip() for k in old.split(",") if k.strip())]


def column_cipher(settings: Settings) -> ColumnCipher:
    return ColumnCipher(cipher_keys(settings))
