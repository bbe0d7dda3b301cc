"""Tamper evidence (docs/adr/0010-tamper-evidence.md): the hash chain over the stored events, its sealer,
signed checkpoints and `nimrs verify`, on a real SQLite file and a real PostgreSQL database.

The tampering is done as an attacker with database access would: raw SQL on the library's table.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from base64 import b64encode
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import text

from adapters.bootstrap import Runtime
from adapters.persistence.checkpoints import read, sign
from adapters.persistence.engines import build_engine
from adapters.persistence.event_chain import EventChain, Link
from adapters.settings import load_settings, parse_database_url
from domain.errors import ValidationFailed
from tests.adapters.test_cli import NIMRS
from tests.conftest import CHARTS_ONLY_SUITE, L2, FakeClock, stored_event_count
from tests.http.support import VPCR, Api, add_staff, eventually, live_server
from tests.workflows.helpers import received
from workflows.service import IncidentService

KEY = b64encode(b"k" * 32).decode()
AT = datetime(2026, 11, 23, 15, tzinfo=timezone.utc)


@pytest.fixture
def runtime(database_url: str) -> Iterator[Runtime]:
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url})) as built:
        yield built


@pytest.fixture
def log(service: IncidentService, runtime: Runtime) -> list[int]:
    """A sealed log of several incidents' events; their positions."""
    for number in range(12):
        service.import_report(L2, received(service, case=f"2026-0001{number:02}"))
    runtime.event_chain.seal()
    positions = [event.id for event in service.store.recorder.select_notifications(0, 10_000)]
    assert len(positions) > 20
    return positions


def sql(database_url: str, statement: str, **params: object) -> None:
    """Raw SQL on the events' database, as someone with write access to it could run."""
    is_sqlite = database_url.startswith("sqlite")
    table, position = ("stored_events", "rowid") if is_sqlite else ("nimrs_events", "notification_id")
    engine = build_engine(parse_database_url(database_url))
    try:
        with engine.begin() as connection:
            connection.execute(text(statement.format(table=table, position=position)), params)
    finally:
        engine.dispose()


def change_one_byte(database_url: str, at: int) -> None:
    engine = build_engine(parse_database_url(database_url))
    is_sqlite = database_url.startswith("sqlite")
    table, position = ("stored_events", "rowid") if is_sqlite else ("nimrs_events", "notification_id")
    try:
        with engine.begin() as connection:
            state = bytes(connection.execute(text(f"SELECT state FROM {table} WHERE {position} = :p"),
                                             {"p": at}).scalar_one())
            edited = state[:10] + bytes([state[10] ^ 0x01]) + state[11:]
            connection.execute(text(f"UPDATE {table} SET state = :s WHERE {position} = :p"), {"s": edited, "p": at})
    finally:
        engine.dispose()


def swap_payloads(database_url: str, first: int, second: int) -> None:
    sql(database_url, "UPDATE {table} SET state = CASE WHEN {position} = :a "
                      "THEN (SELECT state FROM {table} WHERE {position} = :b) "
                      "ELSE (SELECT state FROM {table} WHERE {position} = :a) END "
                      "WHERE {position} IN (:a, :b)", a=first, b=second)


def swap_positions(database_url: str, first: int, second: int) -> None:
    for old, new in ((first, -1), (second, first), (-1, second)):
        sql(database_url, "UPDATE {table} SET {position} = :new WHERE {position} = :old", old=old, new=new)


def first_break(runtime: Runtime, checkpoint: Link | None = None) -> tuple[int, str] | None:
    found = runtime.event_chain.verify(checkpoint).first_break
    return None if found is None else (found.position, found.kind)


# -- the chain ------------------------------------------------------------------------------------

def test_an_untouched_log_verifies(service: IncidentService, runtime: Runtime, log: list[int]) -> None:
    verdict = runtime.event_chain.verify()
    assert verdict.ok and verdict.first_break is None
    assert (verdict.checked, verdict.sealed_through, verdict.unsealed) == (len(log), log[-1], 0)
    received(service, case="2026-000999")  # written after the last seal: not sealed yet, and no finding
    later = runtime.event_chain.verify()
    assert later.ok and later.unsealed == 1
    assert runtime.event_chain.seal() == 1 and runtime.event_chain.verify().unsealed == 0


