"""A rebuild builds staging tables and swaps them in only once caught up: the live views serve throughout,
and a rebuild that fails leaves them as they were (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from adapters.bootstrap import Runtime
from adapters.projection_runner import staging
from adapters.projection_runner.workers import catch_up, rebuild
from adapters.settings import load_settings
from adapters.tooling.synthetic import Generator, Plan
from projections.projector import VIEW_NAMES
from tests.projections.support import dump

END = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)


class Interrupted(Exception):
    pass


def _settings(database_url: str, tmp_path):  # type: ignore[no-untyped-def]
    views = f"sqlite:///{tmp_path}/events-views.db" if database_url.startswith("sqlite") else database_url
    return load_settings({"NIMRS_DATABASE_URL": database_url, "NIMRS_VIEWS_URL": views})


def _live_views(settings) -> dict[str, list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    with Runtime(settings) as runtime:
        return dump(runtime.projector)


def test_a_rebuild_swaps_in_the_same_views_and_a_failed_one_changes_nothing(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(database_url, tmp_path)
    with Runtime(settings, clock=lambda: END) as runtime:
        Generator(Plan(incidents=120, end=END, facilities=2, seed=5)).run(runtime.service)
    catch_up(settings)
    before = _live_views(settings)
    assert sum(len(rows) for rows in before.values()) > 500

    def stop_halfway(done: int, total: int) -> None:
        if done:
            raise Interrupted

    with pytest.raises(Interrupted):
        rebuild(settings, VIEW_NAMES, workers=1, batch_size=100, progress=stop_halfway)
    assert _live_views(settings) == before, "a rebuild that failed changed the live views"
    if database_url.startswith("sqlite"):
        assert not staging._staging_file(settings).exists(), "the staging file was left behind"

    assert rebuild(settings, VIEW_NAMES, workers=1, batch_size=100) > 0
    assert _live_views(settings) == before
    with Runtime(settings) as runtime:
        head = runtime.projector.lag_events()
    assert head == 0, "the swapped-in views are not at the head of the log"
