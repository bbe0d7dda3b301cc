"""A security administrator's management of its facility's users: disable and enable, level, roles and
email address, sessions, password resets. Another facility's users are "not found"; an administrator does not
manage its own account this way (another administrator, or the operator with ``nimrs users``, does).
Every change is in the security log, and each that ends the user's sessions does so at once."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response
from typing_extensions import TypedDict

from adapters.http.context import Admin, Ctx, JsonResponse
from adapters.http.problems import refusals
from workflows.accounts import KEEP, AccountRecord
from workflows.email_addresses import MAX_ADDRESS

router = APIRouter(tags=["sign-in and users"])
MANAGED = refusals(401, 403, 404, 422, described={
    403: "Only a security administrator may do this, and not to its own account",
    404: "No such user in your facility"})


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")  # the state reviewer role, say, is the operator's (nimrs users change)

    level: Literal[1, 2, 3] | None = Field(default=None, description="1 submits, 2 creates and edits, 3 reads")
    security_admin: bool | None = Field(default=None, description="Manages the facility's users and webhooks")
    email: str | None = Field(default=None, max_length=MAX_ADDRESS,
                              description="Where the user's receipts of Email OMH and the Report of Death go; "
                                          "null removes it, leaving it out keeps it")


class SessionsRevoked(TypedDict):
    user_id: str
    sessions_revoked: int  # tokens that stopped working


class PasswordReset(TypedDict):
    """The one-time password is shown here once and never again: hand it to the user by a trusted channel."""

    user: AccountRecord
    one_time_password: str


@router.post("/users/{user_id}/disable", summary="Disable a user: no sign-in, every session ends at once",
             response_model=AccountRecord, responses=MANAGED)
def disable(user_id: str, who: Admin, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.disable(user_id, by=who).as_dict())


@router.post("/users/{user_id}/enable", summary="Enable a disabled user again", response_model=AccountRecord,
             responses=MANAGED)
def enable(user_id: str, who: Admin, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.enable(user_id, by=who).as_dict())


@router.patch("/users/{user_id}",
              summary="Change a user's level, security administrator role or email address; a new level or role ends "
                      "its sessions", response_model=AccountRecord, responses=MANAGED)
def change(user_id: str, body: UserChange, who: Admin, ctx: Ctx) -> Response:
    email = body.email if "email" in body.model_fields_set else KEEP
    return JsonResponse(ctx.accounts.change(user_id, level=body.level, security_admin=body.security_admin, email=email,
                                            by=who).as_dict())


@router.post("/users/{user_id}/revoke-sessions", summary="End every session of a user at once",
             response_model=SessionsRevoked, responses=MANAGED)
def revoke_sessions(user_id: str, who: Admin, ctx: Ctx) -> Response:
    revoked: SessionsRevoked = {"user_id": user_id, "sessions_revoked": ctx.accounts.revoke_sessions(user_id, by=who)}
    return JsonResponse(revoked)


@router.post("/users/{user_id}/reset-password",
             summary="A one-time password, shown once, that the user must change at the next sign-in",
             response_model=PasswordReset, responses={**MANAGED, **refusals(409, described={
                 409: "The user has not signed in for a year: re-establish the account instead"})})
def reset_password(user_id: str, who: Admin, ctx: Ctx) -> Response:
    account, password = ctx.accounts.reset_password(user_id, by=who)
    reset: PasswordReset = {"user": account.as_dict(), "one_time_password": password}
    return JsonResponse(reset, headers={"Cache-Control": "no-store"})
