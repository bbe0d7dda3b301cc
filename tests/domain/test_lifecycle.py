"""The aggregate guards its own lifecycle: every state x step, against the Incident alone.

No service, no permissions, no store: each command either moves the incident as
``domain.lifecycle`` allows, or raises naming the rule that failed and records nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from uuid import uuid4

import pytest

from adapters.tooling.samples import complete_details, vpcr_report
from domain.errors import NimrsError, TransitionRefused
from domain.incident import Incident
from domain.lifecycle import LEDGER_STEPS, STAYS, TABLE, State, Step, available_steps
from tests.conftest import L1, L2

T0 = datetime(2026, 3, 2, 15, tzinfo=timezone.utc)
NEW_NARRATIVE = {"narrative": "Corrected account of the event.", "immediate_actions": "Client assessed."}


def _arguments(step: Step) -> tuple[object, ...]:
    return {
        Step.RECORD_DETAILS: ("narrative", NEW_NARRATIVE),
        Step.AMEND: ("narrative", NEW_NARRATIVE, "correction after review"),
        Step.DOCUMENT_FINDINGS: ("Findings of the review.",),
        Step.REOPEN: ("New information from the family.",),
    }.get(step, ())


LEDGER_ARGUMENTS: dict[Step, dict[str, object]] = {
    Step.RECORD_NOTICE_RECIPIENT: {"recipient": {"recipient_id": "qp-1", "role": "qualified_person", "name": "A. Parent"}},
    Step.RECORD_NOTIFICATION: {"notification": {"recipient_id": "qp-1", "notified_at": T0.isoformat(), "method": "phone",
                                                "outcome": "reached"}},
    Step.RECORD_REQUEST: {"request_id": "r-1", "kind": "jc_information", "requested_by": "justice_center",
                          "received_at": T0},
    Step.RELEASE_RECORDS: {"request_id": "r-1", "released_at": T0, "method": "letter",
                           "document": {"sha256": "0" * 64, "size": 1, "location": "x"}, "redactions": {}},
    Step.SEND_TO_JC: {"what": "autopsy_report", "sent_at": T0},
    Step.SUBMIT_WSIR: {"reference": "WSIR-1"},
    Step.WAIVE_OBLIGATION: {"key": "investigation", "reason": "reason"},
    Step.EXTEND_OBLIGATION: {"key": "autopsy_report", "due": T0 + timedelta(days=200), "reason": "reason"},
}


def take(incident: Incident, step: Step) -> None:
    getattr(incident, step.value)(L1, T0 + timedelta(hours=incident.version), *_arguments(step),
                                  **LEDGER_ARGUMENTS.get(step, {}))


def received(code: str = "an.physical-abuse", setting: str = "inpatient") -> Incident:
    return Incident.receive(vpcr_report(f"2026-{uuid4().int % 10**6:06}", T0 - timedelta(days=1), code=code,
                                        setting=setting), L2, T0)


def created(code: str, setting: str = "inpatient") -> Incident:
    return Incident.create(uuid4(), L2, T0, program="Program", setting=setting, code=code, summary="Entered directly",
                           rules="current")


def filled(incident: Incident, **facts: object) -> Incident:
    for screen, fields in complete_details(T0 - timedelta(hours=2), **facts):  # type: ignore[arg-type]
        incident.record_details(L2, T0, screen, fields)
    return incident


def then(incident: Incident, *steps: Step) -> Incident:
    for step in steps:
        take(incident, step)
    return incident


S = Step
SCENARIOS: dict[str, Callable[[], Incident]] = {
    "queue": lambda: received(),
    "draft, incomplete": lambda: then(received(), S.IMPORT_REPORT),
    "draft, complete (JC and OMH)": lambda: filled(then(received(), S.IMPORT_REPORT)),
    "draft, New Incident that belongs to the JC": lambda: filled(created("an.physical-abuse")),
    "draft, not reportable": lambda: filled(created("si.fall"), serious_harm=False),
    "draft, not reportable, findings": lambda: then(filled(created("si.fall"), serious_harm=False), S.DOCUMENT_FINDINGS),
    "emailed, abuse": lambda: then(filled(then(received(), S.IMPORT_REPORT)), S.EMAIL_OMH),
    "emailed, death": lambda: then(filled(then(received("death.suicide"), S.IMPORT_REPORT)), S.EMAIL_OMH),
    "emailed, OMH only": lambda: then(filled(created("omh.crime-in-community", "outpatient"), on_premises=False),
                                      S.EMAIL_OMH),
    "Report of Death submitted": lambda: then(filled(then(received("death.suicide"), S.IMPORT_REPORT)),
                                              S.EMAIL_OMH, S.SUBMIT_REPORT_OF_DEATH),
    "investigating, abuse": lambda: then(filled(then(received(), S.IMPORT_REPORT)), S.EMAIL_OMH, S.START_INVESTIGATION),
    "investigating, death, no Report of Death": lambda: then(
        filled(then(received("death.suicide"), S.IMPORT_REPORT)), S.EMAIL_OMH, S.START_INVESTIGATION,
        S.DOCUMENT_FINDINGS),
    "investigating, abuse, findings": lambda: then(filled(then(received(), S.IMPORT_REPORT)), S.EMAIL_OMH,
                                                   S.START_INVESTIGATION, S.DOCUMENT_FINDINGS),
    "closed from investigation": lambda: then(filled(then(received(), S.IMPORT_REPORT)), S.EMAIL_OMH,
                                              S.START_INVESTIGATION, S.DOCUMENT_FINDINGS, S.CLOSE),
    "closed from draft": lambda: then(filled(created("si.fall"), serious_harm=False), S.DOCUMENT_FINDINGS, S.CLOSE),
    "closed from emailed": lambda: then(filled(created("omh.crime-in-community", "outpatient"), on_premises=False),
                                        S.EMAIL_OMH, S.DOCUMENT_FINDINGS, S.CLOSE),
}

D, E, R, INV, C = State.DRAFT, State.EMAILED_TO_OMH, State.REPORT_OF_DEATH_SUBMITTED, State.UNDER_INVESTIGATION, State.CLOSED
# scenario -> the steps that succeed, with the state they lead to. Every other step is refused.
# A refusal in a state the table has a row for names the failed rule (the text after ``:``).
SUCCEEDS: dict[str, dict[Step, State]] = {
    "queue": {S.IMPORT_REPORT: D},
    "draft, incomplete": {S.RECORD_DETAILS: D},
    "draft, complete (JC and OMH)": {S.RECORD_DETAILS: D, S.EMAIL_OMH: E},
    "draft, New Incident that belongs to the JC": {S.RECORD_DETAILS: D},
    "draft, not reportable": {S.RECORD_DETAILS: D, S.DOCUMENT_FINDINGS: D},
    "draft, not reportable, findings": {S.RECORD_DETAILS: D, S.DOCUMENT_FINDINGS: D, S.CLOSE: C},
    "emailed, abuse": {S.START_INVESTIGATION: INV, S.AMEND: E},
    "emailed, death": {S.SUBMIT_REPORT_OF_DEATH: R, S.START_INVESTIGATION: INV, S.AMEND: E},
    "emailed, OMH only": {S.START_INVESTIGATION: INV, S.DOCUMENT_FINDINGS: E, S.AMEND: E},
    "Report of Death submitted": {S.START_INVESTIGATION: INV, S.AMEND: R},
    "investigating, abuse": {S.DOCUMENT_FINDINGS: INV, S.AMEND: INV},
    "investigating, death, no Report of Death": {S.SUBMIT_REPORT_OF_DEATH: INV, S.DOCUMENT_FINDINGS: INV, S.AMEND: INV},
    "investigating, abuse, findings": {S.DOCUMENT_FINDINGS: INV, S.CLOSE: C, S.AMEND: INV},
    "closed from investigation": {S.REOPEN: INV},
    "closed from draft": {S.REOPEN: D},
    "closed from emailed": {S.REOPEN: E},
}
RULE_NAMED: dict[tuple[str, Step], str] = {
    ("draft, incomplete", S.EMAIL_OMH): "required details are missing",
    ("draft, New Incident that belongs to the JC", S.EMAIL_OMH): "must be reported to the JC first",
    ("draft, not reportable", S.EMAIL_OMH): "NOT_REPORTABLE as recorded",
    ("draft, not reportable", S.CLOSE): "findings must be documented before closing",
    ("draft, complete (JC and OMH)", S.CLOSE): "only NOT_REPORTABLE incidents are handled locally",
    ("draft, complete (JC and OMH)", S.DOCUMENT_FINDINGS): "only NOT_REPORTABLE incidents are handled locally",
    ("emailed, abuse", S.SUBMIT_REPORT_OF_DEATH): "applies only to deaths reported JC_AND_OMH",
    ("emailed, abuse", S.CLOSE): "only OMH_ONLY incidents are closed without an investigation",
    ("emailed, OMH only", S.CLOSE): "findings must be documented before closing",
    ("investigating, abuse", S.CLOSE): "findings must be documented before closing",
    ("investigating, death, no Report of Death", S.CLOSE): "before its Report of Death is submitted",
    ("Report of Death submitted", S.SUBMIT_REPORT_OF_DEATH): "cannot submit_report_of_death an incident in state",
}


def test_every_scenario_is_in_the_state_its_name_says() -> None:
    states = {name: build().state for name, build in SCENARIOS.items()}
    assert {name.split(",")[0] for name in states} >= {"queue", "draft", "emailed", "investigating", "closed from draft"}
    assert set(states.values()) == set(State), "some state has no scenario"


# The ledger's steps also need facts recorded before them (a recipient before a notification, a request before
# a release): tests/domain/test_obligations.py takes them; here, only where the lifecycle offers them.
OPEN_STATES = {D, E, R, INV}
LEDGER_OFFERED: dict[Step, set[State]] = {
    S.RECORD_NOTICE_RECIPIENT: OPEN_STATES | {State.JC_IMPORT_QUEUE}, S.RECORD_NOTIFICATION: OPEN_STATES | {State.JC_IMPORT_QUEUE},
    S.RECORD_REQUEST: OPEN_STATES | {C}, S.RELEASE_RECORDS: OPEN_STATES | {C}, S.SEND_TO_JC: {E, R, INV, C},
    S.WAIVE_OBLIGATION: OPEN_STATES | {C}, S.EXTEND_OBLIGATION: OPEN_STATES | {C},
}


@pytest.mark.parametrize("step", sorted(LEDGER_STEPS))
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_ledger_steps_are_offered_in_the_states_they_belong_to(scenario: str, step: Step) -> None:
    incident = SCENARIOS[scenario]()
    # WSIR: only while an abuse or neglect investigation is open
    expected = scenario.startswith("investigating, abuse") if step is S.SUBMIT_WSIR else incident.state in LEDGER_OFFERED[step]
    assert (step in available_steps(incident)) is expected
    if not expected:
        with pytest.raises(TransitionRefused):
            take(incident, step)


@pytest.mark.parametrize("step", [step for step in Step if step not in LEDGER_STEPS])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_each_step_in_each_state(scenario: str, step: Step) -> None:
    incident = SCENARIOS[scenario]()
    incident.collect_events()
    before = dict(vars(incident))
    offered = step in available_steps(incident)
    expected = SUCCEEDS[scenario].get(step)
    if expected is None:
        with pytest.raises(NimrsError) as refused:
            take(incident, step)
        assert vars(incident) == before and incident.collect_events() == [], "a refused command recorded something"
        assert not offered
        if (scenario, step) in RULE_NAMED:
            assert RULE_NAMED[scenario, step] in str(refused.value)
        if not any(step is row_step and incident.state in sources for row_step, sources, _, _ in TABLE):
            assert isinstance(refused.value, TransitionRefused)
            assert f"cannot {step.value} an incident in state '{incident.state.value}'" in str(refused.value)
        return
    take(incident, step)
    assert offered
    assert incident.state is expected
    recorded = incident.collect_events()
    assert recorded, "a step that succeeds records its event"
    moved = [e for e in recorded if hasattr(e, "to_state")]
    assert all(e.to_state == expected.value for e in moved)


def test_no_command_takes_a_destination_state() -> None:
    for step in Step:
        parameters = inspect.signature(getattr(Incident, step.value)).parameters
        assert not {"to_state", "dest", "state"} & set(parameters), step


def test_reopen_cannot_be_told_where_to_go() -> None:
    incident = SCENARIOS["closed from draft"]()
    with pytest.raises(TypeError):
        incident.reopen(L1, T0, "banana", "reason")  # type: ignore[call-arg]
    assert incident.state is State.CLOSED


def test_a_refusal_names_every_failed_rule() -> None:
    incident = filled(created("an.physical-abuse"))
    incident.details = {k: v for k, v in incident.details.items() if k != "narrative"}  # one screen short
    with pytest.raises(TransitionRefused) as refused:
        incident.email_omh(L1, T0)
    assert len(refused.value.problems) == 2
    assert "required details are missing: narrative" in refused.value.problems[0]
    assert "must be reported to the JC first" in refused.value.problems[1]


def test_the_table_has_a_row_for_every_step_and_reaches_every_state() -> None:
    assert {step for step, *_ in TABLE} == set(Step)
    reached = {dest for _, _, dest, _ in TABLE if dest != STAYS} | {State.JC_IMPORT_QUEUE, State.DRAFT}
    assert reached == set(State)


def test_an_incident_whose_route_needs_an_age_not_yet_recorded_offers_its_steps() -> None:
    """Regression: a missing-patient report from an outpatient program (the chart's age limit) with the
    incident and severity screens filled but no clients yet: the route is unknown, not an error."""
    incident = created("si.missing-patient", "outpatient")
    for screen, fields in complete_details(T0 - timedelta(hours=2), on_premises=False):
        if screen != "clients":
            incident.record_details(L2, T0, screen, fields)
    assert incident.route is None
    assert [step for step in available_steps(incident) if step not in LEDGER_STEPS] == [Step.RECORD_DETAILS]
    with pytest.raises(TransitionRefused, match="required details are missing: clients"):
        incident.email_omh(L1, T0)
