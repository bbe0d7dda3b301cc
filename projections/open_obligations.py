"""Which obligations of an incident are open, as the board and the incident list keep them: ``{key: (clock, due)}``.

Every view folds the same events the same way: ``DeadlineSet`` opens (or, while provisional, moves) an
obligation; ``ObligationMet``, ``ObligationWaived`` and ``DeadlineWithdrawn`` close it; ``ObligationExtended``
moves its due time. Incidents pinned to charts@1 (release 0.1.0) recorded no ObligationMet: there the Report
of Death meets its clock and the first closing the investigation's (``Incident.clock_met_at``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import orjson

from domain.incident import Incident
from domain.obligations.sets import CHARTS_ONLY
from domain.vocabulary import ClockName
from projections.view import EventKinds

OpenObligations = dict[str, tuple[str, datetime]]
CHANGES = (Incident.DeadlineSet, Incident.DeadlineWithdrawn, Incident.ObligationMet, Incident.ObligationWaived,
           Incident.ObligationExtended, Incident.ReportOfDeathSubmitted, Incident.Closed)
CHANGING = EventKinds(*CHANGES)  # CHANGING[type(event)]: whether ``change`` folds the event in


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc)


def decode(text: str | None) -> OpenObligations:
    if not text:
        return {}
    return {key: (clock, datetime.fromisoformat(due)) for key, (clock, due) in orjson.loads(text).items()}


def encode(obligations: OpenObligations) -> str | None:
    if not obligations:
        return None
    return orjson.dumps({key: [clock, due.isoformat()] for key, (clock, due) in sorted(obligations.items())}).decode()


def started_with(event: Any) -> OpenObligations:
    """The obligations an incident starts with (its creation event's provisional ``deadlines``)."""
    return {d["key"]: (d["clock"], utc(d["due"])) for d in event.deadlines}


def change(obligations: OpenObligations, row: dict[str, Any], event: Any) -> None:
    """Fold one event into the incident's open obligations. ``row`` keeps ``obligations`` (the pinned rules),
    ``report_of_death_submitted`` and ``closed_once`` for the charts@1 meetings."""
    if isinstance(event, Incident.DeadlineSet):
        legacy_met = row["obligations"] == CHARTS_ONLY and (
            row["report_of_death_submitted"] if event.clock == ClockName.REPORT_OF_DEATH.value else row["closed_once"])
        if not legacy_met:
            obligations[event.key] = (event.clock, utc(event.due))
    elif isinstance(event, (Incident.DeadlineWithdrawn, Incident.ObligationMet, Incident.ObligationWaived)):
        obligations.pop(event.key, None)
    elif isinstance(event, Incident.ObligationExtended):
        if event.key in obligations:
            obligations[event.key] = (event.clock, utc(event.due))
    elif isinstance(event, Incident.ReportOfDeathSubmitted):
        row["report_of_death_submitted"] = True
        if row["obligations"] == CHARTS_ONLY:
            obligations.pop(ClockName.REPORT_OF_DEATH.value, None)
    elif isinstance(event, Incident.Closed) and not row["closed_once"]:
        row["closed_once"] = True
        if row["obligations"] == CHARTS_ONLY:
            obligations.pop(ClockName.INVESTIGATION.value, None)
