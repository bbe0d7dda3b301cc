"""``nimrs bench load``: a mixed workload against a real ``nimrs serve`` process, loopback only.

The server is the command users run (``nimrs serve``: one worker, its projector keeping the views
current), on a store prepared as ``bench http`` prepares it (a synthetic log, 480 drafts). Each of
``clients`` signed-in users works on one keep-alive connection, one request at a time, picking at random:

- 60% reads: ``GET /incidents/{id}`` (40%), and the pages people open before an incident: the
  facility's list ``GET /incidents`` (10%) and ``GET /overdue`` (10%);
- 25% edits: ``PATCH /incidents/{id}/record-details/narrative`` on drafts of its own (so two clients
  never race for one draft: every non-2xx answer is an error);
- 15% creates: ``POST /incidents``; the new draft joins the drafts it edits.

After a warm-up whose requests are not counted, it runs for ``seconds``; each request's latency is
measured in the client with ``time.perf_counter`` from the write of the request to the last byte
of the answer. Every request is bounded by ``REQUEST_TIMEOUT`` seconds (one past it is an error).
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from adapters.bootstrap import Runtime
from adapters.settings import load_settings
from adapters.tooling.bench import bench_database
from adapters.tooling.bench_http import FACILITY, PASSWORD, _prepare, _request, _response, bearer_token, free_port
from domain.errors import ValidationFailed

MIX = {"show": 40, "list": 10, "overdue": 10, "edit": 25, "create": 15}  # percent of all requests
TARGETS: dict[str, tuple[str, float]] = {"p95_ms": ("<=", 50.0), "p99_ms": ("<=", 100.0), "errors": ("==", 0)}
WARMUP_SECONDS = 5.0
REQUEST_TIMEOUT = 30.0
MAX_USERS = 16  # distinct users signed in; more clients share their tokens (sign-ins per address are limited)
MAX_ERROR_EXAMPLES = 5


@contextmanager
def nimrs_serve(url: str) -> Iterator[int]:
    """``nimrs serve`` on a free loopback port over ``url``'s store; its port. Only the store is set: no other
    ``NIMRS_*`` of this shell reaches it, so it sees the store exactly as it was prepared."""
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("NIMRS_")}
    env["NIMRS_DATABASE_URL"] = url
    command = [sys.executable, "-m", "adapters.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_serving(process, port, log)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                log.seek(0)
                raise RuntimeError("nimrs serve did not start:\n" + log.read()[-2000:].decode(errors="replace")) from None
            time.sleep(0.1)


@dataclass
class Client:
    """One user's connection: the drafts it edits (its own, and those it creates) and what it measured."""

    number: int
    token: str
    drafts: list[str]
    readable: list[str]
    run: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {kind: [] for kind in MIX})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MIX, 0))
    examples: list[str] = field(default_factory=list)
    last_answer_at: float = 0.0

    def request(self, kind: str, rng: random.Random, sequence: int) -> bytes:
        words = f"load {self.run} client {self.number} request {sequence}"
        if kind == "show":
            return _request("GET", f"/incidents/{rng.choice(self.readable)}", self.token)
        if kind == "list":
            return _request("GET", "/incidents?limit=50", self.token)
        if kind == "overdue":
            return _request("GET", "/overdue", self.token)
        if kind == "edit":
            return _request("PATCH", f"/incidents/{rng.choice(self.drafts)}/record-details/narrative", self.token,
                            orjson.dumps({"narrative": f"Account of {words}"}))
        return _request("POST", "/incidents", self.token, orjson.dumps(
            {"program": "Clinic 1", "setting": "outpatient", "code": "si.fall", "summary": f"New incident, {words}"}))

    def record(self, kind: str, started: float, seconds: float, status: int, body: bytes) -> None:
        self.latencies[kind].append(seconds)
        self.last_answer_at = max(self.last_answer_at, started + seconds)
        if not 200 <= status < 300:
            self.errors[kind] += 1
            if len(self.examples) < MAX_ERROR_EXAMPLES:
                self.examples.append(f"{kind} {status}: {body[:200].decode(errors='replace')}")


