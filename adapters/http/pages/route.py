"""How a page answers a refusal: an HTML page with the same status and words the API would give, never a trace.

Pages use ``PageRoute``; the JSON API keeps its RFC 9457 problem documents (``adapters.http.problems``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.http.pages.rendering import render
from adapters.http.pages.session import PasswordChangeNeeded, SignInNeeded
from adapters.http.problems import TITLES, record_refusal, status_of
from adapters.persistence.errors import STORE_ERRORS
from domain.errors import IncidentNotFound, NimrsError

log = logging.getLogger("nimrs.http")
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def refusal_page(request: Request, status: int, message: str, problems: list[str] | None = None) -> Response:
    return render(request, "refused.html", status=status, title=TITLES.get(status, "Refused"), message=message,
                  problems=problems or [])


class PageRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/web/sign-in?next={quote(target, safe='')}", status_code=303)
            except PasswordChangeNeeded:
                return RedirectResponse("/web/password", status_code=303)
            except NimrsError as error:
                status = status_of(error)
                if isinstance(error, IncidentNotFound) and "reference" in request.path_params:
                    error = IncidentNotFound(repr(request.path_params["reference"]))  # same words, absent or elsewhere
                record_refusal(request, status, error.message)
                return refusal_page(request, status, error.message, error.problems)
            except RequestValidationError as error:
                problems = [f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'form'}: {e.get('msg', 'invalid')}"
                            for e in error.errors()][:20]
                record_refusal(request, 422, "the form is not valid")
                return refusal_page(request, 422, "the form is not valid", problems)
            except STORE_ERRORS:
                log.exception("store unavailable")
                return refusal_page(request, 503, "the store is unavailable; try again shortly")
            except Exception:  # a page never shows a trace; the server log has it
                log.exception("unexpected error in a page")
                return refusal_page(request, 500, "an unexpected error occurred; it has been logged")

        return page
