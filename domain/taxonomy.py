"""The incident taxonomy as versioned data: one ``RuleSet`` per OMH chart.

An entry is one type/subtype row of a chart. Its conditions say when it qualifies:
which program settings (and which route in each), the premises/supervision condition,
whether serious injury or harm is required, and an age limit where the chart sets one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from domain.errors import ValidationFailed
from domain.vocabulary import (
    ALL_SETTINGS,
    Category,
    ClockName,
    Harm,
    Location,
    Route,
    Setting,
)


# What ``as_dict`` returns: the standard library's TypedDict (the domain imports nothing else); the HTTP
# adapter documents these in OpenAPI (``adapters.http.schemas``).
class ClockRuleRecord(TypedDict):
    name: str
    days: int


class TaxonomyRecord(TypedDict):
    """One type/subtype row of a chart: its reporting route in each program setting, conditions and clocks."""

    code: str
    category: str
    type: str
    subtype: str | None
    route: str
    routes_by_setting: dict[str, str]
    harm: str
    location: str
    under_age: dict[str, int]
    clocks: list[ClockRuleRecord]
    definition: str
    chart: str
    alternatives: list[str]


@dataclass(frozen=True)
class ClockRule:
    name: ClockName
    days: int

    def as_dict(self) -> ClockRuleRecord:
        return {"name": self.name.value, "days": self.days}


@dataclass(frozen=True)
class TaxonomyEntry:
    code: str
    category: Category
    type: str
    subtype: str | None
    definition: str
    chart: str
    routes_by_setting: Mapping[Setting, Route]
    harm: Harm = Harm.REGARDLESS
    location: Location = Location.ANY
    clocks: tuple[ClockRule, ...] = ()
    # setting -> the patient must be younger than this age for the entry to qualify
    under_age: Mapping[Setting, int] = field(default_factory=dict)
    # codes worth suggesting when this entry does not qualify as given
    alternatives: tuple[str, ...] = ()
    procedure: str = ""

    @property
    def route(self) -> Route:
        """The entry's reporting route: the JC route where any setting reports to the JC."""
        routes = set(self.routes_by_setting.values())
        return Route.JC_AND_OMH if Route.JC_AND_OMH in routes else Route.OMH_ONLY

    @property
    def is_death(self) -> bool:
        return self.category is Category.DEATH

    def clocks_for(self, route: Route) -> tuple[ClockRule, ...]:
        """Clocks run only on the entry's own route (an outpatient death reports to OMH only)."""
        return self.clocks if route is self.route else ()

    def as_dict(self) -> TaxonomyRecord:
        return {
            "code": self.code,
            "category": self.category.value,
            "type": self.type,
            "subtype": self.subtype,
            "route": self.route.value,
            "routes_by_setting": {s.value: r.value for s, r in sorted(self.routes_by_setting.items())},
            "harm": self.harm.value,
            "location": self.location.value,
            "under_age": {s.value: a for s, a in sorted(self.under_age.items())},
            "clocks": [c.as_dict() for c in self.clocks],
            "definition": self.definition,
            "chart": self.chart,
            "alternatives": list(self.alternatives),
        }


@dataclass(frozen=True)
class RuleSet:
    name: str
    chart: str
    title: str
    entries: tuple[TaxonomyEntry, ...]
    procedures: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        codes = [e.code for e in self.entries]
        duplicates = {c for c in codes if codes.count(c) > 1}
        if duplicates:
            raise ValueError(f"rule set {self.name}: duplicate codes {sorted(duplicates)}")
        unknown = {a for e in self.entries for a in e.alternatives} - set(codes)
        if unknown:
            raise ValueError(f"rule set {self.name}: alternatives name unknown codes {sorted(unknown)}")

    def entry(self, code: str) -> TaxonomyEntry:
        for candidate in self.entries:
            if candidate.code == code:
                return candidate
        raise ValidationFailed(f"unknown incident code {code!r} in the {self.name!r} rule set (chart {self.chart})")

    def steps(self, entry: TaxonomyEntry, route: Route) -> tuple[str, ...]:
        if route is Route.NOT_REPORTABLE:
            return self.procedures["not_reportable"]
        if route is Route.OMH_ONLY:
            return self.procedures["omh_only"]
        return self.procedures[entry.procedure]


def settings(routes: Iterable[Setting], route: Route) -> dict[Setting, Route]:
    return {s: route for s in routes}


def everywhere(route: Route) -> dict[Setting, Route]:
    return settings(ALL_SETTINGS, route)
