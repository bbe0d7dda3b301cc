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

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.actor import Actor
from domain.deadlines import Deadline, local_text
from domain.details import missing_for_submission, validate_screen, youngest_age
from domain.errors import ValidationFailed
from domain.lifecycle import INITIAL_STATE, Creation, State, Step, next_state
from domain.moments import QUERY_HORIZON, require_happened
from domain.obligations import ledger
from domain.obligations.clocks import RequestKind, parse_request_kind
from domain.obligations.evaluation import ObligationFacts, Request, met_at, owed
from domain.obligations.evaluation import applies as applies_to
from domain.obligations.sets import CHARTS_ONLY, ObligationRules, obligation_rules
from domain.reportability import Classification, Facts, classify
from domain.rules import rule_set
from domain.taxonomy import RuleSet
from domain.vocabulary import Category, ClockName, Level, Route, Setting, parse_setting
from domain.vpcr import VpcrReport

MAX_REASON = 2_000
CLOCK_PROCESS = "system:clocks"  # the actor of ClockDueSoon and ClockMissed


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
        obligations: str  # the obligation rules pinned for the incident's life (domain.obligations.sets)
        # The obligations that start with the incident (provisional: the reported type's), as DeadlineSet's fields:
        # one event per received report, however many clocks it starts (the bulk import's speed).
        deadlines: list[dict[str, Any]]
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
            aggregate.obligation_rules_id = self.obligations
            aggregate.details = {"code": self.incident_code}
            aggregate.deadlines = {d["key"]: _deadline(d) for d in self.deadlines}

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["obligations"] = CHARTS_ONLY  # recorded before obligation rules existed: the charts' clocks
            state["deadlines"] = []

    class VpcrReportReceived(Created):
        """A VPCR report arrived in the facility's JC import queue."""

        TOPIC = "nimrs.Incident.VpcrReportReceived"
        class_version = 2
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
        class_version = 2
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
        """An obligation started (or, while provisional, its start or length changed)."""

        TOPIC = "nimrs.Incident.DeadlineSet"
        class_version = 2
        key: str
        clock: str
        rules: str
        length: int
        unit: str
        start: datetime
        due: datetime
        provisional: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["key"] = state["clock"]
            state["rules"] = CHARTS_ONLY
            state["length"] = state.pop("days")
            state["unit"] = "calendar_days"
            state["provisional"] = False

    class DeadlineWithdrawn(Event):
        """A provisional obligation no longer applies (the draft's type or route changed)."""

        TOPIC = "nimrs.Incident.DeadlineWithdrawn"
        class_version = 1
        key: str
        clock: str

    class ObligationMet(Event):
        TOPIC = "nimrs.Incident.ObligationMet"
        class_version = 1
        key: str
        clock: str
        met_at: datetime

    class ObligationWaived(Event):
        TOPIC = "nimrs.Incident.ObligationWaived"
        class_version = 1
        key: str
        clock: str
        reason: str

    class ObligationExtended(Event):
        TOPIC = "nimrs.Incident.ObligationExtended"
        class_version = 1
        key: str
        clock: str
        due: datetime
        reason: str

    class NoticeRecipientRecorded(Event):
        """A person owed notice (a qualified person, the director, law enforcement); again with the same id: replaced."""

        TOPIC = "nimrs.Incident.NoticeRecipientRecorded"
        class_version = 1
        recipient: dict[str, Any]

    class NotificationRecorded(Event):
        TOPIC = "nimrs.Incident.NotificationRecorded"
        class_version = 1
        recipient_id: str
        notified_at: datetime
        method: str
        outcome: str
        note: str
        evidence: dict[str, Any] | None

    class RequestReceived(Event):
        """A written request (a qualified person's for records, or the JC's for information): it starts a clock."""

        TOPIC = "nimrs.Incident.RequestReceived"
        class_version = 1
        request_id: str
        kind: str
        requested_by: str
        received_at: datetime

    class RecordsReleased(Event):
        TOPIC = "nimrs.Incident.RecordsReleased"
        class_version = 1
        request_id: str
        released_at: datetime
        method: str
        document: dict[str, Any]
        redactions: dict[str, Any]

    class SentToJc(Event):
        TOPIC = "nimrs.Incident.SentToJc"
        class_version = 1
        what: str
        request_id: str | None
        sent_at: datetime
        evidence: dict[str, Any] | None

    class WsirSubmitted(Event):
        TOPIC = "nimrs.Incident.WsirSubmitted"
        class_version = 1
        reference: str

    class ClockAlert(Event):
        """What ClockDueSoon and ClockMissed carry; never stored itself."""

        TOPIC = "nimrs.Incident.ClockAlert"
        class_version = 1
        key: str
        clock: str
        due: datetime
        provisional: bool
        code: str
        route: str | None

    class ClockDueSoon(ClockAlert):
        """Recorded once per obligation and due time by the clock process (actor ``system:clocks``)."""

        TOPIC = "nimrs.Incident.ClockDueSoon"
        class_version = 1

    class ClockMissed(ClockAlert):
        """Recorded once per obligation and due time by the clock process, when it is past due and still open."""

        TOPIC = "nimrs.Incident.ClockMissed"
        class_version = 1

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
        self.obligation_rules_id: str = CHARTS_ONLY
        self.obligations_met: dict[str, datetime] = {}
        self.waived: dict[str, str] = {}
        self.clock_alerts: frozenset[tuple[str, str, datetime]] = frozenset()  # (key, event name, due)
        self.recipients: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.requests: dict[str, dict[str, Any]] = {}
        self.releases: dict[str, dict[str, Any]] = {}
        self.sent_to_jc: list[dict[str, Any]] = []
        self.wsir_reference: str | None = None
        self.wsir_at: datetime | None = None

    def _assign_program(self, facility: str, program: str, setting: str, summary: str, rules: str) -> None:
        self.facility, self.program, self.setting, self.summary, self.rule_set_name = (
            facility, program, setting, summary, rules,
        )

    # -- creation ---------------------------------------------------------------------------

    @classmethod
    def receive(cls, report: VpcrReport, actor: Actor, at: datetime, *, obligations: str = CHARTS_ONLY) -> Incident:
        """A VPCR report into the JC import queue, under the obligation rules the facility chose (pinned for good)."""
        require_happened(report.jc_reported_at, "jc_reported_at", at)
        deadlines = _first_deadlines(obligations, report.rule_set, report.reported_type, report.jc_reported_at)
        return cls._create(cls.VpcrReportReceived, id=report.incident_id, timestamp=at, actor=actor.as_dict(),
                           obligations=obligations, deadlines=deadlines, **report.as_event_fields())

    @classmethod
    def create(
        cls, incident_id: UUID, actor: Actor, at: datetime, *, program: str, setting: str, code: str, summary: str,
        rules: str, obligations: str = CHARTS_ONLY,
    ) -> Incident:
        rules_used = rule_set(rules)
        rules_used.entry(code)
        deadlines = _first_deadlines(obligations, rules, code, at)
        if not isinstance(summary, str) or not summary.strip() or not isinstance(program, str) or not program.strip():
            raise ValidationFailed("a new incident needs a program and a summary")
        return cls._create(
            cls.CreatedDirectly, id=incident_id, timestamp=at, actor=actor.as_dict(), facility=actor.facility,
            program=program.strip(), setting=parse_setting(setting).value, code=code, summary=summary.strip(), rule_set=rules,
            obligations=obligations, deadlines=deadlines,
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

    @property
    def obligation_rules(self) -> ObligationRules:
        return obligation_rules(self.obligation_rules_id)

    @property
    def category(self) -> Category:
        return self.rules.entry(self.code).category

    def clock_met_at(self, key: str) -> datetime | None:
        """When an obligation was met. Under charts@1 (release 0.1.0) no ObligationMet was recorded: the
        Report of Death met its clock, and the first closing the investigation's."""
        if self.obligation_rules_id == CHARTS_ONLY:
            if key == ClockName.REPORT_OF_DEATH.value:
                return self.report_of_death_submitted_at
            return self.first_closed_at if key == ClockName.INVESTIGATION.value else None
        return self.obligations_met.get(key)

    def open_obligations(self) -> list[Deadline]:
        """Started obligations neither met nor waived, soonest due first."""
        return sorted((d for key, d in self.deadlines.items() if self.clock_met_at(key) is None and key not in self.waived),
                      key=lambda d: (d.due, d.name))

    def closing_blockers(self) -> list[str]:
        """The open obligations that must be met or waived before the incident may close."""
        blockers = []
        for deadline in self.open_obligations():
            clock = self.obligation_rules.clock(deadline.clock)
            if clock is not None and clock.blocks_closing:
                blockers.append(f"{deadline.name} is open (due {local_text(deadline.due)}): meet it or waive it with a reason")
        return blockers

    def discovery_needed(self) -> bool:
        """Whether a clock that starts at discovery applies, and no discovery time is recorded."""
        facts = self._obligation_facts()
        return "discovered_at" not in self.details and facts is not None and any(
            clock.starts_at.value == "discovery" and applies_to(clock, facts) for clock in self.obligation_rules.clocks)

    def _obligation_facts(self) -> ObligationFacts | None:
        rules = self.obligation_rules
        entry = self.rules.entry(self.code)
        classification = self.classification()
        if self.submitted_route is not None:
            route: Route | None = Route(self.submitted_route)
        elif classification is not None:
            route = classification.route
        else:
            route = entry.route if rules.provisional_drafts else None
        if self.submitted_route is None and not rules.provisional_drafts:
            return None  # charts@1: nothing runs before Email OMH
        chart = classification.clocks if classification is not None else entry.clocks_for(entry.route)
        given: dict[str, datetime] = {}
        for notice in self.notifications:
            if notice["outcome"] in ledger.NOTICE_GIVEN:
                given.setdefault(notice["recipient_id"], notice["notified_at"])
        sent = {s["request_id"]: s["sent_at"] for s in self.sent_to_jc if s["request_id"]}
        autopsy = next((s["sent_at"] for s in self.sent_to_jc if s["what"] == ledger.SentToJcWhat.AUTOPSY_REPORT), None)
        discovered = self.details.get("discovered_at")
        return ObligationFacts(
            rules=rules, category=entry.category, route=route, provisional=self.submitted_route is None,
            chart_days={c.name.value: c.days for c in chart}, initial_report_at=self.clock_start,
            discovered_at=datetime.fromisoformat(discovered) if discovered else None,
            jc_reported_at=self.jc_reported_at, report_of_death_at=self.report_of_death_submitted_at,
            first_closed_at=self.first_closed_at, wsir_at=self.wsir_at,
            qualified_persons=tuple(r for r, v in self.recipients.items()
                                    if v["role"] == ledger.RecipientRole.QUALIFIED_PERSON),
            notice_given_at=given,
            requests=tuple(Request(r["request_id"], RequestKind(r["kind"]), r["received_at"]) for r in self.requests.values()),
            released_at={r: v["released_at"] for r, v in self.releases.items()},
            autopsy_sent_at=autopsy, information_sent_at=sent,
        )

    # -- commands ----------------------------------------------------------------------------

    def import_report(self, actor: Actor, at: datetime) -> None:
        self._imported(actor=actor.as_dict(), to_state=next_state(self, Step.IMPORT_REPORT).value, timestamp=at)

    def record_details(self, actor: Actor, at: datetime, screen: str, fields: dict[str, Any]) -> None:
        next_state(self, Step.RECORD_DETAILS)
        self._details_recorded(actor=actor.as_dict(), screen=screen, fields=self._changed(screen, fields, at),
                               timestamp=at)
        self._settle_obligations(actor, at)

    def amend(self, actor: Actor, at: datetime, screen: str, fields: dict[str, Any], reason: str) -> None:
        next_state(self, Step.AMEND)
        clean = self._changed(screen, fields, at)
        self._amended(actor=actor.as_dict(), screen=screen, fields=clean, reason=_reason(reason, "amend"), timestamp=at)
        self._settle_obligations(actor, at)

    def email_omh(self, actor: Actor, at: datetime, *, attested: bool = False) -> None:
        to_state = next_state(self, Step.EMAIL_OMH).value
        classification = self.classification()
        if classification is None:  # the rules above require complete details, which include these facts
            raise ValidationFailed("cannot Email OMH: required details are missing", problems=self.missing_details())
        self._emailed_to_omh(actor=actor.as_dict(), to_state=to_state, route=classification.route.value,
                             code=self.code, attested=attested, timestamp=at)
        self._settle_obligations(actor, at)

    def submit_report_of_death(self, actor: Actor, at: datetime, *, attested: bool = False) -> None:
        to_state = next_state(self, Step.SUBMIT_REPORT_OF_DEATH).value
        self._report_of_death_submitted(actor=actor.as_dict(), to_state=to_state, attested=attested, timestamp=at)
        self._settle_obligations(actor, at)

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
        self._settle_obligations(actor, at)

    def reopen(self, actor: Actor, at: datetime, reason: str) -> None:
        to_state = next_state(self, Step.REOPEN).value
        self._reopened(actor=actor.as_dict(), to_state=to_state, reason=_reason(reason, "reopen"), timestamp=at)

    # -- the notification ledger and obligations ------------------------------------------------

    def record_notice_recipient(self, actor: Actor, at: datetime, recipient: dict[str, Any]) -> None:
        next_state(self, Step.RECORD_NOTICE_RECIPIENT)
        if not isinstance(recipient, dict):
            raise ValidationFailed("a recipient must be an object")
        clean = ledger.recipient(recipient)
        if self.recipients.get(clean["recipient_id"]) == clean:
            raise ValidationFailed(f"nothing to record: recipient {clean['recipient_id']!r} is recorded as given")
        self._recipient_recorded(actor=actor.as_dict(), recipient=clean, timestamp=at)
        self._settle_obligations(actor, at)

    def record_notification(self, actor: Actor, at: datetime, notification: dict[str, Any]) -> None:
        next_state(self, Step.RECORD_NOTIFICATION)
        if not isinstance(notification, dict):
            raise ValidationFailed("a notification must be an object")
        clean = ledger.notification(notification, at)
        if clean["recipient_id"] not in self.recipients:
            raise ValidationFailed(f"recipient {clean['recipient_id']!r} is not recorded on this incident; record them first")
        self._notification_recorded(actor=actor.as_dict(), timestamp=at, **clean)
        self._settle_obligations(actor, at)

    def record_request(self, actor: Actor, at: datetime, *, request_id: str, kind: str, requested_by: str,
                       received_at: Any) -> None:
        next_state(self, Step.RECORD_REQUEST)
        request_kind = parse_request_kind(kind)
        request_id = ledger.identifier("request_id", request_id)
        if request_id in self.requests:
            raise ValidationFailed(f"request {request_id!r} is already recorded")
        if request_kind is RequestKind.JC_INFORMATION:
            if requested_by != ledger.JUSTICE_CENTER:
                raise ValidationFailed(f"a request for information comes from {ledger.JUSTICE_CENTER!r}")
        elif self.recipients.get(requested_by, {}).get("role") != ledger.RecipientRole.QUALIFIED_PERSON:
            raise ValidationFailed(f"requested_by must be a qualified person recorded on this incident, got {requested_by!r}")
        received = ledger.moment("received_at", received_at, at)
        self._request_received(actor=actor.as_dict(), request_id=request_id, kind=request_kind.value,
                               requested_by=requested_by, received_at=received, timestamp=at)
        self._settle_obligations(actor, at)

    def release_records(self, actor: Actor, at: datetime, *, request_id: str, released_at: Any, method: str,
                        document: dict[str, Any], redactions: dict[str, Any]) -> None:
        next_state(self, Step.RELEASE_RECORDS)
        request = self.requests.get(request_id)
        if request is None or request["kind"] == RequestKind.JC_INFORMATION:
            raise ValidationFailed(f"no request for records {request_id!r} is recorded on this incident")
        if request_id in self.releases:
            raise ValidationFailed(f"the records for request {request_id!r} were already released")
        released = ledger.moment("released_at", released_at, at)
        if released < request["received_at"]:
            raise ValidationFailed("released_at must not be before the request was received")
        method = ledger._choice(ledger.Method, "method", method)
        stored = ledger.evidence(document)
        if stored is None:
            raise ValidationFailed("document is required: the released file's sha256, size and location")
        if not isinstance(redactions, dict):
            raise ValidationFailed("redactions must be an object")
        self._records_released(actor=actor.as_dict(), request_id=request_id, released_at=released, method=method,
                               document=stored, redactions=redactions, timestamp=at)
        self._settle_obligations(actor, at)

    def send_to_jc(self, actor: Actor, at: datetime, *, what: str, sent_at: Any, request_id: str | None = None,
                   evidence: dict[str, Any] | None = None) -> None:
        next_state(self, Step.SEND_TO_JC)
        sent = ledger._choice(ledger.SentToJcWhat, "what", what)
        if sent == ledger.SentToJcWhat.ADDITIONAL_INFORMATION:
            request = self.requests.get(request_id or "")
            if request is None or request["kind"] != RequestKind.JC_INFORMATION:
                raise ValidationFailed(f"no request for information {request_id!r} from the JC is recorded on this incident")
        elif request_id is not None:
            raise ValidationFailed("an autopsy report answers no request: leave request_id out")
        self._sent_to_jc(actor=actor.as_dict(), what=sent, request_id=request_id,
                         sent_at=ledger.moment("sent_at", sent_at, at), evidence=ledger.evidence(evidence), timestamp=at)
        self._settle_obligations(actor, at)

    def submit_wsir(self, actor: Actor, at: datetime, reference: str) -> None:
        next_state(self, Step.SUBMIT_WSIR)
        self._wsir_submitted(actor=actor.as_dict(), reference=ledger.text("reference", reference, 100), timestamp=at)
        self._settle_obligations(actor, at)

    def waive_obligation(self, actor: Actor, at: datetime, key: str, reason: str) -> None:
        next_state(self, Step.WAIVE_OBLIGATION)
        deadline = self._open_obligation(key)
        self._obligation_waived(actor=actor.as_dict(), key=key, clock=deadline.clock, reason=_reason(reason, "waive"),
                                timestamp=at)

    def extend_obligation(self, actor: Actor, at: datetime, key: str, due: Any, reason: str) -> None:
        next_state(self, Step.EXTEND_OBLIGATION)
        deadline = self._open_obligation(key)
        clock = self.obligation_rules.clock(deadline.clock)
        if clock is None or clock.extendable_by is None or actor.level > clock.extendable_by:
            raise ValidationFailed(f"{key} cannot be extended")
        if deadline.provisional:  # it would follow the draft's facts again at the next change
            raise ValidationFailed(f"{key} is provisional until Email OMH fixes it: extend it after that")
        new_due = ledger.moment("due", due, at + QUERY_HORIZON)
        if new_due <= deadline.due:
            raise ValidationFailed(f"the new due time must be later than the current one ({local_text(deadline.due)})")
        self._obligation_extended(actor=actor.as_dict(), key=key, clock=deadline.clock, due=new_due,
                                  reason=_reason(reason, "extend"), timestamp=at)

    def record_clock_due_soon(self, at: datetime) -> list[str]:
        """Record ClockDueSoon for every open obligation within its warning time that has none for its due time."""
        return self._record_clock_alerts(at, missed=False)

    def record_clock_missed(self, at: datetime) -> list[str]:
        """Record ClockMissed for every open obligation past due that has none for its due time."""
        return self._record_clock_alerts(at, missed=True)

    def _record_clock_alerts(self, at: datetime, *, missed: bool) -> list[str]:
        kind = "ClockMissed" if missed else "ClockDueSoon"
        system = Actor(CLOCK_PROCESS, self.facility, Level.READER).as_dict()
        recorded = []
        for deadline in self.open_obligations():
            clock = self.obligation_rules.clock(deadline.clock)
            warn_at = deadline.due - timedelta(hours=clock.due_soon_hours if clock else 48)
            due_now = at > deadline.due if missed else warn_at <= at <= deadline.due
            if not due_now or (deadline.name, kind, deadline.due) in self.clock_alerts:
                continue
            record = self._clock_missed if missed else self._clock_due_soon
            record(actor=system, key=deadline.name, clock=deadline.clock, due=deadline.due,
                   provisional=deadline.provisional, code=self.code, route=self.route, timestamp=at)
            recorded.append(deadline.name)
        return recorded

    def _open_obligation(self, key: str) -> Deadline:
        deadline = self.deadlines.get(key) if isinstance(key, str) else None
        if deadline is None:
            raise ValidationFailed(f"no obligation {key!r} has started on this incident")
        if self.clock_met_at(key) is not None or key in self.waived:
            raise ValidationFailed(f"{key} is no longer open")
        return deadline

    def _settle_obligations(self, actor: Actor, at: datetime) -> None:
        """Record what the facts now say of the incident's obligations: those started (provisional ones updated
        or withdrawn), and those met. A clock fixed by Email OMH never moves; one met stays met."""
        facts = self._obligation_facts()
        if facts is None:
            return
        now_owed = {o.key: o for o in owed(facts)}
        for key, obligation in now_owed.items():
            recorded = self.deadlines.get(key)
            if recorded is not None and (not recorded.provisional or key in self.obligations_met or key in self.waived):
                continue  # fixed by Email OMH, met or waived: it never moves
            if recorded is None or (recorded.provisional, recorded.start, recorded.due, recorded.length) != (
                    obligation.provisional, obligation.start, obligation.due, obligation.length):
                self._deadline_set(actor=actor.as_dict(), key=key, clock=obligation.clock.name,
                                   rules=self.obligation_rules_id, length=obligation.length, unit=obligation.unit.value,
                                   start=obligation.start, due=obligation.due, provisional=obligation.provisional,
                                   timestamp=at)
        for key, deadline in list(self.deadlines.items()):
            if deadline.provisional and key not in now_owed and key not in self.obligations_met and key not in self.waived:
                self._deadline_withdrawn(actor=actor.as_dict(), key=key, clock=deadline.clock, timestamp=at)
        if self.obligation_rules_id == CHARTS_ONLY:
            return  # release 0.1.0's clocks are met by the steps themselves (clock_met_at)
        for key, obligation in now_owed.items():
            if key in self.deadlines and key not in self.obligations_met:
                met = met_at(obligation, facts)
                if met is not None:
                    self._obligation_met(actor=actor.as_dict(), key=key, clock=obligation.clock.name, met_at=met,
                                         timestamp=at)

    def _changed(self, screen: str, fields: dict[str, Any], at: datetime) -> dict[str, Any]:
        clean = validate_screen(screen, fields, self.rules, at)
        discovered = clean.get("discovered_at")
        if discovered and self.jc_reported_at is not None and datetime.fromisoformat(discovered) > self.jc_reported_at:
            raise ValidationFailed("discovered_at must not be later than the initial report to the JC (jc_reported_at)")
        changed = {k: v for k, v in clean.items() if self.details.get(k, object()) != v}
        if not changed:
            raise ValidationFailed(f"nothing to record: screen {screen!r} already holds these values")
        return changed

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
    def _deadline_set(self, actor: dict[str, Any], key: str, clock: str, rules: str, length: int, unit: str,
                      start: datetime, due: datetime, provisional: bool, timestamp: datetime) -> None:
        self.deadlines = {**self.deadlines, key: Deadline(key, length, start, due, clock, unit, provisional)}

    @event(DeadlineWithdrawn)
    def _deadline_withdrawn(self, actor: dict[str, Any], key: str, clock: str, timestamp: datetime) -> None:
        self.deadlines = {k: v for k, v in self.deadlines.items() if k != key}

    @event(ObligationMet)
    def _obligation_met(self, actor: dict[str, Any], key: str, clock: str, met_at: datetime, timestamp: datetime) -> None:
        self.obligations_met = {**self.obligations_met, key: met_at}

    @event(ObligationWaived)
    def _obligation_waived(self, actor: dict[str, Any], key: str, clock: str, reason: str, timestamp: datetime) -> None:
        self.waived = {**self.waived, key: reason}

    @event(ObligationExtended)
    def _obligation_extended(self, actor: dict[str, Any], key: str, clock: str, due: datetime, reason: str,
                             timestamp: datetime) -> None:
        self.deadlines = {**self.deadlines, key: replace(self.deadlines[key], due=due)}

    @event(NoticeRecipientRecorded)
    def _recipient_recorded(self, actor: dict[str, Any], recipient: dict[str, Any], timestamp: datetime) -> None:
        self.recipients = {**self.recipients, recipient["recipient_id"]: recipient}

    @event(NotificationRecorded)
    def _notification_recorded(self, actor: dict[str, Any], recipient_id: str, notified_at: datetime, method: str,
                               outcome: str, note: str, evidence: dict[str, Any] | None, timestamp: datetime) -> None:
        self.notifications = [*self.notifications, {"recipient_id": recipient_id, "notified_at": notified_at,
                                                    "method": method, "outcome": outcome, "note": note,
                                                    "evidence": evidence, "by": actor["user_id"]}]

    @event(RequestReceived)
    def _request_received(self, actor: dict[str, Any], request_id: str, kind: str, requested_by: str,
                          received_at: datetime, timestamp: datetime) -> None:
        self.requests = {**self.requests, request_id: {"request_id": request_id, "kind": kind,
                                                       "requested_by": requested_by, "received_at": received_at}}

    @event(RecordsReleased)
    def _records_released(self, actor: dict[str, Any], request_id: str, released_at: datetime, method: str,
                          document: dict[str, Any], redactions: dict[str, Any], timestamp: datetime) -> None:
        self.releases = {**self.releases, request_id: {"released_at": released_at, "method": method,
                                                       "document": document, "redactions": redactions}}

    @event(SentToJc)
    def _sent_to_jc(self, actor: dict[str, Any], what: str, request_id: str | None, sent_at: datetime,
                    evidence: dict[str, Any] | None, timestamp: datetime) -> None:
        self.sent_to_jc = [*self.sent_to_jc, {"what": what, "request_id": request_id, "sent_at": sent_at,
                                              "evidence": evidence}]

    @event(WsirSubmitted)
    def _wsir_submitted(self, actor: dict[str, Any], reference: str, timestamp: datetime) -> None:
        self.wsir_reference, self.wsir_at = reference, timestamp

    @event(ClockDueSoon)
    def _clock_due_soon(self, actor: dict[str, Any], key: str, clock: str, due: datetime, provisional: bool, code: str,
                        route: str | None, timestamp: datetime) -> None:
        self.clock_alerts = self.clock_alerts | {(key, "ClockDueSoon", due)}

    @event(ClockMissed)
    def _clock_missed(self, actor: dict[str, Any], key: str, clock: str, due: datetime, provisional: bool, code: str,
                      route: str | None, timestamp: datetime) -> None:
        self.clock_alerts = self.clock_alerts | {(key, "ClockMissed", due)}

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


def _deadline(fields: dict[str, Any]) -> Deadline:
    return Deadline(fields["key"], fields["length"], fields["start"], fields["due"], fields["clock"], fields["unit"],
                    fields["provisional"])


def _first_deadlines(obligations: str, rules: str, code: str, start: datetime) -> list[dict[str, Any]]:
    """The provisional obligations a new incident starts with: its reported type's, on that type's route."""
    pinned = obligation_rules(obligations)
    if not pinned.provisional_drafts:
        return []
    entry = rule_set(rules).entry(code)
    facts = ObligationFacts(rules=pinned, category=entry.category, route=entry.route, provisional=True,
                            chart_days={c.name.value: c.days for c in entry.clocks_for(entry.route)},
                            initial_report_at=start)
    return [{"key": o.key, "clock": o.clock.name, "rules": pinned.id, "length": o.length, "unit": o.unit.value,
             "start": o.start, "due": o.due, "provisional": True} for o in owed(facts)]


# The events that change recorded details (a draft's screens, or an amendment after submission).
DETAILS_CHANGED = (Incident.DetailsRecorded, Incident.AmendedAfterSubmission)
