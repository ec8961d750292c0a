"""SLO, from the gate's own samples of the key endpoints: latency percentiles, error ratio,
availability and rate-limit hits against the objectives, each with its confidence interval
(an interval across the threshold is inconclusive; requests without an answer count as at
least the timeout), and latency against the baseline taken before the deploy (the shift's
interval against a minimum increase that matters)."""

import pytest

from releasegate.config import Environment, SloConfig
from releasegate.errors import EvidenceStale
from releasegate.pytest_plugin.fixtures import Measure
from releasegate.slo import judge as slo_judge
from releasegate.slo.baseline import BaselineChoice
from releasegate.slo.statistics import compare_to_baseline
from releasegate.slo.synthetic import SampleSet

QUANTILES = [(0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms")]


def where(samples: SampleSet, env: Environment) -> str:
    return f"synthetic, {len(samples.samples)} requests to {samples.target_url}, env={env.name}"


def record(
    measure: Measure,
    name: str,
    verdict: slo_judge.Verdict,
    unit: str,
    threshold: float,
    comparison: str,
    samples: int,
    scale: float = 1.0,
    window: str | None = None,
) -> None:
    interval = verdict.interval
    measure(
        name,
        None if interval is None else round(interval.estimate * scale, 4),
        unit=unit,
        threshold=round(threshold * scale, 4),
        comparison=comparison,
        samples=samples,
        source="synthetic",
        window=window,
    )
    if interval is not None:
        measure(f"{name} interval low", round(interval.lower * scale, 4), unit=unit)
        measure(f"{name} interval high", round(interval.upper * scale, 4), unit=unit)


@pytest.mark.parametrize(("q", "key"), QUANTILES, ids=["p50", "p95", "p99"])
def test_latency_percentile_meets_the_objective(
    q: float, key: str, synthetic: SampleSet, slo: SloConfig, env: Environment, measure: Measure
) -> None:
    """The latency percentile, with its interval, is under the objective."""
    limit = getattr(slo, key)
    if limit is None:
        pytest.skip(f"no [slo] {key} for env={env.name}")
    latencies = synthetic.censored_latencies()
    verdict = slo_judge.latency(latencies, q, limit, slo.confidence, where(synthetic, env))
    record(
        measure,
        f"p{q * 100:g}",
        verdict,
        "ms",
        limit,
        "<=",
        len(latencies),
        window=f"{synthetic.elapsed_s:g}s",
    )

    slo_judge.enforce(verdict)


def test_error_ratio_meets_the_objective(
    synthetic: SampleSet, slo: SloConfig, env: Environment, measure: Measure
) -> None:
    """5xx answers and requests with no answer stay under the error-ratio objective."""
    if slo.error_ratio_max is None:
        pytest.skip(f"no [slo] error_ratio_max for env={env.name}")
    errors = sum(s.server_error for s in synthetic.samples)
    n = len(synthetic.samples)
    verdict = slo_judge.ratio_at_most(
        errors, n, slo.error_ratio_max, slo.confidence, "error ratio", where(synthetic, env)
    )
    record(
        measure,
        "error ratio",
        verdict,
        "%",
        slo.error_ratio_max,
        "<=",
        n,
        scale=100,
        window=f"{synthetic.elapsed_s:g}s",
    )

    slo_judge.enforce(verdict)


def test_availability_meets_the_objective(
    synthetic: SampleSet, slo: SloConfig, env: Environment, measure: Measure
) -> None:
    """Requests answered without a server error: at least the availability objective."""
    if slo.availability_min is None:
        pytest.skip(f"no [slo] availability_min for env={env.name}")
    good = sum(not s.server_error for s in synthetic.samples)
    n = len(synthetic.samples)
    verdict = slo_judge.ratio_at_least(
        good, n, slo.availability_min, slo.confidence, "availability", where(synthetic, env)
    )
    record(
        measure,
        "availability",
        verdict,
        "%",
        slo.availability_min,
        ">=",
        n,
        scale=100,
        window=f"{synthetic.elapsed_s:g}s",
    )

    slo_judge.enforce(verdict)


def test_rate_limit_hits_stay_under_their_limit(
    synthetic: SampleSet, slo: SloConfig, env: Environment, measure: Measure
) -> None:
    """429 answers (rate limited) stay under `rate_limited_max`."""
    if slo.rate_limited_max is None:
        pytest.skip(f"no [slo] rate_limited_max for env={env.name}")
    hits = sum(s.rate_limited for s in synthetic.samples)
    n = len(synthetic.samples)
    verdict = slo_judge.ratio_at_most(
        hits, n, slo.rate_limited_max, slo.confidence, "rate-limited ratio", where(synthetic, env)
    )
    record(
        measure,
        "rate limited",
        verdict,
        "%",
        slo.rate_limited_max,
        "<=",
        n,
        scale=100,
        window=f"{synthetic.elapsed_s:g}s",
    )

    slo_judge.enforce(verdict)


def test_latency_has_not_regressed_against_the_baseline(
    synthetic: SampleSet,
    baseline_choice: BaselineChoice,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
) -> None:
    """Per endpoint, not materially slower than before the deploy (the shift's interval above
    the minimum increase), even when the absolute objective still holds; when the samples
    cannot tell, inconclusive if the baseline is required, else skipped saying so."""
    config = slo.baseline
    baseline = baseline_choice.samples
    if baseline is None:
        reason = f"{baseline_choice.reason()} (env={env.name})"
        if config.required and baseline_choice.rejected:
            raise EvidenceStale(f"{reason}; [slo.baseline] required = true")
        if config.required:
            slo_judge.enforce(
                slo_judge.Verdict(
                    slo_judge.Judgement.INCONCLUSIVE,
                    None,
                    f"{reason}; [slo.baseline] required = true",
                )
            )
        pytest.skip(reason)
    floor_ms = slo.regression_floor_ms()
    failures, inconclusive = [], []
    for endpoint in synthetic.endpoints():
        before, now = baseline.censored_latencies(endpoint), synthetic.censored_latencies(endpoint)
        result = compare_to_baseline(
            before.values(),
            now.values(),
            alpha=config.alpha,
            min_increase=config.min_increase,
            min_increase_ms=floor_ms,
            censored_baseline=before.censored,
            censored_current=now.censored,
        )
        verdict = slo_judge.regression(
            result, endpoint, config.min_increase, config.alpha, where(synthetic, env)
        )
        if result is not None:
            measure(
                f"{endpoint} median vs baseline",
                round(result.median_ratio, 3),
                unit="x",
                threshold=round(1 + config.min_increase, 3),
                comparison="<=",
                samples=result.current_samples,
                source="baseline",
            )
            measure(f"{endpoint} p95 vs baseline", round(result.p95_ratio, 3), unit="x")
            measure(
                f"{endpoint} shift vs baseline",
                round(result.shift_ms, 3),
                unit="ms",
                threshold=round(result.threshold_ms, 3),
                comparison="<=",
                samples=result.current_samples,
                source="baseline",
            )
            measure(f"{endpoint} shift interval low", round(result.shift_lower_ms, 3), unit="ms")
            measure(f"{endpoint} shift interval high", round(result.shift_upper_ms, 3), unit="ms")
        if verdict.judgement is slo_judge.Judgement.FAIL:
            failures.append(verdict.message)
        elif verdict.judgement is slo_judge.Judgement.INCONCLUSIVE:
            inconclusive.append(verdict.message)

    assert not failures, "; ".join(failures)
    if inconclusive and config.required:
        slo_judge.enforce(
            slo_judge.Verdict(slo_judge.Judgement.INCONCLUSIVE, None, "; ".join(inconclusive))
        )
    if inconclusive:
        pytest.skip("advisory, [slo.baseline] required = false: " + "; ".join(inconclusive))
