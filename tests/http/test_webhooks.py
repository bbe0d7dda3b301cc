"""Webhooks to a local receiver that is down, slow, or answers 500: signed, in order, at least once; and only
to addresses that may receive them (never the server's own network)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import orjson
import pytest
from standardwebhooks.webhooks import Webhook

from adapters.bootstrap import Runtime
from adapters.integrations import destinations
from adapters.integrations.destinations import IPAddress
from adapters.integrations.webhook_worker import DeliveryPolicy
from adapters.settings import load_settings
from tests.conftest import FakeClock
from tests.http.support import Api, add_staff, eventually, free_port, live_server
from tests.http.test_workflow import walk_to_submitted

Answer = Callable[[dict[str, Any]], tuple[int, float]]  # a delivery -> (status, seconds to wait first)
# The receivers here listen on this machine: plain http to loopback must be allowed, for tests only.
LOOPBACK = {"NIMRS_WEBHOOKS_ALLOW_HTTP_LOOPBACK": "true"}


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    """A server that lets webhooks go to this machine."""
    add_staff(database_url, clock)
    with live_server(database_url, clock, environ=LOOPBACK) as base_url:
        client = Api(base_url)
        yield client
        client.close()


@pytest.fixture
def strict_api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    """A server with the default settings: https to public addresses only."""
    add_staff(database_url, clock)
    with live_server(database_url, clock) as base_url:
        client = Api(base_url)
        yield client
        client.close()


class Receiver:
    """A local HTTP receiver that records each delivery and answers as ``answer`` decides."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[dict[str, Any]] = []
        self.answer: Answer = lambda delivery: (204, 0.0)
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["content-length"]))
                delivery = {"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
                            "event": orjson.loads(body)}
                status, delay = receiver.answer(delivery)
                time.sleep(delay)
                delivery["status"] = status
                receiver.received.append(delivery)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def accepted_ids(self) -> list[str]:
        return [d["event"]["id"] for d in self.received if 200 <= d["status"] < 300]


@contextmanager
def worker(database_url: str, policy: DeliveryPolicy, environ: dict[str, str] = LOOPBACK) -> Iterator[None]:
    runtime = Runtime(load_settings({"NIMRS_DATABASE_URL": database_url, **environ}))
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    running = runtime.webhook_worker(policy)
    thread = threading.Thread(target=loop.run_until_complete, args=(running.run(stop),), daemon=True)
    thread.start()
    try:
        yield
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=20)
        loop.close()
        runtime.close()


def subscribe(api: Api, url: str, **extra: Any) -> dict[str, Any]:
    created = api("admin").post("/webhooks", json={"url": url, "after": 0, **extra})
    assert created.status_code == 201, created.text
    return dict(created.json())


def verify(subscription: dict[str, Any], delivery: dict[str, Any]) -> None:
    """Checked with the Standard Webhooks reference library, not our own code."""
    headers = delivery["headers"]
    assert headers["webhook-id"] == delivery["event"]["id"]
    Webhook(subscription["secret"]).verify(delivery["body"], headers)


def test_deliveries_are_signed_in_order_retried_dead_lettered_and_redelivered(api: Api, database_url: str) -> None:
    receiver = Receiver()
    receiver.start()
    subscription = subscribe(api, receiver.url)
    walk_to_submitted(api)
    api("other.l1").post("/incidents", json={"program": "B", "setting": "outpatient", "code": "si.fall",
                                             "summary": "Another facility's incident."})
    expected = [e["id"] for e in api("l3").get("/events", params={"limit": 1000}).json()["events"]]
    poisoned = expected[3]
    calls: dict[str, int] = {}

    def answer(delivery: dict[str, Any]) -> tuple[int, float]:
        event_id = delivery["event"]["id"]
        calls[event_id] = calls.get(event_id, 0) + 1
        if event_id == expected[0] and calls[event_id] <= 2:
            return 500, 0.0  # fails twice, then succeeds
        return (500 if event_id == poisoned else 204), 0.0

    receiver.answer = answer
    try:
        with worker(database_url, DeliveryPolicy(max_attempts=3, backoff=(0.1,), poll=0.05)):
            eventually(lambda: receiver.accepted_ids() == [e for e in expected if e != poisoned], timeout=30)
            dead = api("admin").get(f"/webhooks/{subscription['id']}/deliveries", params={"status": "dead"}).json()
            assert [d["message_id"] for d in dead] == [poisoned] and dead[0]["attempts"] == 3
            assert dead[0]["last_error"] == "HTTP 500"
            assert calls[expected[0]] == 3 and calls[poisoned] == 3
            receiver.answer = lambda delivery: (204, 0.0)
            requeued = api("admin").post(f"/webhooks/{subscription['id']}/redeliver", json={})
            assert requeued.json() == {"requeued": 1}
            eventually(lambda: poisoned in receiver.accepted_ids(), timeout=30)
        for delivery in receiver.received:
            verify(subscription, delivery)
        assert {d["event"]["data"]["actor"]["facility"] for d in receiver.received} == {"F-001"}
    finally:
        receiver.stop()


