"""Who read an incident: the read audit's query (the record itself: ``workflows.read_audit``).

Who may ask: security administrators and Level 1 users of the incident's facility, and state
reviewers (every facility). Level 2 and Level 3 users may not: who read whose incident is a
security matter, not a part of the workflow (the project has no separate auditor role; auditors
of the workflow's records are Level 3 and see the audit trail, not the readers). Another facility's
incident is "not found", in the same words as an absent one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.deadlines import LOCAL_ZONE, parse_moment
from domain.errors import PermissionDenied, ValidationFailed
from domain.vocabulary import Level
from workflows.accounts import Principal
from workflows.permissions import require_facility, require_incident_facility
from workflows.read_audit import Read
from workflows.service import IncidentService
from workflows.spreadsheets import csv_text

MAX_LIMIT = 10_000
CSV_COLUMNS = ("at", "user_id", "level", "facility", "incident_id", "incident_facility", "view", "channel")


class ReadLog(Protocol):
    """The recorded reads, as the query needs them (oldest first)."""

    def reads(self, *, incident_id: str | None = None, user_id: str | None = None,
              incident_facility: str | None = None, since: datetime | None = None, until: datetime | None = None,
              limit: int = 1000) -> list[Read]: ...


def may_see_readers(principal: Principal) -> bool:
    return principal.security_admin or principal.actor.state_reviewer or principal.actor.level == Level.SUBMITTER


class ReadAudit:
    """The query: who read an incident, or what a user read, in a time range."""

    def __init__(self, log: ReadLog, incidents: IncidentService) -> None:
        self.log = log
        self.incidents = incidents

    def readers(self, principal: Principal, *, incident_id: UUID | None = None, user: str | None = None,
                since: datetime | None = None, until: datetime | None = None, facility: str | None = None,
                limit: int = 1000) -> list[Read]:
        """Recorded reads of one incident, or of a facility's incidents (by one user), oldest first."""
        actor = principal.actor
        if not may_see_readers(principal):
            raise PermissionDenied(f"who read an incident is shown to security administrators, Level 1 and state "
                                   f"reviewers; {actor.user_id!r} is Level {int(actor.level)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        if since is not None and until is not None and since > until:
            raise ValidationFailed(f"since ({since.isoformat()}) is after until ({until.isoformat()})")
        if incident_id is not None:
            incident = self.incidents.load(incident_id)  # absent: "not found"
            require_incident_facility(actor, incident_id, incident.facility, reading=True)  # the same words
            return self.log.reads(incident_id=str(incident_id), user_id=user, since=since, until=until, limit=limit)
        chosen = facility or (None if actor.state_reviewer else actor.facility)  # reviewers: every facility
        if chosen is not None:
            require_facility(actor, chosen, f"facility {chosen!r}", reading=True)
        return self.log.reads(incident_facility=chosen, user_id=user, since=since, until=until, limit=limit)


def period(since: str | None, until: str | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """``since`` and ``until`` as people type them: a bare date is the start (since) or the end (until) of
    that New York day, so ``--since 2026-11-16 --until 2026-11-22`` is that whole week."""
    start = None
    if since is not None:
        text = since.strip()
        start = parse_moment(f"{text}T00:00" if len(text) == 10 else text, "since", now=now)
    return start, parse_moment(until, "until", now=now) if until is not None else None


def to_csv(reads: Sequence[Read]) -> str:
    """For a spreadsheet: one row per read, ``at`` in New York time as ISO 8601 with its offset."""
    return csv_text(CSV_COLUMNS, ({**read.as_dict(), "at": read.at.astimezone(LOCAL_ZONE).isoformat()} for read in reads))
