"""SLO, from the target's own metrics in Prometheus (`[slo.prometheus]`): latency percentile,
error ratio, availability and rate-limit hits over the window, and error-budget burn rate over
the multi-window pairs of the SRE workbook. Prometheus unreachable, or a query with no data:
inconclusive, with the query shown."""

import contextlib
import time

import pytest

from releasegate.config import Environment, PrometheusConfig, SloConfig
from releasegate.errors import EvidenceMissing
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Measure
from releasegate.slo import judge as slo_judge
from releasegate.slo.prometheus import Prometheus, PrometheusUnavailable, bucket_query, render
from releasegate.slo.statistics import (
    BucketInterval,
    Judgement,
    burn_rate,
    histogram_interval,
    samples_needed,
)

SCRAPE_WAIT_S = 20.0
# the bundled Prometheus scrapes every second: two scrapes after the synthetic samples
BUNDLED_SCRAPES_S = 2.5


def wait_until_scraping(client: Prometheus) -> None:
    """Until Prometheus has scraped its target once (`up`), for at most `SCRAPE_WAIT_S`."""
    deadline = time.monotonic() + SCRAPE_WAIT_S
    while time.monotonic() < deadline:
        with contextlib.suppress(PrometheusUnavailable):
            if client.query("sum(up)") >= 1:
                return
        time.sleep(0.25)


@pytest.fixture(scope="module")
def prometheus_config(slo: SloConfig, env: Environment) -> PrometheusConfig:
    """`[slo.prometheus]`; the checks skip where an environment has none."""
    if slo.prometheus is None:
        pytest.skip(f"no [slo.prometheus] for env={env.name}")
    return slo.prometheus


@pytest.fixture(scope="module")
def prometheus(
    prometheus_config: PrometheusConfig, gate_run: GateRun, request: pytest.FixtureRequest
) -> Prometheus:
    """The configured Prometheus, or the one started beside the reference service; that one
    has seen only this run's traffic, so it first gets the synthetic samples and the scrapes
    that follow them."""
    url = gate_run.prometheus_url or prometheus_config.url
    if url is None:
        raise EvidenceMissing(
            f"no Prometheus: set [slo.prometheus] url in {gate_run.env.path}, or"
            " [reference] prometheus = true with Prometheus installed (apt-get install prometheus)"
        )
    client = Prometheus(url, timeout_s=prometheus_config.timeout)
    if gate_run.prometheus_url:
        # a fresh Prometheus scrapes for the first time a few seconds after it starts; traffic
        # before that first scrape is invisible to increase() and rate()
        wait_until_scraping(client)
        request.getfixturevalue("synthetic")
        time.sleep(BUNDLED_SCRAPES_S)
    return client


@pytest.fixture(scope="module")
def requests_in_window(prometheus: Prometheus, prometheus_config: PrometheusConfig) -> int:
    """How many requests the window holds (the sample size of every ratio and percentile)."""
    return round(
        prometheus.query(render(prometheus_config.requests_query, prometheus_config.window))
    )


def where(config: PrometheusConfig, env: Environment, query: str) -> str:
    return f"Prometheus, window {config.window}, query {query!r}, env={env.name}"


