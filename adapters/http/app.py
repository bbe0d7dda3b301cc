"""``nimrs serve``: the HTTP API (FastAPI on uvicorn) over the same stores as the command line.

``create_app`` takes the settings and a clock (``adapters.bootstrap`` builds the rest), so tests
run the real server on a real port with an injected clock. By default the server also runs a projector thread that
keeps the read models current; with several API processes (or a separate ``nimrs projections
run``) that is harmless: rival projectors are safe (docs/adr/0006-read-models.md). With several processes on
PostgreSQL, one of them projects at a time (``adapters.persistence.turns``): the others would repeat its work.
It also runs a sealer thread that keeps the event log's hash chain within a second of the log
(docs/adr/0010-tamper-evidence.md); rival sealers are safe too. And one reader of the log feeds every open event
stream (``adapters.integrations.live``).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine
from typing_extensions import TypedDict

from adapters.bootstrap import Runtime
from adapters.http import accounts, guards, incidents, integrations, ledger, obligations, problems, queries, readers, users
from adapters.http.context import Context, JsonResponse
from adapters.http.pages import (
    administration,
    auditing,
    board,
    home,
    incident,
    incident_list,
    ledger_forms,
    new_incident,
    overdue,
    signing_in,
    statistics,
)
from adapters.integrations.live import LiveLog
from adapters.persistence.event_chain import EventChain
from adapters.persistence.turns import LIVE_PROJECTOR_TURN, process_turn
from adapters.settings import Settings, load_settings
from domain.clock import Clock, utc_now
from projections.projector import Projector

log = logging.getLogger("nimrs.http")
# Open streams (a live board, the event stream) never finish by themselves: a stop waits this long for
# requests in flight, then ends the streams (clients reconnect and resume).
SHUTDOWN_SECONDS = 3
DESCRIPTION = """Incident reporting and workflow for New York mental health providers.

Sign in with `POST /auth/token` and send the token as `Authorization: Bearer TOKEN`.
Every refusal is an RFC 9457 problem document. Responses about one incident carry its version
as an `ETag`; send it back in `If-Match` to refuse a stale write (412 Precondition Failed), or in
`If-None-Match` when reading it again (304 Not Modified). See docs/api.md."""


class Health(TypedDict):
    status: str  # ok
    store: str  # sqlite or postgres
    views_lag_events: int  # events the read models have yet to project
    views_failed_events: dict[str, int]  # per view, events it could not apply and skipped (`nimrs projections status`)


def build_context(settings: Settings, clock: Clock) -> Context:
    # A server: recently used incidents cached in memory (each load still reads any newer events first,
    # so other processes' writes are never missed) and pooled connections (adapters.bootstrap).
    runtime = Runtime(settings, clock, server=True)
    context = Context(runtime=runtime, store_kind=settings.store_kind, service=runtime.service,
                      accounts=runtime.accounts, security_log=runtime.security_log, projector=runtime.projector,
                      reads=runtime.reads, feed=runtime.feed, webhooks=runtime.webhooks, clock=clock)
    context.live = LiveLog(runtime.feed, runtime.accounts, context.stopping)
    return context


def _end_streams_on_signal(stopping: threading.Event, live: LiveLog) -> None:
    """uvicorn waits for open responses before it stops, and a stream (a live board, the event stream) never
    ends by itself: when the server is asked to stop, tell the streams first, then let uvicorn go on."""
    if threading.current_thread() is not threading.main_thread():
        return  # a server in a thread (the tests) is stopped by its owner, not by signals
    for number in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(number)
        if not callable(previous):
            continue

        def handler(received: int, frame: Any, previous: Callable[[int, Any], Any] = previous) -> None:
            stopping.set()
            live.end_streams()
            previous(received, frame)

        signal.signal(number, handler)


def _follow(projector: Projector, turn_engine: Engine, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with process_turn(turn_engine, LIVE_PROJECTOR_TURN, stop) as mine:
                if mine:
                    projector.follow(stop)
        except Exception:  # keep serving reads; the views catch up when the store is back
            log.exception("the projector stopped; retrying in 2 s")
            stop.wait(2)


def _seal(chain: EventChain, stop: threading.Event, turn: Callable[[], Any]) -> None:
    """Keep the event log's hash chain within a second of the log (docs/adr/0010-tamper-evidence.md)."""
    while not stop.is_set():
        try:
            chain.follow(stop, turn=turn)
        except Exception:  # keep serving; the chain catches up when the store is back
            log.exception("the sealer stopped; retrying in 2 s")
            stop.wait(2)