def test_a_receiver_that_is_down_or_slow_gets_every_event_once_it_answers(api: Api, database_url: str) -> None:
    receiver = Receiver()  # not started yet: connections are refused
    subscription = subscribe(api, receiver.url, types=["nimrs.Incident.DetailsRecorded.v1"])
    walk_to_submitted(api)
    expected = [e["id"] for e in api("l3").get("/events", params={
        "limit": 1000, "types": "nimrs.Incident.DetailsRecorded.v1"}).json()["events"]]
    slow_once: set[str] = set()

    def answer(delivery: dict[str, Any]) -> tuple[int, float]:
        if delivery["event"]["id"] not in slow_once:
            slow_once.add(delivery["event"]["id"])
            return 204, 1.5  # longer than the worker waits: a timeout, then a retry
        return 204, 0.0

    receiver.answer = answer
    try:
        with worker(database_url, DeliveryPolicy(max_attempts=50, backoff=(0.2,), timeout=0.5, poll=0.05)):
            failing = eventually(lambda: [d for d in api("admin").get(
                f"/webhooks/{subscription['id']}/deliveries", params={"status": "pending"}).json() if d["attempts"] >= 2])
            assert "ConnectError" in failing[0]["last_error"]
            receiver.start()
            eventually(lambda: set(receiver.accepted_ids()) >= set(expected), timeout=60)
        first_seen = list(dict.fromkeys(receiver.accepted_ids()))
        assert first_seen == expected  # in order; a timed-out attempt may arrive twice (at least once)
        timeouts = [d for d in api("admin").get(f"/webhooks/{subscription['id']}/deliveries").json()
                    if d["attempts"] > 1]
        assert timeouts and all(d["status"] == "delivered" for d in timeouts)
        for delivery in receiver.received:
            verify(subscription, delivery)
    finally:
        receiver.stop()


@pytest.mark.parametrize("kills", [3])
def test_the_worker_survives_kill_9_without_losing_or_reordering(api: Api, database_url: str, tmp_path: Path,
                                                                 kills: int) -> None:
    receiver = Receiver()
    receiver.answer = lambda delivery: (204, 0.05)  # slow enough that kills land mid-stream
    receiver.start()
    subscription = subscribe(api, receiver.url)
    l2 = api("l2")
    for number in range(12):
        l2.post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                    "summary": f"Fall {number}."})
    expected = [e["id"] for e in api("l3").get("/events", params={"limit": 1000}).json()["events"]]
    env = {**os.environ, "NIMRS_DATABASE_URL": database_url, **LOOPBACK}
    command = [str(Path(sys.executable).parent / "nimrs"), "webhooks", "run", "--backoff", "0.1"]
    try:
        for _ in range(kills):
            before = len(receiver.received)
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            eventually(lambda before=before: len(receiver.received) >= before + 2, timeout=30)
            process.send_signal(signal.SIGKILL)
            process.wait()
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        eventually(lambda: set(receiver.accepted_ids()) == set(expected), timeout=60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        assert list(dict.fromkeys(receiver.accepted_ids())) == expected  # first deliveries in log order
        for delivery in receiver.received:
            verify(subscription, delivery)
    finally:
        receiver.stop()


# The table: each would have the worker post patient data into the server's own network.
REFUSED_URLS = [
    "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/hook", "https://192.168.0.1/hook",
    "https://[::1]/hook", "https://[fd00::1]/hook", "https://0.0.0.0/hook", "http://localhost:5432/",
    "https://localhost:5432/", "https://127.1/hook", "https://2130706433/hook", "https://0x7f000001/hook",
    "https://receiver.example.com:99999/hook", "https://receiver.example .com/hook",
    "https://receiver.example.com/hook\r\nX-Injected: 1", "http://127.0.0.1:9/hook",
    "http://receiver.example.com/hook", "https://user:secret@receiver.example.com/hook",
]


def test_webhook_urls_into_the_server_s_own_network_or_malformed_are_refused_with_422(strict_api: Api) -> None:
    admin = strict_api("admin")
    for url in REFUSED_URLS:
        refused = admin.post("/webhooks", json={"url": url, "after": 0})
        assert refused.status_code == 422, (url, refused.status_code, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert "url" in refused.json()["detail"], refused.json()
    assert admin.get("/webhooks").json() == []  # nothing was subscribed
    assert admin.post("/webhooks", json={"url": "https://receiver.example.com/hook"}).status_code == 201


def test_the_worker_refuses_a_host_that_resolves_into_the_server_s_network_at_delivery_time(
        strict_api: Api, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name passed the subscription's check; its address (the resolver is the edge, faked) does not."""
    receiver = Receiver()  # on loopback: where the delivery would land if the worker did not check
    receiver.start()

    async def resolver(host: str, port: int, timeout: float) -> list[IPAddress]:
        assert host == "receiver.example.com"
        return [ip_address("127.0.0.1")]

    monkeypatch.setattr(destinations, "addresses_of", resolver)
    subscription = subscribe(strict_api, f"https://receiver.example.com:{receiver.port}/hook")
    strict_api("l2").post("/incidents", json={"program": "Clinic A", "setting": "outpatient", "code": "si.fall",
                                              "summary": "A fall."})
    try:
        with worker(database_url, DeliveryPolicy(max_attempts=2, backoff=(0.05,), poll=0.05), environ={}):
            dead = eventually(lambda: strict_api("admin").get(
                f"/webhooks/{subscription['id']}/deliveries", params={"status": "dead"}).json(), timeout=30)
        assert dead[0]["last_error"].startswith("refused: receiver.example.com resolves to a refused address: "
                                                "127.0.0.1 is a loopback address")
        assert receiver.received == []
    finally:
        receiver.stop()
