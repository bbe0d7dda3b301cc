"""Persistence on a real SQLite file and a real PostgreSQL database (each test gets a fresh one)."""

from base64 import b64encode
from datetime import timedelta

import pytest

from adapters.bootstrap import open_service
from adapters.persistence.event_store import event_store_env
from adapters.settings import load_settings
from adapters.tooling.samples import vpcr_report
from domain.errors import Conflict, StoredEventsUnreadable, TransitionRefused, ValidationFailed
from domain.lifecycle import State
from tests.conftest import L1, L2, stored_event_count
from tests.workflows.helpers import draft
from workflows.service import MAX_BULK_REPORTS


def reopen_store(database_url: str, clock, **extra: str):  # type: ignore[no-untyped-def]
    return open_service(load_settings({"NIMRS_DATABASE_URL": database_url, **extra}), clock)


def test_an_incident_survives_a_restart_with_its_history(service, database_url, clock) -> None:
    iid = draft(service, code="death.suicide", serious_harm=True)
    service.email_omh(L1, iid)
    clock.advance(days=1)
    service.submit_report_of_death(L1, iid)
    expected = service.load(iid)
    service.store.close()

    again = reopen_store(database_url, clock)
    try:
        loaded = again.load(iid)
        assert loaded.state == State.REPORT_OF_DEATH_SUBMITTED
        assert loaded.details == expected.details
        assert loaded.deadlines == expected.deadlines
        assert loaded.report_of_death_submitted_at == expected.report_of_death_submitted_at
        assert [e.actor["user_id"] for e in again.history(L1, iid)][-2:] == ["risk", "risk"]
        as_imported = again.incident(L1, iid, version=2)
        assert as_imported.state == State.DRAFT and "clients" not in as_imported.details
    finally:
        again.store.close()


def test_refused_commands_leave_the_store_unchanged(service) -> None:
    iid = draft(service)
    before = stored_event_count(service)
    with pytest.raises(TransitionRefused):
        service.close(L1, iid)
    with pytest.raises(ValidationFailed):
        service.record_details(L2, iid, "clients", {"clients": [{"client_id": "C1", "age": "old"}]})
    assert stored_event_count(service) == before


def test_bulk_receive_is_one_transaction_and_idempotent(service, clock) -> None:
    reports = [vpcr_report(f"2026-B{n:05}", clock() - timedelta(hours=n)) for n in range(300)]
    first = service.receive_vpcr_reports(L2, reports[:100])
    assert len(first.received) == 100
    second = service.receive_vpcr_reports(L2, reports)
    assert (len(second.received), len(second.duplicates)) == (200, 100)
    assert stored_event_count(service) == 300
    clash = [vpcr_report("2026-B99999", clock()), vpcr_report("2026-B00001", clock(), summary="changed")]
    with pytest.raises(Conflict):
        service.receive_vpcr_reports(L2, clash)
    assert stored_event_count(service) == 300


def test_a_concurrent_writer_loses_cleanly(service, database_url, clock) -> None:
    iid = draft(service)
    other = reopen_store(database_url, clock)
    try:
        stale = other.load(iid)
        service.record_details(L2, iid, "narrative", {"narrative": "First writer"})
        stale.record_details(L2, clock(), "narrative", {"narrative": "Second writer"})
        before = stored_event_count(service)
        with pytest.raises(Conflict, match="changed by someone else"):
            other._save(stale)
        assert stored_event_count(service) == before
        assert service.load(iid).details["narrative"] == "First writer"
    finally:
        other.store.close()


def test_event_payloads_can_be_encrypted_at_rest(database_url, clock) -> None:
    key = b64encode(b"k" * 32).decode()
    encrypted = reopen_store(database_url, clock, NIMRS_CIPHER_KEY=key)
    try:
        iid = draft(encrypted)
        raw = b"".join(n.state for n in encrypted.store.recorder.select_notifications(0, 100))
        assert b"Reported to the JC" not in raw and b"C-1042" not in raw
        assert encrypted.load(iid).details["clients"][0]["client_id"] == "C-1042"
    finally:
        encrypted.store.close()
    plain = reopen_store(database_url, clock)
    try:
        with pytest.raises(StoredEventsUnreadable, match="NIMRS_CIPHER_KEY"):
            plain.load(iid)
    finally:
        plain.store.close()


def test_other_applications_in_the_same_postgres_database_keep_their_own_events(postgres_url, clock) -> None:
    """Regression: with the library's DB functions on, the last app started took every app's inserts."""
    from adapters.tooling.bench import Baseline, Tally

    settings = load_settings({"NIMRS_DATABASE_URL": postgres_url})
    incidents = open_service(settings, clock)
    other = Baseline(env=event_store_env(settings))
    try:
        iid = draft(incidents)
        other.save(Tally())
        assert incidents.load(iid).state == State.DRAFT
        assert {n.topic.split(".")[0] for n in incidents.store.recorder.select_notifications(0, 100)} == {"nimrs"}
        assert len(other.recorder.select_notifications(0, 100)) == 1
    finally:
        incidents.store.close()
        other.close()


def test_a_full_delivery_of_reports_saves_in_one_transaction_on_both_stores(database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    """A thousand reports, each starting Part 524's clocks, in one save: on PostgreSQL a much larger one could hang
    psycopg's pipeline for good (workflows.service.MAX_BULK_REPORTS)."""
    service = reopen_store(database_url, clock, NIMRS_OBLIGATIONS_DEFAULT="part524@1")
    try:
        reports = [vpcr_report(f"2026-{n:06}", clock(), summary="A long summary. " * 40) for n in range(MAX_BULK_REPORTS)]
        assert len(service.receive_vpcr_reports(L2, reports).received) == MAX_BULK_REPORTS
        assert len(service.load(reports[-1].incident_id).deadlines) == 2
    finally:
        service.store.close()
