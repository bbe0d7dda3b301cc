"""Key rotation: the event log stays readable with the old and new keys together; ``nimrs keys rotate`` moves
everything else (webhook secrets and payloads, security log details, the views) to the new key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from base64 import b64encode
from os import urandom
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.bootstrap import Runtime
from adapters.persistence.cipher import ColumnCipher
from adapters.persistence.schema import deliveries, security_log, subscriptions
from adapters.settings import load_settings
from domain.errors import StoredEventsUnreadable, ValidationFailed
from tests.adapters.encryption_support import ADMIN, MARKER, postgres_columns_holding, sqlite_files_holding, write_every_copy
from tests.conftest import L1, L3, FakeClock

OLD, NEW = (b64encode(urandom(32)).decode() for _ in range(2))
SECOND = "QZXJ7-second-marker"


def _runtime(database_url: str, clock: FakeClock, key: str, *old: str) -> Runtime:
    environ = {"NIMRS_DATABASE_URL": database_url, "NIMRS_CIPHER_KEY": key}
    if old:
        environ["NIMRS_CIPHER_OLD_KEYS"] = ",".join(old)
    return Runtime(load_settings(environ), clock)


def _stored(runtime: Runtime) -> list[str]:
    """The encrypted columns beside the events, as stored."""
    with runtime.engine.connect() as connection:
        return [*connection.execute(select(subscriptions.c.secret)).scalars(),
                *connection.execute(select(deliveries.c.payload)).scalars(),
                *connection.execute(select(security_log.c.detail).where(security_log.c.detail.is_not(None))).scalars()]


def test_after_a_rotation_the_log_reads_with_both_keys_and_the_rest_with_the_new_key_alone(
        database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    with _runtime(database_url, clock, OLD) as runtime:
        incident_id = write_every_copy(runtime)
        events_before = len(runtime.service.history(L3, incident_id))

    # Every process restarts with the new key, the old one kept readable: old and new events side by side.
    with _runtime(database_url, clock, NEW, OLD) as runtime:
        runtime.service.amend(L1, incident_id, "narrative", {"narrative": f"Later {SECOND}"}, f"Because {SECOND}")
        assert len(runtime.service.history(L3, incident_id)) == events_before + 1
        (subscription,) = runtime.webhooks.listed(ADMIN)
        assert runtime.webhook_worker().fan_out(subscription) == 1
        runtime.projector.catch_up()
        trail = runtime.reads.audit_trail(L3, incident_id=str(incident_id))
        assert MARKER in str(trail[0]["changes"]) and SECOND in str(trail[-1]["changes"])

    env = {**os.environ, "NIMRS_DATABASE_URL": database_url, "NIMRS_CIPHER_KEY": NEW, "NIMRS_CIPHER_OLD_KEYS": OLD}
    rotated = subprocess.run([str(Path(sys.executable).parent / "nimrs"), "keys", "rotate", "--json"], env=env,
                             capture_output=True, text=True, timeout=300)
    assert rotated.returncode == 0, rotated.stderr
    result = json.loads(rotated.stdout)
    assert result["reencrypted"]["nimrs_webhook_subscriptions.secret"] == 1
    assert result["reencrypted"]["nimrs_webhook_deliveries.payload"] == events_before + 1
    assert result["reencrypted"]["nimrs_security_log.detail"] >= 1
    assert result["events"] >= events_before + 1

    with _runtime(database_url, clock, NEW) as runtime:  # the new key alone
        (subscription,) = runtime.webhooks.listed(ADMIN)
        assert subscription.secret.startswith("whsec_")
        head = runtime.webhook_queue.head(subscription.subscription_id)
        assert head is not None and MARKER in head.payload
        assert MARKER in str(runtime.security_log.entries(facility="F-001"))
        trail = runtime.reads.audit_trail(L3, incident_id=str(incident_id))  # the views, rebuilt with the new key
        assert MARKER in str(trail[0]["changes"]) and SECOND in str(trail[-1]["reason"])
        stored = _stored(runtime)
        with pytest.raises(StoredEventsUnreadable):  # the events were not rewritten: the old key still reads them
            runtime.service.history(L3, incident_id)
    assert stored and all(ColumnCipher([NEW]).decrypt(value) for value in stored)
    for value in stored:
        with pytest.raises(StoredEventsUnreadable):  # really re-encrypted: the old key no longer reads them
            ColumnCipher([OLD]).decrypt(value)
    for marker in (MARKER, SECOND):
        holding = (sqlite_files_holding(tmp_path, marker) if database_url.startswith("sqlite")
                   else postgres_columns_holding(database_url, marker))
        assert holding == set()


def test_rotating_without_a_key_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "NIMRS_DATABASE_URL": f"sqlite:///{tmp_path}/events.db"}
    env.pop("NIMRS_CIPHER_KEY", None)
    refused = subprocess.run([str(Path(sys.executable).parent / "nimrs"), "keys", "rotate"], env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3 and "NIMRS_CIPHER_KEY is not set" in refused.stderr
    assert not (tmp_path / "events.db").exists()


@pytest.mark.parametrize(("environ", "problem"), [
    ({"NIMRS_CIPHER_OLD_KEYS": OLD}, "NIMRS_CIPHER_OLD_KEYS needs NIMRS_CIPHER_KEY"),
    ({"NIMRS_CIPHER_KEY": NEW, "NIMRS_CIPHER_OLD_KEYS": f"{OLD},not-a-key"}, "NIMRS_CIPHER_OLD_KEYS must be"),
])
def test_old_keys_must_be_keys_and_come_with_a_new_one(environ: dict[str, str], problem: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        load_settings(environ)
    assert refused.value.message.startswith(problem) and OLD not in str(refused.value)
