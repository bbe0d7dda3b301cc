"""An incident's page: its facts, clocks, the checklist before Email OMH, the details screens as forms, and the
steps this user may take now as buttons. Email OMH, Email JC (Report of Death) and Close ask for confirmation
and the user's password; the event records that the step was attested.

Every form carries the version the user saw: if the incident moved on meanwhile, the step is refused (412)
rather than applied to a state the user did not see. The one-click import from the home page's queue is the
exception: a report in the queue has nothing to be stale about, and a second import is refused by its state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from adapters.http.context import Context, context
from adapters.http.limits import client_address
from adapters.http.pages import details_form
from adapters.http.pages.obligations_shown import LEDGER_CHOICES, ledger, obligation_rows
from adapters.http.pages.rendering import render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser, check_csrf
from adapters.http.problems import record_refusal
from adapters.naming import incident_label
from domain.details import REQUIRED, SCREENS
from domain.errors import PermissionDenied, TooManyRequests, ValidationFailed
from domain.incident import Incident
from domain.lifecycle import State, Step
from domain.rules import rule_set
from domain.vpcr import incident_id_for
from workflows.accounts import Principal
from workflows.screens import describe
from workflows.service import IncidentService

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reference = Annotated[str, Path(max_length=100)]
Csrf = Annotated[str, Form(max_length=64)]
MAX_VERSION = 2**31 - 1
Version = Annotated[int, Form(ge=1, le=MAX_VERSION, description="The version the form was made from")]
ATTESTATION = {
    Step.EMAIL_OMH: "I confirm that this report is complete and accurate to the best of my knowledge, and submit it "
                    "to OMH.",
    Step.SUBMIT_REPORT_OF_DEATH: "I confirm that the Report of Death is complete and accurate to the best of my "
                                 "knowledge, and send it to the Justice Center.",
    Step.CLOSE: "I confirm that the investigation's findings are documented and that this incident may be closed.",
}
# Steps with their own forms in the Obligations and Notification ledger sections, not buttons under "What you can do".
LEDGER_STEPS = [step.value for step in (
    Step.RECORD_NOTICE_RECIPIENT, Step.RECORD_NOTIFICATION, Step.RECORD_REQUEST, Step.RELEASE_RECORDS, Step.SEND_TO_JC,
    Step.SUBMIT_WSIR, Step.WAIVE_OBLIGATION, Step.EXTEND_OBLIGATION)]


def _attested(command_name: str) -> Step:
    """The step a confirm page's path names (``email-omh``), if it is one that is attested."""
    chosen = next((step for step in ATTESTATION if step.command_name == command_name), None)
    if chosen is None:
        raise ValidationFailed(f"no step {command_name!r} asks for confirmation; expected one of: "
                               f"{', '.join(step.command_name for step in ATTESTATION)}")
    return chosen


