"""An incident with a marker in every free-text field, and every copy of it nimrs keeps; where the marker is stored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from uuid import UUID

import psycopg

from adapters.bootstrap import Runtime
from adapters.tooling.samples import vpcr_report
from domain.actor import Actor
from domain.vocabulary import Level
from tests.conftest import L1, L2
from workflows.accounts import Principal

MARKER = "QZXJ7-patient-marker"
ADMIN = Principal(Actor("admin", "F-001", Level(3)), security_admin=True)


def screens(runtime: Runtime, marker: str) -> list[tuple[str, dict[str, object]]]:
    """Every screen of domain/details.py, each free-text field carrying the marker."""
    occurred = runtime.clock() - timedelta(days=1, hours=2)
    return [
        ("incident", {"occurred_at": occurred.isoformat(), "location": f"Room {marker}",
                      "on_premises_or_supervised": True, "discovered_at": (occurred + timedelta(minutes=5)).isoformat()}),
        ("clients", {"clients": [{"client_id": f"C-{marker}", "age": 34, "role": f"subject {marker}"}]}),
        ("staff", {"staff_involved": [f"S-{marker}"], "witnesses": [f"W-{marker}"]}),
        ("narrative", {"narrative": f"Narrative {marker}", "immediate_actions": f"Actions {marker}"}),
        ("notifications", {"notifications_made": [
            {"party": f"family {marker}", "notified_at": (occurred + timedelta(hours=1)).isoformat()}]}),
        ("severity", {"harm_rating": 1, "risk_rating": 2, "serious_harm": False}),
    ]


def write_every_copy(runtime: Runtime, case: str = "2026-000101", marker: str = MARKER) -> UUID:
    """The marker in every free-text field, through the whole workflow; the views projected, a webhook delivery
    queued, and a refusal that echoes it in the security log."""
    service = runtime.service
    report = vpcr_report(case, runtime.clock() - timedelta(days=1), program=f"Program {marker}",
                         summary=f"Summary {marker}")
    incident_id = service.receive_vpcr_report(L2, report)[0]
    service.import_report(L2, incident_id)
    for screen, fields in screens(runtime, marker):
        service.record_details(L2, incident_id, screen, fields)
    service.email_omh(L1, incident_id)
    # the notification ledger (Part 524, the default): a qualified person's name and contacts, a note
    service.record_notice_recipient(L2, incident_id, {
        "recipient_id": "qp-1", "role": "qualified_person", "name": f"Parent {marker}", "relationship": f"mother {marker}",
        "contacts": {"phone": f"555 {marker}"}})
    service.record_notification(L2, incident_id, {
        "recipient_id": "qp-1", "notified_at": runtime.clock().isoformat(), "method": "phone", "outcome": "reached",
        "note": f"Note {marker}"})
    service.start_investigation(L2, incident_id)
    service.document_findings(L2, incident_id, f"Findings {marker}")
    service.close(L1, incident_id)
    service.reopen(L1, incident_id, f"Reopened {marker}")
    service.amend(L1, incident_id, "narrative", {"narrative": f"Amended {marker}"}, f"Amendment reason {marker}")
    subscription = runtime.webhooks.subscribe(ADMIN, "https://receiver.example.com/hook", None, 0)
    assert runtime.webhook_worker().fan_out(subscription) > 0
    runtime.security_log.refused(runtime.clock(), L2, "POST /incidents", None, 422,
                                 f"summary {marker!r} is not valid")
    runtime.projector.catch_up()
    return incident_id


def sqlite_files_holding(folder: Path, marker: str) -> set[str]:
    """The database files (main files and their -wal / -shm) whose bytes hold the marker."""
    return {path.name for path in folder.iterdir() if ".db" in path.name and marker.encode() in path.read_bytes()}


def postgres_columns_holding(url: str, marker: str) -> set[str]:
    """Every column of every table of the database, as text (bytes as bytes), that holds the marker."""
    found = set()
    with psycopg.connect(url, autocommit=True) as connection:
        columns = connection.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')").fetchall()
        for schema, table, column, kind in columns:
            name = f'"{schema}"."{table}"'
            test = ("position(convert_to(%s, 'UTF8') in \"{c}\") > 0" if kind == "bytea"
                    else "\"{c}\"::text LIKE '%%' || %s || '%%'").format(c=column)
            if connection.execute(f"SELECT 1 FROM {name} WHERE {test} LIMIT 1", (marker,)).fetchone():
                found.add(f"{table}.{column}")
    return found
