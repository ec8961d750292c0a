"""Judging a load run from its figures: enough answered requests, failure ratio (and an early
stop), latency percentiles of the answered requests with their interval and Locust's rounding,
answered rate; a run that left nothing is missing evidence, one that got no answer an
unreachable target."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from releasegate.errors import EvidenceMissing, LoadDidNotRun
from releasegate.load import thresholds as judge
from releasegate.load.params import LoadParams
from releasegate.load.runner import LoadPlan, LoadRun
from releasegate.load.stats import EndpointStats, LoadStats, aggregate
from releasegate.load.thresholds import LoadEvidence
from releasegate.outcome import Judged, Judgement
from releasegate.probe import TargetUnreachable

WHERE = "profile smoke-load against http://127.0.0.1:1, env=prod"
TARGET = "http://127.0.0.1:1"
REFUSED = "ConnectionRefusedError(111, 'Connection refused')"


def problem_of(judged: Judged) -> str | None:
    """A judged check read as before: None for a pass, else its failure message."""
    assert judged.judgement is not Judgement.INCONCLUSIVE, judged.message
    return None if judged.ok else judged.message


def endpoint(
    requests: int,
    failures: int = 0,
    ms: int = 10,
    span: float = 10.0,
    *,
    unanswered: dict[int, int] | None = None,
    answered: dict[int, int] | None = None,
) -> EndpointStats:
    """`requests` answered at `ms` (HTTP errors among them: `failures`), plus `unanswered`
    ({ms until failing: count}), which also count as sent and failed."""
    unanswered = unanswered or {}
    times = answered if answered is not None else ({ms: requests} if requests else {})
    lost = sum(unanswered.values())
    return EndpointStats(
        "GET /x",
        "GET",
        sum(times.values()) + lost,
        failures + lost,
        dict(Counter(times) + Counter(unanswered)),
        0.0,
        span,
        answered=sum(times.values()),
        answered_histogram=times,
        unanswered_histogram=unanswered,
    )


def evidence(
    *endpoints: EndpointStats,
    stopped: dict[str, object] | None = None,
    errors: tuple[tuple[str, int], ...] = (),
) -> LoadEvidence:
    stats = LoadStats(list(endpoints), aggregate(endpoints))
    return LoadEvidence(stats, stopped, WHERE, target=TARGET, errors=errors)


def test_too_few_requests_is_missing_evidence_with_the_counts() -> None:
    with pytest.raises(
        EvidenceMissing, match=r"5 request\(s\) answered of 5 sent, fewer than the 30 needed"
    ):
        judge.require_enough(evidence(endpoint(5)), 30)


def test_enough_counts_answered_requests_not_refused_ones() -> None:
    ran = evidence(endpoint(20, unanswered={5: 80}))

    with pytest.raises(EvidenceMissing, match=r"20 request\(s\) answered of 100 sent"):
        judge.require_enough(ran, 30)


def test_a_target_that_answered_nothing_is_unreachable_naming_host_counts_and_error() -> None:
    """Every connection refused: 105 sent, none answered. Not 'enough requests', not a fast
    p95, not a failure ratio to fail on: the target could not be reached."""
    refused = evidence(endpoint(0, unanswered={5: 105}), errors=((REFUSED, 105),))

    for judged in (
        lambda: judge.require_enough(refused, 30),
        lambda: judge.judge_failure_ratio(refused, 0.01, 30),
        lambda: judge.judge_rps(refused, 3, 30),
    ):
        with pytest.raises(TargetUnreachable) as raised:
            judged()
        assert str(raised.value).startswith(
            f"{TARGET} answered none of 105 request(s): 105 failed without a response;"
            f" Locust's errors: {REFUSED} (105x)"
        )


def test_an_early_stop_with_nothing_answered_is_unreachable_too() -> None:
    stopped = {"stopped": "failure-ratio", "at_s": 2.1, "limit": 0.1, "sustained_s": 2.0}

    with pytest.raises(TargetUnreachable):
        judge.judge_failure_ratio(
            evidence(endpoint(0, unanswered={3: 40}), stopped=stopped), 0.01, 30
        )


def test_failures_that_cannot_be_told_apart_are_missing_evidence() -> None:
    """Without the guard's answered-request statistics, a run with failures cannot be judged
    on latency or rate."""
    unknown = EndpointStats("GET /x", "GET", 100, 3, {5: 3, 10: 97}, 0.0, 10.0)

    with pytest.raises(EvidenceMissing, match="cannot tell answered requests from unanswered"):
        judge.require_enough(evidence(unknown), 30)
    assert judge.judge_latency(unknown, 0.95, 500, 0.95).judgement is Judgement.INCONCLUSIVE


def test_a_run_without_failures_needs_no_answered_statistics() -> None:
    clean = EndpointStats("GET /x", "GET", 100, 0, {10: 100}, 0.0, 10.0)

    assert judge.require_enough(evidence(clean), 30).answered_requests == 100


def test_no_requests_is_never_a_passing_failure_ratio() -> None:
    with pytest.raises(EvidenceMissing):
        judge.judge_failure_ratio(evidence(), 0.01, 1)


@pytest.mark.parametrize(
    ("failures", "expected"),
    [(0, None), (1, None), (2, "failure ratio 2.00% (2 of 100 requests) exceeds 1.00%")],
)
def test_failure_ratio_against_its_limit(failures: int, expected: str | None) -> None:
    problem = problem_of(judge.judge_failure_ratio(evidence(endpoint(100, failures)), 0.01, 30))

    assert problem == (None if expected is None else f"{expected} ({WHERE})")


def test_an_early_stop_for_failures_fails_even_below_the_minimum() -> None:
    stopped = {"stopped": "failure-ratio", "at_s": 2.1, "limit": 0.1, "sustained_s": 2.0}

    problem = problem_of(
        judge.judge_failure_ratio(evidence(endpoint(12, 6), stopped=stopped), 0.01, 30)
    )

    assert problem is not None
    assert "stopped early after 2.1s: above 10.0% for 2.0s" in problem


def test_latency_over_its_limit_names_endpoint_value_interval_and_count() -> None:
    ep = endpoint(100, ms=620)

    found = judge.judge_latency(ep, 0.95, 500, 0.95)

    assert found.judgement is Judgement.FAIL
    assert found.message == (
        "GET /x: p95 latency 620 ms (95% interval 615..625 ms, 100 samples) exceeds 500 ms"
    )
    assert judge.judge_latency(ep, 0.95, 700, 0.95).judgement is Judgement.PASS


@pytest.mark.parametrize(
    ("answered", "limit", "expected"),
    [
        pytest.param({1000: 200}, 1000, Judgement.INCONCLUSIVE, id="1000 vs 1000: inconclusive"),
        pytest.param({1100: 200}, 1000, Judgement.FAIL, id="1100 vs 1000: fails"),
        pytest.param({900: 200}, 1000, Judgement.PASS, id="900 vs 1000: passes"),
        pytest.param({99: 200}, 99, Judgement.PASS, id="under 100 ms: exact"),
    ],
)
def test_locusts_rounding_is_judged_by_the_bucket_edges(
    answered: dict[int, int], limit: float, expected: Judgement
) -> None:
    found = judge.judge_latency(endpoint(0, answered=answered), 0.95, limit, 0.95)

    assert found.judgement is expected


def test_refused_requests_do_not_count_as_fast_answers() -> None:
    """1900 refused in 5 ms and 100 answered in 800 ms: Locust's p95 is 5 ms; the answered
    requests' p95 is 800 ms, and the refused ones are left out, saying so."""
    ep = endpoint(0, answered={800: 100}, unanswered={5: 1900})
    assert ep.percentile(0.95) == 5  # what Locust's own histogram says

    found = judge.judge_latency(ep, 0.95, 500, 0.95)

    assert found.judgement is Judgement.FAIL
    assert found.samples == 100
    assert "1900 request(s) without an answer left out" in found.message


