"""Conditional requests (RFC 9110, section 13) on an incident, whose ETag is its version as a strong tag: "3".

- ``If-Match`` on a write: a list of tags, or ``*`` (any existing incident). Strong comparison: a
  weak tag (``W/"3"``) never matches. A failed condition is refused with 412 and changes nothing.
- ``If-None-Match`` on reading an incident: weak comparison; a match answers 304 Not Modified.

A header that is not a list of entity-tags is refused with 422 naming it.
"""

from __future__ import annotations

import re

from domain.errors import ValidationFailed
from workflows.service import ExpectedVersion

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc = %x21 / %x23-7E / obs-text (RFC 9110, 8.8.3)
ENTITY_TAG = re.compile(r'[ \t]*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"[ \t]*(?:,|$)')
VERSION = re.compile(r"[1-9][0-9]{0,17}")  # our tags: a version, 1 to under 10**18


def entity_tags(header: str, name: str) -> list[tuple[bool, str]] | None:
    """The (weak, opaque tag) pairs of a header's list, or None for ``*``."""
    if header.strip() == "*":
        return None
    tags, position = [], 0
    while position < len(header):
        found = ENTITY_TAG.match(header, position)
        if found is None or found.end() == position:
            raise ValidationFailed(f'{name} must be "*" or a list of ETags such as "3" (comma-separated), '
                                   f"got {header[:100]!r}")
        tags.append((found.group(1) is not None, found.group(2)))
        position = found.end()
    if not tags:
        raise ValidationFailed(f'{name} must be "*" or a list of ETags such as "3", got an empty header')
    return tags


def expected_versions(if_match: str | None) -> ExpectedVersion:
    """The versions ``If-Match`` accepts (strong comparison); None when it accepts any (absent, or ``*``).

    An empty set (only weak or foreign tags) matches nothing: the write is refused with 412.
    """
    if if_match is None:
        return None
    tags = entity_tags(if_match, "If-Match")
    if tags is None:
        return None
    return frozenset(int(tag) for weak, tag in tags if not weak and VERSION.fullmatch(tag))


def not_modified(if_none_match: str | None, version: int) -> bool:
    """Whether ``If-None-Match`` names this version (weak comparison) or is ``*``: answer 304."""
    if if_none_match is None:
        return False
    tags = entity_tags(if_none_match, "If-None-Match")
    return tags is None or any(tag == str(version) for _, tag in tags)
