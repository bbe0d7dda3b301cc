"""Alerts by email against a real SMTP server (aiosmtpd on 127.0.0.1): routing by the facility's rules, no patient
details by default, exactly one message per event and address, retries, dead letters, receipts and the commands."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text
from typer.testing import CliRunner

from adapters.bootstrap import Runtime
from adapters.cli.main import app
from adapters.mail.smtp import parse_smtp_url
from adapters.mail.worker import DeliveryPolicy, MailWorker
from adapters.settings import load_settings
from domain.errors import ValidationFailed
from tests.conftest import CHARTS_ONLY_SUITE, L1, FakeClock
from tests.workflows.helpers import draft
from workflows.alerts import DEAD, PENDING, SENT, AlertKind, parse_alert_rules
from workflows.facilities import FacilitySetting, SettingKind

BASE_URL = "https://nimrs.example.org"
PROGRAM, SUMMARY = "Adult Inpatient Unit 3", "Reported to the JC by the unit charge nurse."  # the samples' (PHI)
CLIENT, STAFF, NARRATIVE = "C-1042", "S-311", "Staff observed the event"
CASE = "2026-000101"
NIMRS = str(Path(sys.executable).with_name("nimrs"))


class Inbox:
    """What the SMTP server received; ``reply`` (e.g. ``451 ...``) refuses every message instead."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 -- aiosmtpd's hook name
        if self.reply:
            return self.reply
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))  # type: ignore[arg-type]
        return "250 2.0.0 Ok: queued as 7F3A"

    def to(self) -> list[str]:
        return sorted(address for recipients, _ in self.messages for address in recipients)

    def message_ids(self) -> list[str]:
        return [str(message["Message-ID"]) for _, message in self.messages]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


RULES = {
    "F-001": [
        {"on": ["clock_missed"], "to": ["Risk@Example.org", "director@example.org"]},
        {"on": ["clock_missed"], "to": ["risk@example.org"], "clocks": ["investigation"]},  # the same address once
        {"on": ["clock_missed"], "to": ["omh-only@example.org"], "routes": ["OMH_ONLY"]},  # another route
        {"on": ["clock_missed"], "to": ["deaths@example.org"], "categories": ["death"]},  # another category
        {"on": ["clock_due_soon"], "to": ["soon@example.org"]},
        {"on": ["clock_missed"], "to": ["harm@example.org"], "serious_harm_only": True},
    ],
    "F-002": [{"on": ["clock_missed"], "to": ["elsewhere@example.org"]}],
}


AT = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)


def _environ(database_url: str, port: int, tmp_path: Path, rules: dict[str, Any] = RULES, **more: str) -> dict[str, str]:
    """The settings, with each facility's alert rules recorded in its settings (as `nimrs facility alerts` does)."""
    environ = {**CHARTS_ONLY_SUITE, "NIMRS_DATABASE_URL": database_url, "NIMRS_SMTP_URL": f"smtp://127.0.0.1:{port}",
               "NIMRS_BASE_URL": BASE_URL + "/", "NIMRS_MAIL_FROM": "alerts@example.org", **more}
    with Runtime(load_settings(environ)) as runtime:
        for facility, entries in rules.items():
            if [rule.as_dict() for rule in runtime.facilities.alert_rules(facility)] != \
                    [rule.as_dict() for rule in parse_alert_rules(entries)]:
                runtime.facilities.settings.record(FacilitySetting(
                    facility, SettingKind.ALERT_RULES, entries, f"admin.{facility}", AT, "who is told"))
    return environ


def _missed_clock(runtime: Runtime, clock: FakeClock) -> str:
    """An abuse allegation emailed to OMH whose investigation clock (45 days) then runs out: ClockMissed."""
    service = runtime.service
    iid = draft(service)
    service.email_omh(L1, iid)
    clock.advance(days=50)
    incident = service.load(iid)
    assert incident.record_clock_missed(clock()) == ["investigation"]
    service.store.save(incident)
    return str(iid)


POLICY = DeliveryPolicy(max_attempts=3, backoff=(60.0, 600.0), timeout=5.0, poll=0.05)


@pytest.fixture
def runtime(tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int]) -> Iterator[Runtime]:
    with Runtime(load_settings(_environ(f"sqlite:///{tmp_path}/events.db", smtp[1], tmp_path)), clock) as built:
        yield built


