"""The Incident aggregate: one incident, from the JC import queue (or "New Incident") to closed.

Public command methods check the domain's rules and raise before anything changes; the
private ``@event`` methods only assign, because they run again on every replay. Every step
asks the lifecycle (``domain.lifecycle``) whether it is allowed now and where it leads, and
refuses with every failed rule named; its event records the destination (``to_state``), so
replay never consults the lifecycle. Who may take a step is the workflow's business.

Every event has an explicit, stable topic (``nimrs.Incident.<Name>``) independent of this
module's path, a ``class_version``, the actor who caused it and the time it was recorded
(the ``timestamp``, from the clock the caller passes in).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.deadlines import Deadline
from domain.details import missing_for_submission, validate_screen, youngest_age
from domain.errors import ValidationFailed
from domain.lifecycle import INITIAL_STATE, Creation, State, Step, next_state
from domain.moments import require_happened
from domain.reportability import Classification, Facts, classify
from domain.rules import rule_set
from domain.taxonomy import RuleSet
from domain.vocabulary import ClockName, Route, Setting, parse_setting
from domain.vpcr import VpcrReport

MAX_REASON = 2_000


class Origin(StrEnum):
    """How the incident came to exist; stored in no event (the creation event's type says it)."""

    JC_IMPORT = "jc_import"
    NEW_INCIDENT = "new_incident"


def _reason(reason: str, what: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed(f"a reason is required to {what}")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"the reason to {what} is longer than {MAX_REASON} characters")
    return reason.strip()


class Incident(Aggregate):
    TOPIC = "nimrs.Incident"

    class Event(Aggregate.Event):
        """Every event says who caused it (``actor``) and when it was recorded (``timestamp``)."""

        TOPIC = "nimrs.Incident.Event"
        actor: dict[str, Any]

    class Created(Event, Aggregate.Created):
        """What both ways of creating an incident carry: its code and the state it starts in."""

        TOPIC = "nimrs.Incident.Created"
        facility: str
        program: str
        setting: str
        summary: str
        rule_set: str
        creation = Creation.CREATE
        origin = Origin.NEW_INCIDENT

        @property
        def incident_code(self) -> str:
            raise NotImplementedError

        @property
        def initial_state(self) -> State:
            return INITIAL_STATE[self.creation]

        def apply(self, aggregate: Incident) -> None:
            aggregate.origin = self.origin
            aggregate.state = self.initial_state
            aggregate._assign_program(self.facility, self.program, self.setting, self.summary, self.rule_set)
            aggregate.details = {"code": self.incident_code}

    class VpcrReportReceived(Created):
        """A VPCR report arrived in the facility's JC import queue."""

        TOPIC = "nimrs.Incident.VpcrReportReceived"
        class_version = 1
        jc_case_number: str
        jc_reported_at: datetime
        reported_type: str
        creation = Creation.RECEIVE
        origin = Origin.JC_IMPORT

        @property
        def incident_code(self) -> str:
            return self.reported_type

        def apply(self, aggregate: Incident) -> None:
            super().apply(aggregate)
            aggregate.jc_case_number = self.jc_case_number
            aggregate.jc_reported_at = self.jc_reported_at

    class CreatedDirectly(Created):
        """An incident entered with "New Incident" (the OMH-only path, or a local record)."""

        TOPIC = "nimrs.Incident.CreatedDirectly"
        class_version = 1
        code: str

        @property
        def incident_code(self) -> str:
            return self.code

    class ImportedFromJcQueue(Event):
        TOPIC = "nimrs.Incident.ImportedFromJcQueue"
        class_version = 1
        to_state: str

    class DetailsRecorded(Event):
        TOPIC = "nimrs.Incident.DetailsRecorded"
        class_version = 1
        screen: str
        fields: dict[str, Any]

    class EmailedToOmh(Event):
        TOPIC = "nimrs.Incident.EmailedToOmh"
        class_version = 2
        to_state: str
        route: str
        code: str
        attested: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["attested"] = False  # recorded before anyone was asked to confirm with a password

    class DeadlineSet(Event):
        TOPIC = "nimrs.Incident.DeadlineSet"
        class_version = 1
        clock: str
        days: int
        start: datetime
        due: datetime

    class ReportOfDeathSubmitted(Event):
        TOPIC = "nimrs.Incident.ReportOfDeathSubmitted"
        class_version = 2
        to_state: str
        attested: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["attested"] = False  # recorded before anyone was asked to confirm with a password

    class InvestigationStarted(Event):
        TOPIC = "nimrs.Incident.InvestigationStarted"
        class_version = 1
        to_state: str

    class FindingsDocumented(Event):
        TOPIC = "nimrs.Incident.FindingsDocumented"
        class_version = 1
        findings: str

    class Closed(Event):
        TOPIC = "nimrs.Incident.Closed"
        class_version = 2
        to_state: str
        attested: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["attested"] = False  # recorded before anyone was asked to confirm with a password

    class Reopened(Event):
        TOPIC = "nimrs.Incident.Reopened"
        class_version = 1
        to_state: str
        reason: str

    class AmendedAfterSubmission(Event):
        TOPIC = "nimrs.Incident.AmendedAfterSubmission"
        class_version = 1
        screen: str
        fields: dict[str, Any]
        reason: str

    def __init__(self) -> None:
        self.origin: Origin
        self.state: State
        self.jc_case_number: str | None = None
        self.jc_reported_at: datetime | None = None
        self.details: dict[str, Any] = {}
        self.submitted_route: str | None = None
        self.findings: str | None = None
        self.deadlines: dict[str, Deadline] = {}
        self.report_of_death_submitted_at: datetime | None = None
        self.first_closed_at: datetime | None = None
        self.closed_from: str | None = None

    def _assign_program(self, facility: str, program: str, setting: str, summary: str, rules: str) -> None:
        self.facility, self.program, self.setting, self.summary, self.rule_set_name = (
            facility, program, setting, summary, rules,
        )

    # -- creation ---------------------------------------------------------------------------

    @classmethod
    def receive(cls, report: VpcrReport, actor: Actor, at: datetime) -> Incident:
        require_happened(report.jc_reported_at, "jc_reported_at", at)
        return cls._create(
            cls.VpcrReportReceived, id=report.incident_id, timestamp=at, actor=actor.as_dict(), **report.as_event_fields()
        )

    @classmethod
    def create(
        cls, incident_id: UUID, actor: Actor, at: datetime, *, program: str, setting: str, code: str, summary: str,
        rules: str,
    ) -> Incident:
        rules_used = rule_set(rules)
        rules_used.entry(code)
        if not isinstance(summary, str) or not summary.strip() or not isinstance(program, str) or not program.strip():
            raise ValidationFailed("a new incident needs a program and a summary")
        return cls._create(
            cls.CreatedDirectly, id=incident_id, timestamp=at, actor=actor.as_dict(), facility=actor.facility,
            program=program.strip(), setting=parse_setting(setting).value, code=code, summary=summary.strip(), rule_set=rules,
        )

    # -- queries the lifecycle's rules and the screens use ------------------------------------

    @property
    def rules(self) -> RuleSet:
        return rule_set(self.rule_set_name)

    @property
    def code(self) -> str:
        return str(self.details["code"])

    @property
    def is_death(self) -> bool:
        return self.rules.entry(self.code).is_death

    def missing_details(self) -> list[str]:
        return missing_for_submission(self.details)

    def classification(self) -> Classification | None:
        """The route as the details stand, or None while the facts it needs are not recorded."""
        needed = ("on_premises_or_supervised", "serious_harm")
        if any(name not in self.details for name in needed):
            return None
        setting, age = Setting(self.setting), youngest_age(self.details)
        if age is None and self.rules.entry(self.code).under_age.get(setting) is not None:
            return None  # the chart sets an age limit here, and no client's age is recorded yet
        facts = Facts(setting, self.details["on_premises_or_supervised"], self.details["serious_harm"], age)
        return classify(self.rules, self.code, facts)

    @property
    def route(self) -> str | None:
        """The route fixed at Email OMH, else the one the current details give."""
        if self.submitted_route is not None:
            return self.submitted_route
        classification = self.classification()
        return classification.route.value if classification else None

    def needs_report_of_death(self) -> bool:
        return self.is_death and self.route == Route.JC_AND_OMH.value

    @property
    def clock_start(self) -> datetime:
        """The initial report to the JC, or for incidents entered directly, when first recorded."""
        return self.jc_reported_at if self.jc_reported_at is not None else self.created_on

    def clock_met_at(self, name: str) -> datetime | None:
        if name == ClockName.REPORT_OF_DEATH.value:
            return self.report_of_death_submitted_at
        return self.first_closed_at

    # -- commands ----------------------------------------------------------------------------

    def import_report(self, actor: Actor, at: datetime) -> None:
        self._imported(actor=actor.as_dict(), to_state=next_state(self, Step.IMPORT_REPORT).value, timestamp=at)

    def record_details(self, actor: Actor, at: datetime, screen: str, fields: dict[str, Any]) -> None:
        next_state(self, Step.RECORD_DETAILS)
        self._details_recorded(actor=actor.as_dict(), screen=screen, fields=self._changed(screen, fields, at),
                               timestamp=at)

    def amend(self, actor: Actor, at: datetime, screen: str, fields: dict[str, Any], reason: str) -> None:
        next_state(self, Step.AMEND)
        clean = self._changed(screen, fields, at)
        self._amended(actor=actor.as_dict(), screen=screen, fields=clean, reason=_reason(reason, "amend"), timestamp=at)
        self._set_new_deadlines(actor, at)

    def email_omh(self, actor: Actor, at: datetime, *, attested: bool = False) -> None:
        to_state = next_state(self, Step.EMAIL_OMH).value
        classification = self.classification()
        if classification is None:  # the rules above require complete details, which include these facts
            raise ValidationFailed("cannot Email OMH: required details are missing", problems=self.missing_details())
        self._emailed_to_omh(actor=actor.as_dict(), to_state=to_state, route=classification.route.value,
                             code=self.code, attested=attested, timestamp=at)
        self._set_new_deadlines(actor, at)

    def submit_report_of_death(self, actor: Actor, at: datetime, *, attested: bool = False) -> None:
        to_state = next_state(self, Step.SUBMIT_REPORT_OF_DEATH).value
        self._report_of_death_submitted(actor=actor.as_dict(), to_state=to_state, attested=attested, timestamp=at)

    def start_investigation(self, actor: Actor, at: datetime) -> None:
        to_state = next_state(self, Step.START_INVESTIGATION).value
        self._investigation_started(actor=actor.as_dict(), to_state=to_state, timestamp=at)

    def document_findings(self, actor: Actor, at: datetime, findings: str) -> None:
        next_state(self, Step.DOCUMENT_FINDINGS)
        if not isinstance(findings, str) or not findings.strip():
            raise ValidationFailed("findings must be non-empty text")
        self._findings_documented(actor=actor.as_dict(), findings=findings.strip(), timestamp=at)

    def close(self, actor: Actor, at: datetime, *, attested: bool = False) -> None:
        self._closed(actor=actor.as_dict(), to_state=next_state(self, Step.CLOSE).value, attested=attested, timestamp=at)

    def reopen(self, actor: Actor, at: datetime, reason: str) -> None:
        to_state = next_state(self, Step.REOPEN).value
        self._reopened(actor=actor.as_dict(), to_state=to_state, reason=_reason(reason, "reopen"), timestamp=at)

    def _changed(self, screen: str, fields: dict[str, Any], at: datetime) -> dict[str, Any]:
        clean = validate_screen(screen, fields, self.rules, at)
        changed = {k: v for k, v in clean.items() if self.details.get(k, object()) != v}
        if not changed:
            raise ValidationFailed(f"nothing to record: screen {screen!r} already holds these values")
        return changed

    def _set_new_deadlines(self, actor: Actor, at: datetime) -> None:
        """Set every clock the submitted classification calls for; a set clock never moves."""
        if self.submitted_route is None:
            return
        classification = self.classification()
        if classification is None:
            return
        for clock in classification.clocks:
            if clock.name.value not in self.deadlines:
                deadline = Deadline.starting(clock.name.value, clock.days, self.clock_start)
                self._deadline_set(actor=actor.as_dict(), clock=deadline.name, days=deadline.days,
                                   start=deadline.start, due=deadline.due, timestamp=at)

    # -- events: assignment only -------------------------------------------------------------

    @event(ImportedFromJcQueue)
    def _imported(self, actor: dict[str, Any], to_state: str, timestamp: datetime) -> None:
        self.state = State(to_state)

    @event(DetailsRecorded)
    def _details_recorded(self, actor: dict[str, Any], screen: str, fields: dict[str, Any], timestamp: datetime) -> None:
        self.details = {**self.details, **fields}

    @event(AmendedAfterSubmission)
    def _amended(self, actor: dict[str, Any], screen: str, fields: dict[str, Any], reason: str, timestamp: datetime) -> None:
        self.details = {**self.details, **fields}

    @event(EmailedToOmh)
    def _emailed_to_omh(self, actor: dict[str, Any], to_state: str, route: str, code: str, attested: bool,
                        timestamp: datetime) -> None:
        self.state = State(to_state)
        self.submitted_route = route

    @event(DeadlineSet)
    def _deadline_set(self, actor: dict[str, Any], clock: str, days: int, start: datetime, due: datetime,
                      timestamp: datetime) -> None:
        self.deadlines = {**self.deadlines, clock: Deadline(clock, days, start, due)}

    @event(ReportOfDeathSubmitted)
    def _report_of_death_submitted(self, actor: dict[str, Any], to_state: str, attested: bool,
                                   timestamp: datetime) -> None:
        self.state = State(to_state)
        self.report_of_death_submitted_at = timestamp

    @event(InvestigationStarted)
    def _investigation_started(self, actor: dict[str, Any], to_state: str, timestamp: datetime) -> None:
        self.state = State(to_state)

    @event(FindingsDocumented)
    def _findings_documented(self, actor: dict[str, Any], findings: str, timestamp: datetime) -> None:
        self.findings = findings

    @event(Closed)
    def _closed(self, actor: dict[str, Any], to_state: str, attested: bool, timestamp: datetime) -> None:
        self.closed_from = self.state
        self.state = State(to_state)
        if self.first_closed_at is None:
            self.first_closed_at = timestamp

    @event(Reopened)
    def _reopened(self, actor: dict[str, Any], to_state: str, reason: str, timestamp: datetime) -> None:
        self.state = State(to_state)


# The events that change recorded details (a draft's screens, or an amendment after submission).
DETAILS_CHANGED = (Incident.DetailsRecorded, Incident.AmendedAfterSubmission)
