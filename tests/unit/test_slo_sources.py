"""The SLO gate's sources behind one interface: the objectives an environment sets, the table
of (objective, source) checks, each source's SLIs with their uncertainty (or why it has none),
and the measurements every source records alike."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from releasegate.config import BurnWindow, PrometheusConfig, SloConfig
from releasegate.load.stats import EndpointStats
from releasegate.slo.objectives import Indicator, Objective, budget_objective, objectives
from releasegate.slo.prometheus import Prometheus
from releasegate.slo.sli import BucketPercentile, Percentile, Ratio, Unmeasured, measurements
from releasegate.slo.sources import (
    LoadStatistics,
    PrometheusMetrics,
    SyntheticSamples,
    burn_windows,
    table,
)
from releasegate.slo.synthetic import Sample, SampleSet

P95 = Objective(Indicator.LATENCY, 500, 0.95)
ERRORS = Objective(Indicator.ERROR_RATIO, 0.01)
AVAILABILITY = Objective(Indicator.AVAILABILITY, 0.99)
RATE_LIMITED = Objective(Indicator.RATE_LIMITED, 0.01)


def slo(**values: Any) -> SloConfig:
    return SloConfig.model_validate(values)


@pytest.mark.parametrize(
    ("objective", "key", "name", "measurement", "comparison"),
    [
        pytest.param(P95, "p95", "p95 latency", "p95", "<=", id="p95"),
        pytest.param(
            Objective(Indicator.LATENCY, 100, 0.5), "p50", "p50 latency", "p50", "<=", id="p50"
        ),
        pytest.param(ERRORS, "error_ratio", "error ratio", "error ratio", "<=", id="errors"),
        pytest.param(
            AVAILABILITY, "availability", "availability", "availability", ">=", id="availability"
        ),
        pytest.param(
            RATE_LIMITED, "rate_limited", "rate-limited ratio", "rate limited", "<=", id="429s"
        ),
    ],
)
def test_an_objective_names_its_check_message_and_measurement(
    objective: Objective, key: str, name: str, measurement: str, comparison: str
) -> None:
    assert (objective.key, objective.name) == (key, name)
    assert (objective.measurement, objective.comparison) == (measurement, comparison)


def test_only_the_objectives_set_are_judged_latency_first() -> None:
    found = objectives(slo(availability_min="99%", latency_p99_ms=1000, latency_p50_ms=100))

    assert [o.key for o in found] == ["p50", "p99", "availability"]
    assert [o.limit for o in found] == [100, 1000, pytest.approx(0.99)]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param({"availability_min": "99.5%", "error_ratio_max": "1%"}, 0.995, id="avail"),
        pytest.param({"error_ratio_max": "1%"}, 0.99, id="1 - error ratio"),
        pytest.param({"latency_p95_ms": 500}, None, id="neither"),
    ],
)
def test_the_budget_that_burns(values: dict[str, Any], expected: float | None) -> None:
    assert budget_objective(slo(**values)) == (
        None if expected is None else pytest.approx(expected)
    )


def test_the_table_pairs_each_objective_with_every_source_that_measures_it() -> None:
    config = slo(
        latency_p50_ms=100,
        latency_p95_ms=500,
        error_ratio_max="1%",
        availability_min="99%",
        rate_limited_max="1%",
        prometheus={},
    )

    ids = [f"{o.key}-{source}" for o, source in table(config)]

    assert ids == [
        "p50-synthetic",
        "p50-load",
        "p95-synthetic",
        "p95-prometheus",
        "p95-load",
        "error_ratio-synthetic",
        "error_ratio-prometheus",
        "error_ratio-load",
        "availability-synthetic",
        "availability-prometheus",
        "rate_limited-synthetic",
        "rate_limited-prometheus",
    ]


def test_sources_not_configured_are_not_in_the_table() -> None:
    config = slo(latency_p95_ms=500, synthetic={"enabled": False})

    assert [f"{o.key}-{source}" for o, source in table(config)] == ["p95-load"]
    assert table(slo()) == []


def test_burn_windows_need_prometheus_and_a_budget() -> None:
    pairs = [{"long": "1h", "short": "5m", "factor": 14.4}]

    assert burn_windows(slo(error_ratio_max="1%", prometheus={"burn_windows": pairs})) == [
        BurnWindow(long="1h", short="5m", factor=14.4)
    ]
    assert burn_windows(slo(prometheus={"burn_windows": pairs})) == []
    assert burn_windows(slo(error_ratio_max="1%")) == []


def sample_set(*statuses: int | None, latency_ms: float = 20.0) -> SampleSet:
    samples = [
        Sample(i * 0.01, "GET /a", status, latency_ms, None if status else "ReadTimeout: t")
        for i, status in enumerate(statuses)
    ]
    return SampleSet("prod", "http://t.test", samples, elapsed_s=4.5, timeout_s=2.0)


def test_synthetic_latency_is_a_percentile_with_its_censored_interval() -> None:
    source = SyntheticSamples(sample_set(*[200] * 90, *[None] * 10), 0.95)

    sli = source.sli(P95)

    assert isinstance(sli, Percentile)
    assert sli.interval.censored == 10
    assert sli.samples == 100
    assert sli.origin.source == "synthetic"
    assert sli.origin.where == "synthetic, 100 requests to http://t.test (budget spent), env=prod"
    assert sli.origin.window == "4.5s"


@pytest.mark.parametrize(
    ("objective", "events"),
    [
        pytest.param(ERRORS, 3, id="errors: 5xx and no answer"),
        pytest.param(AVAILABILITY, 97, id="availability: the others"),
        pytest.param(RATE_LIMITED, 1, id="429s"),
    ],
)
def test_synthetic_ratios_count_their_requests(objective: Objective, events: int) -> None:
    source = SyntheticSamples(sample_set(*[200] * 95, 500, 502, None, 429, 404), 0.95)

    sli = source.sli(objective)

    assert isinstance(sli, Ratio)
    assert (sli.events, sli.total) == (events, 100)
    assert sli.value == events / 100


def test_too_few_synthetic_samples_are_unmeasured_saying_how_many_would_do() -> None:
    sli = SyntheticSamples(sample_set(*[200] * 20), 0.95).sli(P95)

    assert isinstance(sli, Unmeasured)
    assert sli.reason == "20 samples are too few for a 95% interval; 72 needed"
    assert SyntheticSamples(sample_set(), 0.95).sli(ERRORS) == Unmeasured(
        SyntheticSamples(sample_set(), 0.95).origin(), "no samples"
    )


def prometheus(answers: dict[str, Any]) -> Prometheus:
    """A Prometheus answering each query by the first key it contains."""

    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.params["query"]
        value = next(v for k, v in answers.items() if k in query)
        if isinstance(value, list):  # buckets
            result = [{"metric": {"le": le}, "value": [1.0, v]} for le, v in value]
        else:
            result = [{"metric": {}, "value": [1.0, str(value)]}]
        body = {"status": "success", "data": {"resultType": "vector", "result": result}}
        return httpx.Response(200, text=json.dumps(body))

    return Prometheus("http://prom.test", transport=httpx.MockTransport(answer))


ANSWERS: dict[str, Any] = {
    "histogram_quantile": 0.12,
    "increase(http_requests_total": 900,
    "http_rate_limited_total": 0.002,
    'status=~"5.."': 0.02,
    "_bucket": [("0.1", "400"), ("0.25", "890"), ("0.5", "900"), ("+Inf", "900")],
}


def prometheus_source(answers: dict[str, Any] = ANSWERS) -> PrometheusMetrics:
    return PrometheusMetrics.read(prometheus(answers), PrometheusConfig(), 0.95, "prod")


def test_prometheus_reads_the_windows_request_count_once() -> None:
    assert prometheus_source().requests == 900


def test_prometheus_latency_is_the_estimate_with_its_bucket_bounds() -> None:
    sli = prometheus_source().sli(P95)

    assert isinstance(sli, BucketPercentile)
    assert sli.estimate_ms == pytest.approx(120)
    assert sli.interval is not None
    assert (sli.interval.lower, sli.interval.upper) == (0.1, 0.25)
    assert sli.samples == 900
    assert sli.origin.window == "5m"
    assert "histogram_quantile(0.95" in sli.origin.where


def test_prometheus_latency_with_too_few_requests_in_the_window_is_unmeasured() -> None:
    sli = prometheus_source({**ANSWERS, "increase(http_requests_total": 50}).sli(P95)

    assert isinstance(sli, Unmeasured)
    assert sli.reason == "50 requests in the window are too few for a 95% interval; 72 needed"


@pytest.mark.parametrize(
    ("objective", "value", "events"),
    [
        pytest.param(ERRORS, 0.02, 18, id="errors"),
        pytest.param(AVAILABILITY, 0.98, 882, id="availability: 1 - the error ratio"),
        pytest.param(RATE_LIMITED, 0.002, 2, id="429s: their own query"),
    ],
)
def test_prometheus_ratios_are_counted_over_the_windows_requests(
    objective: Objective, value: float, events: int
) -> None:
    sli = prometheus_source().sli(objective)

    assert isinstance(sli, Ratio)
    assert sli.value == pytest.approx(value)
    assert (sli.events, sli.total) == (events, 900)


def test_prometheus_burn_rates_over_both_windows() -> None:
    rates = prometheus_source().burn_rates(BurnWindow(long="1h", short="5m", factor=14.4), 0.99)

    assert rates.long == pytest.approx(2.0)
    assert rates.short == pytest.approx(2.0)
    assert [m.name for m in rates.measurements()] == ["burn rate 1h", "burn rate 5m"]
    assert "[1h]" in rates.origin.where


def load(histogram: dict[int, int], requests: int = 400, failures: int = 0) -> LoadStatistics:
    total = EndpointStats("Aggregated", "", requests, failures, histogram, None, None)
    return LoadStatistics(total, 0.95, "prod")


def test_load_latency_is_locusts_histogram_widened_to_its_rounding() -> None:
    sli = load({1000: 400}).sli(P95)

    assert isinstance(sli, Percentile)
    assert (sli.interval.lower, sli.interval.upper) == (995, 1050)
    assert sli.text() == "1000 ms (95% interval 995..1050 ms, 400 samples)"
    assert sli.origin.where == "load stage, 400 requests, env=prod"


def test_load_latency_with_failures_it_cannot_tell_apart_is_unmeasured() -> None:
    sli = load({20: 400}, failures=3).sli(P95)

    assert isinstance(sli, Unmeasured)
    assert "cannot be told from unanswered" in sli.reason


def test_load_error_ratio_is_failures_of_requests() -> None:
    sli = load({20: 400}, failures=4).sli(ERRORS)

    assert isinstance(sli, Ratio)
    assert (sli.events, sli.total) == (4, 400)


def test_measurements_are_alike_for_every_source() -> None:
    """Value, unit, limit, samples, source and window; then the interval's bounds; then how
    the source sampled."""
    found = measurements(SyntheticSamples(sample_set(*[200] * 400), 0.95).sli(ERRORS), ERRORS)

    assert [m.name for m in found] == [
        "error ratio",
        "error ratio interval low",
        "error ratio interval high",
        "stopped by",
    ]
    assert found[0].model_dump(exclude_none=True) == {
        "name": "error ratio",
        "value": 0.0,
        "unit": "%",
        "threshold": 1.0,
        "comparison": "<=",
        "samples": 400,
        "source": "synthetic",
        "window": "4.5s",
    }


def test_an_unmeasured_sli_records_no_value_and_an_infinite_bound_is_not_recorded() -> None:
    unmeasured = SyntheticSamples(sample_set(*[200] * 20), 0.95).sli(P95)
    open_ended = prometheus_source({**ANSWERS, "_bucket": [("0.1", "10"), ("+Inf", "900")]}).sli(
        P95
    )

    none = measurements(unmeasured, P95)
    bounded = measurements(open_ended, P95)

    assert [(m.name, m.value, m.samples) for m in none] == [
        ("p95", None, 20),
        ("stopped by", "count", None),
    ]
    assert [m.name for m in bounded] == ["p95", "p95 interval low"]
    assert bounded[0].value == 120.0
    assert not any(isinstance(m.value, float) and math.isinf(m.value) for m in bounded)
