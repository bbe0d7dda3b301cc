"""Sign-in, tokens, and the security administrator's management of its facility's users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from adapters.http.context import Admin, Ctx, JsonResponse, Who
from domain.deadlines import parse_moment
from domain.errors import PermissionDenied
from workflows.permissions import require_facility

router = APIRouter(tags=["sign-in and users"])


class SignIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)


class NewUser(BaseModel):
    user_id: str = Field(max_length=64, description="1-64 letters, digits or . _ @ -")
    level: Literal[1, 2, 3] = Field(description="1 submits, 2 creates and edits, 3 reads")
    password: str = Field(max_length=256, description="At least 12 characters")
    security_admin: bool = False


class NewPassword(BaseModel):
    password: str = Field(max_length=256)


@router.post("/auth/token", summary="Sign in: a bearer token for a user name and password")
def sign_in(body: SignIn, ctx: Ctx) -> Response:
    issued = ctx.accounts.sign_in(body.username, body.password)
    seconds = int((issued.expires_at - ctx.clock()).total_seconds())
    return JsonResponse({"access_token": issued.token, "token_type": "Bearer", "expires_in": seconds,
                         "expires_at": issued.expires_at.isoformat(), "user": issued.account.as_dict()},
                        headers={"Cache-Control": "no-store"})


@router.post("/auth/sign-out", status_code=204, summary="End the session: the token stops working at once")
def sign_out(request: Request, who: Who, ctx: Ctx) -> Response:
    ctx.forget(request.state.token)
    return Response(status_code=204)


@router.get("/me", summary="Who the token stands for")
def me(who: Who, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.account(who.user_id).as_dict())


@router.get("/users", summary="The users of your facility (security administrators)")
def list_users(who: Admin, ctx: Ctx) -> Response:
    return JsonResponse([account.as_dict() for account in ctx.accounts.listed_for(who)])


@router.post("/users", status_code=201, summary="Add a user to your facility (security administrators)")
def add_user(body: NewUser, who: Admin, ctx: Ctx) -> Response:
    account = ctx.accounts.add(body.user_id, who.actor.facility, body.level, password=body.password,
                               security_admin=body.security_admin, by=who)
    return JsonResponse(account.as_dict(), status_code=201, headers={"Location": f"/users/{account.user_id}"})


@router.post("/users/{user_id}/unlock", summary="Unlock after failed sign-ins or six months' inactivity")
def unlock(user_id: str, who: Admin, ctx: Ctx) -> Response:
    return JsonResponse(ctx.accounts.unlock(user_id, by=who).as_dict())


@router.post("/users/{user_id}/re-establish", summary="Re-establish an account with a new password")
def reestablish(user_id: str, body: NewPassword, who: Admin, ctx: Ctx) -> Response:
    account = ctx.accounts.reestablish(user_id, body.password, by=who)
    ctx.forget_all()  # its tokens were revoked: drop any this process still trusts
    return JsonResponse(account.as_dict())


@router.get("/security-log", summary="Sign-ins, account changes and refused commands (security administrators)")
def security_log(who: Who, ctx: Ctx,
                 outcome: Annotated[Literal["done", "refused"] | None, Query()] = None,
                 since: Annotated[str | None, Query(description="ISO 8601 date or time")] = None,
                 facility: Annotated[str | None, Query(description="State reviewers: any facility")] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Response:
    if not who.security_admin and not who.actor.state_reviewer:
        raise PermissionDenied(f"only a security administrator or a state reviewer may read the security log; "
                               f"{who.user_id!r} is neither")
    chosen = facility or who.actor.facility
    require_facility(who.actor, chosen, f"facility {chosen!r}", reading=True)
    moment: datetime | None = parse_moment(since, "since") if since else None
    return JsonResponse(ctx.security_log.entries(facility=chosen, since=moment, outcome=outcome, limit=limit))
