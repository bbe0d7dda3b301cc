"""Read-only queries: the supervisor's views, the audit trail, and the OMH charts (taxonomy, classify).

The views are read models kept up to date by the projector (``nimrs serve`` runs one unless told
not to); they trail the event log by well under a second.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from starlette.responses import Response

from adapters.http.context import Ctx, JsonResponse, Who
from adapters.http.problems import refusals
from adapters.http.schemas import documented
from domain import severity
from domain.deadlines import parse_moment
from domain.reportability import ClassificationRecord, Facts, classify
from domain.rules import DEFAULT_RULE_SET, rule_set
from domain.severity import SeverityScales
from domain.taxonomy import TaxonomyRecord
from domain.vocabulary import MAX_AGE, parse_setting
from projections import notice_timeliness
from projections.audit import AuditEntry
from projections.board import Board
from projections.incident_list import parse_day
from projections.notice_timeliness import NoticeTimeliness
from projections.reads import IncidentList, OverduePage
from projections.statistics import Count

router = APIRouter(tags=["views and charts"])
VIEW = refusals(401, 404, 422, described={404: "Another facility's view (state reviewers may read any)"})
Facility = Annotated[str | None, Query(max_length=64, description="Default: yours. State reviewers: any, and by "
                                                                  "default every facility (`facility` null in the answer)")]
Day = Annotated[str | None, Query(max_length=10, description="A New York calendar date, YYYY-MM-DD (included)")]
RulesName = Annotated[str, Query(max_length=40, description="current (chart 002) or earlier (chart 001)")]


class ClassifyRequest(BaseModel):
    code: str = Field(max_length=80, description="A taxonomy code, e.g. si.fall")
    setting: str = Field(max_length=40, description="inpatient, residential, cpep or outpatient")
    on_premises: bool = Field(description="On premises or under the provider's supervision")
    serious_harm: bool
    age: int | None = Field(None, ge=0, le=MAX_AGE, description="Where the chart sets an age limit")
    rules: str = Field(DEFAULT_RULE_SET, max_length=40)


@router.get("/overdue", summary="Clocks overdue (or due soon, open, met) in a facility, now or as of a past time",
            response_model=OverduePage, responses=VIEW)
def overdue(who: Who, ctx: Ctx, facility: Facility = None,
            as_of: Annotated[str | None, Query(description="ISO 8601; a bare date is the end of that day")] = None,
            status: Annotated[Literal["overdue", "due_soon", "open", "met_on_time", "met_late", "all"], Query()] = "overdue",
            clock: Annotated[str | None, Query(max_length=40)] = None,
            soon_days: Annotated[int, Query(ge=0, le=365)] = 2,
            limit: Annotated[int, Query(ge=1, le=1000)] = 50,
            offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    moment = parse_moment(as_of, "as_of", now=ctx.clock()) if as_of else None
    return JsonResponse(ctx.reads.overdue(who.actor, facility=facility, as_of=moment, status=status, clock=clock,
                                          soon_days=soon_days, limit=limit, offset=offset))


@router.get("/incidents", summary="List and search incidents: by state, code, day reported, JC case number, clock",
            response_model=IncidentList, responses=VIEW)
def incident_list(who: Who, ctx: Ctx, facility: Facility = None,
                  state: Annotated[str | None, Query(max_length=40, description="A workflow state")] = None,
                  code: Annotated[str | None, Query(max_length=64, description="A taxonomy code, or its type or "
                                                    "category: si.crime, an. (GET /taxonomy)")] = None,
                  reported_from: Day = None, reported_to: Day = None,
                  jc_case_number: Annotated[str | None, Query(max_length=64)] = None,
                  clock_status: Annotated[Literal["overdue", "due_soon", "open", "none"] | None, Query(
                      description="Where the earliest open clock stands; none: no open clock")] = None,
                  soon_days: Annotated[int, Query(ge=0, le=365)] = 2,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                  offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    return JsonResponse(ctx.reads.incidents(
        who.actor, facility=facility, state=state, code=code,
        reported_from=parse_day(reported_from, "reported_from") if reported_from else None,
        reported_to=parse_day(reported_to, "reported_to") if reported_to else None,
        jc_case_number=jc_case_number, clock_status=clock_status, soon_days=soon_days, limit=limit, offset=offset))


@router.get("/board", summary="The supervisor's board: incidents per state, waiting times, clocks",
            response_model=Board, responses=VIEW)
def board(who: Who, ctx: Ctx, facility: Facility = None,
          state: Annotated[str | None, Query(max_length=40, description="List the incidents in this state")] = None,
          soon_days: Annotated[int, Query(ge=0, le=365)] = 2,
          limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Response:
    return JsonResponse(ctx.reads.board(who.actor, facility=facility, state=state, soon_days=soon_days, limit=limit))


@router.get("/statistics", summary="Incident counts by type, route, rating, setting or month",
            response_model=list[Count], responses=VIEW)
def statistics(who: Who, ctx: Ctx, facility: Facility = None,
               by: Annotated[Literal["type", "route", "harm_rating", "risk_rating", "setting", "month"], Query()] = "type",
               from_month: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None,
               to_month: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None) -> Response:
    return JsonResponse(ctx.reads.statistics(who.actor, by=by, facility=facility, from_month=from_month,
                                             to_month=to_month))


@router.get("/statistics/notifications-on-time",
            summary="The 24-hour notices to qualified persons on time, per month of the initial report",
            description="Jonathan's Law (MHL § 33.23): per New York month of the initial report, the notices owed, met "
                        "on time, met late, waived, overdue and not yet due, as they stand now, and the share on time "
                        "(met on time / (owed - waived - not yet due), null when that is 0). `format=csv` answers the "
                        "same months as `text/csv`.",
            response_model=NoticeTimeliness, responses=VIEW)
def notifications_on_time(who: Who, ctx: Ctx, facility: Facility = None,
                          months: Annotated[int, Query(ge=1, le=notice_timeliness.MAX_MONTHS,
                                                       description="The last N months, this one included")] = 12,
                          output: Annotated[Literal["json", "csv"], Query(alias="format")] = "json") -> Response:
    result = ctx.reads.notice_timeliness(who.actor, facility=facility, months=months)
    if output == "csv":
        return Response(notice_timeliness.to_csv(result), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="notifications-on-time.csv"'})
    return JsonResponse(result)


@router.get("/audit-trail", summary="Who did what and when, across incidents (auditors)",
            response_model=list[AuditEntry], responses=VIEW)
def audit_trail(who: Who, ctx: Ctx, facility: Facility = None,
                incident: Annotated[str | None, Query(max_length=40)] = None,
                user: Annotated[str | None, Query(max_length=64)] = None,
                since: Annotated[str | None, Query()] = None, until: Annotated[str | None, Query()] = None,
                limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> Response:
    return JsonResponse(ctx.reads.audit_trail(
        who.actor, incident_id=incident, user=user, facility=facility,
        since=parse_moment(since, "since", now=ctx.clock()) if since else None,
        until=parse_moment(until, "until", now=ctx.clock()) if until else None, limit=limit))


@router.get("/taxonomy", summary="Every incident type and subtype of a rule set, with routes and clocks",
            response_model=documented(list[TaxonomyRecord]), responses=refusals(401, 422))
def taxonomy(who: Who, rules: RulesName = DEFAULT_RULE_SET) -> Response:
    return JsonResponse([entry.as_dict() for entry in rule_set(rules).entries])


@router.get("/severity", summary="The harm and risk ratings (chart 001)",
            response_model=documented(SeverityScales), responses=refusals(401))
def severity_ratings(who: Who) -> Response:
    return JsonResponse(severity.as_dict())


@router.post("/classify", summary="Decide the reporting route, steps and clocks for an incident",
             response_model=documented(ClassificationRecord),
             responses=refusals(401, 422, described={422: "Not valid: an unknown code, setting or rule set, or an age "
                                                          "missing where the chart sets an age limit"}))
def classify_incident(body: ClassifyRequest, who: Who) -> Response:
    facts = Facts(parse_setting(body.setting), body.on_premises, body.serious_harm, body.age)
    return JsonResponse(classify(rule_set(body.rules), body.code, facts).as_dict())
