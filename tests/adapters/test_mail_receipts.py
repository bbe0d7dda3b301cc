"""Receipts by email against a real SMTP server (aiosmtpd on 127.0.0.1): a user with an address on its account
gets one for its Email OMH and one for its Report of Death, beside the facility's contacts; a user without one
gets none, and nothing fails. The address is stored encrypted when a key is set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from adapters.bootstrap import Runtime
from adapters.persistence.rotation import reencrypt
from adapters.settings import load_settings
from domain.actor import Actor
from domain.vocabulary import Level
from tests.adapters.test_mail import CLIENT, NARRATIVE, POLICY, PROGRAM, STAFF, SUMMARY, Inbox, _environ, _free_port
from tests.conftest import L1, FakeClock
from tests.workflows.helpers import draft
from workflows.alerts import SENT

KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
NEWER_KEY = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
CASE, OTHER_CASE = "2026-000101", "2026-000102"
CONTACT, ADDRESS = "deaths@example.org", "risk.manager@example.org"
RULES = {"F-001": [{"on": ["emailed_to_omh", "report_of_death_submitted"], "to": [CONTACT]}]}
NO_ADDRESS = Actor("risk.nights", "F-001", Level(1))


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_user_with_an_address_gets_a_receipt_for_email_omh_and_for_the_report_of_death(
        database_url: str, tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    environ = _environ(database_url, port, tmp_path, RULES, NIMRS_CIPHER_KEY=KEY)
    with Runtime(load_settings(environ), clock) as runtime:
        runtime.accounts.add(L1.user_id, "F-001", 1, email=" Risk.Manager@Example.org ")
        runtime.accounts.add(NO_ADDRESS.user_id, "F-001", 1)
        service = runtime.service
        death = draft(service, CASE, code="death.suicide", serious_harm=True)
        service.email_omh(L1, death)
        clock.advance(days=1)
        service.submit_report_of_death(L1, death)
        other = draft(service, OTHER_CASE, code="death.suicide", serious_harm=True)
        service.email_omh(NO_ADDRESS, other)

        done = runtime.mail_worker(POLICY).run_once()
        with runtime.engine.connect() as connection:
            stored = connection.execute(text("SELECT user_id, email FROM nimrs_users")).all()
        assert runtime.mail_outbox.counts() == {SENT: 5}

    assert (done.routed, done.sent, done.failed) == (5, 5, 0)
    receipts = [message for recipients, message in inbox.messages if recipients == [ADDRESS]]
    assert sorted(str(message["Subject"]) for message in receipts) == [
        f"nimrs: JC case {CASE} Report of Death submitted", f"nimrs: JC case {CASE} emailed to OMH"]
    for message in receipts:
        everything = str(message["Subject"]) + message.get_content()
        assert f"/web/incidents/{death}" in everything and OTHER_CASE not in everything
        for phi in (PROGRAM, SUMMARY, CLIENT, STAFF, NARRATIVE):
            assert phi not in everything
    # The facility's contact hears of both incidents; the user without an address gets nothing, and no mail failed.
    assert inbox.to() == [CONTACT] * 3 + [ADDRESS] * 2
    contact_subjects = sorted(str(message["Subject"]) for recipients, message in inbox.messages if recipients == [CONTACT])
    assert contact_subjects == [f"nimrs: JC case {CASE} Report of Death submitted", f"nimrs: JC case {CASE} emailed to OMH",
                                f"nimrs: JC case {OTHER_CASE} emailed to OMH"]
    emails: dict[str, str | None] = {row.user_id: row.email for row in stored}
    assert emails[NO_ADDRESS.user_id] is None
    encrypted = str(emails[L1.user_id])
    assert encrypted.startswith("aesgcm:") and "example" not in encrypted.lower(), "the address is encrypted at rest"


def test_an_address_removed_from_the_account_gets_no_more_receipts(
        tmp_path: Path, clock: FakeClock, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    environ = _environ(f"sqlite:///{tmp_path}/events.db", port, tmp_path, {})
    with Runtime(load_settings(environ), clock) as runtime:
        runtime.accounts.add(L1.user_id, "F-001", 1, email=ADDRESS)
        worker = runtime.mail_worker(POLICY)
        service = runtime.service
        first = draft(service, CASE, code="death.suicide", serious_harm=True)
        service.email_omh(L1, first)
        assert worker.run_once().sent == 1
        assert runtime.accounts.change(L1.user_id, email=None).email is None
        second = draft(service, OTHER_CASE, code="death.suicide", serious_harm=True)
        service.email_omh(L1, second)
        assert worker.run_once() == (0, 0, 0), "nobody to tell"
    assert [str(message["Subject"]) for _, message in inbox.messages] == [f"nimrs: JC case {CASE} emailed to OMH"]


def test_an_address_reads_back_after_a_key_rotation_with_the_new_key_alone(tmp_path: Path, clock: FakeClock) -> None:
    url = f"sqlite:///{tmp_path}/events.db"
    with Runtime(load_settings({"NIMRS_DATABASE_URL": url, "NIMRS_CIPHER_KEY": KEY}), clock) as runtime:
        runtime.accounts.add(L1.user_id, "F-001", 1, email=ADDRESS)
    with Runtime(load_settings({"NIMRS_DATABASE_URL": url, "NIMRS_CIPHER_KEY": NEWER_KEY,
                                "NIMRS_CIPHER_OLD_KEYS": KEY}), clock) as runtime:
        assert runtime.accounts.account(L1.user_id).email == ADDRESS, "written with the older key"
        assert reencrypt(runtime.engine, runtime.cipher.reencrypt)["nimrs_users.email"] == 1
    with Runtime(load_settings({"NIMRS_DATABASE_URL": url, "NIMRS_CIPHER_KEY": NEWER_KEY}), clock) as runtime:
        assert [account.email for account in runtime.accounts.all()] == [ADDRESS]
