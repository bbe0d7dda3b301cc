"""Synthetic incident histories, realistic enough to benchmark and demonstrate the views.

Facilities with programs in each setting; types drawn from the chart's mix (abuse and neglect
allegations most often, deaths rarely); incidents that arrive evenly over a span of days and
move through the real workflow (every step checked by the transition table and the aggregate)
on the schedule a provider keeps, or misses: clocks met on time, met late, or never met.

Steps run in time order across all incidents and are saved in batches, so the log interleaves
incidents as a real one does. Memory holds only the incidents still in progress.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.tooling.samples import complete_details, vpcr_report
from domain.actor import Actor
from domain.errors import NimrsError
from domain.incident import Incident
from domain.reportability import Facts, classify
from domain.rules import rule_set
from domain.vocabulary import Category, Level, Route, Setting
from workflows.service import IncidentService

CATEGORY_WEIGHT = {Category.ABUSE_NEGLECT: 6.0, Category.SIGNIFICANT_INCIDENT: 3.0, Category.OMH_INCIDENT: 2.0,
                   Category.DEATH: 0.6}
PROGRAMS = ((Setting.INPATIENT, "Adult Inpatient Unit"), (Setting.RESIDENTIAL, "Community Residence"),
            (Setting.CPEP, "Comprehensive Psychiatric Emergency Program"), (Setting.OUTPATIENT, "Clinic"))
EVENTS_PER_INCIDENT = 11.5  # measured average, for sizing a run by events
Step = tuple[float, Callable[[Incident, datetime], Incident | None]]


@dataclass(frozen=True)
class Plan:
    incidents: int
    end: datetime
    facilities: int = 5
    span_days: int = 365
    seed: int = 2026
    save_every: int = 400  # aggregates' steps per save (one transaction)

    @classmethod
    def for_events(cls, events: int, end: datetime, **options: Any) -> Plan:
        return cls(incidents=max(1, round(events / EVENTS_PER_INCIDENT)), end=end, **options)


@dataclass
class Generated:
    incidents: int = 0
    events: int = 0


def facility_name(number: int) -> str:
    return f"F-{number:03d}"


def users_for(facility: str) -> tuple[Actor, Actor, Actor]:
    """The people who work a facility's incidents in generated histories."""
    return (Actor(f"risk.{facility}", facility, Level.SUBMITTER), Actor(f"clinical.{facility}", facility, Level.EDITOR),
            Actor(f"analyst.{facility}", facility, Level.READER))


