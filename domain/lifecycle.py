"""The incident's lifecycle: its states, the steps between them, and the rules each step needs.

Read it top to bottom: the states; the steps (one name per step, used alike by the aggregate's
command, the use case, the permission table, the CLI command and the HTTP route); the rules,
each returning the problem a refused user sees or ``None`` when it holds; the transition table;
and the two questions the aggregate and the screens ask of it: ``next_state`` and
``available_steps``.

The table is a definition-only ``transitions.Machine`` (no model attached: a machine bound to an
aggregate would keep bound methods in its state). The aggregate's commands ask it where a step
leads, then record the destination in the event, so replay never consults the machine and a
change to these rules never changes what stored events mean. Who may take a step (security
levels, facilities) is the workflow's business: ``workflows.permissions``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from transitions import Machine

from domain.errors import TransitionRefused, ValidationFailed
from domain.vocabulary import Route

if TYPE_CHECKING:
    from domain.incident import Incident


class State(StrEnum):
    """Where an incident stands. Stored in events (``to_state``): never rename a value."""

    JC_IMPORT_QUEUE = "jc_import_queue"
    DRAFT = "draft"
    EMAILED_TO_OMH = "emailed_to_omh"
    REPORT_OF_DEATH_SUBMITTED = "report_of_death_submitted"
    UNDER_INVESTIGATION = "under_investigation"
    CLOSED = "closed"


def parse_state(value: str) -> State:
    try:
        return State(value)
    except ValueError:
        raise ValidationFailed(f"unknown state {value!r}; expected one of: {', '.join(State)}") from None


class Creation(StrEnum):
    """How an incident comes to exist; not a step, since there is no state before it."""

    RECEIVE = "receive"  # a VPCR report arrives in the JC import queue
    CREATE = "create"  # "New Incident"


INITIAL_STATE: dict[Creation, State] = {Creation.RECEIVE: State.JC_IMPORT_QUEUE, Creation.CREATE: State.DRAFT}


class Step(StrEnum):
    """Every step an existing incident can take, by the one name it has everywhere."""

    IMPORT_REPORT = "import_report"
    RECORD_DETAILS = "record_details"
    EMAIL_OMH = "email_omh"
    SUBMIT_REPORT_OF_DEATH = "submit_report_of_death"  # NIMRS's "Email JC"
    START_INVESTIGATION = "start_investigation"
    DOCUMENT_FINDINGS = "document_findings"
    CLOSE = "close"
    REOPEN = "reopen"
    AMEND = "amend"
    # The notification ledger and obligations (issue 12, ADR 0014)
    RECORD_NOTICE_RECIPIENT = "record_notice_recipient"
    RECORD_NOTIFICATION = "record_notification"
    RECORD_REQUEST = "record_request"
    RELEASE_RECORDS = "release_records"
    SEND_TO_JC = "send_to_jc"
    SUBMIT_WSIR = "submit_wsir"
    WAIVE_OBLIGATION = "waive_obligation"
    EXTEND_OBLIGATION = "extend_obligation"

    @property
    def records_the_ledger(self) -> bool:
        """A step of the notification ledger and obligations, beside the incident's own progress."""
        return self in LEDGER_STEPS

    @property
    def command_name(self) -> str:
        """The name on the command line and in the HTTP route: ``email-omh``."""
        return self.value.replace("_", "-")


LEDGER_STEPS = frozenset({Step.RECORD_NOTICE_RECIPIENT, Step.RECORD_NOTIFICATION, Step.RECORD_REQUEST, Step.RELEASE_RECORDS,
                          Step.SEND_TO_JC, Step.SUBMIT_WSIR, Step.WAIVE_OBLIGATION, Step.EXTEND_OBLIGATION})


# -- rules: each returns None when it holds, else the problem a refused user reads -------------

Rule = Callable[["Incident"], str | None]


def details_complete(incident: Incident) -> str | None:
    missing = incident.missing_details()
    return f"required details are missing: {', '.join(missing)}" if missing else None


