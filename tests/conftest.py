"""Fixtures: an injected clock, and real stores (a SQLite file; a fresh PostgreSQL database per test)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from adapters.storage import open_service, store_config
from domain.actor import Actor
from domain.vocabulary import Level
from workflows.service import IncidentService

POSTGRES_ADMIN_URL = os.environ.get("NIMRS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ON_CI = os.environ.get("CI", "").lower() == "true"


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc))


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A database created for the caller and dropped after it."""
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if ON_CI:
            pytest.fail(f"PostgreSQL is required on CI and is unreachable at {POSTGRES_ADMIN_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL} (runs on CI)")
    name = f"nimrs_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(POSTGRES_ADMIN_URL)
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A database created for this test and dropped after it."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture
def second_database_url(database_url: str, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Another empty database of the same kind (e.g. to rebuild views into and compare)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path}/second.db"
        return
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/events.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def service(database_url: str, clock: FakeClock) -> Iterator[IncidentService]:
    app = open_service(store_config({"NIMRS_DATABASE_URL": database_url}), clock)
    yield app
    app.close()


@pytest.fixture
def memory_service(clock: FakeClock) -> IncidentService:
    return IncidentService(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=clock)


def actor(name: str, level: int, facility: str = "F-001") -> Actor:
    return Actor(name, facility, Level(level))


L1 = actor("risk", 1)
L2 = actor("clinical", 2)
L3 = actor("analyst", 3)
OTHER_L1 = actor("elsewhere", 1, "F-002")


def stored_event_count(service: IncidentService) -> int:
    """Events actually stored (PostgreSQL sequences leave gaps after a rolled-back insert)."""
    return len(service.recorder.select_notifications(0, 1_000_000))
