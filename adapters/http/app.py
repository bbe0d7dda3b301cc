"""``nimrs serve``: the HTTP API (FastAPI on uvicorn) over the same stores as the command line.

``create_app`` takes the settings and a clock (``adapters.bootstrap`` builds the rest), so tests
run the real server on a real port with an injected clock. By default the server also runs a projector thread that
keeps the read models current; with several API processes (or a separate ``nimrs projections
run``) that is harmless: rival projectors are safe (docs/adr/0006-read-models.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from adapters.bootstrap import Runtime
from adapters.http import accounts, incidents, integrations, problems, queries
from adapters.http.context import Context, JsonResponse
from adapters.settings import Settings, load_settings
from domain.clock import Clock, utc_now
from projections.projector import Projector

log = logging.getLogger("nimrs.http")
DESCRIPTION = """Incident reporting and workflow for New York mental health providers.

Sign in with `POST /auth/token` and send the token as `Authorization: Bearer TOKEN`.
Every refusal is an RFC 9457 problem document. Responses about one incident carry its version
as an `ETag`; send it back in `If-Match` to refuse a stale write (409). See docs/api.md."""


def build_context(settings: Settings, clock: Clock) -> Context:
    # A server: recently used incidents cached in memory (each load still reads any newer events first,
    # so other processes' writes are never missed) and pooled connections (adapters.bootstrap).
    runtime = Runtime(settings, clock, server=True)
    return Context(runtime=runtime, store_kind=settings.store_kind, service=runtime.service, accounts=runtime.accounts,
                   security_log=runtime.security_log, projector=runtime.projector, reads=runtime.reads,
                   feed=runtime.feed, webhooks=runtime.webhooks, clock=clock)


def _follow(projector: Projector, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            projector.follow(stop)
        except Exception:  # keep serving reads; the views catch up when the store is back
            log.exception("the projector stopped; retrying in 2 s")
            stop.wait(2)


def create_app(settings: Settings | None = None, clock: Clock = utc_now, run_projector: bool = True) -> FastAPI:
    chosen = settings if settings is not None else load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = build_context(chosen, clock)
        app.state.context = context
        stop = threading.Event()
        follower = threading.Thread(target=_follow, args=(context.projector, stop), name="projector", daemon=True)
        if run_projector:
            follower.start()
        try:
            yield
        finally:
            stop.set()
            if run_projector:
                follower.join(timeout=10)
            context.runtime.close()

    app = FastAPI(title="nimrs", version="1", description=DESCRIPTION, lifespan=lifespan,
                  default_response_class=JsonResponse)
    problems.install(app)
    for module in (accounts, incidents, queries, integrations):
        app.include_router(module.router)

    @app.get("/health", tags=["operations"], summary="Liveness and the views' lag behind the event log")
    def health() -> JsonResponse:
        context: Context = app.state.context
        return JsonResponse({"status": "ok", "store": chosen.store_kind,
                             "views_lag_events": context.projector.lag_events()})

    return app


def serve(host: str, port: int, workers: int = 1, run_projector: bool = True, settings: Settings | None = None) -> None:
    import uvicorn

    if workers == 1:
        uvicorn.run(create_app(settings, run_projector=run_projector), host=host, port=port, log_level="info",
                    access_log=False)
    else:
        uvicorn.run("adapters.http.app:app_from_environment", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False)


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory`` with several worker processes."""
    return create_app()
