"""Which obligations an incident owes under its pinned rules, when each is due and when it was met.

The incident hands over what it has recorded (``ObligationFacts``); ``owed`` answers with every
obligation whose start is known, its due time worked out from the clock's data (``due_after``). The
incident compares that with what it has already recorded (``DeadlineSet``, ``ObligationMet``) and
records the difference, so the aggregate decides its own obligations and the views only copy them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.obligations.calendar import Unit, due_after
from domain.obligations.clocks import ClockDefinition, Meeting, ObligationRules, RequestKind, Start, obligation_key
from domain.vocabulary import Category, Route


@dataclass(frozen=True)
class Request:
    request_id: str
    kind: RequestKind
    received_at: datetime


@dataclass(frozen=True)
class ObligationFacts:
    rules: ObligationRules
    category: Category
    route: Route | None  # as submitted, else as the details give it, else the reported type's
    provisional: bool  # not yet fixed by Email OMH
    chart_days: Mapping[str, int]  # the chart's clocks for the type on its route: name -> days
    initial_report_at: datetime
    discovered_at: datetime | None = None
    jc_reported_at: datetime | None = None
    report_of_death_at: datetime | None = None
    first_closed_at: datetime | None = None
    wsir_at: datetime | None = None
    qualified_persons: tuple[str, ...] = ()
    notice_given_at: Mapping[str, datetime] = field(default_factory=dict)  # recipient -> first reached/message left
    requests: tuple[Request, ...] = ()
    released_at: Mapping[str, datetime] = field(default_factory=dict)  # request -> records released
    autopsy_sent_at: datetime | None = None
    information_sent_at: Mapping[str, datetime] = field(default_factory=dict)  # JC request -> sent


@dataclass(frozen=True)
class Owed:
    """One obligation as the facts give it now."""

    key: str
    clock: ClockDefinition
    length: int
    unit: Unit
    start: datetime
    due: datetime
    provisional: bool
    request_id: str | None = None


def applies(clock: ClockDefinition, facts: ObligationFacts) -> bool:
    if facts.route is None or facts.route is Route.NOT_REPORTABLE:
        return False
    if clock.applies.from_chart:
        return clock.name in facts.chart_days
    if clock.applies.deaths_only and facts.category is not Category.DEATH:
        return False
    return not clock.applies.routes or facts.route in clock.applies.routes


def _starts(clock: ClockDefinition, facts: ObligationFacts) -> list[tuple[str | None, datetime]]:
    if clock.starts_at is Start.INITIAL_REPORT:
        return [(None, facts.initial_report_at)]
    if clock.starts_at is Start.DISCOVERY:
        return [(None, facts.discovered_at)] if facts.discovered_at is not None else []
    started: list[tuple[str | None, datetime]] = []
    for request in facts.requests:
        if request.kind is not clock.request_kind:
            continue
        start = request.received_at
        if request.kind is RequestKind.INVESTIGATION_RECORDS:
            if facts.first_closed_at is None:
                continue  # the records are owed once the investigation has ended
            start = max(start, facts.first_closed_at)
        started.append((request.request_id, start))
    return started


def owed(facts: ObligationFacts) -> list[Owed]:
    result = []
    for clock in facts.rules.clocks:
        if not applies(clock, facts):
            continue
        length = facts.chart_days[clock.name] if clock.length is None else clock.length
        for request_id, start in _starts(clock, facts):
            result.append(Owed(obligation_key(clock.name, request_id), clock, length, clock.unit, start,
                               due_after(start, length, clock.unit), facts.provisional, request_id))
    return result


def met_at(obligation: Owed, facts: ObligationFacts) -> datetime | None:
    """When the recorded facts met the obligation, or None while they have not."""
    meeting = obligation.clock.meeting_for(facts.category)
    if meeting is Meeting.REPORT_OF_DEATH_SUBMITTED:
        return facts.report_of_death_at
    if meeting is Meeting.FIRST_CLOSED:
        return facts.first_closed_at
    if meeting is Meeting.WSIR_SUBMITTED:
        return facts.wsir_at
    if meeting is Meeting.JC_INITIAL_REPORT:
        return facts.jc_reported_at
    if meeting is Meeting.QUALIFIED_PERSONS_NOTIFIED:
        if not facts.qualified_persons or any(p not in facts.notice_given_at for p in facts.qualified_persons):
            return None
        return max(facts.notice_given_at[p] for p in facts.qualified_persons)
    if meeting is Meeting.RECORDS_RELEASED and obligation.request_id is not None:
        return facts.released_at.get(obligation.request_id)
    if meeting is Meeting.SENT_TO_JC:
        if obligation.request_id is not None:
            return facts.information_sent_at.get(obligation.request_id)
        return facts.autopsy_sent_at
    return None
