"""``nimrs bench stream``: one server process with N live event streams open (``GET /events/stream``).

- idle_cpu_percent: the server's CPU (user and system, from /proc) over ``idle_seconds`` with the N streams open and
  nothing written, in percent of one core; idle_cpu_percent_without_streams the same before any was opened.
- delivery_p95_ms: from an event's time (taken as the command saves it, on the server's clock) to its arrival at each
  stream's client, over ``writes`` commands sent through the API a quarter of a second apart (p50 and max beside it).
- incident_get_p95_ms: ``GET /incidents/{id}`` latency with the N streams open, and without any, in blocks
  alternating in the same run (none, N open, none again); incident_get_ratio is the first over the second.

The streams are raw asyncio sockets in this process (the client shares the machine with the server, so it is kept
lean); the server is ``nimrs serve``'s app under uvicorn, in its own process.
"""

from __future__ import annotations

import asyncio
import os
import re
import resource
import statistics
import time
from contextlib import AbstractContextManager, ExitStack
from datetime import datetime
from typing import Any

import httpx
import orjson

from adapters.bootstrap import Runtime
from adapters.settings import load_settings
from adapters.tooling.bench import bench_database
from adapters.tooling.bench_http import serving
from domain.actor import Actor
from domain.vocabulary import Level

TARGETS = {"idle_cpu_percent": ("<=", 5.0), "delivery_p95_ms": ("<=", 100.0), "incident_get_ratio": ("<=", 1.5)}
PASSWORD = "bench passphrase long enough"
READER = Actor("bench.l1", "F-001", Level.SUBMITTER)
INCIDENTS = 50
GETS_PER_BLOCK = 200
WRITE_GAP_SECONDS = 0.25
EVENT_ID = re.compile(rb"\nid: (\d+)\n")
TICKS = os.sysconf("SC_CLK_TCK")


# -- the server ------------------------------------------------------------------------------------------

def server(url: str) -> AbstractContextManager[tuple[int, int]]:
    """``nimrs serve``'s app (projector and sealer threads included) in a uvicorn process on ``url``'s store: its
    port and process id."""
    return serving("app_from_environment", url, module="adapters.http.app")


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime (fields 14 and 15 of the whole line)


def _prepare(url: str) -> list[str]:
    """A reader, and drafts for it to read and write: their ids."""
    with Runtime(load_settings({"NIMRS_DATABASE_URL": url})) as runtime:
        runtime.accounts.add(READER.user_id, READER.facility, int(READER.level), password=PASSWORD)
        return [str(runtime.service.create_incident(READER, program="Clinic 1", setting="outpatient", code="si.fall",
                                                    summary=f"bench draft {n}")) for n in range(INCIDENTS)]


def _open_file_limit(needed: int) -> None:
    """Raise this process's limit on open files (and so its server's) to what N streams need, if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard) if hard != resource.RLIM_INFINITY else needed,
                                                    hard))


# -- the client --------------------------------------------------------------------------------------------

def _request(method: str, path: str, token: str, body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Authorization: Bearer {token}"]
    if method != "GET":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line[15:]) for line in head.split(b"\r\n") if line[:15].lower() == b"content-length:"), 0)
    return int(head[9:12]), await reader.readexactly(length)


class Stream:
    """One open stream on a raw socket: when each event id arrived (wall clock, to compare with the server's)."""

    def __init__(self) -> None:
        self.arrived: dict[int, float] = {}
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self, port: int, token: str, after: int) -> None:
        reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(_request("GET", f"/events/stream?after={after}", token))
        head = await reader.readuntil(b"\r\n\r\n")
        if head[9:12] != b"200":
            raise RuntimeError(f"the stream was refused: {head[:200]!r}")
        await reader.readuntil(b"retry: 1000\n\n")
        self.task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        partial = b""
        while data := await reader.read(65536):
            now = time.time()
            data = partial + data
            end = data.rfind(b"\n\n") + 2  # frames end with a blank line; the rest waits for the next read
            for match in EVENT_ID.finditer(data, 0, end):
                self.arrived[int(match[1])] = now
            partial = data[end:]

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.writer is not None:
            self.writer.close()