def create_app(settings: Settings | None = None, clock: Clock = utc_now, run_projector: bool = True) -> FastAPI:
    chosen = settings if settings is not None else load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = build_context(chosen, clock)
        app.state.context = context
        _end_streams_on_signal(context.stopping, context.live)
        context.live.start(asyncio.get_running_loop())
        group_commit = getattr(context.runtime.store.recorder, "group_commit", None)
        if group_commit is not None:  # a local write wakes the stream's reader at once (others' writes: it polls)
            group_commit.after_round.append(context.live.wake)
        context.accounts.sessions_ended.append(context.live.check_tokens_soon)
        stop = threading.Event()
        follower = threading.Thread(target=_follow, args=(context.projector, context.runtime.views_engine, stop),
                                    name="projector", daemon=True)
        sealer = threading.Thread(target=_seal, args=(context.runtime.event_chain, stop, context.writing),
                                  name="sealer", daemon=True)
        sealer.start()
        if run_projector:
            follower.start()
        try:
            yield
        finally:
            context.stopping.set()
            context.live.stop()
            stop.set()
            sealer.join(timeout=10)
            if run_projector:
                follower.join(timeout=10)
            context.anonymous.flush()
            context.runtime.close()

    app = FastAPI(title="nimrs", version="1", description=DESCRIPTION, lifespan=lifespan,
                  default_response_class=JsonResponse, docs_url=None, redoc_url=None)
    problems.install(app)
    guards.install(app)  # headers, text checks and /docs from local files
    # A request is matched against the routes in this order: the busiest first.
    for module in (incidents, queries, ledger, accounts, users, obligations, integrations, readers):
        _add_routes(app, module.router)
    # The web pages (docs/web.md). Order matters: new_incident before incident, or /web/incidents/new would be
    # taken for an incident's reference (/web/incidents/{reference}).
    for page in (home, signing_in, incident_list, new_incident, incident, ledger_forms, board, administration, overdue,
                 auditing, statistics):
        _add_routes(app, page.router)

    @app.get("/health", tags=["operations"], summary="Liveness and the views' lag behind the event log",
             response_model=Health)
    def health() -> JsonResponse:
        context: Context = app.state.context
        shown: Health = {"status": "ok", "store": chosen.store_kind, "views_lag_events": context.projector.lag_events(),
                         "views_failed_events": context.projector.failed_events()}
        return JsonResponse(shown)

    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes straight onto the app. FastAPI 0.165 matches an included router's routes through a wrapper
    that costs about 15 us a route on every request (measured: 161 us to reach record-details that way, 20 us
    flat). The routers set nothing an inclusion would add (no prefix, dependencies or response class of their own:
    every endpoint returns its Response)."""
    app.router.routes.extend(router.routes)


def serve(host: str, port: int, workers: int = 1, run_projector: bool = True, settings: Settings | None = None) -> None:
    import uvicorn

    if workers == 1:
        uvicorn.run(create_app(settings, run_projector=run_projector), host=host, port=port, log_level="info",
                    access_log=False, timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    else:
        factory = app_from_environment if run_projector else app_without_projector
        uvicorn.run(f"{__name__}:{factory.__name__}", factory=True, host=host, port=port, workers=workers,
                    log_level="info", access_log=False, timeout_graceful_shutdown=SHUTDOWN_SECONDS)


def app_from_environment() -> FastAPI:
    """For ``uvicorn --factory`` with several worker processes."""
    return create_app()


def app_without_projector() -> FastAPI:
    """``nimrs serve --workers N --no-projector``: the read models are kept by ``nimrs projections run``."""
    return create_app(run_projector=False)
