"""Webhook deliveries as Standard Webhooks specifies them: the signing secret, the signature, and which URLs may receive.

The use cases (``workflows.webhooks``) take ``new_secret`` and ``Destinations.check_url``; the worker
(``adapters.integrations.webhook_worker``) signs each delivery with ``sign`` and sends it where
``Destinations.resolve`` says (``adapters.integrations.destinations``: the rules against sending
patient data into the server's own network).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from adapters.integrations.destinations import Destinations


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The Standard Webhooks signature header value: ``v1,<base64 HMAC-SHA256 of id.timestamp.body>``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def check_url(url: str) -> str:
    """The URL rules with no exception: https to a public host (``Destinations`` applies the settings)."""
    return Destinations().check_url(url)
