"""SLO, from the load stage's statistics when it ran in this run (read, not measured again):
latency percentiles under load and the error ratio, judged like the synthetic samples. Latency
counts answered requests only, within the edges of Locust's rounding; a load stage whose
requests were none of them answered is an unreachable target, as in the load gate."""

from pathlib import Path

import pytest

from releasegate.config import Environment, SloConfig
from releasegate.load.latency import slo_verdict
from releasegate.load.runner import LOAD_DIR, STATS_PREFIX
from releasegate.load.stats import EndpointStats, LoadStats, StatsUnreadable, read_stats
from releasegate.load.thresholds import LoadEvidence, require_answered
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Measure
from releasegate.slo import judge as slo_judge

QUANTILES = [(0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")]


@pytest.fixture(scope="module")
def load_stats(gate_run: GateRun) -> LoadStats:
    """This run's load stage statistics; skipped when the load stage did not run."""
    path: Path = gate_run.run_dir / LOAD_DIR / f"{STATS_PREFIX}.json"
    if not path.is_file():
        pytest.skip(
            "the load stage did not run in this run (releasegate run --stage load --stage slo)"
        )
    try:
        return read_stats(path)
    except StatsUnreadable as exc:
        pytest.skip(f"the load stage left no statistics to read: {exc}")


@pytest.fixture(scope="module")
def load_total(load_stats: LoadStats, gate_run: GateRun, env: Environment) -> EndpointStats:
    """All requests of this run's load stage, if any were answered (`TargetUnreachable` when
    requests went out and none came back)."""
    where = f"load stage, env={env.name}"
    return require_answered(LoadEvidence(load_stats, None, where, target=gate_run.base_url))


def where(total: EndpointStats, env: Environment) -> str:
    return f"load stage, {total.requests} requests, env={env.name}"


@pytest.mark.parametrize(("q", "key"), QUANTILES, ids=["p50", "p95", "p99"])
def test_latency_under_load_meets_the_objective(
    q: float,
    key: str,
    load_total: EndpointStats,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """The latency percentile under load, with its interval, is under the objective."""
    limit = getattr(slo, key)
    if limit is None:
        pytest.skip(f"no [slo] {key} for env={env.name}")
    samples = load_total.latency_samples(limit)
    verdict = slo_verdict(samples, q, limit, slo.confidence, where(load_total, env))
    estimate = verdict.interval.estimate if verdict.interval else None
    measure(
        f"p{q * 100:g}",
        estimate,
        unit="ms",
        threshold=limit,
        comparison="<=",
        samples=sum(samples.values()) if samples else 0,
        source="locust",
    )

    slo_judge.enforce(verdict)


def test_error_ratio_under_load_meets_the_objective(
    load_total: EndpointStats, slo: SloConfig, env: Environment, measure: Measure
) -> None:
    """Failed requests under load stay under the error-ratio objective."""
    if slo.error_ratio_max is None:
        pytest.skip(f"no [slo] error_ratio_max for env={env.name}")
    verdict = slo_judge.ratio_at_most(
        load_total.failures,
        load_total.requests,
        slo.error_ratio_max,
        slo.confidence,
        "error ratio",
        where(load_total, env),
    )
    measure(
        "error ratio",
        round((load_total.failure_ratio or 0) * 100, 4),
        unit="%",
        threshold=round(slo.error_ratio_max * 100, 4),
        comparison="<=",
        samples=load_total.requests,
        source="locust",
    )

    slo_judge.enforce(verdict)
