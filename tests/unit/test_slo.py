"""SLO statistics, with hand-computed cases: percentiles and their order-statistic intervals,
Wilson bounds, the three-way judgement, burn rates and the comparison with a baseline."""

from __future__ import annotations

import random

import pytest

from releasegate.slo import (
    Interval,
    Judgement,
    burn_rate,
    compare_to_baseline,
    judge_at_least,
    judge_at_most,
    nearest_rank,
    percentile_interval,
    samples_needed,
    samples_to_show_ratio_below,
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