def test_a_timeout_counts_as_at_least_as_slow_as_it_waited() -> None:
    ep = endpoint(100, ms=10, unanswered={60000: 20, 3: 5})

    found = judge.judge_latency(ep, 0.95, 500, 0.95)

    assert found.judgement is Judgement.FAIL
    assert found.samples == 120
    assert "5 request(s) without an answer left out, 20 counted as slower than 500 ms" in (
        found.message
    )


def test_an_endpoint_p95_from_twelve_requests_is_inconclusive_saying_what_would_do() -> None:
    found = judge.judge_latency(endpoint(12, ms=5), 0.95, 500, 0.95)

    assert found.judgement is Judgement.INCONCLUSIVE
    assert found.too_few
    assert found.message == (
        "GET /x: p95 latency: 12 answered requests are too few for a 95% interval; 72 needed"
    )


def test_rate_below_the_minimum() -> None:
    slow = endpoint(40, span=20.0)  # 2 requests/s

    assert "2.0 answered requests/s (40 answered of 40 sent), below the minimum 5/s" in (
        problem_of(judge.judge_rps(evidence(slow), 5, 30)) or ""
    )
    assert problem_of(judge.judge_rps(evidence(slow), 1, 30)) is None


def test_the_rate_counts_answered_requests_only() -> None:
    """40 answered and 960 refused in 10 s: 4 served per second, not 100."""
    ran = evidence(endpoint(40, unanswered={5: 960}))

    assert "4.0 answered requests/s (40 answered of 1000 sent)" in (
        problem_of(judge.judge_rps(ran, 5, 30)) or ""
    )


def test_locusts_failures_file_is_read_most_frequent_first(tmp_path: Path) -> None:
    path = tmp_path / "locust_failures.csv"
    path.write_text(
        "Method,Name,Error,Occurrences\n"
        f'GET,/a,"{REFUSED}",3\n'
        "GET,/b,HTTPError('500'),9\n"
        f'GET,/b,"{REFUSED}",4\n'
    )

    assert judge.read_failures(path) == (("HTTPError('500')", 9), (REFUSED, 7))
    assert judge.read_failures(tmp_path / "missing.csv") == ()


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
