"""`nimrs serve` stops promptly on Ctrl+C (SIGINT) or SIGTERM even with a stream open: an open live board or event
stream never ends by itself, and uvicorn would otherwise wait for it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from adapters.tooling.bench_http import free_port
from tests.http.support import PASSWORD, wait_until_serving


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_stops_within_seconds_with_a_stream_open(tmp_path: Path, stop: signal.Signals) -> None:
    env = {**os.environ, "NIMRS_DATABASE_URL": f"sqlite:///{tmp_path / 'nimrs.db'}"}
    nimrs = str(Path(sys.executable).parent / "nimrs")
    subprocess.run([nimrs, "users", "add", "u1", "--facility", "F-001", "--level", "1", "--password-stdin"],
                   input=PASSWORD, text=True, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([nimrs, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_serving(base, server)
        token = httpx.post(f"{base}/auth/token", json={"username": "u1", "password": PASSWORD}).json()["access_token"]
        ended = threading.Event()

        def listen() -> None:
            with httpx.stream("GET", f"{base}/events/stream", headers={"Authorization": f"Bearer {token}"},
                              timeout=None) as stream:
                for _ in stream.iter_bytes():
                    pass
            ended.set()

        threading.Thread(target=listen, daemon=True).start()
        time.sleep(0.5)  # the stream is open
        asked = time.monotonic()
        server.send_signal(stop)
        server.wait(timeout=15)
        assert time.monotonic() - asked < 6, "the server waited for the open stream"
        assert ended.wait(5), "the stream did not end"
        assert "Exception in ASGI application" not in (server.stderr.read() if server.stderr else "")
    finally:
        if server.poll() is None:
            server.kill()
