"""Judging a load run from its figures: enough requests, failure ratio (and an early stop),
latency percentiles, rate; and a run that left nothing is missing evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from releasegate.errors import EvidenceMissing
from releasegate.load import judge
from releasegate.load.judge import LoadEvidence
from releasegate.load.params import LoadParams
from releasegate.load.runner import LoadDidNotRun, LoadPlan, LoadRun
from releasegate.load.stats import EndpointStats, LoadStats, aggregate

WHERE = "profile smoke-load against http://127.0.0.1:1, env=prod"


def endpoint(requests: int, failures: int = 0, ms: int = 10, span: float = 10.0) -> EndpointStats:
    return EndpointStats(
        "GET /x", "GET", requests, failures, {ms: requests} if requests else {}, 0.0, span
    )


def evidence(*endpoints: EndpointStats, stopped: dict[str, object] | None = None) -> LoadEvidence:
    return LoadEvidence(LoadStats(list(endpoints), aggregate(endpoints)), stopped, WHERE)


def test_too_few_requests_is_missing_evidence_with_the_counts() -> None:
    with pytest.raises(EvidenceMissing, match=r"5 request\(s\) sent, fewer than the 30 needed"):
        judge.require_enough(evidence(endpoint(5)), 30)


def test_no_requests_is_never_a_passing_failure_ratio() -> None:
    with pytest.raises(EvidenceMissing):
        judge.failure_ratio_problem(evidence(), 0.01, 1)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, None), (1, None), (2, "failure ratio 2.00% (2 of 100 requests) exceeds 1.00%")],
)
def test_failure_ratio_against_its_limit(failures: int, expected: str | None) -> None:
    problem = judge.failure_ratio_problem(evidence(endpoint(100, failures)), 0.01, 30)

    assert problem == (None if expected is None else f"{expected} ({WHERE})")


def test_an_early_stop_for_failures_fails_even_below_the_minimum() -> None:
    stopped = {"stopped": "failure-ratio", "at_s": 2.1, "limit": 0.1, "sustained_s": 2.0}

    problem = judge.failure_ratio_problem(evidence(endpoint(12, 6), stopped=stopped), 0.01, 30)

    assert problem is not None
    assert "stopped early after 2.1s: above 10.0% for 2.0s" in problem


def test_latency_over_its_limit_names_endpoint_value_and_count() -> None:
    ep = endpoint(40, ms=620)

    assert judge.latency_problem(ep, 0.95, 500, evidence(ep)) == (
        "GET /x: p95 latency 620 ms over 40 requests exceeds 500 ms"
    )
    assert judge.latency_problem(ep, 0.95, 700, evidence(ep)) is None


def test_rate_below_the_minimum() -> None:
    slow = endpoint(40, span=20.0)  # 2 requests/s

    assert "2.0 requests/s over 40 requests, below the minimum 5/s" in (
        judge.rps_problem(evidence(slow), 5, 30) or ""
    )
    assert judge.rps_problem(evidence(slow), 1, 30) is None


def run(
    tmp_path: Path, *, exit_code: int = 1, log: str = "", guard: dict[str, object] | None = None
) -> LoadRun:
    plan = LoadPlan(
        params=LoadParams(),
        out_dir=tmp_path,
        master=[],
        workers=[],
        environ={},
        timeout_s=30,
        description="profile smoke-load against http://127.0.0.1:1",
    )
    plan.log.write_text(log)
    return LoadRun(
        plan=plan, exit_code=exit_code, timed_out=False, elapsed_s=1.0, pids=[], guard=guard
    )


def test_a_run_without_statistics_shows_locusts_error(tmp_path: Path) -> None:
    log = "Traceback (most recent call last):\n  ...\nSyntaxError: expected ':'\n"

    with pytest.raises(
        LoadDidNotRun, match="Locust did not run \\(exit 1\\): SyntaxError: expected ':'"
    ):
        judge.evidence_of(run(tmp_path, log=log), "prod")


def test_an_off_target_run_cannot_be_judged(tmp_path: Path) -> None:
    (tmp_path / "locust.json").write_text("[]")

    with pytest.raises(LoadDidNotRun, match=r"sent 3 request\(s\) off the target"):
        judge.evidence_of(
            run(tmp_path, exit_code=0, guard={"stopped": "off-target", "requests": 3}), "prod"
        )
