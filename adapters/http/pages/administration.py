"""The security administrator's pages: the facility's users, webhook subscriptions, and the security log.

Each form calls the same use case as the API (``adapters.http.accounts``, ``users``, ``integrations``)
with the signed-in administrator as ``by``: the rules (who manages whom, not one's own account, the
webhook URL checks) are the use cases', and a refusal shows their words with the API's status.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Path, Query, Request
from pydantic import Field
from starlette.responses import RedirectResponse, Response

from adapters.http.accounts import security_log_facility
from adapters.http.context import context
from adapters.http.integrations import MAX_POSITION
from adapters.http.pages.rendering import query, render
from adapters.http.pages.route import PageRoute
from adapters.http.pages.session import PageAdmin, PageUser, check_csrf
from adapters.http.problems import record_refusal, status_of
from adapters.integrations.event_schemas import TOPIC_OF
from domain.deadlines import parse_moment
from domain.errors import NimrsError, ValidationFailed
from workflows.accounts import NAME, Principal
from workflows.email_addresses import MAX_ADDRESS

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Csrf = Annotated[str, Form(max_length=64)]
Email = Annotated[str, Form(max_length=MAX_ADDRESS)]  # blank: none
UserName = Annotated[str, Path(max_length=64)]
SubscriptionId = Annotated[str, Path(max_length=64)]
USERS, WEBHOOKS = "/web/admin/users", "/web/admin/webhooks"
# What a redirect's ?done= says: fixed words, so a crafted link cannot put its own text on the page.
USER_DONE = {"added": "{user} was added; give the user the one-time password by a trusted channel: it must be changed at the first sign-in.",
             "unlocked": "{user} was unlocked.", "disabled": "{user} was disabled; its sessions ended.",
             "enabled": "{user} was enabled.", "changed": "{user} was changed; its sessions ended.",
             "email_changed": "The email address of {user} was changed.",
             "re_established": "{user} was re-established: the user must change the new password at sign-in."}
WEBHOOK_DONE = {"unsubscribed": "The subscription was ended.", "requeued": "Dead letters put back in the queue: {count}."}
DELIVERY_STATUSES = ("pending", "delivered", "dead")


def _done(request: Request, said: dict[str, str]) -> str | None:
    done, user, count = (request.query_params.get(k, "") for k in ("done", "user", "count"))
    if done not in said or (user and not NAME.match(user)) or (count and not count.isdigit()):
        return None
    return said[done].format(user=user, count=count)


def _refused(request: Request, error: NimrsError) -> int:
    status = status_of(error)
    record_refusal(request, status, error.message)
    return status


# -- users ------------------------------------------------------------------------------------------


def _users_page(request: Request, who: Principal, status: int = 200, error: NimrsError | None = None) -> Response:
    accounts = context(request).accounts.listed_for(who)
    return render(request, "admin_users.html", status=status, title="Users", accounts=accounts,
                  notice=_done(request, USER_DONE), message=error.message if error else None,
                  problems=error.problems if error else [])


@router.get(USERS)
def users(request: Request, who: PageAdmin) -> Response:
    return _users_page(request, who)


@router.post(USERS)
def add_user(request: Request, who: PageAdmin, user_id: Annotated[str, Form(max_length=64)],
             level: Annotated[int, Form()], password: Annotated[str, Form(max_length=256)],
             security_admin: Annotated[bool, Form()] = False, email: Email = "", csrf_token: Csrf = "") -> Response:
    check_csrf(request, csrf_token)
    try:
        context(request).accounts.add(user_id, who.actor.facility, level, password=password,
                                      security_admin=security_admin, email=email or None, by=who)
    except NimrsError as error:
        return _users_page(request, who, _refused(request, error), error)
    return RedirectResponse(f"{USERS}?{query(done='added', user=user_id)}", status_code=303)


@router.post(USERS + "/{user_id}/{action}")
def manage_user(request: Request, who: PageAdmin, user_id: UserName,
                action: Literal["unlock", "re-establish", "reset-password", "disable", "enable", "change", "email"],
                csrf_token: Csrf = "", password: Annotated[str, Form(max_length=256)] = "",
                level: Annotated[int | None, Form()] = None,
                security_admin: Annotated[bool, Form()] = False, email: Email = "") -> Response:
    check_csrf(request, csrf_token)
    accounts = context(request).accounts
    try:
        if action == "reset-password":
            account, one_time = accounts.reset_password(user_id, by=who)
            response = render(request, "admin_password.html", title="Password reset", account=account,
                              one_time_password=one_time)
            response.headers["Cache-Control"] = "no-store"  # the one-time password is shown this once
            return response
        if action == "unlock":
            accounts.unlock(user_id, by=who)
        elif action == "re-establish":
            accounts.reestablish(user_id, password, by=who)
        elif action == "disable":
            accounts.disable(user_id, by=who)
        elif action == "enable":
            accounts.enable(user_id, by=who)
        elif action == "email":
            accounts.change(user_id, email=email or None, by=who)
        else:
            accounts.change(user_id, level=level, security_admin=security_admin, by=who)
    except NimrsError as error:
        return _users_page(request, who, _refused(request, error), error)
    done = {"unlock": "unlocked", "re-establish": "re_established", "disable": "disabled", "enable": "enabled",
            "change": "changed", "email": "email_changed"}[action]
    return RedirectResponse(f"{USERS}?{query(done=done, user=user_id)}", status_code=303)


# -- webhooks ---------------------------------------------------------------------------------------


def _webhooks_page(request: Request, who: Principal, status: int = 200, error: NimrsError | None = None,
                   url: str = "", types: list[str] | None = None) -> Response:
    subscriptions = context(request).webhooks.listed(who)
    return render(request, "admin_webhooks.html", status=status, title="Webhooks", subscriptions=subscriptions,
                  known_types=sorted(TOPIC_OF), chosen_types=types or [], url=url,
                  notice=_done(request, WEBHOOK_DONE), message=error.message if error else None,
                  problems=error.problems if error else [])


@router.get(WEBHOOKS)
def webhooks(request: Request, who: PageAdmin) -> Response:
    return _webhooks_page(request, who)


@router.post(WEBHOOKS)
def subscribe(request: Request, who: PageAdmin, url: Annotated[str, Form(max_length=2000)],
              types: Annotated[list[str] | None, Form(max_length=len(TOPIC_OF))] = None,
              csrf_token: Csrf = "") -> Response:
    check_csrf(request, csrf_token)
    ctx = context(request)
    try:
        # As the API without ``after``: the events from now on.
        subscription = ctx.webhooks.subscribe(who, url, ",".join(types or []), ctx.feed.last_position())
    except NimrsError as error:
        return _webhooks_page(request, who, _refused(request, error), error, url=url, types=types)
    response = render(request, "admin_webhook_new.html", status=201, title="Subscribed", subscription=subscription)
    response.headers["Cache-Control"] = "no-store"  # the signing secret is shown this once
    return response


@router.get(WEBHOOKS + "/{subscription_id}")
def deliveries(request: Request, who: PageAdmin, subscription_id: SubscriptionId,
               status: Annotated[Literal["pending", "delivered", "dead", ""], Query()] = "") -> Response:
    hooks = context(request).webhooks
    subscription = hooks.get(who, subscription_id)
    return render(request, "admin_deliveries.html", title="Webhook deliveries", subscription=subscription,
                  deliveries=hooks.deliveries(who, subscription_id, status or None),
                  dead=hooks.deliveries(who, subscription_id, "dead"), delivery_status=status,
                  statuses=DELIVERY_STATUSES, notice=_done(request, WEBHOOK_DONE))


@router.post(WEBHOOKS + "/{subscription_id}/redeliver")
def redeliver(request: Request, who: PageAdmin, subscription_id: SubscriptionId,
              positions: Annotated[list[Annotated[int, Field(ge=0, le=MAX_POSITION)]] | None,
                                   Form(max_length=10_000)] = None,
              csrf_token: Csrf = "") -> Response:
    check_csrf(request, csrf_token)
    count = context(request).webhooks.redeliver(who, subscription_id, positions)
    target = f"{WEBHOOKS}/{subscription_id}?{query(done='requeued', count=count)}"
    return RedirectResponse(target, status_code=303)


@router.post(WEBHOOKS + "/{subscription_id}/unsubscribe")
def unsubscribe(request: Request, who: PageAdmin, subscription_id: SubscriptionId, csrf_token: Csrf = "") -> Response:
    check_csrf(request, csrf_token)
    context(request).webhooks.unsubscribe(who, subscription_id)
    return RedirectResponse(f"{WEBHOOKS}?done=unsubscribed", status_code=303)


# -- security log -----------------------------------------------------------------------------------


def _start_of(day: str, now: datetime) -> datetime:
    """The start of a New York day typed in the form (to ``parse_moment`` a bare date is its end)."""
    try:
        date.fromisoformat(day)
    except ValueError:
        raise ValidationFailed(f"since must be a date (YYYY-MM-DD), got {day!r}") from None
    return parse_moment(f"{day}T00:00", "since", now=now)


@router.get("/web/admin/security-log")
def security_log(request: Request, who: PageUser,
                 outcome: Annotated[Literal["done", "refused", ""], Query()] = "",
                 since: Annotated[str, Query(max_length=10, description="a New York date")] = "",
                 facility: Annotated[str, Query(max_length=64)] = "") -> Response:
    ctx = context(request)
    chosen = security_log_facility(who, facility or None)
    moment = _start_of(since, ctx.clock()) if since else None
    entries = ctx.security_log.entries(facility=chosen, since=moment, outcome=outcome or None)
    return render(request, "admin_security_log.html", title="Security log", entries=entries, facility=chosen,
                  outcome=outcome, since=since, may_choose_facility=who.actor.state_reviewer)
