"""Load: the environment's Locust profile, run headless against the target, judged by its
thresholds (`[load.thresholds]`, per endpoint in `[load.endpoints]`). One run, one check per
threshold; too few requests to judge is inconclusive, never a pass."""

import pytest

from releasegate.config import LoadConfig
from releasegate.errors import EvidenceMissing
from releasegate.load import judge
from releasegate.load.judge import LoadEvidence
from releasegate.pytest_plugin.fixtures import Measure

pytestmark = pytest.mark.usefixtures("locust_reports")


def test_load_sent_enough_requests_to_judge(
    load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure
) -> None:
    """The profile ran and sent at least `min_requests` requests."""
    total = load_evidence.stats.total
    measure("requests", total.requests, threshold=load_config.min_requests, comparison=">=")
    measure("requests/s", round(total.rps or 0.0, 2), unit="rps")

    judge.require_enough(load_evidence, load_config.min_requests)


def test_failure_ratio_is_within_threshold(
    load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure
) -> None:
    """Failed requests (errors and unexpected statuses) stay under `failure_ratio_max`."""
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

    problem = judge.failure_ratio_problem(load_evidence, limit, load_config.min_requests)
    assert problem is None, problem


@pytest.mark.parametrize(("q", "key"), [(0.95, "p95_ms"), (0.99, "p99_ms")], ids=["p95", "p99"])
def test_overall_latency_is_within_threshold(
    q: float, key: str, load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure
) -> None:
    """The overall latency percentile under load stays under its threshold."""
    limit = getattr(load_config.thresholds, key)
    if limit is None:
        pytest.skip(f"no [load.thresholds] {key} for this environment")
    total = judge.require_enough(load_evidence, load_config.min_requests)
    measure(
        f"p{q * 100:g}",
        total.percentile(q),
        unit="ms",
        threshold=limit,
        comparison="<=",
        samples=total.requests,
    )

    problem = judge.latency_problem(total, q, limit, load_evidence)
    assert problem is None, f"{problem} ({load_evidence.where})"


@pytest.mark.parametrize(("q", "key"), [(0.95, "p95_ms"), (0.99, "p99_ms")], ids=["p95", "p99"])
def test_every_endpoint_latency_is_within_threshold(
    q: float, key: str, load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure
) -> None:
    """Each endpoint's percentile under its own threshold (`[load.endpoints]`), or the
    overall one; an endpoint given a threshold that received no request cannot be judged."""
    overall = getattr(load_config.thresholds, key)
    own = {name: getattr(limits, key) for name, limits in load_config.endpoints.items()}
    if overall is None and not any(own.values()):
        pytest.skip(f"no [load.thresholds] {key} and no [load.endpoints] {key}")
    judge.require_enough(load_evidence, load_config.min_requests)
    measured = {endpoint.label: endpoint for endpoint in load_evidence.stats.endpoints}
    problems, unjudged = [], []
    for label, endpoint in measured.items():
        limit = own.get(label) or overall
        value = endpoint.percentile(q)
        measure(
            f"{label} p{q * 100:g}",
            value,
            unit="ms",
            threshold=limit,
            comparison="<=" if limit else None,
            samples=endpoint.requests,
        )
        if limit is None:
            continue
        if value is None:
            unjudged.append(f"{label}: no response times")
        elif problem := judge.latency_problem(endpoint, q, limit, load_evidence):
            problems.append(problem)
    unjudged += [
        f"{name}: no requests" for name, limit in own.items() if limit and name not in measured
    ]

    assert not problems, "; ".join(problems) + f" ({load_evidence.where})"
    if unjudged:
        raise EvidenceMissing(
            "cannot judge " + "; ".join(unjudged) + f" ([load.endpoints]; {load_evidence.where})"
        )


def test_throughput_meets_the_minimum(
    load_evidence: LoadEvidence, load_config: LoadConfig, measure: Measure
) -> None:
    """The target served at least `rps_min` requests per second."""
    minimum = load_config.thresholds.rps_min
    if minimum is None:
        pytest.skip("no [load.thresholds] rps_min for this environment")
    total = load_evidence.stats.total
    measure(
        "requests/s", round(total.rps or 0.0, 2), unit="rps", threshold=minimum, comparison=">="
    )

    problem = judge.rps_problem(load_evidence, minimum, load_config.min_requests)
    assert problem is None, problem
