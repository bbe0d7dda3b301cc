"""Signing in to the pages: a cookie holding the same bearer token the API uses, and CSRF tokens for forms.

The cookie is the API's token (``AccountService.sign_in``), so the pages keep the API's rules with
one code path: the same lockout, inactivity locks, expiry (the cookie lasts as long as the token)
and immediate sign-out. It is HttpOnly, SameSite=Strict, and Secure when served over TLS. Every
form carries a CSRF token derived from the session token (an HMAC), checked on every POST; the
sign-in form, before there is a session, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from adapters.http.context import context
from domain.errors import NimrsError, PermissionDenied
from workflows.accounts import IssuedToken, Principal

SESSION_COOKIE = "nimrs_session"
SIGN_IN_COOKIE = "nimrs_sign_in"  # the sign-in form's double-submit CSRF token
CSRF_FIELD = "csrf_token"
CSRF_REFUSED = "the form was not sent from this nimrs page or is out of date: reload the page and try again"


class SignInNeeded(Exception):
    """No session, or it ended: the page sends the browser to sign in, and back here after."""


class PasswordChangeNeeded(Exception):
    """Signed in with a one-time password: only the password page may be used."""


def csrf_token(session_token: str) -> str:
    return hmac.new(session_token.encode(), b"nimrs form", hashlib.sha256).hexdigest()


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def _cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


def start_session(request: Request, response: Response, issued: IssuedToken) -> None:
    seconds = max(int((issued.expires_at - context(request).clock()).total_seconds()), 1)
    _cookie(request, response, SESSION_COOKIE, issued.token, seconds)
    response.delete_cookie(SIGN_IN_COOKIE, path="/")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


def give_sign_in_token(request: Request, response: Response, token: str) -> None:
    _cookie(request, response, SIGN_IN_COOKIE, token, 3600)


def session_holder(request: Request) -> Principal | None:
    """Whoever the session cookie stands for (one who must change a one-time password too), or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        who = context(request).authenticate(token)
    except NimrsError:
        return None
    request.state.principal = who
    request.state.token = token
    request.state.csrf = csrf_token(token)
    return who


def signed_in_page(request: Request) -> Principal:
    """A page's user, who may change a one-time password and nothing else."""
    who = session_holder(request)
    if who is None:
        raise SignInNeeded()
    return who


async def page_user(who: Annotated[Principal, Depends(signed_in_page)]) -> Principal:  # no I/O: no thread
    if who.must_change_password:
        raise PasswordChangeNeeded()
    return who


async def page_admin(who: Annotated[Principal, Depends(page_user)]) -> Principal:
    if not who.security_admin:
        raise PermissionDenied(f"only a security administrator may do this; {who.user_id!r} is not one")
    return who


def check_csrf(request: Request, sent: str | None) -> None:
    expected = getattr(request.state, "csrf", None)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise PermissionDenied(CSRF_REFUSED)


PageUser = Annotated[Principal, Depends(page_user)]
PageHolder = Annotated[Principal, Depends(signed_in_page)]
PageAdmin = Annotated[Principal, Depends(page_admin)]
