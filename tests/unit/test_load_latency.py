"""Percentiles from Locust's histograms: its rounding buckets judged by their edges, and the
SLO gate's order-statistic interval mapped onto the buckets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from releasegate.load.latency import (
    histogram_interval,
    histogram_percentile,
    judge_histogram,
    judge_reported,
)
from releasegate.load.stats import bucket_edges
from releasegate.outcome import Judgement
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import Origin
from releasegate.slo.statistics import percentile_interval


@pytest.mark.parametrize(
    ("reported", "edges"),
    [
        pytest.param(42, (42, 42), id="below 100 ms: whole milliseconds, exact"),
        pytest.param(99, (99, 99), id="99 exact"),
        pytest.param(100, (99.5, 105), id="100 holds 99.5..105"),
        pytest.param(900, (895, 905), id="900 holds 895..905"),
        pytest.param(1000, (995, 1050), id="1000 holds 995..1050"),
        pytest.param(1100, (1050, 1150), id="1100 holds 1050..1150"),
        pytest.param(10000, (9950, 10500), id="10000 holds 9950..10500"),
        pytest.param(59000, (58500, 59500), id="59000 holds 58500..59500"),
    ],
)
def test_bucket_edges(reported: int, edges: tuple[float, float]) -> None:
    assert bucket_edges(reported) == edges


@pytest.mark.parametrize(
    ("reported", "limit", "expected"),
    [
        pytest.param(1000, 1000, Judgement.INCONCLUSIVE, id="1000 vs 1000: up to 1050"),
        pytest.param(1000, 1050, Judgement.PASS, id="1000 vs 1050: upper edge within"),
        pytest.param(1100, 1000, Judgement.FAIL, id="1100 vs 1000: lower edge 1050 over"),
        pytest.param(900, 1000, Judgement.PASS, id="900 vs 1000: upper edge 905"),
        pytest.param(500, 500, Judgement.INCONCLUSIVE, id="500 vs 500: up to 505"),
        pytest.param(50, 50, Judgement.PASS, id="50 vs 50: exact below 100"),
        pytest.param(51, 50, Judgement.FAIL, id="51 vs 50: exact below 100"),
    ],
)
def test_a_reported_value_is_judged_by_its_bucket(
    reported: int, limit: float, expected: Judgement
) -> None:
    assert judge_reported(reported, limit) is expected


def test_the_edges_hold_every_time_locust_puts_in_the_bucket() -> None:
    """Locust's own rounding (in a subprocess: Locust is never imported into pytest) puts each
    time between the edges of the bucket it reports."""
    times = [x / 10 for x in range(0, 1000, 7)] + list(range(100, 70000, 37)) + [1049.9, 1050.1]
    code = (
        "import json, sys; from locust.stats import bucket_response_time as b;"
        "print(json.dumps([b(t) for t in json.loads(sys.stdin.read())]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(times),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    buckets = json.loads(done.stdout.strip().splitlines()[-1])

    def holds(t: float, b: int) -> bool:
        whole_ms = 0.5 if b < 100 else 0.0  # below 100 ms a whole millisecond is exact
        return bucket_edges(b)[0] - whole_ms <= t <= bucket_edges(b)[1] + whole_ms

    outside = [(t, b) for t, b in zip(times, buckets, strict=True) if not holds(t, b)]
    assert outside == []


def test_a_p95_of_1049_ms_stored_as_1000_no_longer_passes_1000() -> None:
    """200 requests all at 1000 ms as Locust reports them: anything up to 1050 ms."""
    found = judge_histogram({1000: 200}, 0.95, 1000, 0.95)

    assert found.judgement is Judgement.INCONCLUSIVE
    assert found.interval is not None
    assert (found.interval.lower, found.interval.upper) == (995, 1050)


def test_a_percentile_from_twelve_requests_is_inconclusive_with_the_count_needed() -> None:
    found = judge_histogram({10: 11, 20: 1}, 0.95, 500, 0.95)

    assert found.judgement is Judgement.INCONCLUSIVE
    assert found.interval is None
    assert (found.samples, found.needed) == (12, 72)
    assert found.describe() == "12 samples, too few for an interval; 72 needed"


@pytest.mark.parametrize("q", [0.5, 0.95, 0.99])
def test_below_100_ms_the_interval_is_the_slo_gates_own(q: float) -> None:
    """Exact buckets: the same estimate and interval as the SLO gate on the samples."""
    histogram = {ms: 1 + (ms * 7) % 13 for ms in range(1, 99)}
    samples = [float(ms) for ms, count in histogram.items() for _ in range(count)]

    assert histogram_interval(histogram, q, 0.95) == percentile_interval(samples, q, 0.95)


def test_the_interval_ends_widen_to_their_buckets() -> None:
    histogram = {90: 50, 400: 40, 1100: 10}  # p95 in the 1100 bucket

    interval = histogram_interval(histogram, 0.95, 0.95)

    assert interval is not None
    assert interval.estimate == 1100
    assert interval.upper == 1150
    assert interval.lower in (395, 1050)


def test_an_empty_histogram_has_no_interval() -> None:
    assert histogram_interval({}, 0.95, 0.95) is None
    assert judge_histogram({}, 0.95, 500, 0.95).judgement is Judgement.INCONCLUSIVE


@pytest.mark.parametrize(
    ("histogram", "limit", "expected", "says"),
    [
        pytest.param({1000: 400}, 1000, Judgement.INCONCLUSIVE, "straddles 1000 ms", id="1000"),
        pytest.param({1100: 400}, 1000, Judgement.FAIL, "exceeds 1000 ms", id="1100"),
        pytest.param({900: 400}, 1000, Judgement.PASS, "within 1000 ms", id="900"),
        pytest.param({5: 12}, 1000, Judgement.INCONCLUSIVE, "72 needed", id="12 samples"),
        pytest.param({}, 1000, Judgement.INCONCLUSIVE, "no answered requests", id="none"),
        pytest.param(None, 1000, Judgement.INCONCLUSIVE, "cannot be told", id="unknown"),
    ],
)
def test_the_slo_gates_verdict_on_load_statistics(
    histogram: dict[int, int] | None, limit: float, expected: Judgement, says: str
) -> None:
    """The SLO gate reading the load stage judges Locust's buckets like the load gate does."""
    sli = histogram_percentile(histogram, 0.95, 0.95, Origin("locust", "load stage, env=prod"))
    verdict = judge(sli, Objective(Indicator.LATENCY, limit, 0.95))

    assert verdict.judgement is expected
    assert says in verdict.message
    assert verdict.message.endswith("(load stage, env=prod)")
