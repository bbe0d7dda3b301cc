"""Sign-in, tokens, and the security administrator's management of its facility's users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response
from typing_extensions import TypedDict

from adapters.http.context import Admin, Ctx, JsonResponse, TokenHolder, Who
from adapters.http.limits import client_address
from adapters.http.problems import refusals
from adapters.persistence.anonymous_refusals import AnonymousRefusals
from adapters.persistence.security_log import SecurityLogEntry
from domain.deadlines import parse_moment
from domain.errors import PermissionDenied
from workflows.accounts import AccountRecord, IssuedToken, Principal
from workflows.email_addresses import MAX_ADDRESS
from workflows.permissions import require_facility

router = APIRouter(tags=["sign-in and users"])
NOT_ADMIN = {403: "Only a security administrator may do this"}
MANAGED = refusals(401, 403, 404, 422, described={**NOT_ADMIN, 404: "No such user in your facility"})


class SignedIn(TypedDict):
    """A bearer token (send it as ``Authorization: Bearer TOKEN``) and the account it stands for."""

    access_token: str
    token_type: str  # Bearer
    expires_in: int  # seconds
    expires_at: str
    user: AccountRecord
    notice: str | None  # after a password reset: who reset it, when, and that it must be changed first


class SignIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class NewUser(BaseModel):
    user_id: str = Field(max_length=64, description="1-64 letters, digits or . _ @ -")
    level: Literal[1, 2, 3] = Field(description="1 submits, 2 creates and edits, 3 reads")
    password: str = Field(max_length=256, description="At least 12 characters")
    security_admin: bool = False
    email: str | None = Field(default=None, max_length=MAX_ADDRESS,
                              description="Where the user's receipts of Email OMH and the Report of Death go")


class NewPassword(BaseModel):
    password: str = Field(max_length=256)


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256, description="At least 12 characters, not the current one")


def _signed_in(issued: IssuedToken, ctx: Ctx) -> Response:
    seconds = int((issued.expires_at - ctx.clock()).total_seconds())
    signed_in: SignedIn = {"access_token": issued.token, "token_type": "Bearer", "expires_in": seconds,
                           "expires_at": issued.expires_at.isoformat(), "user": issued.account.as_dict(),
                           "notice": issued.account.reset_notice()}
    return JsonResponse(signed_in, headers={"Cache-Control": "no-store"})


@router.post("/auth/token", summary="Sign in: a bearer token for a user name and password", response_model=SignedIn,
             responses=refusals(401, 403, 422, 429, described={
                 401: "Wrong user name or password, or an account locked by three wrong passwords in a row: the same "
                      "words for each, so nobody learns which names exist or which accounts are locked",
                 403: "The right password, but the account is disabled or locked by six months or a year without "
                      "signing in: `detail` says which and what a security administrator can do",
                 429: "Too many sign-in attempts for the user name or from your address: wait `Retry-After` seconds"}))
def sign_in(body: SignIn, request: Request, ctx: Ctx) -> Response:
    """With a one-time password (after a reset) the token serves only to change it (`POST /auth/password`):
    `user.must_change_password` is true and `notice` says who reset it and when."""
    return _signed_in(ctx.accounts.sign_in(body.username, body.password, client=client_address(request)), ctx)


@router.post("/auth/password", summary="Change your own password: every session ends, a new token is returned",
             response_model=SignedIn, responses=refusals(401, 403, 422, 429, described={
                 403: "The current password is not right (three wrong in a row lock the account, as at sign-in)"}))
def change_password(body: PasswordChange, request: Request, who: TokenHolder, ctx: Ctx) -> Response:
    return _signed_in(ctx.accounts.change_password(who.user_id, body.current_password, body.new_password,
                                                   client=client_address(request)), ctx)


@router.post("/auth/sign-out", status_code=204, summary="End the session: the token stops working at once",
             responses=refusals(401))
def sign_out(request: Request, who: TokenHolder, ctx: Ctx) -> Response:
    ctx.forget(request.state.token)
    return Response(status_code=204)


@router.get("/me", summary="Who the token stands for", response_model=AccountRecord, responses=refusals(401))
def me(who: Who, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.account(who.user_id).as_dict())


@router.get("/users", summary="The users of your facility (security administrators)",
            response_model=list[AccountRecord], responses=refusals(401, 403, described=NOT_ADMIN))
def list_users(who: Admin, ctx: Ctx) -> Response:
    return JsonResponse([account.as_dict() for account in ctx.accounts.listed_for(who)])


@router.post("/users", status_code=201, summary="Add a user to your facility (security administrators)",
             response_model=AccountRecord,
             responses=refusals(401, 403, 409, 422, described={
                 **NOT_ADMIN, 409: "The user name is taken (user names are one name space for every facility)"}))
def add_user(body: NewUser, who: Admin, ctx: Ctx) -> Response:
    account = ctx.accounts.add(body.user_id, who.actor.facility, body.level, password=body.password,
                               security_admin=body.security_admin, email=body.email, by=who)
    return JsonResponse(account.as_dict(), status_code=201, headers={"Location": f"/users/{account.user_id}"})


@router.post("/users/{user_id}/unlock", summary="Unlock after failed sign-ins or six months' inactivity",
             response_model=AccountRecord,
             responses={**MANAGED, **refusals(409, described={
                 409: "The user has not signed in for a year: re-establish the account instead"})})
def unlock(user_id: str, who: Admin, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.unlock(user_id, by=who).as_dict())


@router.post("/users/{user_id}/re-establish",
             summary="Re-establish an account locked by a year without signing in, with a password the user must change",
             response_model=AccountRecord, responses={**MANAGED, **refusals(409, described={
                 409: "The account is not locked by a year without signing in: unlock it, or reset its password"})})
def reestablish(user_id: str, body: NewPassword, who: Admin, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.reestablish(user_id, body.password, by=who).as_dict())


@router.get("/security-log", summary="Sign-ins, account changes and refused commands (security administrators)",
            response_model=list[SecurityLogEntry],
            responses=refusals(401, 403, 404, 422, described={
                403: "Only a security administrator or a state reviewer may read the security log",
                404: "Another facility's log (state reviewers may read any)"}))
def security_log(who: Who, ctx: Ctx,
                 outcome: Annotated[Literal["done", "refused"] | None, Query()] = None,
                 since: Annotated[str | None, Query(description="ISO 8601 date or time")] = None,
                 facility: Annotated[str | None, Query(description="State reviewers: any facility")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    chosen = security_log_facility(who, facility)
    moment: datetime | None = parse_moment(since, "since", now=ctx.clock()) if since else None
    return JsonResponse(ctx.security_log.entries(facility=chosen, since=moment, outcome=outcome, limit=limit))


def security_log_facility(who: Principal, facility: str | None) -> str:
    """Whose security log ``who`` reads (the API's and the pages' rule): a security administrator its own
    facility's, a state reviewer any facility's (its own by default)."""
    if not who.security_admin and not who.actor.state_reviewer:
        raise PermissionDenied(f"only a security administrator or a state reviewer may read the security log; "
                               f"{who.user_id!r} is neither")
    chosen = facility or who.actor.facility
    require_facility(who.actor, chosen, f"facility {chosen!r}", reading=True)
    return chosen


@router.get("/security-log/anonymous",
            summary="Refused requests without a valid token, counted per client address and minute",
            response_model=list[AnonymousRefusals],
            responses=refusals(401, 403, 422, described={
                403: "Only a security administrator or a state reviewer may read the security log"}))
def anonymous_refusals(who: Who, ctx: Ctx,
                       since: Annotated[str | None, Query(description="ISO 8601 date or time")] = None,
                       limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    """Callers without a valid token name no user or facility, so every security administrator sees these
    counts (no path, body or user name is kept: only the address, the minute and how many)."""
    if not who.security_admin and not who.actor.state_reviewer:
        raise PermissionDenied(f"only a security administrator or a state reviewer may read the security log; "
                               f"{who.user_id!r} is neither")
    moment: datetime | None = parse_moment(since, "since", now=ctx.clock()) if since else None
    ctx.anonymous.flush()  # this process's counts so far (others add theirs every few seconds)
    return JsonResponse(ctx.runtime.anonymous_refusals.entries(since=moment, limit=limit))
