"""Sign-in, sign-out and the password change for the pages, on the API's accounts (``workflows.accounts``)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from adapters.http.context import context
from adapters.http.limits import client_address
from adapters.http.pages.rendering import render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import (
    CSRF_REFUSED,
    SIGN_IN_COOKIE,
    PageHolder,
    check_csrf,
    end_session,
    give_sign_in_token,
    new_sign_in_token,
    session_holder,
    start_session,
)
from adapters.http.problems import record_refusal
from domain.errors import PermissionDenied, TooManyRequests, Unauthenticated, ValidationFailed

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Text = Annotated[str, Form(max_length=256)]


def _safe_next(target: str | None) -> str:
    """Only a path on this server (never ``//elsewhere`` or a full URL): no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _sign_in_page(request: Request, status: int = 200, **values: str | None) -> Response:
    token = new_sign_in_token()
    values.setdefault("next", _safe_next(request.query_params.get("next")))
    response = render(request, "sign_in.html", status=status, title="Sign in", sign_in_token=token,
                      username=values.pop("username", "") or "", who=None, **values)
    give_sign_in_token(request, response, token)
    return response


@router.get("/web/sign-in")
def sign_in_page(request: Request) -> Response:
    if session_holder(request) is not None:
        return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    return _sign_in_page(request)


@router.post("/web/sign-in")
def sign_in(request: Request, username: Annotated[str, Form(max_length=64)], password: Text,
            csrf_token: Annotated[str, Form(max_length=64)] = "", next: Annotated[str, Form(max_length=2000)] = "/"
            ) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        record_refusal(request, 403, CSRF_REFUSED)
        return _sign_in_page(request, 403, message=CSRF_REFUSED, next=_safe_next(next), username=username)
    try:
        issued = context(request).accounts.sign_in(username, password, client=client_address(request))
    except (Unauthenticated, PermissionDenied, TooManyRequests) as error:
        status = 429 if isinstance(error, TooManyRequests) else 403 if isinstance(error, PermissionDenied) else 401
        record_refusal(request, status, error.message)
        return _sign_in_page(request, status, message=error.message, next=_safe_next(next), username=username)
    target = "/web/password" if issued.account.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, issued)
    return response


@router.post("/web/sign-out")
def sign_out(request: Request, who: PageHolder, csrf_token: Annotated[str, Form(max_length=64)] = "") -> Response:
    check_csrf(request, csrf_token)
    context(request).forget(request.state.token)
    response = RedirectResponse("/web/sign-in", status_code=303)
    end_session(response)
    return response


@router.get("/web/password")
def password_page(request: Request, who: PageHolder) -> Response:
    notice = context(request).accounts.account(who.user_id).reset_notice()
    return render(request, "password.html", title="Change your password", notice=notice, message=None, problems=[])


@router.post("/web/password")
def change_password(request: Request, who: PageHolder, current_password: Text, new_password: Text,
                    csrf_token: Annotated[str, Form(max_length=64)] = "") -> Response:
    check_csrf(request, csrf_token)
    ctx = context(request)
    try:
        issued = ctx.accounts.change_password(who.user_id, current_password, new_password,
                                              client=client_address(request))
    except (ValidationFailed, PermissionDenied, TooManyRequests) as error:
        record_refusal(request, 422 if isinstance(error, ValidationFailed) else 403, error.message)
        return render(request, "password.html", status=422 if isinstance(error, ValidationFailed) else 403,
                      title="Change your password", notice=None, message=error.message, problems=error.problems)
    ctx.forget_user(who.user_id)
    response = RedirectResponse("/?changed=1", status_code=303)
    start_session(request, response, issued)
    return response
