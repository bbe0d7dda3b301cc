"""With NIMRS_CIPHER_KEY set, no copy of patient data is stored in plain text: not the events, the views, the
webhook deliveries or the security log, on SQLite (every file, write-ahead logs included) or PostgreSQL (every
table); and nimrs reads all of it back. Without a key the same marker is found: the search is real."""

from __future__ import annotations

from base64 import b64encode
from os import urandom
from pathlib import Path

from adapters.bootstrap import Runtime
from adapters.settings import load_settings
from tests.adapters.encryption_support import (
    ADMIN,
    MARKER,
    postgres_columns_holding,
    sqlite_files_holding,
    write_every_copy,
)
from tests.conftest import L3, FakeClock

KEY = b64encode(urandom(32)).decode()


def _where_the_marker_is(runtime: Runtime, database_url: str, folder: Path) -> set[str]:
    if database_url.startswith("sqlite"):
        return sqlite_files_holding(folder, MARKER)
    return postgres_columns_holding(database_url, MARKER)


def test_with_a_key_no_database_file_or_table_holds_patient_data_in_plain_text(
        database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url, "NIMRS_CIPHER_KEY": KEY}), clock) as runtime:
        incident_id = write_every_copy(runtime)
        if database_url.startswith("sqlite"):  # the write-ahead logs are there while the process runs
            assert {"events-views.db-wal"} <= {p.name for p in tmp_path.iterdir()}
        assert _where_the_marker_is(runtime, database_url, tmp_path) == set()

        # ... and nimrs reads every copy back
        trail = runtime.reads.audit_trail(L3, incident_id=str(incident_id))
        assert MARKER in str([row["changes"] for row in trail]) and MARKER in str([row["reason"] for row in trail])
        clocks = runtime.reads.overdue(L3, status="all")["clocks"]
        assert clocks and all(row["program"] == f"Program {MARKER}" for row in clocks)
        (subscription,) = runtime.webhooks.listed(ADMIN)
        assert subscription.secret.startswith("whsec_")
        delivery = runtime.webhook_queue.head(subscription.subscription_id)
        assert delivery is not None and delivery.payload.startswith("{") and '"program":"Program ' in delivery.payload
        assert MARKER in str(runtime.security_log.entries(facility="F-001", outcome="refused"))
    assert _where_the_marker_is(runtime, database_url, tmp_path) == set()  # after the checkpoints on closing


def test_without_a_key_the_same_search_finds_the_marker_in_every_copy(
        database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url}), clock) as runtime:
        write_every_copy(runtime)
        found = _where_the_marker_is(runtime, database_url, tmp_path)
    if database_url.startswith("sqlite"):
        assert {name.split(".db")[0] for name in found} == {"events", "events-views"}
    else:
        assert {"nimrs_events.state", "view_audit_entries.changes", "view_audit_entries.reason",
                "view_audit_incidents.fields", "view_overdue_clocks.program", "view_overdue_incidents.program",
                "nimrs_webhook_deliveries.payload", "nimrs_security_log.detail"} <= found
