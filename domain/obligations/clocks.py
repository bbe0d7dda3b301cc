"""A clock as data: what starts it, how long it runs, in which unit, what meets it, and its citation.

An *obligation* is one clock running on one incident, named by its ``key``: the clock's name, and for
clocks a person's request starts, ``<name>:<request_id>``. The starts and meetings are a closed
vocabulary the incident knows how to evaluate (``domain.obligations.evaluation``): a new clock of a
known kind is one data entry; a new kind of fact needs code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.errors import ValidationFailed
from domain.obligations.calendar import Unit
from domain.vocabulary import Category, Level, Route


class Start(StrEnum):
    """The recorded fact a clock starts from. Stored in the rule sets' snapshots: never rename a value."""

    INITIAL_REPORT = "initial_report"  # the initial report to the JC (for incidents entered directly: when recorded)
    DISCOVERY = "discovery"  # when the incident was discovered (the incident screen's discovered_at)
    REQUEST = "request"  # a written request (a qualified person's, or the JC's) of the clock's request kind


class Meeting(StrEnum):
    """The recorded fact that meets a clock."""

    REPORT_OF_DEATH_SUBMITTED = "report_of_death_submitted"
    FIRST_CLOSED = "first_closed"
    WSIR_SUBMITTED = "wsir_submitted"
    JC_INITIAL_REPORT = "jc_initial_report"  # the VPCR report's initial-report time
    QUALIFIED_PERSONS_NOTIFIED = "qualified_persons_notified"  # every qualified person reached or left a message
    RECORDS_RELEASED = "records_released"  # for the request that started the clock
    SENT_TO_JC = "sent_to_jc"  # the autopsy report, or the information the JC requested


class RequestKind(StrEnum):
    INCIDENT_REPORT_COPY = "incident_report_copy"
    INVESTIGATION_RECORDS = "investigation_records"
    JC_INFORMATION = "jc_information"


def parse_request_kind(value: Any) -> RequestKind:
    try:
        return RequestKind(value)
    except ValueError:
        raise ValidationFailed(f"unknown request kind {value!r}; expected one of: {', '.join(RequestKind)}") from None


@dataclass(frozen=True)
class MetWhen:
    """A meeting, for the categories listed (none listed: every category)."""

    meeting: Meeting
    categories: tuple[Category, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"meeting": self.meeting.value, "categories": [c.value for c in self.categories]}


@dataclass(frozen=True)
class Applies:
    """Which incidents a clock runs on. ``from_chart``: where the chart's classification lists the clock."""

    from_chart: bool = False
    routes: tuple[Route, ...] = ()  # none listed: every reportable route
    deaths_only: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"from_chart": self.from_chart, "routes": [r.value for r in self.routes], "deaths_only": self.deaths_only}


@dataclass(frozen=True)
class ClockDefinition:
    name: str  # stable forever: stored in events, views, URLs and alert rules
    title: str
    starts_at: Start
    unit: Unit
    met_by: tuple[MetWhen, ...]
    applies: Applies
    citation: str
    length: int | None = None  # None: the chart's days for the incident's type
    request_kind: RequestKind | None = None  # for Start.REQUEST
    extendable_by: Level | None = None  # who may extend it (with a reason); None: it cannot be extended
    blocks_closing: bool = False
    due_soon_hours: int = 48  # ClockDueSoon is recorded this long before the due time

    def meeting_for(self, category: Category) -> Meeting | None:
        """The first meeting whose categories include ``category``."""
        for met in self.met_by:
            if not met.categories or category in met.categories:
                return met.meeting
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "title": self.title, "starts_at": self.starts_at.value,
            "request_kind": self.request_kind.value if self.request_kind else None,
            "length": self.length, "unit": self.unit.value, "met_by": [m.as_dict() for m in self.met_by],
            "applies": self.applies.as_dict(),
            "extendable_by": int(self.extendable_by) if self.extendable_by is not None else None,
            "blocks_closing": self.blocks_closing, "due_soon_hours": self.due_soon_hours, "citation": self.citation,
        }


@dataclass(frozen=True)
class ObligationRules:
    """One released version of a set of clocks. A released version is never edited: a change is a new version."""

    name: str
    version: int
    title: str
    description: str
    clocks: tuple[ClockDefinition, ...]
    provisional_drafts: bool  # whether a draft's clocks run (marked provisional) before Email OMH fixes them

    def __post_init__(self) -> None:
        names = [c.name for c in self.clocks]
        if len(set(names)) != len(names):
            raise ValueError(f"obligation rules {self.id}: a clock name appears twice")

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def clock(self, name: str) -> ClockDefinition | None:
        return next((c for c in self.clocks if c.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "description": self.description,
                "provisional_drafts": self.provisional_drafts, "clocks": [c.as_dict() for c in self.clocks]}


def obligation_key(clock: str, request_id: str | None = None) -> str:
    return f"{clock}:{request_id}" if request_id else clock