async def _work(client: Client, port: int, measure_from: float, until: float) -> None:
    rng = random.Random(client.number)
    kinds, weights = list(MIX), list(MIX.values())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sequence = 0
    while time.perf_counter() < until:
        sequence += 1
        kind = rng.choices(kinds, weights)[0]
        request = client.request(kind, rng, sequence)
        started = time.perf_counter()
        try:
            writer.write(request)
            status, body = await asyncio.wait_for(_response(reader), REQUEST_TIMEOUT)
        except (TimeoutError, OSError, asyncio.IncompleteReadError) as error:
            status, body = 0, repr(error).encode()
            writer.close()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        seconds = time.perf_counter() - started
        if kind == "create" and status == 201:
            client.drafts.append(str(orjson.loads(body)["id"]))
        if started >= measure_from:
            client.record(kind, started, seconds, status, body)
    writer.close()


async def _drive(clients: list[Client], port: int, warmup: float, seconds: float) -> float:
    """Runs every client; the measured seconds (from the end of the warm-up to the last answer)."""
    measure_from = time.perf_counter() + warmup
    await asyncio.gather(*(_work(c, port, measure_from, measure_from + seconds) for c in clients))
    last_answer_at = max(c.last_answer_at for c in clients)
    return last_answer_at - measure_from if last_answer_at else seconds


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _summary(prefix: str, latencies: list[float], errors: int, seconds: float) -> dict[str, float]:
    if not latencies:
        return {f"{prefix}requests": 0, f"{prefix}requests_per_s": 0.0, f"{prefix}errors": errors}
    return {f"{prefix}requests": len(latencies), f"{prefix}requests_per_s": len(latencies) / seconds,
            f"{prefix}p50_ms": percentile(latencies, 0.50) * 1e3, f"{prefix}p95_ms": percentile(latencies, 0.95) * 1e3,
            f"{prefix}p99_ms": percentile(latencies, 0.99) * 1e3, f"{prefix}errors": errors}


def _users(url: str, count: int) -> list[str]:
    names = [f"load.{n:02d}" for n in range(1, count + 1)]
    with Runtime(load_settings({"NIMRS_DATABASE_URL": url})) as runtime:
        for name in names:
            runtime.accounts.add(name, FACILITY, 1, password=PASSWORD)
    return names


def _met(value: float, op: str, bound: float) -> bool:
    return value <= bound if op == "<=" else value >= bound if op == ">=" else value == bound


def run_load_bench(store: str, seconds: float = 60.0, clients: int = 16, events: int = 20_000,
                   warmup: float = WARMUP_SECONDS) -> dict[str, Any]:
    if seconds <= 0 or clients < 1 or events < 1 or warmup < 0:
        raise ValidationFailed("--seconds must be positive, --clients and --events at least 1")
    with ExitStack() as stack:
        url = stack.enter_context(bench_database(store))
        prepared = _prepare(url, events)
        users = _users(url, min(clients, MAX_USERS))
        port = stack.enter_context(nimrs_serve(url))
        tokens = [bearer_token(port, user) for user in users]
        drafts: list[str] = prepared["drafts"]
        readable = prepared["ids"] + drafts
        run = time.time_ns()  # each run's edits hold values no draft holds yet
        crowd = [Client(n, tokens[n % len(tokens)], drafts[n::clients] or [drafts[n % len(drafts)]], readable, run)
                 for n in range(clients)]
        measured = asyncio.run(_drive(crowd, port, warmup, seconds))
    figures: dict[str, Any] = {"store": store, "events": prepared["events"], "clients": clients, "users": len(users),
                               "seconds": seconds, "warmup_seconds": warmup, "measured_seconds": measured,
                               "server": "nimrs serve (1 worker, projector on)", "mix_percent": MIX}
    figures |= _summary("", [s for c in crowd for k in MIX for s in c.latencies[k]],
                        sum(sum(c.errors.values()) for c in crowd), measured)
    for kind in MIX:
        figures |= _summary(f"{kind}_", [s for c in crowd for s in c.latencies[kind]],
                            sum(c.errors[kind] for c in crowd), measured)
    figures["error_examples"] = [example for c in crowd for example in c.examples][:MAX_ERROR_EXAMPLES]
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    figures["targets"] = {name: f"{op} {bound}" for name, (op, bound) in TARGETS.items()}
    figures["targets_met"] = {name: name in figures and _met(figures[name], op, bound)
                              for name, (op, bound) in TARGETS.items()}
    return figures
