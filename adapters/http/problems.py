"""Every refusal as an RFC 9457 problem document (``application/problem+json``), never a stack trace.

Refusals of an identified user, and every refused command, go to the security log with who
tried what.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from adapters.persistence.errors import STORE_ERRORS
from domain.errors import NimrsError

STATUS = {"validation": 422, "not_found": 404, "forbidden": 403, "unauthenticated": 401, "conflict": 409,
          "unreadable": 503}
TITLES = {401: "Not signed in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
          409: "Conflict", 415: "Unsupported media type", 422: "Invalid request", 503: "Service unavailable",
          500: "Internal error"}
log = logging.getLogger("nimrs.http")


def problem(status: int, detail: str, *, kind: str | None = None, problems: list[str] | None = None,
            instance: str | None = None, headers: dict[str, str] | None = None) -> Response:
    document: dict[str, Any] = {
        "type": f"/problems/{kind or status}",
        "title": TITLES.get(status, "Refused"),
        "status": status,
        "detail": detail,
    }
    if instance:
        document["instance"] = instance
    if problems:
        document["problems"] = problems
    return Response(orjson.dumps(document), status_code=status, media_type="application/problem+json",
                    headers=headers)


def _refused(request: Request, status: int, detail: str) -> None:
    """Record the refusal for the audit trail: every refused command, and any refusal of a known user."""
    principal = getattr(request.state, "principal", None)
    if request.method in ("GET", "HEAD") and principal is None:
        return
    context = request.app.state.context
    route = request.scope.get("route")
    action = f"{request.method} {getattr(route, 'path', request.url.path)}"
    try:
        context.security_log.refused(context.clock(), principal.actor if principal else None, action,
                                     request.url.path[:200], status, detail, user_id="anonymous")
    except STORE_ERRORS:  # the refusal stands even if the log is unavailable; say so in the server log
        log.exception("could not record a refusal in the security log")


def _nimrs_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, NimrsError)
    status = STATUS.get(error.kind, 422)
    _refused(request, status, str(error))
    headers = {"WWW-Authenticate": 'Bearer realm="nimrs"'} if status == 401 else None
    detail = error.message if not error.problems else f"{error.message}: {'; '.join(error.problems[:5])}"
    return problem(status, detail, kind=error.kind, problems=error.problems, instance=request.url.path,
                   headers=headers)


def _where(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location if part != "body") or "body"


def _invalid(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [f"{_where(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in error.errors()][:50]
    detail = "the request is not valid: " + "; ".join(problems[:3])
    _refused(request, 422, detail)
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


def install(app: FastAPI) -> None:
    app.add_exception_handler(NimrsError, _nimrs_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for error_type in STORE_ERRORS:
        app.add_exception_handler(error_type, _store_down)
    app.add_exception_handler(Exception, _unexpected)
