"""A real ``nimrs serve`` killed with SIGKILL while 20 clients send commands (its saves grouped into rounds), on
SQLite and on PostgreSQL: no acknowledged command is lost, and none unacknowledged is half there. Each client sends
its next command only after the last was answered, so at most one per client was in flight at the kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from adapters.bootstrap import open_service
from adapters.settings import load_settings
from adapters.tooling.bench_http import free_port
from adapters.tooling.samples import vpcr_report
from domain.errors import NotFound
from tests.conftest import CHARTS_ONLY_SUITE, L2
from tests.http.support import PASSWORD, wait_until_serving
from workflows.service import IncidentService

EDITORS, DELIVERERS, REPORTS_PER_DELIVERY = 16, 4, 3
NIMRS = str(Path(sys.executable).parent / "nimrs")
REPORTED_AT = datetime.now(timezone.utc) - timedelta(hours=2)


@dataclass
class Client:
    """What one client sent and which of it was answered (its n-th command carries the number n)."""

    answered: list[int] = field(default_factory=list)
    sent: int = 0


def delivery(client: int, number: int) -> list[dict[str, str]]:
    return [{"jc_case_number": f"K{client}-{number}-{part}", "jc_reported_at": REPORTED_AT.isoformat(),
             "facility": "F-001", "program": "Unit 3", "setting": "inpatient", "reported_type": "an.physical-abuse",
             "summary": "Reported to the JC."} for part in range(REPORTS_PER_DELIVERY)]


@pytest.fixture
def server(database_url: str) -> Iterator[tuple[str, subprocess.Popen[bytes], dict[str, str]]]:
    env = {**os.environ, "NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}
    subprocess.run([NIMRS, "users", "add", "editor", "--facility", "F-001", "--level", "2", "--password-stdin"],
                   input=PASSWORD.encode(), env=env, check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([NIMRS, "serve", "--port", str(port), "--no-projector"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    wait_until_serving(base, process)
    yield base, process, env
    if process.poll() is None:
        process.kill()
    process.wait(10)


def test_a_killed_server_lost_no_acknowledged_command_and_left_none_half_applied(
        database_url: str, server: tuple[str, subprocess.Popen[bytes], dict[str, str]]) -> None:
    base, process, env = server
    service = open_service(load_settings({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}))
    drafts = [service.create_incident(L2, program="Unit 3", setting="inpatient", code="si.fall", summary=f"draft {n}")
              for n in range(EDITORS)]
    token = httpx.post(f"{base}/auth/token", json={"username": "editor", "password": PASSWORD}).json()["access_token"]
    editors = [Client() for _ in drafts]
    deliverers = [Client() for _ in range(DELIVERERS)]
    stop = threading.Event()

    def edit(number: int) -> None:
        client, draft = editors[number], drafts[number]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            while not stop.is_set():
                client.sent += 1
                try:
                    answer = http.patch(f"/incidents/{draft}/record-details/narrative",
                                        json={"narrative": f"edit {client.sent}"})
                except httpx.TransportError:
                    return
                assert answer.status_code == 200, answer.text
                client.answered.append(client.sent)

    def deliver(number: int) -> None:
        client = deliverers[number]
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
            while not stop.is_set():
                client.sent += 1
                try:
                    answer = http.post("/vpcr-reports", json=delivery(number, client.sent))
                except httpx.TransportError:
                    return
                assert answer.status_code == 201, answer.text
                client.answered.append(client.sent)

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(EDITORS)]
    threads += [threading.Thread(target=deliver, args=(n,)) for n in range(DELIVERERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while sum(len(c.answered) for c in editors + deliverers) < 300:  # well into the load
        assert time.monotonic() < deadline, "too few commands were answered"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    stop.set()
    for thread in threads:
        thread.join(15)
    assert not any(thread.is_alive() for thread in threads)

    reopened = open_service(load_settings({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}))
    try:
        for client, draft in zip(editors, drafts, strict=True):
            events = list(reopened.store.repository.event_store.get(draft))
            assert [e.originator_version for e in events] == list(range(1, len(events) + 1))
            edits = [int(e.fields["narrative"].removeprefix("edit ")) for e in events[1:]]
            # Every answered edit is there, in order; past them at most the one in flight, whole.
            assert edits[:len(client.answered)] == client.answered == list(range(1, len(client.answered) + 1))
            assert len(edits) - len(client.answered) in (0, 1)
        for number, client in enumerate(deliverers):
            stored = []
            for sent in range(1, client.sent + 1):
                present = [_exists(reopened, case) for case in (r["jc_case_number"] for r in delivery(number, sent))]
                assert len(set(present)) == 1, f"delivery {sent} of client {number} is half there: {present}"
                stored.append(present[0])
            answered = len(client.answered)
            assert stored[:answered] == [True] * answered and stored[answered + 1:] == [False] * (len(stored) - answered - 1)
        assert sum(len(c.answered) for c in editors + deliverers) >= 300
    finally:
        reopened.store.close()
        service.store.close()


def _exists(service: IncidentService, case: str) -> bool:
    try:
        service.load(vpcr_report(case, REPORTED_AT).incident_id)
    except NotFound:
        return False
    return True
