"""Encryption at rest of the view columns that hold patient details (narratives, names, client ids...).

The views only see this pair: the composition root (``adapters.bootstrap``) hands in the store's
cipher (``adapters.persistence.cipher``: AES-GCM with ``NIMRS_CIPHER_KEY``) when a key is set,
and ``PLAIN`` otherwise. Only the columns that can hold patient details go through it, and each
value once per batch at most: it costs tens of microseconds a value on the projector's hot path.
"""

from __future__ import annotations

from typing import Protocol


class FieldCipher(Protocol):
    def encrypt(self, text: str) -> str:
        """The text as it is stored."""

    def decrypt(self, text: str) -> str:
        """The stored text as it was written (values written before a key was set are read as they are)."""


class Plain:
    """No key is set: values are stored as they are."""

    def encrypt(self, text: str) -> str:
        return text

    def decrypt(self, text: str) -> str:
        return text


PLAIN: FieldCipher = Plain()
