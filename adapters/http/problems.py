"""Every refusal as an RFC 9457 problem document (``application/problem+json``), never a stack trace.

Refusals of an identified user, and every refused command, go to the security log with who
tried what. ``refusals`` documents them on a route (the ``Problem`` schema in ``/openapi.json``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, NotRequired

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from typing_extensions import TypedDict

from adapters.http.limits import client_address
from adapters.persistence.errors import STORE_ERRORS
from domain.errors import IncidentNotFound, NimrsError, StaleVersion, TooManyRequests

STATUS = {"validation": 422, "not_found": 404, "forbidden": 403, "unauthenticated": 401, "conflict": 409,
          "unreadable": 503, "rate_limited": 429}
TITLES = {400: "Bad request", 401: "Not signed in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 412: "Precondition failed", 413: "Content too large", 415: "Unsupported media type", 422: "Invalid request", 429: "Too many requests", 503: "Service unavailable",
          500: "Internal error"}
log = logging.getLogger("nimrs.http")
MEDIA_TYPE = "application/problem+json"


class Problem(TypedDict):
    """An RFC 9457 problem document: why a request was refused.

    `type` is `/problems/` and the kind of refusal (validation, not_found, forbidden, unauthenticated,
    conflict, unreadable, unavailable) or the status; `title` names the status; `detail` says what was
    wrong, and `problems` lists each problem where there are several; `instance` is the path asked for.
    """

    type: str
    title: str
    status: int
    detail: str
    instance: NotRequired[str]
    problems: NotRequired[list[str]]


# What each refusal means on any route; a route may say more (``refusals(..., described={409: ...})``).
REFUSED = {
    401: "Not signed in: no bearer token, or one that is unknown, expired or signed out (POST /auth/token gives one)",
    403: "Not allowed for your security group (Level 1, 2 or 3) or role (security administrator)",
    404: "Not found, or another facility's (never 403, so its existence is not disclosed)",
    409: "Conflict with the current state",
    412: ("Precondition failed, changing nothing: If-Match named none of the incident's current ETag (it has moved "
          "on since you read it: read it again)"),
    422: "The request is not valid: `detail` names the problem and `problems` lists each one",
    429: "Too many requests: try again after `Retry-After` seconds",
}
WRONG_STATE = "Conflict, changing nothing: the step is not allowed in the incident's current state"


def refusals(*statuses: int, described: Mapping[int, str] | None = None) -> dict[int | str, dict[str, Any]]:
    """The problem documents a route may answer with, for its ``responses=``."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": (described or {}).get(status, REFUSED[status]),
            "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if status == 401:
            response["headers"] = {"WWW-Authenticate": {"description": 'Bearer realm="nimrs"', "schema": {"type": "string"}}}
        if status == 429:
            response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
        documented[status] = response
    return documented


def problem(status: int, detail: str, *, kind: str | None = None, problems: list[str] | None = None,
            instance: str | None = None, headers: dict[str, str] | None = None) -> Response:
    document: Problem = {
        "type": f"/problems/{kind or status}",
        "title": TITLES.get(status, "Refused"),
        "status": status,
        "detail": detail,
    }
    if instance:
        document["instance"] = instance
    if problems:
        document["problems"] = problems
    return Response(orjson.dumps(document), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def record_refusal(request: Request, status: int, detail: str) -> None:
    """Record the refusal for the audit trail: every refused command, and any refusal of a known user."""
    principal = getattr(request.state, "principal", None)
    context = request.app.state.context
    if principal is None:  # nobody to name: counted per address and minute, not a row each (adapters.http.limits)
        context.anonymous.refused(client_address(request), rate_limited=status == 429)
        return
    route = request.scope.get("route")
    action = f"{request.method} {getattr(route, 'path', request.url.path)}"
    try:
        context.security_log.refused(context.clock(), principal.actor if principal else None, action,
                                     request.url.path[:200], status, detail, user_id="anonymous")
    except STORE_ERRORS:  # the refusal stands even if the log is unavailable; say so in the server log
        log.exception("could not record a refusal in the security log")


def status_of(error: NimrsError) -> int:
    return 412 if isinstance(error, StaleVersion) else STATUS.get(error.kind, 422)


def _nimrs_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, NimrsError)
    status = status_of(error)
    if isinstance(error, IncidentNotFound) and "reference" in request.path_params:
        # The same words whether it does not exist or is another facility's, naming what was typed.
        error = IncidentNotFound(repr(request.path_params["reference"]))
    # The log gets the headline only: the problems list may quote values the caller typed.
    record_refusal(request, status, error.message)
    headers = {"WWW-Authenticate": 'Bearer realm="nimrs"'} if status == 401 else None
    if isinstance(error, TooManyRequests):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    detail = error.message if not error.problems else f"{error.message}: {'; '.join(error.problems[:5])}"
    return problem(status, detail, kind=error.kind, problems=error.problems, instance=request.url.path,
                   headers=headers)


def _where(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part != "body") or "body"


def _invalid(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in error.errors()][:50]
    detail = "the request is not valid: " + "; ".join(problems[:3])
    record_refusal(request, 422, detail)
    return problem(422, detail, kind="validation", problems=problems, instance=request.url.path)


def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    detail = str(error.detail) if error.detail else TITLES.get(status, "refused")
    if status == 404 and detail == "Not Found":
        detail = f"no such resource: {request.url.path}"
    return problem(status, detail, instance=request.url.path, headers=getattr(error, "headers", None))


def _store_down(request: Request, error: Exception) -> Response:
    log.exception("store unavailable", exc_info=error)
    return problem(503, "the store is unavailable; try again shortly", kind="unavailable", instance=request.url.path,
                   headers={"Retry-After": "5"})


def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unexpected error", exc_info=error)
    return problem(500, "an unexpected error occurred; it has been logged", instance=request.url.path)


def _document_problems(app: FastAPI) -> None:
    """Put the ``Problem`` schema, which ``refusals`` refers to, in the OpenAPI document's components."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = TypeAdapter(Problem).json_schema()
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    _document_problems(app)
    app.add_exception_handler(NimrsError, _nimrs_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type in STORE_ERRORS:
        app.add_exception_handler(error_type, _store_down)
    app.add_exception_handler(Exception, _unexpected)
