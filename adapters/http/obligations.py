"""Obligations over HTTP (docs/adr/0014): every obligation of the pinned rules by status, and each facility's own
settings: which obligation rules its new incidents pin, and who is mailed which alerts.

A facility's settings are its own: another facility's answer 404 exactly as one that does not exist, a user of
the wrong level 403, and a bad rules id or bad alert rules 422 naming each problem. Alert rules hold email
addresses, so only the facility's security administrators and Level 1 users read them. Each change is kept
with who made it, when and why (``GET /facilities/{facility}/history``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response
from typing_extensions import TypedDict

from adapters.http.context import Context, Ctx, JsonResponse, Who
from adapters.http.problems import refusals
from adapters.http.queries import Facility
from domain.obligations.sets import OBLIGATION_SETS, obligation_rules
from projections.reads import OverduePage
from workflows.accounts import Principal
from workflows.alerts import MAX_RULES
from workflows.facilities import MAX_REASON, FacilitySetting, SettingKind, as_record

router = APIRouter(tags=["obligations"])
FacilityName = Annotated[str, Path(max_length=64, description="A facility, e.g. F-001")]
READ = refusals(401, 403, 404, 422, described={
    403: "Alert rules: only a security administrator or a Level 1 user of the facility reads them",
    404: "Another facility's settings (state reviewers may read its obligation rules)"})
CHANGE = refusals(401, 403, 404, 422, described={
    403: "Obligation rules: Level 1 of the facility; alert rules: its security administrator",
    404: "Another facility's settings",
    422: "Not valid: an unknown rules id, alert rules with problems (each one named), or no reason"})


class SettingRecord(TypedDict):
    """One recorded change of a facility's setting: what, by whom, when (ISO 8601 with the offset) and why."""

    facility: str
    kind: str  # obligations or alert_rules
    value: Any  # a rules id, or a list of alert rules
    set_by: str
    set_at: str
    reason: str


class Change(TypedDict):
    """Who made the latest change, when and why."""

    set_by: str
    set_at: str
    reason: str


class FacilityObligations(TypedDict):
    """The obligation rules a facility's new incidents pin; existing incidents keep the rules they pinned."""

    facility: str
    rules: str  # a released rules id, e.g. part524@1
    title: str
    installation_default: bool  # no choice recorded: the installation's NIMRS_OBLIGATIONS_DEFAULT
    changed: Change | None  # the latest choice; None: never chosen


class FacilityAlertRules(TypedDict):
    """Who is mailed which alerts (workflows.alerts.AlertRule: on, to, clocks, categories, routes, ...)."""

    facility: str
    rules: list[dict[str, Any]]
    changed: Change | None  # None: never set, so no alert mail


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChooseObligations(StrictBody):
    rules: str = Field(max_length=40, description=f"A released rules id: {', '.join(OBLIGATION_SETS)}")
    reason: str = Field(max_length=MAX_REASON, description="Why (kept with the choice)")


class SetAlertRules(StrictBody):
    # Each rule is checked by workflows.alerts.parse_alert_rules, which names every problem at once.
    rules: list[Any] = Field(max_length=MAX_RULES, description="Alert rules: [{on: [clock_due_soon|clock_missed|"
                             "emailed_to_omh|report_of_death_submitted], to: [address], clocks, categories, routes, "
                             "serious_harm_only, details}]")
    reason: str = Field(max_length=MAX_REASON)


@router.get("/obligations", summary="Obligations of the pinned rules by status: open, overdue, due soon, met, waived",
            response_model=OverduePage, responses=refusals(401, 404, 422, described={
                404: "Another facility's obligations (state reviewers may read any)"}))
def obligations(who: Who, ctx: Ctx, facility: Facility = None,
                status: Annotated[Literal["open", "overdue", "due_soon", "met_on_time", "met_late", "waived", "all"],
                                  Query(description="open: overdue, due soon or later")] = "open",
                clock: Annotated[str | None, Query(max_length=64, description="One clock, e.g. "
                                                                              "qualified_person_notice")] = None,
                soon_days: Annotated[int, Query(ge=0, le=365)] = 2,
                limit: Annotated[int, Query(ge=1, le=1000)] = 50,
                offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    return JsonResponse(ctx.reads.obligations(who.actor, facility=facility, status=status, clock=clock,
                                              soon_days=soon_days, limit=limit, offset=offset))


def change(setting: FacilitySetting | None) -> Change | None:
    return None if setting is None else {"set_by": setting.set_by, "set_at": setting.set_at.isoformat(),
                                         "reason": setting.reason}


def facility_obligations(ctx: Context, who: Principal, facility: str) -> FacilityObligations:
    facilities = ctx.runtime.facilities
    chosen = facilities.current(who, facility, SettingKind.OBLIGATIONS)
    rules_id = str(chosen.value) if chosen is not None else facilities.default_obligations
    return {"facility": facility, "rules": rules_id, "title": obligation_rules(rules_id).title,
            "installation_default": chosen is None, "changed": change(chosen)}


def facility_alert_rules(ctx: Context, who: Principal, facility: str) -> FacilityAlertRules:
    latest = ctx.runtime.facilities.current(who, facility, SettingKind.ALERT_RULES)
    return {"facility": facility, "rules": list(latest.value) if latest else [], "changed": change(latest)}


@router.get("/facilities/{facility}/obligations", summary="The obligation rules the facility's new incidents pin",
            response_model=FacilityObligations, responses=READ)
def get_obligations(facility: FacilityName, who: Who, ctx: Ctx) -> Response:
    return JsonResponse(facility_obligations(ctx, who, facility))


@router.put("/facilities/{facility}/obligations", summary="Choose the obligation rules new incidents pin (Level 1)",
            response_model=FacilityObligations, responses=CHANGE)
def choose_obligations(facility: FacilityName, body: ChooseObligations, who: Who, ctx: Ctx) -> Response:
    with ctx.writing():
        ctx.runtime.facilities.choose_obligations(who, facility, body.rules, body.reason)
    return JsonResponse(facility_obligations(ctx, who, facility))


@router.get("/facilities/{facility}/alert-rules", summary="Who is mailed which alerts (security administrators, "
            "Level 1)", response_model=FacilityAlertRules, responses=READ)
def get_alert_rules(facility: FacilityName, who: Who, ctx: Ctx) -> Response:
    return JsonResponse(facility_alert_rules(ctx, who, facility))


@router.put("/facilities/{facility}/alert-rules", summary="Set who is mailed which alerts (security administrators)",
            response_model=FacilityAlertRules, responses=CHANGE)
def set_alert_rules(facility: FacilityName, body: SetAlertRules, who: Who, ctx: Ctx) -> Response:
    with ctx.writing():
        ctx.runtime.facilities.set_alert_rules(who, facility, body.rules, body.reason)
    return JsonResponse(facility_alert_rules(ctx, who, facility))


@router.get("/facilities/{facility}/history", summary="Every change of a facility setting: what, by whom, when, why",
            response_model=list[SettingRecord], responses=READ)
def history(facility: FacilityName, who: Who, ctx: Ctx,
            kind: Annotated[Literal["obligations", "alert_rules"], Query()] = "obligations") -> Response:
    return JsonResponse([as_record(s) for s in ctx.runtime.facilities.history(who, facility, SettingKind(kind))])
