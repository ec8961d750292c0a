"""SLO statistics, with hand-computed cases: percentiles and their order-statistic intervals,
Wilson bounds, the three-way judgement, burn rates and the comparison with a baseline."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from releasegate.outcome import Judgement
from releasegate.slo.judge import regression
from releasegate.slo.statistics import (
    Interval,
    Latencies,
    _kth_difference,
    burn_rate,
    censored_percentile_interval,
    compare_to_baseline,
    judge_at_least,
    judge_at_most,
    nearest_rank,
    percentile_interval,
    samples_needed,
    samples_to_show_ratio_below,
    shift_interval,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("samples", "q", "expected"),
    [
        pytest.param([], 0.95, None, id="empty: none, not 0"),
        pytest.param([7.0], 0.95, 7.0, id="one sample"),
        pytest.param([3.0, 1.0, 2.0, 4.0], 0.5, 2.0, id="median of 4: rank 2"),
        pytest.param(list(range(1, 101)), 0.95, 95.0, id="1..100: p95 is 95"),
        pytest.param([5.0] * 10, 0.99, 5.0, id="all equal"),
        pytest.param([1.0, 2.0, 2.0, 2.0, 9.0], 0.5, 2.0, id="ties"),
    ],
)
def test_nearest_rank(samples: list[float], q: float, expected: float | None) -> None:
    assert nearest_rank(samples, q) == expected


@pytest.mark.parametrize(
    ("q", "confidence", "expected"),
    [
        # the largest sample must leave at most 2.5 % above: 0.95^n <= 0.025 -> n >= 72
        (0.95, 0.95, 72),
        (0.99, 0.95, 368),
        # the median: 0.5^n <= 0.025 -> n >= 6
        (0.5, 0.95, 6),
        (0.95, 0.99, 104),
    ],
)
def test_samples_needed_for_an_interval(q: float, confidence: float, expected: int) -> None:
    assert samples_needed(q, confidence) == expected


def test_too_few_samples_give_no_interval() -> None:
    assert percentile_interval([1.0] * 71, 0.95) is None
    assert percentile_interval([], 0.5) is None
    assert percentile_interval([1.0] * 72, 0.95) is not None


def test_the_median_interval_of_1_to_11_is_ranks_3_to_9() -> None:
    """n = 11, q = 0.5, B ~ Binomial(11, 0.5): P(B <= 1) = 0.0059, P(B <= 2) = 0.0327, so the
    largest l with P(B <= l - 1) <= 0.025 is 2; P(B <= 8) = 0.9673, P(B <= 9) = 0.9941, so the
    smallest u with P(B <= u - 1) >= 0.975 is 10. Coverage: 0.9941 - 0.0059 = 0.988."""
    interval = percentile_interval([float(i) for i in range(1, 12)], 0.5)

    assert interval == Interval(6.0, 2.0, 10.0, 0.95, 11)


def test_an_interval_covers_the_true_quantile_as_often_as_it_says() -> None:
    """1,000 draws of 200 exponential latencies: the 95 % interval of the p95 covers the true
    p95 (-ln 0.05 = 2.9957) at least 93 % of the time (sampling error of the check itself)."""
    rng = random.Random(7)
    true_p95 = 2.995732
    covered = 0
    for _ in range(1000):
        interval = percentile_interval([rng.expovariate(1.0) for _ in range(200)], 0.95)
        assert interval is not None
        covered += interval.lower <= true_p95 <= interval.upper
    assert covered >= 930


@pytest.mark.parametrize(
    ("lower", "upper", "limit", "at_most", "at_least"),
    [
        (100, 400, 500, Judgement.PASS, Judgement.FAIL),
        (600, 700, 500, Judgement.FAIL, Judgement.PASS),
        (450, 550, 500, Judgement.INCONCLUSIVE, Judgement.INCONCLUSIVE),
        (300, 500, 500, Judgement.PASS, Judgement.INCONCLUSIVE),
    ],
)
def test_judgements_are_three_way(
    lower: float, upper: float, limit: float, at_most: Judgement, at_least: Judgement
) -> None:
    interval = Interval((lower + upper) / 2, lower, upper, 0.95, 100)

    assert judge_at_most(interval, limit) is at_most
    assert judge_at_least(interval, limit) is at_least


def test_no_interval_is_inconclusive_either_way() -> None:
    assert judge_at_most(None, 1.0) is Judgement.INCONCLUSIVE
    assert judge_at_least(None, 1.0) is Judgement.INCONCLUSIVE


@pytest.mark.parametrize(
    ("events", "n", "lower", "upper"),
    [
        # hand-computed with z = 1.959964
        (0, 100, 0.0, 0.036994),
        (5, 100, 0.021544, 0.111750),
        (50, 100, 0.403832, 0.596168),
        (1, 1, 0.206549, 1.0),
    ],
)
def test_wilson_interval(events: int, n: int, lower: float, upper: float) -> None:
    interval = wilson_interval(events, n)

    assert interval is not None
    assert interval.estimate == events / n
    assert interval.lower == pytest.approx(lower, abs=1e-6)
    assert interval.upper == pytest.approx(upper, abs=1e-5)


def test_wilson_of_nothing_is_none() -> None:
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize(("limit", "needed"), [(0.01, 381), (0.001, 3838)])
def test_event_free_samples_needed_to_show_a_ratio_below_a_limit(limit: float, needed: int) -> None:
    assert samples_to_show_ratio_below(limit) == needed
    upper = wilson_interval(0, needed)
    before = wilson_interval(0, needed - 1)
    assert upper is not None
    assert before is not None
    assert upper.upper <= limit < before.upper


@pytest.mark.parametrize(
    ("ratio", "objective", "expected"),
    [(0.001, 0.999, 1.0), (0.0144, 0.999, 14.4), (0.0, 0.999, 0.0), (0.06, 0.99, 6.0)],
)
def test_burn_rate(ratio: float, objective: float, expected: float) -> None:
    assert burn_rate(ratio, objective) == pytest.approx(expected)


def test_a_large_significant_slowdown_fails_against_the_baseline() -> None:
    rng = random.Random(1)
    baseline = [rng.gauss(20, 2) for _ in range(100)]
    current = [rng.gauss(30, 3) for _ in range(100)]

    result = compare_to_baseline(baseline, current)

    assert result is not None
    assert result.judgement is Judgement.FAIL
    assert result.p_value < 1e-10
    assert 1.4 < result.median_ratio < 1.6


def test_a_significant_but_small_slowdown_passes() -> None:
    """3 % slower, with many samples: real, but under the 20 % minimum effect."""
    rng = random.Random(2)
    baseline = [rng.gauss(100, 2) for _ in range(400)]
    current = [rng.gauss(103, 2) for _ in range(400)]

    result = compare_to_baseline(baseline, current)

    assert result is not None
    assert result.p_value < 0.01
    assert result.judgement is Judgement.PASS


def test_the_same_distribution_passes() -> None:
    rng = random.Random(3)
    baseline = [rng.gauss(50, 5) for _ in range(100)]
    current = [rng.gauss(50, 5) for _ in range(100)]

    result = compare_to_baseline(baseline, current)

    assert result is not None
    assert result.judgement is Judgement.PASS


def test_all_equal_samples_on_both_sides_pass() -> None:
    result = compare_to_baseline([10.0] * 30, [10.0] * 30)

    assert result is not None
    assert result.judgement is Judgement.PASS
    assert result.median_ratio == 1.0


def test_too_few_samples_cannot_be_compared() -> None:
    assert compare_to_baseline([1.0] * 19, [2.0] * 100) is None
    assert compare_to_baseline([1.0] * 100, []) is None


# --- requests without an answer: right-censored at the timeout ------------------------------


@pytest.mark.parametrize(
    ("timeouts", "expected"),
    [
        # 10 of 100: the true share without an answer may still be under 5 % (Binomial)
        pytest.param(10, Judgement.INCONCLUSIVE, id="10 % timeouts: not a pass"),
        pytest.param(20, Judgement.FAIL, id="20 % timeouts: the whole interval is >= 5 s"),
    ],
)
def test_timeouts_count_in_the_percentile_as_at_least_the_timeout(
    timeouts: int, expected: Judgement
) -> None:
    """Answers at 10-19 ms and the rest timed out at 5 s: the p95 falls on a timeout, so it is
    at least 5,000 ms against a 500 ms objective (dropping the timeouts passed it at ~19 ms)."""
    answered = 100 - timeouts
    latencies = Latencies(
        tuple(10.0 + i % 10 for i in range(answered)), censored=timeouts, censor_at=5000.0
    )

    interval = censored_percentile_interval(latencies, 0.95)

    assert interval is not None
    assert interval.estimate == 5000.0
    assert interval.at_least(interval.estimate)
    assert interval.censored == timeouts
    assert interval.samples == 100
    assert judge_at_most(interval, 500.0) is expected
    assert ">=5000.0 ms" in interval.text("ms")
    assert f"{timeouts} without an answer counted as >=5000 ms" in interval.text("ms")


def test_an_interval_reaching_into_the_timeouts_cannot_pass_even_over_the_timeout() -> None:
    """A limit of 10 s with a 5 s timeout: a censored upper bound is "at least 5 s", which does
    not show the percentile is under 10 s: inconclusive, not pass."""
    latencies = Latencies(tuple(float(i) for i in range(1, 96)), censored=5, censor_at=5000.0)

    interval = censored_percentile_interval(latencies, 0.95)

    assert interval is not None
    assert interval.at_least(interval.upper)
    assert not interval.at_least(interval.lower)
    assert judge_at_most(interval, 10_000.0) is Judgement.INCONCLUSIVE


def test_timeouts_at_the_limit_fail_it() -> None:
    """A 500 ms timeout and a 500 ms objective: a request without an answer within 500 ms took
    longer than the objective allows, so a p95 resting on timeouts fails (it was inconclusive:
    "at least 500" looked as if it could be exactly 500)."""
    latencies = Latencies(tuple(100.0 + i for i in range(49)), censored=51, censor_at=500.0)

    interval = censored_percentile_interval(latencies, 0.95)

    assert interval is not None
    assert interval.at_least(interval.lower)
    assert judge_at_most(interval, 500.0) is Judgement.FAIL


def test_without_censored_samples_the_interval_is_the_plain_one() -> None:
    values = tuple(float(i) for i in range(1, 201))

    assert censored_percentile_interval(Latencies(values), 0.95) == percentile_interval(
        values, 0.95
    )


# --- the shift against the baseline: an interval, a minimum increase, and power -------------


def test_the_shift_interval_is_the_order_statistics_of_the_pairwise_differences() -> None:
    """Checked against all n*m differences formed by hand, and the bisection path (used for
    large samples) against the exact one."""
    rng = np.random.default_rng(11)
    baseline, current = rng.lognormal(3, 0.4, 40), rng.lognormal(3.2, 0.4, 30)
    differences = np.sort(np.subtract.outer(current, baseline).ravel())
    pairs = len(differences)
    k = math.floor(pairs / 2 - 2.326348 * math.sqrt(pairs * (40 + 30 + 1) / 12))

    interval = shift_interval(list(baseline), list(current), alpha=0.01)

    assert interval is not None
    assert interval.estimate == pytest.approx(float(np.median(differences)))
    assert interval.lower == differences[k - 1]
    assert interval.upper == differences[pairs - k]
    assert interval.confidence == pytest.approx(0.98)
    c, b = np.sort(current), np.sort(baseline)
    assert _kth_difference(c, b, k) == pytest.approx(differences[k - 1], abs=1e-9)
    assert _kth_difference(c, b, pairs) == pytest.approx(differences[-1], abs=1e-9)


def test_the_shift_interval_covers_the_true_shift_as_often_as_it_says() -> None:
    """300 seeded draws of 40 against 40 exponential latencies, shifted by 5 ms: the 98 %
    interval covers 5 at least 95 % of the time (sampling error of the check itself)."""
    covered = 0
    for seed in range(300):
        rng = np.random.default_rng(seed)
        baseline, current = rng.exponential(20, 40), rng.exponential(20, 40) + 5
        interval = shift_interval(list(baseline), list(current), alpha=0.01)
        assert interval is not None
        covered += interval.lower <= 5 <= interval.upper

    assert covered >= 285


def lognormal_pair(
    seed: int, median_ms: float, factor: float, n: int, spread: float = 0.5
) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    baseline = median_ms * rng.lognormal(0, spread, n)
    current = median_ms * factor * rng.lognormal(0, spread, n)
    return list(baseline), list(current)


@pytest.mark.parametrize(
    ("median_ms", "factor", "n", "floor_ms", "allowed"),
    [
        pytest.param(
            100, 2.0, 25, 10, {Judgement.FAIL, Judgement.INCONCLUSIVE},
            id="a true 2x slowdown, 25 a side: never pass",
        ),
        pytest.param(
            3, 1.08, 200, 30, {Judgement.PASS},
            id="x1.08 at 3 ms on a 300 ms objective: pass",
        ),
        pytest.param(
            3, 1.4, 200, 30, {Judgement.PASS},
            id="x1.4 at 3 ms (the demo's p95 noise) under a 30 ms floor: pass",
        ),
        pytest.param(
            100, 1.6, 300, 10, {Judgement.FAIL},
            id="a clear regression with enough samples: fail",
        ),
        pytest.param(
            100, 1.0, 25, 10, {Judgement.INCONCLUSIVE},
            id="no change, 25 a side: too little power to pass",
        ),
        pytest.param(
            100, 1.0, 400, 10, {Judgement.PASS},
            id="no change, 400 a side: pass",
        ),
    ],
)  # fmt: skip
def test_baseline_comparisons_over_seeds(
    median_ms: float, factor: float, n: int, floor_ms: float, allowed: set[Judgement]
) -> None:
    """Twenty seeds a row: the judgement is always one of those allowed."""
    seen = set()
    for seed in range(20):
        baseline, current = lognormal_pair(seed, median_ms, factor, n)
        result = compare_to_baseline(baseline, current, min_increase_ms=floor_ms)
        assert result is not None
        seen.add(result.judgement)

    assert seen <= allowed, f"seen {seen}"


def test_a_true_2x_slowdown_with_25_samples_a_side_is_never_a_pass() -> None:
    """Monte Carlo over 300 seeds (the old rank test passed two runs in three)."""
    judgements = []
    for seed in range(300):
        baseline, current = lognormal_pair(seed, 100, 2.0, 25, spread=1.0)
        result = compare_to_baseline(baseline, current, min_increase_ms=10)
        assert result is not None
        judgements.append(result.judgement)

    assert Judgement.PASS not in judgements
    assert judgements.count(Judgement.FAIL) > 50  # not merely always inconclusive


def test_the_minimum_increase_is_the_larger_of_relative_and_absolute() -> None:
    baseline, current = lognormal_pair(1, 100, 1.0, 100)

    relative = compare_to_baseline(baseline, current, min_increase=0.2, min_increase_ms=5)
    absolute = compare_to_baseline(baseline, current, min_increase=0.2, min_increase_ms=50)

    assert relative is not None
    assert absolute is not None
    assert relative.threshold_ms == pytest.approx(0.2 * (nearest_rank(baseline, 0.5) or 0))
    assert absolute.threshold_ms == 50


def test_too_little_power_says_how_many_samples_would_do() -> None:
    baseline, current = lognormal_pair(3, 100, 1.0, 25)

    result = compare_to_baseline(baseline, current, min_increase_ms=10)

    assert result is not None
    assert result.judgement is Judgement.INCONCLUSIVE
    assert result.power < 0.8
    assert result.samples_needed > 25
    verdict = regression(result, "GET /api/x", 0.2, 0.01, "env=prod")
    assert verdict.judgement is Judgement.INCONCLUSIVE
    assert f"about {result.samples_needed} samples a side would give 80%" in verdict.message
    assert "power to see" in verdict.message


def test_the_samples_needed_do_give_the_power() -> None:
    """Taking as many samples a side as the calculation said gives about the power it said."""
    baseline, current = lognormal_pair(4, 100, 1.0, 30)
    first = compare_to_baseline(baseline, current, min_increase_ms=10)
    assert first is not None
    needed = first.samples_needed

    passed = 0
    for seed in range(40):
        more_baseline, more_current = lognormal_pair(100 + seed, 100, 1.0, needed)
        result = compare_to_baseline(more_baseline, more_current, min_increase_ms=10)
        assert result is not None
        passed += result.judgement is Judgement.PASS

    assert passed >= 20  # 80 % aimed at; the estimate of sigma came from 30 samples


def test_a_failed_comparison_names_the_shift_its_interval_and_the_minimum() -> None:
    baseline, current = lognormal_pair(5, 100, 1.6, 300)
    result = compare_to_baseline(baseline, current, min_increase_ms=10)

    verdict = regression(result, "GET /api/x", 0.2, 0.01, "env=prod")

    assert verdict.judgement is Judgement.FAIL
    assert "GET /api/x is slower than before the deploy: shift +" in verdict.message
    assert "98% interval" in verdict.message
    assert "minimum increase" in verdict.message
    assert "300 samples against 300" in verdict.message