def reportable(incident: Incident) -> str | None:
    if incident.route == Route.NOT_REPORTABLE:
        return "the incident is NOT_REPORTABLE as recorded: document findings and close it locally instead"
    return None


def jc_route_came_from_jc(incident: Incident) -> str | None:
    if incident.route == Route.JC_AND_OMH and incident.jc_case_number is None:
        return ("a JC_AND_OMH incident must be reported to the JC first and imported from the JC import queue; "
                "this one was entered as a New Incident")
    return None


def needs_report_of_death(incident: Incident) -> str | None:
    if not incident.needs_report_of_death():
        return "a Report of Death applies only to deaths reported JC_AND_OMH"
    return None


def report_of_death_pending(incident: Incident) -> str | None:
    return "the Report of Death was already submitted" if incident.report_of_death_submitted_at else None


def report_of_death_done(incident: Incident) -> str | None:
    if incident.needs_report_of_death() and incident.report_of_death_submitted_at is None:
        return "a death reported to the JC cannot be closed before its Report of Death is submitted"
    return None


def discovery_recorded(incident: Incident) -> str | None:
    if incident.discovery_needed():
        return "discovered_at is required: the jc_report clock starts when the incident was discovered"
    return None


def obligations_settled(incident: Incident) -> str | None:
    """Closing is refused while an obligation that blocks it is open (met or waived ones do not)."""
    blockers = incident.closing_blockers()
    return "cannot close: " + "; ".join(blockers) if blockers else None


def abuse_or_neglect(incident: Incident) -> str | None:
    if incident.category.value != "abuse_neglect":
        return "WSIR takes the findings of abuse and neglect investigations only"
    return None


def wsir_pending(incident: Incident) -> str | None:
    return f"WSIR {incident.wsir_reference} was already submitted" if incident.wsir_reference else None


def findings_documented(incident: Incident) -> str | None:
    return None if incident.findings else "findings must be documented before closing"


def not_reportable(incident: Incident) -> str | None:
    if incident.route != Route.NOT_REPORTABLE:
        return ("only NOT_REPORTABLE incidents are handled locally from a draft; "
                f"this one is {incident.route or 'not yet classified'}")
    return None


def omh_only(incident: Incident) -> str | None:
    if incident.route != Route.OMH_ONLY:
        return f"only OMH_ONLY incidents are closed without an investigation; this one is {incident.route}"
    return None


def _closed_from(state: State) -> Rule:
    def check(incident: Incident) -> str | None:
        return None if incident.closed_from == state else f"it was not closed from {state}"

    check.__name__ = f"closed_from_{state}"
    return check


closed_from_investigation = _closed_from(State.UNDER_INVESTIGATION)
closed_from_draft = _closed_from(State.DRAFT)
closed_from_emailed = _closed_from(State.EMAILED_TO_OMH)


# -- the transition table ----------------------------------------------------------------------

S = State
STAYS = "="  # the step keeps the incident in the state it is in
SUBMITTED = [S.EMAILED_TO_OMH, S.REPORT_OF_DEATH_SUBMITTED, S.UNDER_INVESTIGATION]

