"""The benchmark command runs and reports every figure (speed itself is not asserted in tests)."""

from adapters.tooling.bench import TARGETS, run_core_bench


def test_bench_core_reports_every_figure_on_sqlite() -> None:
    figures = run_core_bench("sqlite", reports=200)
    for name in TARGETS:
        assert figures[name] > 0
        assert isinstance(figures["targets_met"][name], bool)
    assert figures["events_per_aggregate_at_start"] > 1
    assert figures["bulk_reports_per_s"] > 0 and figures["single_reports_per_s"] > 0
