"""``nimrs bench projections`` at a tiny size reports every figure, each held to its own store's target (speed itself
is not asserted in tests)."""

from __future__ import annotations

import pytest

from adapters.tooling.bench_projections import run_projections_bench, targets


def test_the_rebuild_targets_depend_on_the_store() -> None:
    sqlite, postgres = targets("sqlite"), targets("postgres")
    assert sqlite["rebuild_ratio"] == (">=", 0.5) and postgres["rebuild_ratio"] == (">=", 0.4)
    assert sqlite["rebuild_1m_seconds"] == ("<=", 20.0) and postgres["rebuild_1m_seconds"] == ("<=", 30.0)
    assert sqlite["board_p95_ms"] == postgres["board_p95_ms"]


def test_the_bench_reports_every_figure_on_sqlite() -> None:
    figures = run_projections_bench("sqlite", events=600, query_incidents=300, rounds=1)
    assert figures["targets"]["rebuild_ratio"] == ">= 0.5"
    for name in targets("sqlite"):
        assert figures[name] > 0, name
        assert isinstance(figures["targets_met"][name], bool)
    assert figures["events"] >= 500 and figures["rebuild_workers"] >= 1
    assert figures["rebuild_1m_seconds"] == pytest.approx(1_000_000 / figures["rebuild_events_per_s"], rel=1e-3)
    assert 20 < figures["peak_rss_mb"] < 2000  # a rebuild process's, not this one's children's (none: forked elsewhere)