def test_prometheus_latency_p95_meets_the_objective(
    prometheus: Prometheus,
    prometheus_config: PrometheusConfig,
    requests_in_window: int,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """The p95 of the latency histogram over the window is under the objective, judged by the
    bucket bounds around its interval (a threshold inside them is inconclusive); with fewer
    requests than a p95 needs, inconclusive."""
    if slo.latency_p95_ms is None:
        pytest.skip(f"no [slo] latency_p95_ms for env={env.name}")
    query = render(prometheus_config.latency_query, prometheus_config.window, 0.95)
    needed = samples_needed(0.95, slo.confidence)
    p95_ms = prometheus.query(query) * 1000  # Prometheus histograms are in seconds
    tail = where(prometheus_config, env, query)
    if requests_in_window < needed:
        slo_judge.enforce(
            slo_judge.Verdict(
                Judgement.INCONCLUSIVE,
                None,
                f"p95 latency: {requests_in_window} requests in the window, {needed} needed"
                f" ({tail})",
            )
        )
    buckets = bucket_query(prometheus_config.latency_query)
    interval: BucketInterval | None = None
    if buckets is not None:
        read = prometheus.buckets(render(buckets, prometheus_config.window))
        interval = histogram_interval(read, 0.95, requests_in_window, slo.confidence)
    verdict = slo_judge.histogram_latency(p95_ms, interval, 0.95, slo.latency_p95_ms, tail)
    measure(
        "p95",
        round(p95_ms, 2),
        unit="ms",
        threshold=slo.latency_p95_ms,
        comparison="<=",
        samples=requests_in_window,
        source="prometheus",
        window=prometheus_config.window,
    )
    if interval is not None:
        measure("p95 interval low", round(interval.lower * 1000, 4), unit="ms")
        if interval.upper != float("inf"):
            measure("p95 interval high", round(interval.upper * 1000, 4), unit="ms")

    slo_judge.enforce(verdict)


def _error_ratio(
    prometheus: Prometheus, config: PrometheusConfig, window: str
) -> tuple[float, str]:
    query = render(config.error_ratio_query, window)
    return prometheus.query(query), query


def test_prometheus_error_ratio_meets_the_objective(
    prometheus: Prometheus,
    prometheus_config: PrometheusConfig,
    requests_in_window: int,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """The error ratio over the window, with a Wilson interval on the window's request count."""
    if slo.error_ratio_max is None:
        pytest.skip(f"no [slo] error_ratio_max for env={env.name}")
    ratio, query = _error_ratio(prometheus, prometheus_config, prometheus_config.window)
    errors = round(ratio * requests_in_window)
    verdict = slo_judge.ratio_at_most(
        errors,
        requests_in_window,
        slo.error_ratio_max,
        slo.confidence,
        "error ratio",
        where(prometheus_config, env, query),
    )
    measure(
        "error ratio",
        round(ratio * 100, 4),
        unit="%",
        threshold=round(slo.error_ratio_max * 100, 4),
        comparison="<=",
        samples=requests_in_window,
        source="prometheus",
        window=prometheus_config.window,
    )

    slo_judge.enforce(verdict)


def test_prometheus_availability_meets_the_objective(
    prometheus: Prometheus,
    prometheus_config: PrometheusConfig,
    requests_in_window: int,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """Requests without a server error over the window, at least the objective."""
    if slo.availability_min is None:
        pytest.skip(f"no [slo] availability_min for env={env.name}")
    ratio, query = _error_ratio(prometheus, prometheus_config, prometheus_config.window)
    good = requests_in_window - round(ratio * requests_in_window)
    verdict = slo_judge.ratio_at_least(
        good,
        requests_in_window,
        slo.availability_min,
        slo.confidence,
        "availability",
        where(prometheus_config, env, query),
    )
    measure(
        "availability",
        round((1 - ratio) * 100, 4),
        unit="%",
        threshold=round(slo.availability_min * 100, 4),
        comparison=">=",
        samples=requests_in_window,
        source="prometheus",
        window=prometheus_config.window,
    )

    slo_judge.enforce(verdict)


def test_prometheus_rate_limit_hits_stay_under_their_limit(
    prometheus: Prometheus,
    prometheus_config: PrometheusConfig,
    requests_in_window: int,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """Requests refused with 429 over the window, under `rate_limited_max`."""
    if slo.rate_limited_max is None:
        pytest.skip(f"no [slo] rate_limited_max for env={env.name}")
    query = render(prometheus_config.rate_limited_query, prometheus_config.window)
    ratio = prometheus.query(query)
    hits = round(ratio * requests_in_window)
    verdict = slo_judge.ratio_at_most(
        hits,
        requests_in_window,
        slo.rate_limited_max,
        slo.confidence,
        "rate-limited ratio",
        where(prometheus_config, env, query),
    )
    measure(
        "rate limited",
        round(ratio * 100, 4),
        unit="%",
        threshold=round(slo.rate_limited_max * 100, 4),
        comparison="<=",
        samples=requests_in_window,
        source="prometheus",
        window=prometheus_config.window,
    )

    slo_judge.enforce(verdict)


@pytest.mark.parametrize("pair", [0, 1], ids=["fast burn", "slow burn"])
def test_error_budget_is_not_burning_fast(
    pair: int,
    prometheus: Prometheus,
    prometheus_config: PrometheusConfig,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """Multi-window, multi-burn-rate (SRE workbook): the burn rate over both the long and the
    short window above the pair's factor fails; the short window keeps a past incident from
    failing a healthy deploy."""
    if pair >= len(prometheus_config.burn_windows):
        pytest.skip(f"[slo.prometheus] burn_windows has no pair {pair + 1} for env={env.name}")
    objective = (
        slo.availability_min
        if slo.availability_min is not None
        else (1 - slo.error_ratio_max if slo.error_ratio_max is not None else None)
    )
    if objective is None:
        pytest.skip(f"no [slo] availability_min or error_ratio_max for env={env.name}")
    window = prometheus_config.burn_windows[pair]
    long_ratio, query = _error_ratio(prometheus, prometheus_config, window.long)
    short_ratio, _ = _error_ratio(prometheus, prometheus_config, window.short)
    long_burn, short_burn = burn_rate(long_ratio, objective), burn_rate(short_ratio, objective)
    measure(
        f"burn rate {window.long}",
        round(long_burn, 3),
        unit="x",
        threshold=window.factor,
        comparison="<=",
        source="prometheus",
        window=window.long,
    )
    measure(
        f"burn rate {window.short}",
        round(short_burn, 3),
        unit="x",
        threshold=window.factor,
        comparison="<=",
        source="prometheus",
        window=window.short,
    )

    assert not (long_burn > window.factor and short_burn > window.factor), (
        f"error budget burning at {long_burn:.1f}x over {window.long} and {short_burn:.1f}x over"
        f" {window.short}, above {window.factor:g}x for a {objective:.3%} objective"
        f" ({where(prometheus_config, env, query)})"
    )