def test_one_changed_byte_is_named_by_its_position(database_url: str, runtime: Runtime, log: list[int]) -> None:
    target = log[len(log) // 2]
    change_one_byte(database_url, target)
    assert first_break(runtime) == (target, "changed")


def test_a_deleted_event_is_named_by_its_position(database_url: str, runtime: Runtime, log: list[int]) -> None:
    target = log[7]
    sql(database_url, "DELETE FROM {table} WHERE {position} = :p", p=target)
    assert first_break(runtime) == (target, "missing")


def test_the_last_event_deleted_is_named_too(database_url: str, runtime: Runtime, log: list[int]) -> None:
    sql(database_url, "DELETE FROM {table} WHERE {position} = :p", p=log[-1])
    assert first_break(runtime) == (log[-1], "missing")


@pytest.mark.parametrize("swap", [swap_payloads, swap_positions], ids=["payloads", "positions"])
def test_two_reordered_events_are_named_by_the_first(database_url: str, runtime: Runtime, log: list[int],
                                                     swap) -> None:  # type: ignore[no-untyped-def]
    first, second = log[5], log[12]
    swap(database_url, first, second)
    assert first_break(runtime) == (first, "changed")


def test_an_edited_link_in_the_chain_table_is_named(database_url: str, runtime: Runtime, log: list[int]) -> None:
    sql(database_url, "UPDATE nimrs_event_chain SET hash = :h WHERE position = :p", h="0" * 64, p=log[9])
    assert first_break(runtime) == (log[9], "changed")


def test_the_chain_holds_with_encryption_and_after_the_key_is_shredded(database_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    encrypted = {"NIMRS_DATABASE_URL": database_url, "NIMRS_CIPHER_KEY": b64encode(b"c" * 32).decode(),
                 **CHARTS_ONLY_SUITE}  # two events per incident
    with Runtime(load_settings(encrypted), clock) as runtime:
        for number in range(3):
            runtime.service.import_report(L2, received(runtime.service, case=f"2026-00020{number}"))
        assert runtime.event_chain.seal() == 6
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url})) as keyless:  # the key is gone
        verdict = keyless.event_chain.verify()
        assert verdict.ok and verdict.checked > 5
        position = verdict.sealed_through
    change_one_byte(database_url, position)
    with Runtime(load_settings({"NIMRS_DATABASE_URL": database_url})) as keyless:
        assert first_break(keyless) == (position, "changed")


def test_a_rolled_back_insert_leaves_a_gap_that_is_no_finding(postgres_url: str, clock) -> None:  # type: ignore[no-untyped-def]
    with Runtime(load_settings({"NIMRS_DATABASE_URL": postgres_url, **CHARTS_ONLY_SUITE}), clock) as runtime:
        received(runtime.service, case="2026-000001")  # one event each
        sql(postgres_url, "SELECT nextval('nimrs_events_notification_id_seq')")  # an id used and rolled back
        received(runtime.service, case="2026-000002")
        runtime.event_chain.seal()
        positions = [event.id for event in runtime.store.recorder.select_notifications(0, 10)]
        assert positions[1] - positions[0] == 2
        assert runtime.event_chain.verify().ok
        gap = positions[0] + 1  # an event slipped in there afterwards was never sealed, though later ones were
        sql(postgres_url, "INSERT INTO {table} (notification_id, originator_id, originator_version, topic, state) "
                          "SELECT :gap, originator_id, originator_version + 100, topic, state FROM {table} "
                          "WHERE notification_id = :first", gap=gap, first=positions[0])
        assert first_break(runtime) == (gap, "unsealed")


# -- checkpoints ----------------------------------------------------------------------------------