class Generator:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.random = random.Random(plan.seed)
        entries = rule_set("current").entries
        self.codes = [entry.code for entry in entries]
        self.weights = [CATEGORY_WEIGHT[entry.category] for entry in entries]

    def _actors(self, facility: str) -> tuple[Actor, Actor]:
        submitter, editor, _ = users_for(facility)
        return submitter, editor

    def steps(self, number: int) -> tuple[datetime, list[Step]]:
        """One incident's arrival time and its planned steps (hours after arrival, action)."""
        plan, rng = self.plan, self.random
        start = plan.end - timedelta(days=plan.span_days)
        arrival = start + timedelta(days=plan.span_days) * ((number + rng.random()) / plan.incidents)
        facility = facility_name(1 + rng.randrange(plan.facilities))
        submitter, editor = self._actors(facility)
        setting, program = PROGRAMS[rng.choices(range(4), weights=(5, 3, 1, 3))[0]]
        code = rng.choices(self.codes, weights=self.weights)[0]
        on_premises, serious, age = rng.random() < 0.9, rng.random() < 0.5, rng.choice([15, 16, 24, 35, 47, 62, 78])
        rules = rule_set("current")
        classification = classify(rules, code, Facts(setting, on_premises, serious, age))
        route = classification.route
        days = {clock.name.value: clock.days for clock in classification.clocks}
        details = complete_details(arrival - timedelta(hours=rng.uniform(1, 20)), on_premises=on_premises,
                                   serious_harm=serious, age=age)
        identity = UUID(int=rng.getrandbits(128), version=4)
        steps: list[Step] = []
        hours = 0.0

        def after(low: float, high: float, action: Callable[[Incident, datetime], Incident | None]) -> None:
            nonlocal hours
            hours += rng.uniform(low, high)
            steps.append((hours, action))

        if route is Route.JC_AND_OMH:
            case = f"SYN-{plan.seed}-{number:08d}"
            report = vpcr_report(case, arrival, code=code, facility=facility, setting=setting.value,
                                 program=f"{program} {1 + number % 3}")
            after(0, 0, lambda _, at: Incident.receive(report, editor, at))
            after(2, 60, lambda i, at: _do(i, lambda: i.import_report(editor, at)))
        else:
            after(0, 0, lambda _, at: Incident.create(
                identity, editor, at, program=f"{program} {1 + number % 3}", setting=setting.value, code=code,
                summary="Entered by the unit's risk manager.", rules="current"))
        def record(screen: str, fields: dict[str, Any]) -> Callable[[Incident, datetime], Incident | None]:
            return lambda i, at: _do(i, lambda: i.record_details(editor, at, screen, fields))

        for screen, fields in details:
            after(0.5, 12, record(screen, fields))
        if route is Route.NOT_REPORTABLE:
            after(24, 24 * 10, lambda i, at: _do(i, lambda: i.document_findings(
                editor, at, "Reviewed by the incident review committee.")))
            after(1, 48, lambda i, at: _do(i, lambda: i.close(submitter, at)))
            return arrival, steps
        after(1, 30, lambda i, at: _do(i, lambda: i.email_omh(submitter, at)))
        if "report_of_death" in days:
            self._deadline_step(after, days["report_of_death"], lambda i, at: _do(i, lambda: i.submit_report_of_death(submitter, at)), hours)
        if route is Route.JC_AND_OMH:
            after(2, 72, lambda i, at: _do(i, lambda: i.start_investigation(editor, at)))
        if rng.random() < 0.03:
            after(2, 48, lambda i, at: _do(i, lambda: i.amend(
                submitter, at, "severity", {"risk_rating": 3}, "Risk re-rated after the clinical review.")))
        investigation = days.get("investigation", 30)
        closing_at = self._deadline_step(after, investigation, lambda i, at: _do(i, lambda: i.close(submitter, at)), hours)
        if closing_at is not None:  # findings shortly before closing
            earliest = steps[-2][0] if len(steps) > 1 else 0.0
            steps.insert(-1, (max(earliest, closing_at - rng.uniform(1, 20)), lambda i, at: _do(i, lambda: i.document_findings(editor, at, "Allegation substantiated; "
                                                                       "staff retrained."))))
            if rng.random() < 0.04:
                after(24, 24 * 20, lambda i, at: _do(i, lambda: i.reopen(
                    submitter, at, "New information from the family.")))
                after(24, 24 * 10, lambda i, at: _do(i, lambda: i.close(submitter, at)))
        return arrival, steps

    def _deadline_step(self, after: Callable[..., None], days: int, action: Callable[[Incident, datetime], Any],
                       elapsed: float) -> float | None:
        """Schedule a step that meets a clock of ``days``: on time (70%), late (20%) or never (10%)."""
        outcome = self.random.random()
        if outcome >= 0.9:
            return None
        target = days * 24 * (self.random.uniform(0.3, 0.9) if outcome < 0.7 else self.random.uniform(1.1, 2.5))
        after(max(1.0, target - elapsed), max(1.0, target - elapsed) + 1, action)
        return target

    def run(self, service: IncidentService, progress: Callable[[Generated], None] | None = None) -> Generated:
        done = Generated()
        for saved in self._batches():
            if saved:
                recordings = service.store.save(*saved)
                done.events += len(recordings)
            if progress:
                progress(done)
        done.incidents = self.plan.incidents
        return done

    def _batches(self) -> Iterator[list[Incident]]:
        """Run every step in time order; yield the changed incidents every ``save_every`` steps."""
        queue: list[tuple[datetime, int, int]] = []
        plans: dict[int, tuple[datetime, list[Step]]] = {}
        live: dict[int, Incident] = {}
        counter, dirty = 0, {}
        upcoming = self.steps(0) if self.plan.incidents else None
        number_next = 0
        while upcoming is not None or queue:
            if upcoming is not None:
                first = upcoming[0] + timedelta(hours=upcoming[1][0][0])
                if not queue or first <= queue[0][0]:
                    plans[number_next] = upcoming
                    heapq.heappush(queue, (first, counter, number_next))
                    counter, number_next = counter + 1, number_next + 1
                    upcoming = self.steps(number_next) if number_next < self.plan.incidents else None
                    continue
            at, _, number = heapq.heappop(queue)
            if at > self.plan.end:
                plans.pop(number)
                live.pop(number, None)
                continue
            arrival, steps = plans[number]
            hours, action = steps.pop(0)
            result = action(live.get(number), at)  # type: ignore[arg-type]
            if result is None:  # the workflow refused the step: the incident stops where it is
                steps.clear()
            else:
                live[number] = result
                dirty[number] = result
            if steps:
                heapq.heappush(queue, (arrival + timedelta(hours=steps[0][0]), counter, number))
                counter += 1
            else:
                plans.pop(number)
            if len(dirty) >= self.plan.save_every:
                yield list(dirty.values())
                dirty = {}
                live = {n: i for n, i in live.items() if n in plans}
        yield list(dirty.values())


def _do(incident: Incident, command: Callable[[], None]) -> Incident | None:
    """Run one of the incident's commands; None if its lifecycle (or a rule) refuses it."""
    try:
        command()
    except NimrsError:
        return None
    return incident
