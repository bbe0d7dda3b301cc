"""``nimrs bench http``: the HTTP API against plain baselines, same run, same store.

- read_ratio: requests/s of ``GET /incidents/{id}`` and of the overdue page (``GET /overdue``),
  each over a plain Starlette route that runs the same query and returns its rows as a
  ``JSONResponse`` (no sign-in, no checks); the lower of the two ratios. Both servers run at
  once, one uvicorn process each, and are measured in alternating blocks.
- commands_per_s: workflow steps (``PATCH .../record-details/narrative``) per second on ``--workers`` server
  processes (one by default; several need PostgreSQL), 16 clients at once, each on its own drafts (their saves
  grouped into rounds: adapters/persistence/group_commit.py).
- feed_ratio: events/s paging through ``GET /events`` over the library's own
  ``select_notifications`` + ``mapper.to_domain_event`` rate on the same log; feed_events_per_s.

The load comes from a small asyncio client on keep-alive connections (the same for both sides).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import UUID

import httpx
import orjson

from adapters.bootstrap import Runtime, open_service, views_engine
from adapters.integrations.feed import MAX_LIMIT
from adapters.settings import load_settings
from adapters.tooling.bench import bench_database
from adapters.tooling.synthetic import Generator, Plan, facility_name
from domain.actor import Actor
from domain.errors import ValidationFailed
from domain.vocabulary import Level

TARGETS = {"read_ratio": (">=", 0.5), "feed_ratio": (">=", 0.5), "feed_events_per_s": (">=", 20_000.0)}
# Issue 13: one SQLite worker, or PostgreSQL on two.
COMMANDS_TARGET = {"sqlite": 2000.0, "postgres": 1500.0}
PASSWORD = "bench passphrase long enough"
FACILITY = facility_name(1)
DRAFTS, WRITERS = 480, 16  # each writer cycles through its own 30 drafts: histories stay the usual length
END = datetime.now(timezone.utc) - timedelta(days=1)


# -- the baseline: plain Starlette, the same queries, no checks ----------------------------------------

def baseline_app() -> Any:
    """``uvicorn --factory adapters.tooling.bench_http:baseline_app``: the reads without the API around them."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from projections import overdue
    from workflows.screens import describe

    settings = load_settings()
    service = open_service(settings)
    engine = views_engine(settings)
    reader = Actor("bench.l1", FACILITY, Level.SUBMITTER)

    def incident(request: Request) -> JSONResponse:
        found = service.load(UUID(request.path_params["incident_id"]))
        return JSONResponse(describe(found, reader, service.clock()))

    def overdue_page(request: Request) -> JSONResponse:
        with engine.connect() as connection:
            rows = overdue.page(connection, facility=FACILITY, as_of=service.clock(), current=True, limit=50)
        return JSONResponse(rows)

    return Starlette(routes=[Route("/incidents/{incident_id}", incident), Route("/overdue", overdue_page)])


def nimrs_app() -> Any:
    from adapters.http.app import create_app

    return create_app(run_projector=False)


# -- servers and load ----------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(factory: str, url: str, module: str = __name__, workers: int = 1) -> Iterator[int]:
    """A uvicorn process (``workers`` of them) serving ``module:factory`` on ``url``'s store; its port."""
    with serving(factory, url, module, workers) as (port, _):
        yield port


@contextmanager
def serving(factory: str, url: str, module: str = __name__, workers: int = 1) -> Iterator[tuple[int, int]]:
    """As ``server``; its port and its process id."""
    port = free_port()
    env = {**os.environ, "NIMRS_DATABASE_URL": url}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", f"{module}:{factory}", "--factory",
                                "--port", str(port), "--log-level", "warning", "--no-access-log",
                                "--workers", str(workers)], env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the {factory} server did not start") from None
                time.sleep(0.1)
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=15)


