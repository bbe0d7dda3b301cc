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
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from adapters.bootstrap import Runtime
from adapters.http.limits import AnonymousGate, client_address
from adapters.integrations.feed import Feed
from adapters.integrations.live import LiveLog
from adapters.persistence.group_commit import SQLITE_WRITE_TURN
from adapters.persistence.security_log import SecurityLog
from domain.clock import Clock
from domain.errors import PermissionDenied, Unauthenticated
from projections.projector import Projector
from projections.reads import ReadModels
from workflows.accounts import CHANGE_PASSWORD_FIRST, AccountService, Principal
from workflows.service import IncidentService
from workflows.webhooks import WebhookService

# A token is looked up at most every 5 s. Sign-out, and any change that ends a user's sessions (a lock,
# disabling, a change of level or roles, a password reset or change, revoking sessions), is immediate in
# the process that made it (``AccountService.sessions_ended``); other server processes stop trusting
# the token within TOKEN_CACHE_SECONDS, when their cached copy lapses and the lookup finds it deleted.
TOKEN_CACHE_SECONDS = 5


class JsonResponse(JSONResponse):
    """JSON by orjson. A route's ``response_model`` documents the body (``adapters.http.schemas``); FastAPI passes
    a response through as it is, without validating or serialising the body again."""

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
    # Set when the server is asked to stop: open streams end, so the stop does not wait on them.
    stopping: threading.Event = field(default_factory=threading.Event)
    _tokens: dict[str, tuple[Principal, datetime, datetime]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _endings: int = 0  # how many times sessions were ended in this process
    anonymous: AnonymousGate = field(init=False)
    live: LiveLog = field(init=False)  # the event streams' one reader of the log (set and started by the app)

    def __post_init__(self) -> None:
        self.anonymous = AnonymousGate(self.runtime.anonymous_refusals,
                                       self.runtime.settings.anonymous_limit_per_address, self.clock)
        self.accounts.sessions_ended.append(self.forget_user)

    def recently_authenticated(self, token: str) -> Principal | None:
        """The token's user if it was checked in the last few seconds: no database, so no thread needed."""
        now = self.clock()
        cached = self._tokens.get(token)
        return cached[0] if cached is not None and now < cached[2] and now < cached[1] else None

    def authenticate(self, token: str) -> Principal:
        if (recent := self.recently_authenticated(token)) is not None:
            return recent
        now = self.clock()
        endings = self._endings
        principal, expires_at = self.accounts.authenticate(token)
        with self._lock:
            if len(self._tokens) > 10_000:
                self._tokens.clear()
            if endings == self._endings:  # no session ended while it was looked up: safe to keep
                self._tokens[token] = (principal, expires_at, now + timedelta(seconds=TOKEN_CACHE_SECONDS))
        return principal

    def writing(self) -> Any:
        """The process's turn to write the events database, for writers other than the event store (the sealer,
        facility settings). SQLite allows one writer at a time and makes the others sleep and retry: taking turns
        in the process, with the event store's grouped saves, avoids that back-off. Never held while saving events."""
        return SQLITE_WRITE_TURN if self.store_kind == "sqlite" else contextlib.nullcontext()

    def forget_user(self, user_id: str) -> None:
        """Stop trusting the user's cached tokens: its sessions were ended (the tokens are deleted)."""
        with self._lock:
            self._endings += 1
            for token in [t for t, (who, _, _) in self._tokens.items() if who.user_id == user_id]:
                del self._tokens[token]

    def forget(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)
        self.accounts.sign_out(token)


bearer = HTTPBearer(auto_error=False, description="A token from POST /auth/token")


def context(request: Request) -> Context:
    return request.app.state.context  # type: ignore[no-any-return]


# Dependencies that do no I/O are coroutines: FastAPI runs a plain function dependency in a worker thread, and
# the hand-over costs more than the check itself (measured: a third of a command's time in the server).
async def _context(request: Request) -> Context:
    return context(request)


async def signed_in(request: Request,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """Whoever the token stands for, even one who must change a one-time password first. A token checked in the
    last few seconds is answered from memory; otherwise the database is asked, in a worker thread."""
    if credentials is not None and credentials.scheme.lower() == "bearer":
        who = context(request).recently_authenticated(credentials.credentials)
        if who is not None:
            request.state.principal = who
            request.state.token = credentials.credentials
            return who
    return await run_in_threadpool(_signed_in, request, credentials)


def _signed_in(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    ctx = context(request)
    try:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("sign in first: send Authorization: Bearer TOKEN (POST /auth/token gives one)")
        who = ctx.authenticate(credentials.credentials)
    except Unauthenticated:
        ctx.anonymous.check(client_address(request))  # past the limit: 429 instead
        raise
    request.state.principal = who
    request.state.token = credentials.credentials
    return who


async def principal(who: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """Whoever the token stands for; one signed in with a one-time password may only change it."""
    if who.must_change_password:
        raise PermissionDenied(CHANGE_PASSWORD_FIRST)
    return who


async def security_admin(who: Annotated[Principal, Depends(principal)]) -> Principal:
    if not who.security_admin:
        raise PermissionDenied(f"only a security administrator may do this; {who.user_id!r} is not one")
    return who


Ctx = Annotated[Context, Depends(_context)]
Who = Annotated[Principal, Depends(principal)]
TokenHolder = Annotated[Principal, Depends(signed_in)]  # for changing the password and signing out only
Admin = Annotated[Principal, Depends(security_admin)]
