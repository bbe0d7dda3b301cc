"""A real nimrs HTTP server (uvicorn on a free port, in a thread) with an injected clock, and a client."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from adapters.bootstrap import Runtime
from adapters.http.app import create_app
from adapters.settings import load_settings
from adapters.tooling.bench_http import free_port
from domain.clock import Clock
from tests.conftest import CHARTS_ONLY_SUITE

PASSWORD = "a long enough passphrase"
NIMRS = str(Path(sys.executable).parent / "nimrs")
VPCR = {
    "jc_case_number": "2026-015501", "jc_reported_at": "2026-11-19T09:40:00-05:00", "facility": "F-001",
    "program": "Adult Inpatient Unit 3", "setting": "inpatient", "reported_type": "death.natural-unexpected",
    "summary": "Client found unresponsive at 06:10; reported on the JC death line.",
}
SCREENS = {
    "incident": {"occurred_at": "2026-11-19T06:10:00-05:00", "location": "Room 312", "on_premises_or_supervised": True},
    "clients": {"clients": [{"client_id": "C-1042", "age": 58}]},
    "staff": {"staff_involved": ["S-311"], "witnesses": []},
    "narrative": {"narrative": "Found unresponsive on rounds.", "immediate_actions": "CPR started; 911 called."},
    "notifications": {"notifications_made": [{"party": "family", "notified_at": "2026-11-19T08:00:00-05:00"}]},
    "severity": {"harm_rating": 3, "risk_rating": 3, "serious_harm": True, "serious_harm_basis": "physical"},
}
# name: (facility, level, security admin, state reviewer)
STAFF = {
    "l1": ("F-001", 1, False, False), "l2": ("F-001", 2, False, False), "l3": ("F-001", 3, False, False),
    "admin": ("F-001", 3, True, False), "reviewer": ("OMH", 3, False, True),
    "other.l1": ("F-002", 1, False, False), "other.admin": ("F-002", 1, True, False),
}


class Api:
    """A signed-in client per user name; ``fresh_connections``: each request on a new connection (with several
    server processes, any of them may answer it)."""

    def __init__(self, base_url: str, *, fresh_connections: bool = False) -> None:
        self.base_url = base_url
        self.limits = httpx.Limits(max_keepalive_connections=0) if fresh_connections else httpx.Limits()
        self.anonymous = httpx.Client(base_url=base_url, timeout=30, limits=self.limits)
        self.clients: dict[str, httpx.Client] = {}

    def sign_in(self, user: str, password: str = PASSWORD) -> httpx.Response:
        return self.anonymous.post("/auth/token", json={"username": user, "password": password})

    def __call__(self, user: str) -> httpx.Client:
        if user not in self.clients:
            response = self.sign_in(user)
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
            self.clients[user] = httpx.Client(base_url=self.base_url, timeout=30, limits=self.limits,
                                              headers={"Authorization": f"Bearer {token}"})
        return self.clients[user]

    def close(self) -> None:
        for client in [self.anonymous, *self.clients.values()]:
            client.close()


def add_staff(database_url: str, clock: Clock, names: dict[str, tuple[str, int, bool, bool]] = STAFF) -> None:
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}), clock) as runtime:
        for name, (facility, level, admin, reviewer) in names.items():
            runtime.accounts.add(name, facility, level, password=PASSWORD, security_admin=admin,
                                 state_reviewer=reviewer)


@contextmanager
def live_server(database_url: str, clock: Clock, run_projector: bool = True,
                environ: Mapping[str, str] | None = None) -> Iterator[str]:
    """``environ``: more settings (``NIMRS_*``) for the server."""
    app = create_app(load_settings({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE, **(environ or {})}), clock, run_projector)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@contextmanager
def workers_server(database_url: str, workers: int = 2, environ: dict[str, str] | None = None) -> Iterator[str]:
    """``nimrs serve --workers N`` on a free port, as an operator runs it; its base URL."""
    env = {**os.environ, "NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE, **(environ or {})}
    port = free_port()
    process = subprocess.Popen([NIMRS, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base, process, seconds=60)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        errors = process.stderr.read() if process.stderr else ""
        assert "Traceback" not in errors, errors


def wait_until_serving(base: str, process: subprocess.Popen[Any], seconds: float = 30) -> None:
    """Until ``process``, a `nimrs serve` at ``base``, answers ``/health``; it must not exit first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and process.poll() is None, "the server did not start"
        time.sleep(0.1)


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """The first truthy result of ``check`` (the views trail the log by a fraction of a second)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            assert result, "the condition never held"
            return result
        time.sleep(0.05)