def _request(method: str, path: str, token: str | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: keep-alive"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body or method in ("POST", "PATCH", "PUT"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def _hammer(port: int, requests_for: Callable[[int], list[bytes]], connections: int, seconds: float) -> float:
    """Requests per second over ``connections`` keep-alive connections for ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def one(number: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        requests, done = requests_for(number), 0
        while loop.time() < deadline:
            writer.write(requests[done % len(requests)])
            status, body = await _response(reader)
            if status >= 300:
                raise RuntimeError(f"benchmark request failed with {status}: {body[:300]!r}")
            done += 1
        writer.close()
        return done

    started = loop.time()
    counts = await asyncio.gather(*(one(n) for n in range(connections)))
    return sum(counts) / (loop.time() - started)


def _alternating(mine: Callable[[], float], theirs: Callable[[], float], rounds: int) -> tuple[float, float]:
    ours, baseline = [], []
    for _ in range(rounds):
        ours.append(mine())
        baseline.append(theirs())
    return statistics.median(ours), statistics.median(baseline)


# -- the figures -----------------------------------------------------------------------------------------

def _prepare(url: str, events: int) -> dict[str, Any]:
    settings = load_settings({"NIMRS_DATABASE_URL": url})
    service = open_service(settings, clock=lambda: END)
    made = Generator(Plan.for_events(events, END, facilities=5, save_every=500)).run(service)
    with Runtime(settings) as runtime:
        runtime.accounts.add("bench.l1", FACILITY, 1, password=PASSWORD)
        runtime.accounts.add("bench.reviewer", "OMH", 3, password=PASSWORD, state_reviewer=True)
        runtime.projector.catch_up()
    reader = Actor("bench.l1", FACILITY, Level.SUBMITTER)
    ids = [n.originator_id for n in service.store.recorder.select_notifications(0, 20_000)
           if n.originator_version == 1 and facility_of(n) == FACILITY][:200]
    drafts = [service.create_incident(reader, program="Clinic 1", setting="outpatient", code="si.fall",
                                      summary=f"bench draft {n}") for n in range(DRAFTS)]
    service.store.close()
    return {"events": made.events, "incidents": made.incidents, "ids": [str(i) for i in ids],
            "drafts": [str(d) for d in drafts]}


def facility_of(notification: Any) -> str:
    return str(orjson.loads(notification.state)["actor"]["facility"])


def bearer_token(port: int, user: str) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/auth/token", json={"username": user, "password": PASSWORD})
    response.raise_for_status()
    return str(response.json()["access_token"])


def _requests_for(path: str, ids: list[str], token: str | None) -> Callable[[int], list[bytes]]:
    return lambda n: [_request("GET", path.format(i), token) for i in ids[n::8] or ids]


def _reads(ours: int, baseline: int, token: str, ids: list[str], seconds: float, rounds: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    for name, path in (("incident", "/incidents/{}"), ("overdue", "/overdue")):
        signed_in = _requests_for(path, ids, token)
        plain = _requests_for(path, ids, None)
        mine, theirs = _alternating(lambda r=signed_in: asyncio.run(_hammer(ours, r, 8, seconds)),  # type: ignore[misc]
                                    lambda r=plain: asyncio.run(_hammer(baseline, r, 8, seconds)), rounds)  # type: ignore[misc]
        figures |= {f"{name}_rps": mine, f"{name}_baseline_rps": theirs, f"{name}_ratio": mine / theirs}
    figures["read_ratio"] = min(figures["incident_ratio"], figures["overdue_ratio"])
    return figures


def _commands(port: int, token: str, drafts: list[str], seconds: float) -> dict[str, float]:
    run = time.time_ns()  # each run starts from a value no draft holds yet

    def requests(n: int) -> list[bytes]:
        mine = drafts[n::WRITERS]
        return [_request("PATCH", f"/incidents/{draft}/record-details/narrative", token,
                         orjson.dumps({"narrative": f"{text} {run}"})) for text in ("one", "two") for draft in mine]

    return {"commands_per_s": asyncio.run(_hammer(port, requests, WRITERS, seconds))}


def _feed(url: str, port: int, token: str, rounds: int) -> dict[str, float]:
    service = open_service(load_settings({"NIMRS_DATABASE_URL": url}))
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"})

    def through_http() -> float:
        count, after, started = 0, 0, time.perf_counter()
        while True:
            page = orjson.loads(client.get("/events", params={"after": after, "limit": MAX_LIMIT}).content)
            count += len(page["events"])
            after = page["next"]
            if not page["has_more"]:
                return count / (time.perf_counter() - started)

    def library() -> float:
        count, position, started = 0, 0, time.perf_counter()
        while notifications := service.store.recorder.select_notifications(position, 1000, inclusive_of_start=False):
            for notification in notifications:
                service.store.mapper.to_domain_event(notification)
            count += len(notifications)
            position = notifications[-1].id
        return count / (time.perf_counter() - started)

    try:
        mine, theirs = _alternating(through_http, library, rounds)
    finally:
        client.close()
        service.store.close()
    return {"feed_events_per_s": mine, "feed_baseline_events_per_s": theirs, "feed_ratio": mine / theirs}


def run_http_bench(store: str, events: int, seconds: float, rounds: int, workers: int = 1) -> dict[str, Any]:
    if workers > 1 and store == "sqlite":
        raise ValidationFailed("--workers above 1 needs PostgreSQL (--store postgres)")
    with ExitStack() as stack:
        url = stack.enter_context(bench_database(store))
        prepared = _prepare(url, events)
        ours = stack.enter_context(server("nimrs_app", url))
        baseline = stack.enter_context(server("baseline_app", url))
        figures: dict[str, Any] = {"store": store, "events": prepared["events"], "server_workers": workers}
        figures |= _reads(ours, baseline, bearer_token(ours, "bench.l1"), prepared["ids"], seconds, rounds)
        commands = stack.enter_context(server("nimrs_app", url, workers=workers)) if workers > 1 else ours
        figures |= _commands(commands, bearer_token(commands, "bench.l1"), prepared["drafts"], seconds * 2)
        figures |= _feed(url, ours, bearer_token(ours, "bench.reviewer"), rounds)
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    figures["targets_met"] = {name: (figures[name] <= bound if op == "<=" else figures[name] >= bound)
                              for name, (op, bound) in TARGETS.items()}
    figures["targets_met"]["commands_per_s"] = figures["commands_per_s"] >= COMMANDS_TARGET[store]
    return figures
