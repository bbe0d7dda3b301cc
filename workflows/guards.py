"""Named conditions on workflow transitions, each with the message a refused user sees.

A guard returns ``None`` when it holds, or the problem when it does not.
"""

from collections.abc import Callable

from domain.incident import Incident, State
from domain.vocabulary import Route

Guard = Callable[[Incident], str | None]


def details_complete(incident: Incident) -> str | None:
    missing = incident.missing_details()
    return f"required details are missing: {', '.join(missing)}" if missing else None


def reportable(incident: Incident) -> str | None:
    if incident.route == Route.NOT_REPORTABLE.value:
        return "the incident is NOT_REPORTABLE as recorded: document findings and close it locally instead"
    return None


def jc_route_came_from_jc(incident: Incident) -> str | None:
    if incident.route == Route.JC_AND_OMH.value and incident.jc_case_number is None:
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
        return "a death reported to the JC cannot be closed before its Report of Death is submitted (Email JC)"
    return None


def findings_documented(incident: Incident) -> str | None:
    return None if incident.findings else "findings must be documented before closing"


def not_reportable(incident: Incident) -> str | None:
    if incident.route != Route.NOT_REPORTABLE.value:
        return f"only NOT_REPORTABLE incidents are handled locally from a draft; this one is {incident.route or 'not yet classified'}"
    return None


def omh_only(incident: Incident) -> str | None:
    if incident.route != Route.OMH_ONLY.value:
        return f"only OMH_ONLY incidents are closed without an investigation; this one is {incident.route}"
    return None


def closed_from(state: str) -> Guard:
    def check(incident: Incident) -> str | None:
        return None if incident.closed_from == state else f"it was not closed from {state}"

    check.__name__ = f"closed_from_{state}"
    return check


closed_from_investigation = closed_from(State.UNDER_INVESTIGATION)
closed_from_draft = closed_from(State.DRAFT)
closed_from_emailed = closed_from(State.EMAILED_TO_OMH)