async def _gets(port: int, token: str, ids: list[str], count: int) -> list[float]:
    """Seconds each ``GET /incidents/{id}`` took, one at a time on a kept-alive connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    took = []
    for number in range(count):
        started = time.perf_counter()
        writer.write(_request("GET", f"/incidents/{ids[number % len(ids)]}", token))
        status, body = await _response(reader)
        took.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"GET /incidents failed with {status}: {body[:300]!r}")
    writer.close()
    return took


async def _writes(port: int, token: str, incident_id: str, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for number in range(count):
        body = orjson.dumps({"narrative": f"bench stream write {number} {time.time_ns()}"})
        writer.write(_request("PATCH", f"/incidents/{incident_id}/record-details/narrative", token, body))
        status, answer = await _response(reader)
        if status != 200:
            raise RuntimeError(f"a write failed with {status}: {answer[:300]!r}")
        await asyncio.sleep(WRITE_GAP_SECONDS)
    writer.close()


async def _idle_cpu(pid: int, seconds: float) -> float:
    before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / (time.monotonic() - started)


async def _settled(pid: int, busy_percent: float = 20.0, longest: float = 15.0) -> None:
    """Wait until the server is about idle again (or ``longest`` seconds)."""
    deadline = time.monotonic() + longest
    while await _idle_cpu(pid, 0.5) > busy_percent and time.monotonic() < deadline:
        pass


def _p(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1] if len(values) > 1 else values[0]


async def _measure(port: int, pid: int, token: str, ids: list[str], clients: int, idle_seconds: float,
                   writes: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    await _gets(port, token, ids, GETS_PER_BLOCK)  # warming up: not counted
    without = await _gets(port, token, ids, GETS_PER_BLOCK)
    figures["idle_cpu_percent_without_streams"] = await _idle_cpu(pid, idle_seconds)
    after = _end_of_feed(port, token)
    streams = [Stream() for _ in range(clients)]
    opening = asyncio.Semaphore(50)

    async def opened(stream: Stream) -> None:
        async with opening:
            await stream.open(port, token, after)

    await asyncio.gather(*(opened(stream) for stream in streams))
    await asyncio.sleep(1)  # the opening's work (sign-in look-ups, catch-up reads) settles
    figures["idle_cpu_percent"] = await _idle_cpu(pid, idle_seconds)
    with_streams = await _gets(port, token, ids, GETS_PER_BLOCK)
    await _writes(port, token, ids[-1], writes)
    written = _times_after(port, token, after)
    deadline = time.monotonic() + 10
    while any(len(s.arrived) < len(written) for s in streams) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    latencies = [s.arrived[p] - at for s in streams for p, at in written.items() if p in s.arrived]
    figures["deliveries"] = len(latencies)
    figures["deliveries_missing"] = clients * len(written) - len(latencies)
    figures |= {"delivery_p50_ms": 1000 * _p(latencies, 50), "delivery_p95_ms": 1000 * _p(latencies, 95),
                "delivery_max_ms": 1000 * max(latencies)}
    await _settled(pid)  # the writes' aftermath (views, read audit) is not the streams' doing
    with_streams += await _gets(port, token, ids, GETS_PER_BLOCK)
    await asyncio.gather(*(s.close() for s in streams))
    await _settled(pid)
    without += await _gets(port, token, ids, GETS_PER_BLOCK)
    figures["incident_get_p95_ms"] = 1000 * _p(with_streams, 95)
    figures["incident_get_p95_ms_without_streams"] = 1000 * _p(without, 95)
    figures["incident_get_ratio"] = figures["incident_get_p95_ms"] / figures["incident_get_p95_ms_without_streams"]
    return figures


def _end_of_feed(port: int, token: str) -> int:
    after = 0
    while True:
        page = _events_after(port, token, after)
        after = page["next"]
        if not page["has_more"]:
            return int(after)


def _events_after(port: int, token: str, after: int) -> dict[str, Any]:
    response = httpx.get(f"http://127.0.0.1:{port}/events", params={"after": after, "limit": 5000},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    response.raise_for_status()
    return dict(response.json())


def _times_after(port: int, token: str, after: int) -> dict[int, float]:
    """Each event after ``after``: its position and time (when its command was saved), as a Unix time."""
    return {e["position"]: datetime.fromisoformat(e["time"]).timestamp() for e in _events_after(port, token, after)["events"]}


def _sign_in(port: int) -> str:
    response = httpx.post(f"http://127.0.0.1:{port}/auth/token",
                          json={"username": READER.user_id, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return str(response.json()["access_token"])


def run_stream_bench(store: str, clients: int, idle_seconds: float = 10.0, writes: int = 20) -> dict[str, Any]:
    _open_file_limit(clients + 256)
    with ExitStack() as stack:
        url = stack.enter_context(bench_database(store))
        ids = _prepare(url)
        port, pid = stack.enter_context(server(url))
        token = _sign_in(port)
        figures: dict[str, Any] = {"store": store, "clients": clients, "idle_seconds": idle_seconds, "writes": writes}
        figures |= asyncio.run(_measure(port, pid, token, ids, clients, idle_seconds, writes))
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    figures["targets_met"] = {name: (figures[name] <= bound if op == "<=" else figures[name] >= bound)
                              for name, (op, bound) in TARGETS.items()}
    return figures
