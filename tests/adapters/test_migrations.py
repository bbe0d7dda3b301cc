"""Schema migrations: a database made by release 0.1.0 upgrades to head with its data intact, a new one is
built from the migrations alone, and either way the schema is exactly what the code's tables describe."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

from adapters.persistence.migrate import DATABASES, alembic_head, upgrade

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
AT = datetime(2026, 5, 1, 12, tzinfo=timezone.utc)
ROWS = {  # one row of every table 0.1.0 kept beside the events, and a read model's position
    "nimrs_users": {"user_id": "risk.F-001", "facility": "F-001", "level": 1, "security_admin": True,
                    "state_reviewer": False, "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                    "failed_attempts": 2, "locked_out": False, "last_active_at": AT, "last_sign_in_at": AT},
    "nimrs_tokens": {"token_hash": "ab" * 32, "user_id": "risk.F-001", "issued_at": AT, "expires_at": AT},
    "nimrs_security_log": {"at": AT, "user_id": "risk.F-001", "facility": "F-001", "level": 1, "action": "sign_in",
                           "target": "risk.F-001", "outcome": "done", "status": None, "detail": None},
    "nimrs_webhook_subscriptions": {"subscription_id": "sub-1", "owner": "risk.F-001", "owner_facility": "F-001",
                                    "facility": "F-001", "url": "http://127.0.0.1:9/hook", "types": "",
                                    "secret": "whsec_x", "cursor": 7, "active": True, "created_at": AT},
    "nimrs_webhook_deliveries": {"subscription_id": "sub-1", "position": 7, "message_id": "m/1", "type": "t",
                                 "payload": "{}", "status": "pending", "attempts": 0, "next_attempt_at": AT,
                                 "last_error": None, "delivered_at": None},
    "projection_positions": {"view": "audit", "position": 1234, "last_event_at": AT},
}


def _engine(url: str) -> Engine:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))


def _release_0_1_0_database(engine: Engine) -> None:
    """The tables as 0.1.0 created them (its DDL, compiled from its own tables), with a row in each."""
    ddl = (FIXTURES / f"schema-0.1.0.{engine.dialect.name}.sql").read_text()
    with engine.begin() as connection:
        for statement in ddl.split(";"):
            body = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
            if body:
                connection.exec_driver_sql(body)
        for table, row in ROWS.items():
            columns = ", ".join(f'"{name}"' for name in row)
            connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + n for n in row)})"), row)


def _differences(connection: Connection, name: str) -> list[object]:
    database = DATABASES[name]
    context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": database.owns})
    return list(compare_metadata(context, database.metadata))


def test_a_release_0_1_0_database_upgrades_to_head_with_its_data_intact(database_url: str) -> None:
    engine = _engine(database_url)
    try:
        _release_0_1_0_database(engine)
        assert [upgrade(engine, name) for name in DATABASES] == [d.head for d in DATABASES.values()]
        with engine.connect() as connection:
            for table, row in ROWS.items():
                stored = dict(connection.execute(text(f"SELECT * FROM {table}")).mappings().one())
                for column, value in row.items():
                    found = stored[column]
                    if isinstance(value, datetime) and isinstance(found, str):  # SQLite keeps text
                        found = datetime.fromisoformat(found).replace(tzinfo=timezone.utc)
                    if isinstance(value, datetime) and found.tzinfo is None:
                        found = found.replace(tzinfo=timezone.utc)
                    assert found == value, f"{table}.{column}"
            assert [_differences(connection, name) for name in DATABASES] == [[], []]
            # views migration 0005 changed the overdue, board and list tables: they rebuild from position 0
            assert connection.execute(text("SELECT view FROM projection_positions")).scalars().all() == ["audit"]
        assert [upgrade(engine, name) for name in DATABASES] == [d.head for d in DATABASES.values()], \
            "a second upgrade changes nothing"
    finally:
        engine.dispose()


def test_a_new_database_is_built_by_the_migrations_alone(database_url: str) -> None:
    engine = _engine(database_url)
    try:
        for name in DATABASES:
            upgrade(engine, name)
        with engine.connect() as connection:
            assert [_differences(connection, name) for name in DATABASES] == [[], []]
            tables = set(inspect(connection).get_table_names())
        assert {"nimrs_users", "nimrs_schema_version", "view_schema_version", "view_overdue_clocks"} <= tables
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_processes_starting_together_migrate_once(postgres_url: str) -> None:
    """Several server workers start at once against one PostgreSQL database: the advisory lock serialises them."""
    engines = [_engine(postgres_url) for _ in range(4)]
    outcomes: list[object] = []

    def start(engine: Engine) -> None:
        try:
            outcomes.append(upgrade(engine, "events"))
        except Exception as error:  # noqa: BLE001 - the test reports whatever a racing upgrade raised
            outcomes.append(error)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for engine in engines:
        engine.dispose()
    assert outcomes == [DATABASES["events"].head] * 4


def test_the_heads_the_code_names_are_the_newest_revisions() -> None:
    """``Database.head`` lets a process skip Alembic when nothing is to do: it must name the real head."""
    assert {name: database.head for name, database in DATABASES.items()} == \
        {name: alembic_head(database) for name, database in DATABASES.items()}


def test_only_migrations_create_tables() -> None:
    """``create_all`` and hand-written schema changes stay out of the code: the migrations own the schema.
    (A rebuild moves whole tables it built from the same definitions: ``projection_runner/staging.py``. The
    benchmark's CRUD peer is not nimrs: it makes its own tables in the benchmark's throwaway database.)"""
    root = Path(__file__).resolve().parents[2]
    not_nimrs = root / "adapters" / "tooling" / "crud_peer.py"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("domain", "workflows", "projections", "adapters")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts and path != not_nimrs
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if "create_all(" in line or re.search(r"ALTER TABLE \S+ (ADD|DROP|ALTER|RENAME)", line.upper())
    ]
    assert offenders == []
