"""`nimrs bench http` at a tiny size: the figures are there and sane, with two server processes on PostgreSQL for
the commands figure; more than one on SQLite is refused."""

from __future__ import annotations

import pytest

from adapters.tooling.bench_http import COMMANDS_TARGET, TARGETS, run_http_bench
from domain.errors import ValidationFailed


def test_bench_http_reports_reads_commands_and_the_feed_with_two_workers_on_postgresql(postgres_url: str) -> None:
    figures = run_http_bench("postgres", events=400, seconds=0.5, rounds=1, workers=2)
    assert figures["server_workers"] == 2
    assert figures["commands_per_s"] > 0 and figures["read_ratio"] > 0 and figures["feed_ratio"] > 0
    assert set(figures["targets_met"]) == {*TARGETS, "commands_per_s"}
    assert figures["targets_met"]["commands_per_s"] == (figures["commands_per_s"] >= COMMANDS_TARGET["postgres"])


def test_several_workers_need_postgresql() -> None:
    with pytest.raises(ValidationFailed, match="needs PostgreSQL"):
        run_http_bench("sqlite", events=10, seconds=0.1, rounds=1, workers=2)
