"""Decide an incident's reporting route from the chart's conditions.

``classify`` checks one taxonomy entry against the facts, in the order the chart reads:
program setting, age (where the chart sets one), premises/supervision, then harm. When the
entry does not qualify it says why, and names any alternative type that would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from domain.errors import ValidationFailed
from domain.taxonomy import ClockRule, ClockRuleRecord, RuleSet, TaxonomyEntry
from domain.vocabulary import MAX_AGE, Harm, Location, Route, Setting


class FactsRecord(TypedDict):
    setting: str
    on_premises_or_supervised: bool
    serious_harm: bool
    age: int | None


class AlternativeRecord(TypedDict):
    code: str
    route: str
    reason: str


class ClassificationRecord(TypedDict):
    """The reporting route, clocks and steps the chart gives an incident type on the facts, and why."""

    code: str
    type: str
    subtype: str | None
    rule_set: str
    chart: str
    facts: FactsRecord
    route: str
    clocks: list[ClockRuleRecord]
    steps: list[str]
    reasons: list[str]
    alternatives: list[AlternativeRecord]


@dataclass(frozen=True)
class Facts:
    setting: Setting
    on_premises_or_supervised: bool
    serious_harm: bool
    age: int | None = None

    def __post_init__(self) -> None:
        if self.age is not None and (isinstance(self.age, bool) or not 0 <= self.age <= MAX_AGE):
            raise ValidationFailed(f"age must be a whole number from 0 to {MAX_AGE}, got {self.age!r}")

    def as_dict(self) -> FactsRecord:
        return {
            "setting": self.setting.value,
            "on_premises_or_supervised": self.on_premises_or_supervised,
            "serious_harm": self.serious_harm,
            "age": self.age,
        }


@dataclass(frozen=True)
class Alternative:
    code: str
    route: Route
    reason: str


@dataclass(frozen=True)
class Classification:
    entry: TaxonomyEntry
    rules: RuleSet
    facts: Facts
    route: Route
    reasons: tuple[str, ...]
    alternatives: tuple[Alternative, ...] = field(default=())

    @property
    def clocks(self) -> tuple[ClockRule, ...]:
        return self.entry.clocks_for(self.route)

    @property
    def steps(self) -> tuple[str, ...]:
        return self.rules.steps(self.entry, self.route)

    def as_dict(self) -> ClassificationRecord:
        return {
            "code": self.entry.code,
            "type": self.entry.type,
            "subtype": self.entry.subtype,
            "rule_set": self.rules.name,
            "chart": self.rules.chart,
            "facts": self.facts.as_dict(),
            "route": self.route.value,
            "clocks": [c.as_dict() for c in self.clocks],
            "steps": list(self.steps),
            "reasons": list(self.reasons),
            "alternatives": [{"code": a.code, "route": a.route.value, "reason": a.reason} for a in self.alternatives],
        }


def label(entry: TaxonomyEntry) -> str:
    return f"{entry.type} - {entry.subtype}" if entry.subtype else entry.type


def _unmet_conditions(entry: TaxonomyEntry, facts: Facts) -> list[str]:
    """Every chart condition the facts fail, in the chart's words; empty when the entry qualifies."""
    unmet: list[str] = []
    if facts.setting not in entry.routes_by_setting:
        allowed = ", ".join(sorted(s.value for s in entry.routes_by_setting))
        unmet.append(f"{label(entry)} applies only to {allowed} programs, not {facts.setting.value}")
    age_limit = entry.under_age.get(facts.setting)
    if age_limit is not None:
        if facts.age is None:
            raise ValidationFailed(
                f"age is required: {entry.code} in {facts.setting.value} programs applies only to patients under {age_limit}"
            )
        if facts.age >= age_limit:
            unmet.append(f"{label(entry)} in {facts.setting.value} programs covers patients under {age_limit}; the patient is {facts.age}")
    if entry.location is Location.ON_PREMISES_OR_SUPERVISED and not facts.on_premises_or_supervised:
        unmet.append("Significant Incidents are reportable only on program premises or under the actual or intended supervision of a custodian")
    if entry.location is Location.OFF_SITE and facts.on_premises_or_supervised:
        unmet.append(f"{label(entry)} covers only off-site incidents (off premises and not under supervision)")
    if entry.harm is Harm.SERIOUS_HARM_REQUIRED and not facts.serious_harm:
        unmet.append(f"{label(entry)} is reportable only when it results in serious injury or harm")
    return unmet


def _qualifying_reasons(entry: TaxonomyEntry, rules: RuleSet, facts: Facts, route: Route) -> list[str]:
    reasons = [f"{label(entry)} ({entry.code}) reports {route.value} from {facts.setting.value} programs under chart {rules.chart}"]
    if entry.location is Location.ON_PREMISES_OR_SUPERVISED:
        reasons.append("it occurred on program premises or under a custodian's supervision")
    elif entry.location is Location.OFF_SITE:
        reasons.append("it occurred off premises and not under supervision")
    if entry.harm is Harm.SERIOUS_HARM_REQUIRED:
        reasons.append("it resulted in serious injury or harm, which this type requires")
    else:
        reasons.append("this type counts regardless of harm")
    if facts.setting in entry.under_age:
        reasons.append(f"the patient is {facts.age}, under {entry.under_age[facts.setting]}")
    return reasons


def classify(rules: RuleSet, code: str, facts: Facts) -> Classification:
    entry = rules.entry(code)
    unmet = _unmet_conditions(entry, facts)
    if not unmet:
        route = entry.routes_by_setting[facts.setting]
        return Classification(entry, rules, facts, route, tuple(_qualifying_reasons(entry, rules, facts, route)))

    alternatives = []
    for alternative_code in entry.alternatives:
        alternative = rules.entry(alternative_code)
        if not _unmet_conditions(alternative, facts):
            route = alternative.routes_by_setting[facts.setting]
            alternatives.append(Alternative(alternative.code, route, f"the facts qualify as {label(alternative)} ({route.value})"))
    reasons = [f"{label(entry)} ({entry.code}) does not qualify as given under chart {rules.chart}: not reportable", *unmet]
    reasons += [f"consider {a.code}: {a.reason}" for a in alternatives]
    return Classification(entry, rules, facts, Route.NOT_REPORTABLE, tuple(reasons), tuple(alternatives))
