"""Load: the environment's Locust profile, run headless against the target, judged by its
thresholds (`[load.thresholds]`, per endpoint in `[load.endpoints]`). One run, one check per
threshold; too few requests to judge is inconclusive, never a pass. Only answered requests
count as served; nothing answered at all is an unreachable target."""

import pytest

from releasegate.config import LoadConfig
from releasegate.errors import CheckFailed, EvidenceMissing
from releasegate.load import thresholds as judge
from releasegate.load.thresholds import LoadEvidence
from releasegate.outcome import Judgement
from releasegate.pytest_plugin.fixtures import Expect, Measure

pytestmark = pytest.mark.usefixtures("locust_reports")


def test_load_sent_enough_requests_to_judge(
    load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure
) -> None:
    """The load test got enough answers to judge the service.

    The profile ran and at least `min_requests` of its requests were answered."""
    total = load_evidence.stats.total
    answered = total.answered_requests
    measure("requests answered", answered, threshold=load_config.min_requests, comparison=">=")
    measure("requests sent", total.requests)
    measure("requests/s answered", round(total.answered_rps or 0.0, 2), unit="rps")

    judge.require_enough(load_evidence, load_config.min_requests)


def test_failure_ratio_is_within_threshold(
    load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure, expect: Expect
) -> None:
    """Few enough requests fail under load.

    Failed requests (errors and unexpected statuses) stay under `failure_ratio_max`."""
    limit = load_config.thresholds.failure_ratio_max
    if limit is None:
        pytest.skip("no [load.thresholds] failure_ratio_max for this environment")
    total = load_evidence.stats.total
    measure(
        "failure ratio",
        round((total.failure_ratio or 0.0) * 100, 3),
        unit="%",
        threshold=round(limit * 100, 3),
        comparison="<=",
        samples=total.requests,
    )

    expect.judged(judge.judge_failure_ratio(load_evidence, limit, load_config.min_requests))


@pytest.mark.parametrize(("q", "key"), [(0.95, "p95_ms"), (0.99, "p99_ms")], ids=["p95", "p99"])
def test_overall_latency_is_within_threshold(
    q: float,
    key: str,
    load_evidence: LoadEvidence,
    load_config: LoadConfig,
    confidence: float,
    measure: Measure,
    expect: Expect,
) -> None:
    """Overall {id} latency under load is within its threshold.

    The overall latency percentile of the answered requests, with its interval and Locust's
    rounding, stays under its threshold (`p95_ms`, `p99_ms`; judged like the SLO gate
    judges it)."""
    limit = getattr(load_config.thresholds, key)
    if limit is None:
        pytest.skip(f"no [load.thresholds] {key} for this environment")
    total = judge.require_enough(load_evidence, load_config.min_requests)
    found = judge.judge_latency(total, q, limit, confidence)
    measure(
        f"p{q * 100:g}",
        found.measured,
        unit="ms",
        threshold=limit,
        comparison="<=",
        samples=found.samples,
    )

    expect.judged(found, context=load_evidence.where)


@pytest.mark.parametrize(("q", "key"), [(0.95, "p95_ms"), (0.99, "p99_ms")], ids=["p95", "p99"])
def test_every_endpoint_latency_is_within_threshold(
    q: float,
    key: str,
    load_evidence: LoadEvidence,
    load_config: LoadConfig,
    confidence: float,
    measure: Measure,
) -> None:
    """Every endpoint's {id} latency under load is within its threshold.

    Each endpoint's percentile under its own threshold (`[load.endpoints]`), or the overall
    one, judged like the overall one. An endpoint given its own threshold that cannot be judged
    (no requests, too few for an interval, straddling) is inconclusive; one judged only by the
    overall threshold and too small to judge alone is left to the overall check, saying so."""
    overall = getattr(load_config.thresholds, key)
    own = {name: getattr(limits, key) for name, limits in load_config.endpoints.items()}
    if overall is None and not any(own.values()):
        pytest.skip(f"no [load.thresholds] {key} and no [load.endpoints] {key}")
    judge.require_enough(load_evidence, load_config.min_requests)
    measured = {endpoint.label: endpoint for endpoint in load_evidence.stats.endpoints}
    problems: list[str] = []
    unjudged: list[str] = []
    alone: list[str] = []
    for label, endpoint in measured.items():
        limit = own.get(label) or overall
        if limit is None:
            continue
        found = judge.judge_latency(endpoint, q, limit, confidence)
        measure(
            f"{label} p{q * 100:g}",
            found.measured,
            unit="ms",
            threshold=limit,
            comparison="<=",
            samples=found.samples,
        )
        if found.judgement is Judgement.FAIL:
            problems.append(found.message)
        elif found.judgement is Judgement.INCONCLUSIVE:
            (alone if found.too_few and not own.get(label) else unjudged).append(found.message)
    unjudged += [
        f"{name}: no requests" for name, limit in own.items() if limit and name not in measured
    ]

    if problems:
        raise CheckFailed("; ".join(problems) + f" ({load_evidence.where})", threshold=overall)
    if unjudged:
        raise EvidenceMissing(
            "cannot judge " + "; ".join(unjudged) + f" ([load.endpoints]; {load_evidence.where})"
        )
    if alone and len(alone) == len([e for e in measured if own.get(e) or overall]):
        pytest.skip("no endpoint has enough answered requests to judge alone: " + "; ".join(alone))


def test_throughput_meets_the_minimum(
    load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure, expect: Expect
) -> None:
    """The service answers enough requests per second under load.

    The target answered at least `rps_min` requests per second (refused ones not served)."""
    minimum = load_config.thresholds.rps_min
    if minimum is None:
        pytest.skip("no [load.thresholds] rps_min for this environment")
    total = load_evidence.stats.total
    measure(
        "requests/s answered",
        round(total.answered_rps or 0.0, 2),
        unit="rps",
        threshold=minimum,
        comparison=">=",
    )

    expect.judged(judge.judge_rps(load_evidence, minimum, load_config.min_requests))