# step, from, to, rules that must all hold. A step with several rows takes the first whose rules hold.
TABLE: list[tuple[Step, list[State], State | str, list[Rule]]] = [
    (Step.IMPORT_REPORT, [S.JC_IMPORT_QUEUE], S.DRAFT, []),
    (Step.RECORD_DETAILS, [S.DRAFT], STAYS, []),
    (Step.EMAIL_OMH, [S.DRAFT], S.EMAILED_TO_OMH, [details_complete, reportable, jc_route_came_from_jc,
                                                  discovery_recorded]),
    (Step.SUBMIT_REPORT_OF_DEATH, [S.EMAILED_TO_OMH], S.REPORT_OF_DEATH_SUBMITTED,
     [needs_report_of_death, report_of_death_pending]),
    (Step.SUBMIT_REPORT_OF_DEATH, [S.UNDER_INVESTIGATION], STAYS, [needs_report_of_death, report_of_death_pending]),
    (Step.START_INVESTIGATION, [S.EMAILED_TO_OMH, S.REPORT_OF_DEATH_SUBMITTED], S.UNDER_INVESTIGATION, []),
    (Step.DOCUMENT_FINDINGS, [S.UNDER_INVESTIGATION], STAYS, []),
    (Step.DOCUMENT_FINDINGS, [S.DRAFT], STAYS, [not_reportable]),
    (Step.DOCUMENT_FINDINGS, [S.EMAILED_TO_OMH], STAYS, [omh_only]),
    (Step.CLOSE, [S.UNDER_INVESTIGATION], S.CLOSED, [findings_documented, report_of_death_done, obligations_settled]),
    (Step.CLOSE, [S.DRAFT], S.CLOSED, [not_reportable, findings_documented, obligations_settled]),
    (Step.CLOSE, [S.EMAILED_TO_OMH], S.CLOSED, [omh_only, findings_documented, obligations_settled]),
    (Step.REOPEN, [S.CLOSED], S.UNDER_INVESTIGATION, [closed_from_investigation]),
    (Step.REOPEN, [S.CLOSED], S.DRAFT, [closed_from_draft]),
    (Step.REOPEN, [S.CLOSED], S.EMAILED_TO_OMH, [closed_from_emailed]),
    (Step.AMEND, SUBMITTED, STAYS, []),
    # Jonathan's Law's notice runs from receipt: it may be recorded before the report is imported
    (Step.RECORD_NOTICE_RECIPIENT, [S.JC_IMPORT_QUEUE, S.DRAFT, *SUBMITTED], STAYS, []),
    (Step.RECORD_NOTIFICATION, [S.JC_IMPORT_QUEUE, S.DRAFT, *SUBMITTED], STAYS, []),
    (Step.RECORD_REQUEST, [S.DRAFT, *SUBMITTED, S.CLOSED], STAYS, []),
    (Step.RELEASE_RECORDS, [S.DRAFT, *SUBMITTED, S.CLOSED], STAYS, []),
    (Step.SEND_TO_JC, [*SUBMITTED, S.CLOSED], STAYS, []),
    (Step.SUBMIT_WSIR, [S.UNDER_INVESTIGATION], STAYS, [abuse_or_neglect, wsir_pending]),
    (Step.WAIVE_OBLIGATION, [S.DRAFT, *SUBMITTED, S.CLOSED], STAYS, []),
    (Step.EXTEND_OBLIGATION, [S.DRAFT, *SUBMITTED, S.CLOSED], STAYS, []),
]

MACHINE = Machine(
    model=None,
    states=[state.value for state in State],
    transitions=[
        {"trigger": step.value, "source": [s.value for s in sources], "dest": None if dest == STAYS else str(dest),
         "conditions": list(rules)}
        for step, sources, dest, rules in TABLE
    ],
    auto_transitions=False,
    initial=None,
)


def _failed(incident: Incident, rules: list) -> list[str]:  # type: ignore[type-arg]
    return [problem for rule in rules if (problem := rule.func(incident)) is not None]


def next_state(incident: Incident, step: Step) -> State:
    """Where ``step`` takes the incident now; ``TransitionRefused`` naming every failed rule if it may not."""
    candidates = MACHINE.get_transitions(step.value, incident.state.value)
    if not candidates:
        raise TransitionRefused(f"cannot {step.value} an incident in state {incident.state.value!r}")
    problems: list[str] = []
    for transition in candidates:
        failures = _failed(incident, transition.conditions)
        if not failures:
            return State(transition.dest or incident.state)
        problems += [p for p in failures if p not in problems]
    raise TransitionRefused(f"cannot {step.value} this incident now", problems=problems)


def available_steps(incident: Incident) -> list[Step]:
    """The steps whose rules hold in the incident's state now, in table order."""
    state = incident.state.value
    possible = set(MACHINE.get_triggers(state))
    return [
        step for step in Step
        if step.value in possible
        and any(not _failed(incident, t.conditions) for t in MACHINE.get_transitions(step.value, state))
    ]
