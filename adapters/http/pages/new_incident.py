"""New Incident, with the reportability helper: the facts decide the route, the clocks and the rule that applied.

The helper answers with the chart's own ``classify`` (its reasons, and the chart's suggestion where another
type fits); with htmx it updates in place, without JavaScript the page comes back with the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from adapters.http.context import context
from adapters.http.pages.details_form import code_choices
from adapters.http.pages.incident import FormValues
from adapters.http.pages.rendering import render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageUser, check_csrf
from domain.errors import ValidationFailed
from domain.reportability import ClassificationRecord, Facts, classify
from domain.rules import DEFAULT_RULE_SET, rule_set
from domain.vocabulary import Setting, parse_setting
from workflows.accounts import Principal
from workflows.permissions import Action, require_level

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _classification(values: dict[str, str]) -> tuple[ClassificationRecord | None, str | None]:
    """The chart's answer for the facts given, or the problem with them (None, None before any are given)."""
    if not values.get("code") or not values.get("setting"):
        return None, None
    try:
        age_text = values.get("age", "").strip()
        age = int(age_text) if age_text else None
        facts = Facts(parse_setting(values["setting"]), values.get("on_premises") == "yes",
                      values.get("serious_harm") == "yes", age)
        return classify(rule_set(DEFAULT_RULE_SET), values["code"], facts).as_dict(), None
    except ValueError:
        return None, f"age must be a whole number, got {values.get('age')!r}"
    except ValidationFailed as error:
        return None, "; ".join([error.message, *error.problems])


def _page(request: Request, values: dict[str, str], status: int = 200, message: str | None = None) -> Response:
    classification, problem = _classification(values)
    return render(request, "new_incident.html", status=status, title="New incident", values=values,
                  codes=code_choices(rule_set(DEFAULT_RULE_SET)), settings=[s.value for s in Setting],
                  classification=classification, classification_problem=problem, message=message)


async def _may_create(who: PageUser) -> Principal:
    require_level(who.actor, Action.CREATE)
    return who


Creator = Annotated[Principal, Depends(_may_create)]


@router.get("/web/incidents/new")
def new_incident(request: Request, who: Creator) -> Response:
    return _page(request, {key: value for key, value in request.query_params.items()})


@router.post("/web/classify")
def reportability(request: Request, who: PageUser, values: FormValues) -> Response:
    """The helper's answer alone (htmx swaps it into the New Incident page)."""
    check_csrf(request, values.get("csrf_token"))
    classification, problem = _classification(values)
    return render(request, "_classification.html", classification=classification, classification_problem=problem)


@router.post("/web/incidents/new/check")
def check(request: Request, who: Creator, values: FormValues) -> Response:
    """Without JavaScript: the page again, with the helper's answer for the facts given."""
    check_csrf(request, values.get("csrf_token"))
    return _page(request, values)


@router.post("/web/incidents/new")
def create(request: Request, who: Creator, values: FormValues) -> Response:
    check_csrf(request, values.get("csrf_token"))
    ctx = context(request)
    try:
        new_id = ctx.service.create_incident(who.actor, program=values.get("program", ""),
                                             setting=values.get("setting", ""), code=values.get("code", ""),
                                             summary=values.get("summary", ""))
    except ValidationFailed as error:
        return _page(request, values, 422, "; ".join([error.message, *error.problems]))
    return RedirectResponse(f"/web/incidents/{new_id}", status_code=303)
