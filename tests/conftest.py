"""Fixtures: an injected clock, and real stores (a SQLite file; a fresh PostgreSQL database per test).

Also marks the slow tests, so `pytest -m "not slow"` (as in `make test-fast`) leaves them out.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from adapters.bootstrap import open_service
from adapters.settings import load_settings as store_config
from domain.actor import Actor
from domain.vocabulary import Level
from workflows.service import IncidentService
from workflows.store import IncidentStore

# The suite's scenarios of the workflow were written for the charts' two clocks (charts@1, release 0.1.0); the tests
# of Part 524's obligations pin part524@1 themselves. Servers and CLI processes the tests start inherit this.
CHARTS_ONLY_SUITE = {"NIMRS_OBLIGATIONS_DEFAULT": "charts@1"}
os.environ.update(CHARTS_ONLY_SUITE)
POSTGRES_ADMIN_URL = os.environ.get("NIMRS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ON_CI = os.environ.get("CI", "").lower() == "true"


TESTS = Path(__file__).resolve().parent
# Folders and modules whose every test starts a server or a process, or runs a benchmark.
SLOW_PLACES = (TESTS / "http", TESTS / "projections", TESTS / "adapters" / "test_docs_run.py",
               TESTS / "adapters" / "test_bench.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` on tests that start servers or processes, or use PostgreSQL; `postgres` on the latter."""
    for item in items:
        path = Path(str(item.path)).resolve()
        params = getattr(getattr(item, "callspec", None), "params", {})
        on_postgres = "postgres" in (params.get("database_url"), params.get("site")) \
            or "postgres_url" in getattr(item, "fixturenames", ())
        if on_postgres:
            item.add_marker(pytest.mark.postgres)
        if on_postgres or any(path == place or place in path.parents for place in SLOW_PLACES):
            item.add_marker(pytest.mark.slow)


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
    app = open_service(store_config({"NIMRS_DATABASE_URL": database_url, **CHARTS_ONLY_SUITE}), clock)
    yield app
    app.store.close()


@pytest.fixture
def memory_service(clock: FakeClock) -> IncidentService:
    return IncidentService(IncidentStore(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}), clock)


def actor(name: str, level: int, facility: str = "F-001") -> Actor:
    return Actor(name, facility, Level(level))


L1 = actor("risk", 1)
L2 = actor("clinical", 2)
L3 = actor("analyst", 3)
OTHER_L1 = actor("elsewhere", 1, "F-002")


def stored_event_count(service: IncidentService) -> int:
    """Events actually stored (PostgreSQL sequences leave gaps after a rolled-back insert)."""
    return len(service.store.recorder.select_notifications(0, 1_000_000))
