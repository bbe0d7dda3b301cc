"""What every request handler shares: the stores, the clock, and who is asking."""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.responses import Response

from adapters.bootstrap import Runtime
from adapters.integrations.feed import Feed
from adapters.persistence.security_log import SecurityLog
from domain.clock import Clock
from domain.errors import PermissionDenied, Unauthenticated
from projections.projector import Projector
from projections.reads import ReadModels
from workflows.accounts import AccountService, Principal
from workflows.service import IncidentService
from workflows.webhooks import WebhookService

TOKEN_CACHE_SECONDS = 5  # a token is looked up at most every 5 s; sign-out is immediate in this process


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=str)
        except TypeError:  # a mapping with non-string keys (rare): the slower option handles it
            return orjson.dumps(content, default=str, option=orjson.OPT_NON_STR_KEYS)


@dataclass
class Context:
    """The parts the handlers use, taken from the server's ``Runtime`` (``adapters.bootstrap``) once, at start-up."""

    runtime: Runtime
    store_kind: str  # "sqlite" or "postgres"
    service: IncidentService
    accounts: AccountService
    security_log: SecurityLog
    projector: Projector
    reads: ReadModels
    feed: Feed
    webhooks: WebhookService
    clock: Clock
    # SQLite allows one writer at a time and makes the others sleep and retry; taking turns in the
    # process measured 10-15% more commands/s than leaving it to SQLite's busy back-off.
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    _tokens: dict[str, tuple[Principal, datetime, datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(self, token: str) -> Principal:
        now = self.clock()
        cached = self._tokens.get(token)
        if cached is not None and now < cached[2] and now < cached[1]:
            return cached[0]
        principal, expires_at = self.accounts.authenticate(token)
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            self._tokens[token] = (principal, expires_at, now + timedelta(seconds=TOKEN_CACHE_SECONDS))
        return principal

    def writing(self) -> Any:
        return self.write_lock if self.store_kind == "sqlite" else contextlib.nullcontext()

    def forget_all(self) -> None:
        with self._lock:
            self._tokens.clear()

    def forget(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)
        self.accounts.sign_out(token)


bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def context(request: Request) -> Context:
    return request.app.state.context  # type: ignore[no-any-return]


def principal(request: Request,
              credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("sign in first: send Authorization: Bearer TOKEN (POST /auth/token gives one)")
    who = context(request).authenticate(credentials.credentials)
    request.state.principal = who
    request.state.token = credentials.credentials
    return who


def security_admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.security_admin:
        raise PermissionDenied(f"only a security administrator may do this; {who.user_id!r} is not one")
    return who


Ctx = Annotated[Context, Depends(context)]
Who = Annotated[Principal, Depends(principal)]
Admin = Annotated[Principal, Depends(security_admin)]
