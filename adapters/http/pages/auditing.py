"""Pages for auditors: an incident's timeline (who did what, when, old and new values), the incident as it
stood at any time or version, what changed between two versions, who read it; and the audit trail across
incidents, with a CSV download.

Auditors are any reader of the incident's facility (Level 1-3) and state reviewers (every facility): the
use cases check it, as for the API's history, as-of, changes, readers and audit-trail routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from adapters import local_time
from adapters.http.context import context
from adapters.http.incidents import MAX_VERSION
from adapters.http.pages.rendering import render, stripped
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser
from adapters.http.pages.spreadsheets import csv_download
from adapters.http.problems import record_refusal, status_of
from adapters.naming import incident_label
from domain.deadlines import parse_moment
from domain.errors import IncidentNotFound, NotFound, ValidationFailed
from domain.vpcr import incident_id_for
from projections import audit as audit_trail
from projections.audit import AuditEntry, incident_trail
from workflows.readers import MAX_LIMIT, may_see_readers, period
from workflows.replay import changes_between, state_as_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Ref = Annotated[str, Path(max_length=100)]
Text = Annotated[str | None, Query(max_length=64)]
Day = Annotated[str | None, Query(max_length=40)]
Version = Annotated[int | None, Query(ge=1, le=MAX_VERSION)]
PAGE_ROWS = 200  # the audit trail on a page; the CSV holds up to CSV_ROWS
CSV_ROWS = 10_000
READERS_SHOWN = 100
EVENT_NAMES = {
    "VpcrReportReceived": "VPCR report received into the JC import queue",
    "CreatedDirectly": "New incident entered",
    "ImportedFromJcQueue": "Imported from the JC queue",
    "DetailsRecorded": "Details recorded",
    "EmailedToOmh": "Emailed to OMH",
    "DeadlineSet": "Reporting clock set",
    "ReportOfDeathSubmitted": "Report of Death sent to the JC",
    "InvestigationStarted": "Investigation started",
    "FindingsDocumented": "Findings documented",
    "Closed": "Closed",
    "Reopened": "Reopened",
    "AmendedAfterSubmission": "Amended after submission",
}
VIEW_NAMES = {"show": "the incident", "history": "its history", "as_of": "as it stood then",
              "changes": "changes between versions", "audit_trail": "the audit trail", "feed": "the event feed"}


def event_name(event_type: str) -> str:
    return EVENT_NAMES.get(event_type, event_type)


def value_text(value: Any) -> str:
    """A recorded value as a person reads it (``adapters.local_time.readable``)."""
    return local_time.readable(value)




def _event_entry(event: Any, row: dict[str, Any]) -> dict[str, Any]:
    screen = getattr(event, "screen", None)
    name = event_name(row["event_type"])
    return {**row, "name": f"{name} ({screen} screen)" if screen else name,
            "attested": getattr(event, "attested", False)}


@router.get("/web/incidents/{reference}/timeline")
def timeline(request: Request, reference: Ref, who: PageUser, at: Day = None, version: Version = None,
             from_version: Annotated[int | None, Query(alias="from", ge=1, le=MAX_VERSION)] = None,
             to_version: Annotated[int | None, Query(alias="to", ge=1, le=MAX_VERSION)] = None) -> Response:
    ctx = context(request)
    actor = who.actor
    incident = incident_id_for(reference)
    events = ctx.service.history(actor, incident)  # absent or another facility's: "not found"
    entries = [_event_entry(e, row) for e, row in zip(events, incident_trail(events), strict=True)]
    problems: dict[str, str] = {}
    status = 200
    then = changes = None
    try:
        typed = stripped(at)
        moment = parse_moment(typed, "the time", now=ctx.clock()) if typed else None
        if moment is not None and moment < events[0].timestamp:  # the use case's words, in New York time
            raise NotFound(f"the incident did not exist yet at {local_time.local_time(moment)} "
                           f"(first recorded {local_time.local_time(events[0].timestamp)})")
        then = state_as_of(ctx.service, actor, incident, as_of=moment, version=version)
    except (ValidationFailed, NotFound) as error:
        status = _refused(request, error)
        problems["then"] = error.message
    if from_version is not None or to_version is not None:
        try:
            if from_version is None or to_version is None:
                raise ValidationFailed("give both versions to compare: from and to")
            changes = changes_between(ctx.service, actor, incident, start=(None, from_version),
                                      end=(None, to_version))
        except (ValidationFailed, NotFound) as error:
            status = _refused(request, error)
            problems["changes"] = error.message
    readers = ctx.runtime.read_audit.readers(who, incident_id=incident, limit=MAX_LIMIT) \
        if may_see_readers(who) else None
    latest = entries[-1]["version"]
    jc_case_number = getattr(events[0], "jc_case_number", None)
    return render(request, "incident_timeline.html", status=status,
                  title=f"Timeline of incident {incident_label(incident, jc_case_number)}", incident_id=str(incident),
                  jc_case_number=jc_case_number,
                  entries=entries, then=then, changes=changes, problems=problems, latest=latest,
                  at=stripped(at) or "", version=version, from_version=from_version or max(latest - 1, 1),
                  to_version=to_version or latest, readers=None if readers is None else readers[::-1][:READERS_SHOWN],
                  readers_total=None if readers is None else len(readers), value_text=value_text,
                  view_names=VIEW_NAMES)


def _refused(request: Request, error: ValidationFailed | NotFound) -> int:
    if isinstance(error, IncidentNotFound):
        raise error  # the incident itself: the whole page is "not found"
    status = status_of(error)
    record_refusal(request, status, error.message)
    return status


def _trail(request: Request, who: PageUser, *, incident: str | None, user: str | None, since: str | None,
           until: str | None, facility: str | None, limit: int) -> list[AuditEntry]:
    ctx = context(request)
    start, end = period(stripped(since), stripped(until), ctx.clock())
    chosen = stripped(incident)
    return ctx.reads.audit_trail(who.actor, incident_id=str(incident_id_for(chosen)) if chosen else None,
                                 user=stripped(user), since=start, until=end, facility=stripped(facility),
                                 limit=limit)


@router.get("/web/audit")
def audit(request: Request, who: PageUser, incident: Annotated[str | None, Query(max_length=100)] = None,
          user: Text = None, since: Day = None, until: Day = None, facility: Text = None) -> Response:
    filters = {"incident": incident or "", "user": user or "", "since": since or "", "until": until or "",
               "facility": facility or ""}
    rows = _trail(request, who, incident=incident, user=user, since=since, until=until, facility=facility,
                  limit=PAGE_ROWS + 1)
    return render(request, "audit_trail.html", title="Audit trail", filters=filters, rows=rows[:PAGE_ROWS],
                  more=len(rows) > PAGE_ROWS, shown=PAGE_ROWS, csv_rows=CSV_ROWS, event_name=event_name,
                  value_text=value_text)


@router.get("/web/audit.csv")
def audit_csv(request: Request, who: PageUser, incident: Annotated[str | None, Query(max_length=100)] = None,
              user: Text = None, since: Day = None, until: Day = None, facility: Text = None) -> Response:
    rows = _trail(request, who, incident=incident, user=user, since=since, until=until, facility=facility,
                  limit=CSV_ROWS)
    return csv_download("audit-trail.csv", audit_trail.to_csv(rows))

