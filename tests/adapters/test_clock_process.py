"""The clock process and alert mail, end to end, with real processes killed with SIGKILL (issue 12, "Done when"):
an incident whose qualified person was never notified cannot be closed, shows as missed 24 hours after the
initial report, and the supervisor is emailed exactly once, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from adapters.bootstrap import Runtime
from adapters.settings import load_settings
from adapters.tooling.samples import vpcr_report
from domain.errors import TransitionRefused
from tests.adapters.test_mail import NIMRS, Inbox, smtp  # noqa: F401 - smtp is a fixture
from tests.conftest import L1, L2
from tests.workflows.helpers import fill
from workflows.accounts import Principal
from workflows.alerts import SENT

MISSED, DUE_SOON = 12, 6  # incidents whose notice is 30 hours old (missed), and 20 hours old (due within 6 hours)
SUPERVISOR = "supervisor.f-001@example.org"


@pytest.fixture
def environ(database_url: str, smtp: tuple[Inbox, int]) -> Iterator[dict[str, str]]:  # noqa: F811
    yield {**os.environ, "NIMRS_DATABASE_URL": database_url, "NIMRS_OBLIGATIONS_DEFAULT": "part524@1",
           "NIMRS_SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}", "NIMRS_BASE_URL": "https://nimrs.example.org"}


def _incidents(runtime: Runtime) -> list[str]:
    service, now = runtime.service, runtime.clock()
    ages = [30.0] * MISSED + [20.0] * DUE_SOON
    ids = []
    for number, hours in enumerate(ages):
        report = vpcr_report(f"2026-{900000 + number}", now - timedelta(hours=hours), code="an.physical-abuse")
        ids.append(str(service.receive_vpcr_report(L2, report)[0]))
    runtime.facilities.set_alert_rules(Principal(L1, security_admin=True), "F-001",
                                       [{"on": ["clock_missed"], "to": [SUPERVISOR], "clocks": ["qualified_person_notice"]}],
                                       "The supervisor hears of every missed notice.")
    return ids


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([NIMRS, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _alerts(runtime: Runtime, ids: list[str]) -> Counter[tuple[str, str, str]]:
    found: Counter[tuple[str, str, str]] = Counter()
    for incident_id in ids:
        for event in runtime.service.store.repository.event_store.get(UUID(incident_id)):
            if type(event).__name__ in ("ClockDueSoon", "ClockMissed"):
                found[(incident_id, type(event).__name__, event.key)] += 1
    return found


def test_missed_notices_are_recorded_and_mailed_exactly_once_through_kills(
        environ: dict[str, str], smtp: tuple[Inbox, int]) -> None:  # noqa: F811
    inbox, _ = smtp
    with Runtime(load_settings(environ)) as runtime:
        ids = _incidents(runtime)
        first = runtime.service.load(UUID(ids[0]))
        assert first.deadlines["qualified_person_notice"].provisional

    # The clock process, killed with SIGKILL again and again mid-pass, then left to finish.
    rng = random.Random(5)
    for _ in range(6):
        process = _start(["clocks", "run", "--interval", "0.01", "--batch", "3"], environ)
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    finished = subprocess.run([NIMRS, "clocks", "run", "--once", "--json"], env=environ, capture_output=True,
                              text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    again = subprocess.run([NIMRS, "clocks", "run", "--once", "--json"], env=environ, capture_output=True, text=True,
                           timeout=120)
    assert '"due_soon": 0' in again.stdout and '"missed": 0' in again.stdout, again.stdout

    with Runtime(load_settings(environ)) as runtime:
        alerts = _alerts(runtime, ids)
        expected = Counter({(i, "ClockMissed", "qualified_person_notice"): 1 for i in ids[:MISSED]})
        expected.update({(i, "ClockDueSoon", "qualified_person_notice"): 1 for i in ids[MISSED:]})
        assert alerts == expected, "one event per obligation and due time: none lost, none twice"
        missed = next(e for e in runtime.service.store.repository.event_store.get(UUID(ids[0]))
                      if type(e).__name__ == "ClockMissed")
        assert missed.actor["user_id"] == "system:clocks"
        assert missed.due == first.deadlines["qualified_person_notice"].due == first.jc_reported_at + timedelta(hours=24)
        # the overdue view counts the draft's provisional notice as missed
        runtime.projector.catch_up()
        overdue = runtime.reads.overdue(L1, clock="qualified_person_notice")["clocks"]
        assert len(overdue) == MISSED and all(row["provisional"] for row in overdue)

    # The mail worker: one pass, a restart, a kill after it has sent: each supervisor mail arrives once.
    assert subprocess.run([NIMRS, "alerts", "run", "--once"], env=environ, timeout=120).returncode == 0
    worker = _start(["alerts", "run", "--poll", "0.05", "--lease", "1"], environ)
    time.sleep(1.0)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert subprocess.run([NIMRS, "alerts", "run", "--once"], env=environ, timeout=120).returncode == 0
    assert inbox.to() == [SUPERVISOR] * MISSED
    assert len(set(inbox.message_ids())) == MISSED
    for _, message in inbox.messages:
        assert "qualified_person_notice" in str(message["Subject"]) and "https://nimrs.example.org/web/incidents/" in \
            message.get_content()
    with Runtime(load_settings(environ)) as runtime:
        assert runtime.mail_outbox.counts() == {SENT: MISSED}


def test_an_incident_whose_qualified_person_was_never_notified_cannot_close(tmp_path: Path) -> None:
    settings = load_settings({"NIMRS_DATABASE_URL": f"sqlite:///{tmp_path}/n.db", "NIMRS_OBLIGATIONS_DEFAULT": "part524@1"})
    with Runtime(settings) as runtime:
        service, now = runtime.service, runtime.clock()
        report = vpcr_report("2026-000500", now - timedelta(hours=2))
        iid = service.receive_vpcr_report(L2, report)[0]
        service.import_report(L2, iid)
        fill(service, iid)
        service.record_details(L2, iid, "incident", {"discovered_at": (now - timedelta(hours=3)).isoformat()})
        service.email_omh(L1, iid)
        service.start_investigation(L2, iid)
        service.document_findings(L2, iid, "Substantiated; retraining.")
        with pytest.raises(TransitionRefused) as refused:
            service.close(L1, iid)
        assert any(p.startswith("cannot close: qualified_person_notice is open") for p in refused.value.problems or [])
        assert service.load(iid).state == "under_investigation"