def test_a_missed_clock_reaches_exactly_the_rules_addresses_with_no_patient_details(
        database_url: str, tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    with Runtime(load_settings(_environ(database_url, port, tmp_path)), clock) as runtime:
        iid = _missed_clock(runtime, clock)
        done = runtime.mail_worker(POLICY).run_once()
        sent = runtime.mail_outbox.listed(SENT, None, 10)

    assert (done.routed, done.sent, done.failed) == (2, 2, 0)
    assert inbox.to() == ["director@example.org", "risk@example.org"]
    for recipients, message in inbox.messages:
        body = message.get_content()
        everything = str(message["Subject"]) + body
        for phi in (PROGRAM, SUMMARY, CLIENT, STAFF, NARRATIVE):
            assert phi not in everything
        assert f"{BASE_URL}/web/incidents/{iid}" in body
        assert f"JC case {CASE}" in everything and "investigation" in str(message["Subject"])
        assert "Due: Thu 16 Apr 2026, 11:59 pm EDT" in body  # the 45th day's end in New York, with the zone
        assert message["From"] == "alerts@example.org" and message["To"] == recipients[0]
        assert str(message["Message-ID"]).endswith("@nimrs>")
    assert len(set(inbox.message_ids())) == 2
    assert sorted(row["to"] for row in sent) == inbox.to()
    assert all(row["smtp_reply"] == "250 2.0.0 Ok: queued as 7F3A" and row["sent_at"] == clock().isoformat()
               for row in sent), "the receipt: when the server accepted it, and its reply"


def test_routing_again_and_a_restarted_worker_send_nothing_twice(
        tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int], runtime: Runtime) -> None:
    inbox, port = smtp
    _missed_clock(runtime, clock)
    worker = runtime.mail_worker(POLICY)
    assert worker.run_once().sent == 2
    assert worker.run_once() == (0, 0, 0), "a second pass finds nothing new"
    with runtime.engine.begin() as connection:  # as if the router had crashed before moving its position
        connection.execute(text("UPDATE nimrs_mail_router SET position = 0"))
    with Runtime(load_settings(_environ(f"sqlite:///{tmp_path}/events.db", port, tmp_path)), clock) as restarted:
        again = restarted.mail_worker(POLICY).run_once()
        assert (again.routed, again.sent) == (2, 0), "the same mail is routed, with the same ids: none is added"
        assert restarted.mail_outbox.counts() == {SENT: 2}
    assert len(inbox.messages) == 2 and len(set(inbox.message_ids())) == 2


@pytest.mark.parametrize("refusal", ["451 4.3.0 Try again later", "554 5.7.1 Delivery not authorized"])
def test_a_refused_mail_is_retried_with_backoff_then_dead_lettered_and_retry_requeues_it(
        tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int], refusal: str) -> None:
    inbox, port = smtp
    rules = {"F-001": [{"on": ["clock_missed"], "to": ["risk@example.org"]}]}
    with Runtime(load_settings(_environ(f"sqlite:///{tmp_path}/events.db", port, tmp_path, rules)), clock) as runtime:
        _missed_clock(runtime, clock)
        worker, outbox = runtime.mail_worker(POLICY), runtime.mail_outbox
        inbox.reply = refusal
        assert worker.run_once().failed == 1
        [row] = outbox.listed(PENDING, None, 10)
        assert (row["attempts"], row["last_error"]) == (1, refusal)
        assert row["next_attempt_at"] == (clock() + timedelta(seconds=60)).isoformat()
        assert worker.run_once() == (0, 0, 0), "not before its backoff"
        clock.advance(seconds=61)
        assert worker.run_once().failed == 1
        assert outbox.listed(PENDING, None, 10)[0]["next_attempt_at"] == (clock() + timedelta(seconds=600)).isoformat()
        clock.advance(seconds=601)
        assert worker.run_once().failed == 1
        [dead] = outbox.dead("F-001")
        assert (dead["attempts"], dead["status"]) == (3, DEAD)
        clock.advance(days=1)
        assert worker.run_once() == (0, 0, 0), "a dead mail is not tried again"

        inbox.reply = None
        assert outbox.retry(dead["message_id"], "F-002", clock()) is False, "another facility's mail"
        assert outbox.retry(dead["message_id"], "F-001", clock()) is True
        assert worker.run_once().sent == 1
        assert outbox.counts() == {SENT: 1}
    assert inbox.to() == ["risk@example.org"] and inbox.message_ids() == [f"<{dead['message_id']}@nimrs>"]