def test_a_rewritten_chain_is_caught_by_a_checkpoint_exported_before(database_url: str, runtime: Runtime,
                                                                     log: list[int]) -> None:
    head = runtime.event_chain.head()
    assert head is not None
    checkpoint = read(json.dumps(sign(head, KEY.encode(), AT)), KEY.encode())
    assert first_break(runtime, checkpoint) is None
    target = log[4]
    change_one_byte(database_url, target)
    sql(database_url, "DELETE FROM nimrs_event_chain")  # the attacker recomputes the chain over the rewrite
    runtime.event_chain.seal()
    assert runtime.event_chain.verify().ok  # the chain alone cannot tell...
    assert first_break(runtime, checkpoint) == (checkpoint.position, "checkpoint")  # ...the checkpoint can


def test_a_log_cut_short_before_a_checkpoint_is_caught(database_url: str, runtime: Runtime, log: list[int]) -> None:
    head = runtime.event_chain.head()
    assert head is not None
    checkpoint = Link(head.position, head.hash)
    for position in log[-3:]:
        sql(database_url, "DELETE FROM {table} WHERE {position} = :p", p=position)
        sql(database_url, "DELETE FROM nimrs_event_chain WHERE position = :p", p=position)
    assert runtime.event_chain.verify().ok
    assert first_break(runtime, checkpoint) == (log[-1], "checkpoint")


def test_a_checkpoint_altered_or_signed_with_another_key_is_refused() -> None:
    document = sign(Link(42, "ab" * 32), KEY.encode(), AT)
    assert read(json.dumps(document), KEY.encode()) == Link(42, "ab" * 32)
    with pytest.raises(ValidationFailed, match="signature does not match"):
        read(json.dumps({**document, "position": 41}), KEY.encode())
    with pytest.raises(ValidationFailed, match="signature does not match"):
        read(json.dumps(document), b"another key, 16+ bytes")
    with pytest.raises(ValidationFailed, match="not JSON"):
        read("{", KEY.encode())
    with pytest.raises(ValidationFailed, match="lacks"):
        read(json.dumps({**document, "hash": "xyz"}), KEY.encode())


def test_a_short_checkpoint_key_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed, match="NIMRS_CHECKPOINT_KEY must be base64 of at least 16"):
        load_settings({"NIMRS_CHECKPOINT_KEY": b64encode(b"short").decode()})


# -- the sealer -----------------------------------------------------------------------------------

def test_the_sealer_stays_within_a_second_of_the_writers(database_url: str, service: IncidentService,
                                                         runtime: Runtime) -> None:
    chain = runtime.event_chain
    stop = threading.Event()
    # As in a server (adapters/http/app.py): on SQLite, writers and the sealer take turns at the write lock.
    writing = threading.Lock() if database_url.startswith("sqlite") else nullcontext()
    sealer = threading.Thread(target=chain.follow, args=(stop,), kwargs={"turn": lambda: writing}, daemon=True)
    written: list[tuple[int, float]] = []  # (position, when its transaction committed)
    observed: list[tuple[int, float]] = []  # (sealed through, when seen)

    def observe() -> None:
        while not stop.is_set():
            head = chain.head()
            observed.append((head.position if head else 0, time.monotonic()))
            time.sleep(0.02)

    observer = threading.Thread(target=observe, daemon=True)
    sealer.start()
    observer.start()
    try:
        deadline = time.monotonic() + 2.5
        number = 0
        while time.monotonic() < deadline:
            with writing:
                received(service, case=f"2026-L{number:05}")
            written.append((service.store.recorder.max_notification_id() or 0, time.monotonic()))
            number += 1
        time.sleep(1.2)
    finally:
        stop.set()
        sealer.join(timeout=10)
        observer.join(timeout=10)
    assert len(written) > 50
    lags = []
    for position, at in written:
        sealed_at = next(when for through, when in observed if through >= position and when >= at)
        lags.append(sealed_at - at)
    assert max(lags) < 1.0, f"the sealer lagged {max(lags):.2f} s"
    assert chain.verify().ok and chain.verify().unsealed == 0


def sealed_through(chain: EventChain, position: int) -> bool:
    head = chain.head()
    return head is not None and head.position >= position


