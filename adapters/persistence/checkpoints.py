"""Signed checkpoints of the event log's hash chain: a small JSON file an auditor keeps outside the system.

    {"format": "nimrs-checkpoint/1", "position": 1234, "hash": "<the link at 1234, hex>",
     "exported_at": "2026-11-23T15:04:05+00:00", "signature": "<hex>"}

``signature`` is HMAC-SHA256, keyed with ``NIMRS_CHECKPOINT_KEY``, over the format, position, hash and
time, one per line. Whoever can rewrite both the events and the chain table cannot make a checkpoint
exported before the rewrite match again without the key (docs/adr/0010-tamper-evidence.md).
"""

from __future__ import annotations

import hmac
import json
import re
from datetime import datetime
from hashlib import sha256
from typing import Any

from adapters.persistence.event_chain import Link
from domain.errors import ValidationFailed

FORMAT = "nimrs-checkpoint/1"
HEX_HASH = re.compile(r"[0-9a-f]{64}")


def _signature(key: bytes, position: int, hash_: str, exported_at: str) -> str:
    message = "\n".join([FORMAT, str(position), hash_, exported_at]).encode()
    return hmac.new(key, message, sha256).hexdigest()


def sign(link: Link, key: bytes, at: datetime) -> dict[str, Any]:
    exported_at = at.isoformat()
    return {"format": FORMAT, "position": link.position, "hash": link.hash, "exported_at": exported_at,
            "signature": _signature(key, link.position, link.hash, exported_at)}


def read(text: str, key: bytes) -> Link:
    """The checkpoint in ``text`` if it is well formed and signed with ``key``; otherwise ``ValidationFailed``."""
    try:
        document = json.loads(text)
    except ValueError:
        raise ValidationFailed("the checkpoint file is not JSON (`nimrs checkpoint export` writes one)") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValidationFailed(f"the checkpoint file is not a {FORMAT} checkpoint")
    position, hash_, exported_at, signature = (document.get(name) for name in
                                               ("position", "hash", "exported_at", "signature"))
    if (not isinstance(position, int) or isinstance(position, bool) or position < 1
            or not isinstance(hash_, str) or not HEX_HASH.fullmatch(hash_)
            or not isinstance(exported_at, str) or not isinstance(signature, str)):
        raise ValidationFailed("the checkpoint file lacks a position, hash, exported_at or signature")
    if not hmac.compare_digest(signature, _signature(key, position, hash_, exported_at)):
        raise ValidationFailed("the checkpoint's signature does not match NIMRS_CHECKPOINT_KEY: the file was "
                               "altered, or signed with another key")
    return Link(position, hash_)
