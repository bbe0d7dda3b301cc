"""``nimrs bench web`` measures every page against its JSON endpoint and the live board (speed is not asserted)."""

from adapters.tooling.bench_web import PAGES, TARGETS, run_web_bench


def test_bench_web_reports_page_ratios_and_live_update_latency_on_sqlite() -> None:
    # 150 histories through the workflow, 50 more rows written straight into the views
    figures = run_web_bench("sqlite", incidents=200, requests=4, updates=3, histories=150)
    assert figures["incidents"] == 200 and figures["histories"] == 150 and figures["events"] > 150
    for name in PAGES:
        assert figures[f"{name}_ratio"] > 0
        assert figures[f"{name}_page_p50_ms"] > 0 and figures[f"{name}_json_p95_ms"] >= figures[f"{name}_json_p50_ms"]
    assert figures["page_ratio"] == min(figures[f"{name}_ratio"] for name in PAGES)
    assert 0 < figures["live_update_p50_s"] <= figures["live_update_p95_s"] <= figures["live_update_max_s"] < 10
    assert set(figures["targets_met"]) == set(TARGETS) == set(figures["targets"])
    assert all(isinstance(met, bool) for met in figures["targets_met"].values())