async def form_values(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormValues = Annotated[dict[str, str], Depends(form_values)]
VERSION_DIGITS = re.compile(r"[1-9][0-9]{0,9}")


def form_version(text: str | None) -> int:
    """The version the form was made from: every form sends it, so the step applies only to what the user saw."""
    if text is None or not VERSION_DIGITS.fullmatch(text) or int(text) > MAX_VERSION:
        raise ValidationFailed(f"version must be the incident's version the form was made from (1 to {MAX_VERSION}), "
                               f"got {(text or '')[:20]!r}: reload the page")
    return int(text)


def incident_page(request: Request, who: Principal, incident: Incident, status: int = 200,
                  failed: dict[str, Any] | None = None) -> Response:
    """``failed``: the screen or step that was refused, its messages by field, and the values typed, shown again."""
    ctx = context(request)
    now = ctx.clock()
    screen = describe(incident, who.actor, now)
    rules = rule_set(incident.rule_set_name)
    obligations = obligation_rows(screen, incident.deadlines.keys(), who.actor, now)
    return render(request, "incident.html", status=status,
                  title=f"Incident {incident_label(incident.id, incident.jc_case_number)}",
                  incident=screen, reference=str(incident.id), screens=SCREENS, titles=details_form.SCREEN_TITLES,
                  labels=details_form.FIELD_LABELS, codes=details_form.code_choices(rules),
                  harm=details_form.rating_choices("harm"), risk=details_form.rating_choices("risk"),
                  harm_help=details_form.rating_help("harm"), risk_help=details_form.rating_help("risk"),
                  bases=details_form.BASIS_CHOICES, rows=range(1, details_form.ROWS + 1),
                  local_input=details_form.local_input, failed=failed or {},
                  required=REQUIRED, attested_steps={step.value for step in ATTESTATION}, ledger_steps=LEDGER_STEPS,
                  obligations=obligations, ledger=ledger(screen, obligations), choices=LEDGER_CHOICES,
                  closing_blockers=incident.closing_blockers() if incident.state != State.CLOSED else [])


def back_to_incident(reference: UUID, anchor: str = "") -> Response:
    return RedirectResponse(f"/web/incidents/{reference}{anchor}", status_code=303)


def run_command(ctx: Context, command: Callable[[IncidentService], Incident]) -> Incident:
    return command(ctx.service)


@router.get("/web/incidents/{reference}")
def show(request: Request, reference: Reference, who: PageUser) -> Response:
    ctx = context(request)
    return incident_page(request, who, ctx.service.incident(who.actor, incident_id_for(reference)))


def _details(request: Request, who: Principal, reference: str, screen: str, values: dict[str, str],
             step: Step) -> Response:
    check_csrf(request, values.get("csrf_token"))
    ctx = context(request)
    incident_id = incident_id_for(reference)
    expected = form_version(values.get("version"))
    fields = details_form.fields_from_form(screen, values) if screen in SCREENS else {}
    try:
        if step == Step.AMEND:
            run_command(ctx, lambda s: s.amend(who.actor, incident_id, screen, fields, values.get("reason", ""), expected))
        else:
            run_command(ctx, lambda s: s.record_details(who.actor, incident_id, screen, fields, expected))
    except ValidationFailed as error:
        problems = error.problems or [error.message]
        failed = {"screen": screen, "errors": details_form.errors_by_field(screen, problems), "values": values,
                  "message": error.message}
        return incident_page(request, who, ctx.service.incident(who.actor, incident_id), 422, failed)
    return back_to_incident(incident_id, f"#screen-{screen}")


@router.post("/web/incidents/{reference}/record-details/{screen}")
def record_details(request: Request, reference: Reference, screen: Annotated[str, Path(max_length=40)],
                   who: PageUser, values: FormValues) -> Response:
    return _details(request, who, reference, screen, values, Step.RECORD_DETAILS)


@router.post("/web/incidents/{reference}/amend/{screen}")
def amend(request: Request, reference: Reference, screen: Annotated[str, Path(max_length=40)], who: PageUser,
          values: FormValues) -> Response:
    return _details(request, who, reference, screen, values, Step.AMEND)


@router.post("/web/incidents/{reference}/import-report")
def import_report(request: Request, reference: Reference, who: PageUser, csrf_token: Csrf = "",
                  version: Annotated[int | None, Form(ge=1, le=MAX_VERSION)] = None) -> Response:
    check_csrf(request, csrf_token)
    incident = run_command(context(request), lambda s: s.import_report(who.actor, incident_id_for(reference), version))
    return back_to_incident(incident.id)


@router.post("/web/incidents/{reference}/start-investigation")
def start_investigation(request: Request, reference: Reference, who: PageUser, version: Version,
                        csrf_token: Csrf = "") -> Response:
    check_csrf(request, csrf_token)
    incident = run_command(context(request), lambda s: s.start_investigation(who.actor, incident_id_for(reference), version))
    return back_to_incident(incident.id)


def _text_step(request: Request, who: Principal, reference: str, step: Step, typed: dict[str, str],
               command: Callable[[IncidentService, UUID], Incident]) -> Response:
    """A step that takes text (findings, a reason): a refusal shows the page again with the text as typed."""
    ctx = context(request)
    incident_id = incident_id_for(reference)
    try:
        run_command(ctx, lambda s: command(s, incident_id))
    except ValidationFailed as error:
        failed = {"step": step.value, "message": error.message, "values": typed}
        return incident_page(request, who, ctx.service.incident(who.actor, incident_id), 422, failed)
    return back_to_incident(incident_id)


@router.post("/web/incidents/{reference}/document-findings")
def document_findings(request: Request, reference: Reference, who: PageUser, version: Version,
                      csrf_token: Csrf = "", findings: Annotated[str, Form(max_length=20000)] = "") -> Response:
    check_csrf(request, csrf_token)
    return _text_step(request, who, reference, Step.DOCUMENT_FINDINGS, {"findings": findings},
                      lambda s, i: s.document_findings(who.actor, i, findings, version))


@router.post("/web/incidents/{reference}/reopen")
def reopen(request: Request, reference: Reference, who: PageUser, version: Version, csrf_token: Csrf = "",
           reason: Annotated[str, Form(max_length=4000)] = "") -> Response:
    check_csrf(request, csrf_token)
    return _text_step(request, who, reference, Step.REOPEN, {"reason": reason},
                      lambda s, i: s.reopen(who.actor, i, reason, version))


@router.get("/web/incidents/{reference}/{step}/confirm")
def confirm(request: Request, reference: Reference, step: Annotated[str, Path(max_length=40)],
            who: PageUser) -> Response:
    chosen = _attested(step)
    incident = context(request).service.incident(who.actor, incident_id_for(reference))
    return render(request, "confirm.html", title="Confirm", incident=incident, step=chosen,
                  attestation=ATTESTATION[chosen], message=None)


@router.post("/web/incidents/{reference}/{step}")
def attested_step(request: Request, reference: Reference, step: Annotated[str, Path(max_length=40)], who: PageUser,
                  version: Version, csrf_token: Csrf = "",
                  password: Annotated[str, Form(max_length=256)] = "") -> Response:
    check_csrf(request, csrf_token)
    chosen = _attested(step)
    ctx = context(request)
    incident_id = incident_id_for(reference)
    incident = ctx.service.check_step(who.actor, incident_id, chosen)  # what the step would refuse, before the password
    try:
        ctx.accounts.attest(who.user_id, password, client=client_address(request))
    except (PermissionDenied, TooManyRequests) as error:
        record_refusal(request, 429 if isinstance(error, TooManyRequests) else 403, error.message)
        return render(request, "confirm.html", status=429 if isinstance(error, TooManyRequests) else 403,
                      title="Confirm", incident=incident, step=chosen, attestation=ATTESTATION[chosen],
                      message=error.message)
    command: Callable[[IncidentService], Incident] = {
        Step.EMAIL_OMH: lambda s: s.email_omh(who.actor, incident_id, version, attested=True),
        Step.SUBMIT_REPORT_OF_DEATH: lambda s: s.submit_report_of_death(who.actor, incident_id, version, attested=True),
        Step.CLOSE: lambda s: s.close(who.actor, incident_id, version, attested=True),
    }[chosen]
    run_command(ctx, command)
    return back_to_incident(incident.id)