def test_details_are_in_the_mail_only_where_the_rule_asks_and_bodies_are_encrypted_at_rest(
        tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    rules = {"F-001": [{"on": ["clock_missed"], "to": ["risk@example.org"], "details": True},
                       {"on": ["clock_missed"], "to": ["director@example.org"]}]}
    key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    environ = _environ(f"sqlite:///{tmp_path}/events.db", port, tmp_path, rules, NIMRS_CIPHER_KEY=key)
    with Runtime(load_settings(environ), clock) as runtime:
        _missed_clock(runtime, clock)
        worker = runtime.mail_worker(POLICY)
        worker.router.route_new()
        with runtime.engine.connect() as connection:
            stored = connection.execute(text("SELECT body FROM nimrs_mail_outbox")).scalars().all()
        assert len(stored) == 2 and not any(SUMMARY in body or PROGRAM in body or CASE in body for body in stored)
        assert worker.run_once().sent == 2
    bodies = {recipients[0]: message.get_content() for recipients, message in inbox.messages}
    assert SUMMARY in bodies["risk@example.org"] and PROGRAM in bodies["risk@example.org"]
    assert SUMMARY not in bodies["director@example.org"] and PROGRAM not in bodies["director@example.org"]
    assert all(SUMMARY not in str(message["Subject"]) for _, message in inbox.messages)


def test_the_submitting_user_gets_a_receipt_after_email_omh(
        clock: FakeClock, smtp: tuple[Inbox, int], runtime: Runtime) -> None:
    inbox, _ = smtp
    iid = draft(runtime.service)
    runtime.service.email_omh(L1, iid)
    addresses = {L1.user_id: "risk.manager@example.org"}
    worker = runtime.mail_worker(POLICY, receipt_to=addresses.get)
    assert worker.run_once().sent == 1
    [(recipients, message)] = inbox.messages
    assert recipients == ["risk.manager@example.org"]
    assert f"JC case {CASE}: emailed to OMH." in message.get_content()
    assert SUMMARY not in message.get_content()


def test_only_security_administrators_list_and_retry_their_facilitys_dead_mail(
        tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int], runtime: Runtime) -> None:
    inbox, port = smtp
    _missed_clock(runtime, clock)
    inbox.reply = "451 4.3.0 Try again later"
    worker = runtime.mail_worker(DeliveryPolicy(max_attempts=1, timeout=5.0))
    assert worker.run_once().failed == 2
    accounts = runtime.accounts
    accounts.add("admin.F-001", "F-001", 3, security_admin=True)
    accounts.add("admin.F-002", "F-002", 3, security_admin=True)
    accounts.add("risk.F-001", "F-001", 1)
    cli = CliRunner()
    env = _environ(f"sqlite:///{tmp_path}/events.db", port, tmp_path)

    def nimrs(*args: str) -> Any:
        return cli.invoke(app, [*args, "--json"], env=env)

    assert nimrs("alerts", "dead", "--as", "risk.F-001").exit_code == 5
    assert json.loads(nimrs("alerts", "dead", "--as", "admin.F-002").stdout) == []
    dead = json.loads(nimrs("alerts", "dead", "--as", "admin.F-001").stdout)
    assert sorted(row["to"] for row in dead) == ["director@example.org", "risk@example.org"]
    assert all(row["last_error"] == "451 4.3.0 Try again later" and "body" not in row for row in dead)
    chosen = dead[0]["message_id"]
    assert nimrs("alerts", "retry", chosen, "--as", "risk.F-001").exit_code == 5
    assert nimrs("alerts", "retry", chosen, "--as", "admin.F-002").exit_code == 4
    assert nimrs("alerts", "retry", chosen, "--as", "admin.F-001").exit_code == 0

    inbox.reply = None
    worked = subprocess.run([NIMRS, "alerts", "run", "--once", "--json"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **env})
    assert worked.returncode == 0, worked.stderr
    assert json.loads(worked.stdout) == {"routed": 0, "sent": 1, "failed": 0}
    assert inbox.message_ids() == [f"<{chosen}@nimrs>"]


def test_alert_rules_are_checked_and_every_problem_named() -> None:
    rules = parse_alert_rules([{"on": ["clock_missed", "clock_due_soon"], "to": ["A@Example.org"],
                                "categories": ["death"], "routes": ["JC_AND_OMH"], "details": True}])
    assert rules[0].on == (AlertKind.CLOCK_MISSED, AlertKind.CLOCK_DUE_SOON) and rules[0].to == ("a@example.org",)
    assert parse_alert_rules([rule.as_dict() for rule in rules]) == rules
    with pytest.raises(ValidationFailed) as refused:
        parse_alert_rules([{"on": ["clock_gone"], "to": ["not an address", "x@y.org\r\nBcc: z@y.org"],
                            "routes": ["SOMEWHERE"], "details": "yes", "cc": []}, "rule"])
    problems = "\n".join(refused.value.problems)
    for expected in ("rule 1: on: 'clock_gone'", "rule 1: to: 'not an address'", "rule 1: to: 'x@y.org\\r\\n", "rule 1: routes: 'SOMEWHERE'",
                     "rule 1: details must be true or false", "rule 1: unknown field(s) cc", "rule 2: must be an object"):
        assert expected in problems


def test_smtp_urls_are_parsed_and_their_passwords_never_shown() -> None:
    server = parse_smtp_url("smtps://alerts%40example.org:s3cr%3At@mail.example.org")
    assert (server.host, server.port, server.implicit_tls, server.username, server.password) == \
        ("mail.example.org", 465, True, "alerts@example.org", "s3cr:t")
    assert "s3cr" not in repr(server)
    assert parse_smtp_url("smtp://127.0.0.1:2525").port == 2525 and not parse_smtp_url("smtp://h").implicit_tls
    with pytest.raises(ValueError, match="smtp://") as refused:
        parse_smtp_url("http://user:hunter2@mail.example.org")
    assert "hunter2" not in str(refused.value)
    settings = load_settings({"NIMRS_SMTP_URL": "smtp://user:hunter2@mail.example.org:587"})
    assert settings.describe_smtp() == "smtp://user:***@mail.example.org:587"
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.model_dump_json()
    with pytest.raises(ValidationFailed, match="NIMRS_SMTP_URL"):
        load_settings({"NIMRS_SMTP_URL": "mail.example.org"})


def test_the_worker_stops_when_asked(runtime: Runtime) -> None:
    import threading

    worker: MailWorker = runtime.mail_worker(POLICY)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive()