def test_a_running_server_seals_its_writes_within_a_second(database_url: str) -> None:
    clock = FakeClock(datetime(2026, 11, 20, 15, tzinfo=timezone.utc))  # just after the sample report was made
    add_staff(database_url, clock)
    with live_server(database_url, clock, run_projector=False) as base_url, \
            Runtime(load_settings({"NIMRS_DATABASE_URL": database_url})) as runtime:
        api = Api(base_url)
        try:
            for number in range(5):
                report = {**VPCR, "jc_case_number": f"2026-0155{number:02}"}
                response = api("l2").post("/vpcr-reports", json=report)
                assert response.status_code == 201, response.text
                written, position = time.monotonic(), runtime.store.recorder.max_notification_id() or 0
                eventually(partial(sealed_through, runtime.event_chain, position), timeout=5)
                assert time.monotonic() - written < 1.0
        finally:
            api.close()
        assert runtime.event_chain.verify().ok


def test_rival_sealers_make_one_chain(database_url: str, service: IncidentService) -> None:
    settings = load_settings({"NIMRS_DATABASE_URL": database_url})
    with Runtime(settings) as one, Runtime(settings) as other:
        chains = [EventChain(one.engine, one.store.recorder, page=7), EventChain(other.engine, other.store.recorder, page=7)]
        stop = threading.Event()
        sealers = [threading.Thread(target=chain.follow, args=(stop, 0.01), daemon=True) for chain in chains]
        for sealer in sealers:
            sealer.start()
        for number in range(60):
            received(service, case=f"2026-R{number:05}")
        time.sleep(0.5)
        stop.set()
        for sealer in sealers:
            sealer.join(timeout=10)
        chains[0].seal()
        verdict = chains[0].verify()
        assert verdict.ok and verdict.checked == stored_event_count(service) == 60 and verdict.unsealed == 0


# -- the command line -----------------------------------------------------------------------------

def run(*args: str, url: str, key: str | None = KEY) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NIMRS_DATABASE_URL": url, "COLUMNS": "200"}
    env.pop("NIMRS_CHECKPOINT_KEY", None)
    if key:
        env["NIMRS_CHECKPOINT_KEY"] = key
    return subprocess.run([NIMRS, *args], capture_output=True, text=True, env=env, timeout=120)


def test_nimrs_verify_names_the_position_and_exits_8(database_url: str, log: list[int], tmp_path: Path) -> None:
    fine = run("verify", url=database_url)
    assert fine.returncode == 0 and "the log verifies" in fine.stdout, fine.stderr
    exported = run("checkpoint", "export", url=database_url)
    assert exported.returncode == 0, exported.stderr
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_text(exported.stdout)
    assert json.loads(exported.stdout)["position"] == log[-1]
    assert run("verify", "--from-checkpoint", str(checkpoint), url=database_url).returncode == 0

    target = log[3]
    change_one_byte(database_url, target)
    broken = run("verify", url=database_url)
    assert broken.returncode == 8 and f"position {target}" in broken.stderr
    as_json = run("verify", "--json", url=database_url)
    assert as_json.returncode == 8
    assert json.loads(as_json.stdout)["first_break"]["position"] == target
    refused = run("checkpoint", "export", url=database_url)
    assert refused.returncode == 8 and f"position {target}" in refused.stderr and not refused.stdout

    wrong_key = run("verify", "--from-checkpoint", str(checkpoint), url=database_url, key=b64encode(b"x" * 32).decode())
    assert wrong_key.returncode == 3 and "signature does not match" in wrong_key.stderr
    no_key = run("checkpoint", "export", url=database_url, key=None)
    assert no_key.returncode == 3 and "NIMRS_CHECKPOINT_KEY is not set" in no_key.stderr


def test_cli_commands_seal_what_they_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    made = run("generate", "--incidents", "5", "--facilities", "1", "--json", url=url)
    assert made.returncode == 0, made.stderr
    verdict = json.loads(run("verify", "--json", url=url).stdout)
    assert verdict["ok"] and verdict["unsealed_events"] == 0 and verdict["checked_events"] == json.loads(made.stdout)["events"]
    sealed = json.loads(run("seal", "--json", url=url).stdout)
    assert sealed == {"sealed_events": 0, "sealed_through": verdict["sealed_through"]}
