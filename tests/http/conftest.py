"""Fixtures for the HTTP tests: staff users, a live server on each store, signed-in clients."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

from tests.conftest import FakeClock
from tests.http.support import Api, add_staff, live_server


@pytest.fixture
def api(database_url: str, clock: FakeClock) -> Iterator[Api]:
    add_staff(database_url, clock)
    with live_server(database_url, clock) as base_url:
        client = Api(base_url)
        yield client
        client.close()


@pytest.fixture
def clock() -> FakeClock:
    """Just after the sample VPCR report (2026-11-19) was made."""
    return FakeClock(datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc))
