"""``nimrs bench load`` drives every kind of request at a real ``nimrs serve`` (speed is not asserted)."""

from adapters.tooling.bench_load import MIX, TARGETS, Client, percentile, run_load_bench


def test_bench_load_exercises_every_kind_against_nimrs_serve_without_errors_on_sqlite() -> None:
    figures = run_load_bench("sqlite", seconds=2, clients=4, events=500, warmup=0.5)
    assert figures["errors"] == 0, figures["error_examples"]
    assert figures["clients"] == figures["users"] == 4 and figures["events"] >= 500
    assert 2 <= figures["measured_seconds"] < 2 + 30  # bounded: the last answer comes within a request's timeout
    assert figures["requests"] == sum(figures[f"{kind}_requests"] for kind in MIX)
    assert figures["requests_per_s"] > 0
    assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    for kind in MIX:
        assert figures[f"{kind}_requests"] > 0 and figures[f"{kind}_errors"] == 0, kind
        assert 0 < figures[f"{kind}_p50_ms"] <= figures[f"{kind}_p95_ms"] <= figures[f"{kind}_p99_ms"], kind
    assert set(figures["targets_met"]) == set(TARGETS) == set(figures["targets"])
    assert figures["targets_met"]["errors"] is True
    assert all(isinstance(met, bool) for met in figures["targets_met"].values())


def test_a_refused_request_is_an_error_and_percentiles_are_nearest_rank() -> None:
    client = Client(0, "token", ["draft"], ["incident"], run=1)
    client.record("edit", started=1.0, seconds=0.01, status=200, body=b"{}")
    client.record("edit", started=2.0, seconds=0.02, status=409, body=b'{"detail": "changed by someone else"}')
    assert client.errors["edit"] == 1 and client.latencies["edit"] == [0.01, 0.02]
    assert client.examples == ['edit 409: {"detail": "changed by someone else"}']
    assert client.last_answer_at == 2.02
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 0.99) == 7.0
