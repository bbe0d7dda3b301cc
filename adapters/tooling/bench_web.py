"""``nimrs bench web``: the web pages against the JSON API serving the same data (same run, same store,
same server), and how soon an open board shows a change.

- board_ratio, incident_ratio, overdue_ratio: the median time of ``GET /board``, ``GET /incidents/{id}``
  and ``GET /overdue`` (bearer token) over that of ``GET /web/board``, ``GET /web/incidents/{id}`` and
  ``GET /web/overdue`` (session cookie); 1.0 is as fast as JSON. Sequential requests on one keep-alive
  connection each, page and JSON alternating request by request so noise hits both; page_ratio is the lowest.
- live_update_p95_s: from a VPCR report posted to ``POST /vpcr-reports`` to the ``event: board`` that
  ``GET /web/board/stream`` sends an open board (the server's projector follows the log).

Size: ``--incidents`` in the views, spread over five facilities (the user reads F-001's). Up to
``HISTORIES`` of them are real histories from the synthetic generator, through the workflow (the
incident pages show these); the rest are rows written straight into the view tables, as
``bench projections`` does for its 1M query figures: the pages' cost depends on the tables' size,
not on how they were filled, and 11.5M events through the workflow would take hours.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import orjson

from adapters.bootstrap import Runtime, open_service
from adapters.settings import load_settings
from adapters.tooling.bench import bench_database
from adapters.tooling.bench_http import END, FACILITY, PASSWORD, bearer_token, facility_of, server
from adapters.tooling.bench_projections import fill_views_at_size
from adapters.tooling.synthetic import Generator, Plan
from domain.errors import ValidationFailed

TARGETS = {"page_ratio": (">=", 0.5), "live_update_p95_s": ("<=", 1.0)}
HISTORIES = 5_000
FACILITIES = 5
PAGES = {"board": ("/web/board", "/board"), "incident": ("/web/incidents/{}", "/incidents/{}"),
         "overdue": ("/web/overdue", "/overdue")}
UPDATE_TIMEOUT_S = 10.0


def web_app() -> Any:
    """``uvicorn --factory adapters.tooling.bench_web:web_app``: nimrs with its projector following the log."""
    from adapters.http.app import create_app

    return create_app()


def _prepare(url: str, incidents: int, histories: int) -> dict[str, Any]:
    settings = load_settings({"NIMRS_DATABASE_URL": url})
    service = open_service(settings, clock=lambda: END)
    histories = min(incidents, histories)
    made = Generator(Plan(incidents=histories, end=END, facilities=FACILITIES, save_every=500)).run(service)
    ids = [str(n.originator_id) for n in service.store.recorder.select_notifications(0, 20_000)
           if n.originator_version == 1 and facility_of(n) == FACILITY][:100]
    service.store.close()
    with Runtime(settings) as runtime:
        runtime.accounts.add("bench.l1", FACILITY, 1, password=PASSWORD)
        runtime.projector.catch_up()
        if incidents > histories:
            fill_views_at_size(runtime.projector, incidents - histories, FACILITIES)
    return {"incidents": incidents, "histories": made.incidents, "events": made.events, "ids": ids}


def _seconds(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"benchmark request {path.split('/')[1:3]} failed with {response.status_code}")
    return elapsed


def _summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), statistics.quantiles(samples, n=20, method="inclusive")[-1]


def _pages(port: int, token: str, ids: list[str], requests: int) -> dict[str, float]:
    base = f"http://127.0.0.1:{port}"
    pages = httpx.Client(base_url=base, cookies={"nimrs_session": token})
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    figures: dict[str, float] = {}
    try:
        for name, (page_path, json_path) in PAGES.items():
            for _ in range(5):  # warm both sides, as a running server is
                _seconds(pages, page_path.format(ids[0]))
                _seconds(api, json_path.format(ids[0]))
            page_times, json_times = [], []
            for n in range(requests):
                chosen = ids[n % len(ids)]
                page_times.append(_seconds(pages, page_path.format(chosen)))
                json_times.append(_seconds(api, json_path.format(chosen)))
            (page_p50, page_p95), (json_p50, json_p95) = _summary(page_times), _summary(json_times)
            figures |= {f"{name}_page_p50_ms": page_p50 * 1000, f"{name}_page_p95_ms": page_p95 * 1000,
                        f"{name}_json_p50_ms": json_p50 * 1000, f"{name}_json_p95_ms": json_p95 * 1000,
                        f"{name}_ratio": json_p50 / page_p50}
    finally:
        pages.close()
        api.close()
    figures["page_ratio"] = min(figures[f"{name}_ratio"] for name in PAGES)
    return figures


@contextmanager
def _board_stream(port: int, token: str) -> Iterator[socket.socket]:
    """An open board's event stream, read raw: each server-sent event is one chunk, so its name stays whole."""
    stream = socket.create_connection(("127.0.0.1", port), timeout=UPDATE_TIMEOUT_S)
    try:
        stream.sendall((f"GET /web/board/stream HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                        f"Cookie: nimrs_session={token}\r\nAccept: text/event-stream\r\n\r\n").encode())
        received = b""
        while b"following the board" not in received:
            received += _read(stream)
        if not received.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"the board stream was refused: {received[:12]!r}")
        yield stream
    finally:
        stream.close()


def _read(stream: socket.socket) -> bytes:
    data = stream.recv(65536)
    if not data:
        raise RuntimeError("the board stream ended")
    return data


def _drain(stream: socket.socket, quiet_s: float = 0.8) -> None:
    """Drop whatever the stream sends until it has been quiet a while (earlier changes' boards)."""
    stream.settimeout(quiet_s)
    try:
        while True:
            _read(stream)
    except TimeoutError:
        pass
    finally:
        stream.settimeout(UPDATE_TIMEOUT_S)


def _report(number: int, at: datetime) -> bytes:
    return orjson.dumps({
        "jc_case_number": f"BENCH-{time.time_ns()}-{number}", "jc_reported_at": at.isoformat(),
        "facility": FACILITY, "program": "Adult Inpatient Unit 3", "setting": "inpatient",
        "reported_type": "an.physical-abuse", "summary": "Reported to the JC by the unit charge nurse."})


def _live_updates(port: int, token: str, updates: int) -> dict[str, float]:
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}",
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    latencies = []
    try:
        with _board_stream(port, token) as stream:
            for number in range(updates):
                _drain(stream)
                reported_at = datetime.now(timezone.utc) - timedelta(hours=1)
                started = time.perf_counter()
                response = api.post("/vpcr-reports", content=_report(number, reported_at))
                if response.status_code != 201:
                    raise RuntimeError(f"POST /vpcr-reports failed with {response.status_code}")
                received = b""
                while b"event: board" not in received:
                    received += _read(stream)
                latencies.append(time.perf_counter() - started)
    finally:
        api.close()
    p50, p95 = _summary(latencies)
    return {"live_update_p50_s": p50, "live_update_p95_s": p95, "live_update_max_s": max(latencies)}


def run_web_bench(store: str, incidents: int, requests: int, updates: int,
                  histories: int = HISTORIES) -> dict[str, Any]:
    if incidents < 1 or requests < 2 or updates < 2:
        raise ValidationFailed("--incidents must be at least 1, --requests and --updates at least 2")
    with ExitStack() as stack:
        url = stack.enter_context(bench_database(store))
        prepared = _prepare(url, incidents, histories)
        port = stack.enter_context(server("web_app", url, module=__name__))
        token = bearer_token(port, "bench.l1")
        figures: dict[str, Any] = {"store": store, "incidents": prepared["incidents"],
                                   "histories": prepared["histories"], "events": prepared["events"],
                                   "facilities": FACILITIES, "requests": requests, "updates": updates,
                                   "server_workers": 1}
        figures |= _pages(port, token, prepared["ids"], requests)
        figures |= _live_updates(port, token, updates)
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    figures["targets"] = {name: f"{op} {bound}" for name, (op, bound) in TARGETS.items()}
    figures["targets_met"] = {name: (figures[name] <= bound if op == "<=" else figures[name] >= bound)
                              for name, (op, bound) in TARGETS.items()}
    return figures
