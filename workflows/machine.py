"""The incident workflow as a definition-only transition table (``transitions``).

No model is attached: commands ask the table whether a trigger is allowed from the
incident's state (guards included) and where it leads, then call the aggregate, whose
events record the destination. Replay never consults the machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from transitions import Machine

from domain.errors import TransitionRefused
from domain.incident import Incident, State
from workflows import guards as g

S = State
SUBMITTED = [S.EMAILED_TO_OMH, S.REPORT_OF_DEATH_SUBMITTED, S.UNDER_INVESTIGATION]

# trigger, sources, destination ("=" stays), guards
TABLE: list[tuple[str, list[str], str, list[g.Guard]]] = [
    ("import_report", [S.JC_IMPORT_QUEUE], S.DRAFT, []),
    ("record_details", [S.DRAFT], "=", []),
    ("email_omh", [S.DRAFT], S.EMAILED_TO_OMH, [g.details_complete, g.reportable, g.jc_route_came_from_jc]),
    ("email_jc", [S.EMAILED_TO_OMH], S.REPORT_OF_DEATH_SUBMITTED, [g.needs_report_of_death, g.report_of_death_pending]),
    ("email_jc", [S.UNDER_INVESTIGATION], "=", [g.needs_report_of_death, g.report_of_death_pending]),
    ("start_investigation", [S.EMAILED_TO_OMH, S.REPORT_OF_DEATH_SUBMITTED], S.UNDER_INVESTIGATION, []),
    ("document_findings", [S.UNDER_INVESTIGATION], "=", []),
    ("document_findings", [S.DRAFT], "=", [g.not_reportable]),
    ("document_findings", [S.EMAILED_TO_OMH], "=", [g.omh_only]),
    ("close", [S.UNDER_INVESTIGATION], S.CLOSED, [g.findings_documented, g.report_of_death_done]),
    ("close", [S.DRAFT], S.CLOSED, [g.not_reportable, g.findings_documented]),
    ("close", [S.EMAILED_TO_OMH], S.CLOSED, [g.omh_only, g.findings_documented]),
    ("reopen", [S.CLOSED], S.UNDER_INVESTIGATION, [g.closed_from_investigation]),
    ("reopen", [S.CLOSED], S.DRAFT, [g.closed_from_draft]),
    ("reopen", [S.CLOSED], S.EMAILED_TO_OMH, [g.closed_from_emailed]),
    ("amend", SUBMITTED, "=", []),
]

MACHINE = Machine(
    model=None,
    states=list(S.ALL),
    transitions=[
        {"trigger": trigger, "source": sources, "dest": dest, "conditions": list(conditions)}
        for trigger, sources, dest, conditions in TABLE
    ],
    auto_transitions=False,
    initial=None,
)
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(trigger for trigger, *_ in TABLE))
# Creation is not a transition between states: the aggregate's first event sets its state.
INITIAL_STATES = {"receive": S.JC_IMPORT_QUEUE, "create": S.DRAFT}


@dataclass(frozen=True)
class Step:
    trigger: str
    source: str
    dest: str


def _failures(incident: Incident, conditions: list) -> list[str]:  # type: ignore[type-arg]
    problems = []
    for condition in conditions:
        problem = condition.func(incident)
        if problem is not None:
            problems.append(problem)
    return problems


def resolve(incident: Incident, trigger: str) -> Step:
    """The step ``trigger`` takes from the incident's state, or TransitionRefused saying why not."""
    candidates = MACHINE.get_transitions(trigger, incident.state)
    if not candidates:
        raise TransitionRefused(f"cannot {trigger} an incident in state {incident.state!r}")
    problems: list[str] = []
    for transition in candidates:
        failures = _failures(incident, transition.conditions)
        if not failures:
            dest = transition.dest or incident.state
            return Step(trigger, incident.state, dest)
        problems += [p for p in failures if p not in problems]
    raise TransitionRefused(f"cannot {trigger} this incident now", problems=problems)


def available_triggers(incident: Incident) -> list[str]:
    """Triggers whose guards hold in the incident's current state, in table order."""
    possible = set(MACHINE.get_triggers(incident.state))
    return [
        trigger for trigger in TRIGGERS
        if trigger in possible
        and any(not _failures(incident, t.conditions) for t in MACHINE.get_transitions(trigger, incident.state))
    ]
