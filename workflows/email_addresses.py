"""The one rule for an email address, wherever one is given: alert rules' recipients, a user's address for
receipts, and the ``From`` of alert mail (``NIMRS_MAIL_FROM``).

One plain address (no display name, no list), ASCII, at most RFC 5321's 254 characters, and nothing
a mail header could be split with (CR, LF).
"""

from __future__ import annotations

import re

from domain.errors import ValidationFailed

MAX_ADDRESS = 254  # RFC 5321's longest forward path
ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


def is_address(text: object) -> bool:
    return isinstance(text, str) and text.isascii() and len(text) <= MAX_ADDRESS and ADDRESS.match(text) is not None


def checked_address(what: str, value: str) -> str:
    """``value`` without surrounding blanks, or ``ValidationFailed`` naming ``what`` if it is not one address.

    The refusal does not repeat the value: a person's address, even mistyped, is personal data, and refusals
    are kept in the security log.
    """
    address = value.strip()
    if not is_address(address):
        raise ValidationFailed(f"{what} must be one email address such as name@example.org (no name, list, spaces or "
                               "line breaks, at most 254 characters)")
    return address
