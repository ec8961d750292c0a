"""SLO statistics: percentiles with distribution-free confidence intervals, binomial bounds for
ratios, burn rates, and a rank test against a baseline. Pure functions, tested with tables.

Every judgement is three-way. A measurement is only a pass when its whole confidence interval
is on the right side of the threshold, and only a failure when the whole interval is on the
wrong side; an interval that straddles the threshold is *inconclusive* (HOLD), as is a sample
too small to give an interval at all (the result says how many samples would do).

Percentiles: the nearest-rank estimate (the smallest sample at or below which at least the
share q of samples fall). Its interval comes from order statistics: with B ~ Binomial(n, q)
the number of samples below the true quantile, [x_(l), x_(u)] covers it with probability
P(l <= B < u); l and u are chosen as the tightest ranks leaving at most alpha/2 in each tail.
No assumption about the distribution of latencies is made.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from scipy import stats


class Judgement(Enum):
    PASS = "pass"  # noqa: S105 - a judgement, not a password
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval, from `samples` observations."""

    estimate: float
    lower: float
    upper: float
    confidence: float
    samples: int

    def text(self, unit: str = "", digits: int = 1) -> str:
        u = f" {unit}" if unit else ""
        return (
            f"{self.estimate:.{digits}f}{u} ({self.confidence:.0%} interval"
            f" {self.lower:.{digits}f}..{self.upper:.{digits}f}{u}, {self.samples} samples)"
        )


def nearest_rank(samples: Sequence[float], q: float) -> float | None:
    """The q-quantile by nearest rank; None for no samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    return float(ordered[max(1, math.ceil(q * len(ordered))) - 1])


def samples_needed(q: float, confidence: float) -> int:
    """The fewest samples for which a two-sided `confidence` interval of the q-quantile exists
    (the smallest and largest samples must each leave at most alpha/2 out)."""
    tail = (1 - confidence) / 2
    return max(math.ceil(math.log(tail) / math.log(1 - q)), math.ceil(math.log(tail) / math.log(q)))


def percentile_interval(
    samples: Sequence[float], q: float, confidence: float = 0.95
) -> Interval | None:
    """The q-quantile with its distribution-free interval; None when there are too few
    samples for one (see `samples_needed`)."""
    n = len(samples)
    if n == 0 or n < samples_needed(q, confidence):
        return None
    tail = (1 - confidence) / 2
    cdf = stats.binom.cdf(np.arange(n + 1), n, q)  # cdf[k] = P(B <= k)
    # lower rank l: the largest with P(B <= l - 1) <= tail
    lower_rank = int(np.searchsorted(cdf, tail, side="right"))
    # upper rank u: the smallest with P(B <= u - 1) >= 1 - tail
    upper_rank = int(np.searchsorted(cdf, 1 - tail, side="left")) + 1
    lower_rank, upper_rank = max(1, lower_rank), min(n, upper_rank)
    ordered = sorted(samples)
    estimate = nearest_rank(ordered, q)
    assert estimate is not None
    return Interval(
        estimate, float(ordered[lower_rank - 1]), float(ordered[upper_rank - 1]), confidence, n
    )


def judge_at_most(interval: Interval | None, limit: float) -> Judgement:
    """Pass when the whole interval is at or under `limit`, fail when it is all above."""
    if interval is None:
        return Judgement.INCONCLUSIVE
    if interval.upper <= limit:
        return Judgement.PASS
    if interval.lower > limit:
        return Judgement.FAIL
    return Judgement.INCONCLUSIVE


def judge_at_least(interval: Interval | None, limit: float) -> Judgement:
    """Pass when the whole interval is at or over `limit`, fail when it is all below."""
    if interval is None:
        return Judgement.INCONCLUSIVE
    if interval.lower >= limit:
        return Judgement.PASS
    if interval.upper < limit:
        return Judgement.FAIL
    return Judgement.INCONCLUSIVE


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(1 - (1 - confidence) / 2))


def wilson_interval(events: int, n: int, confidence: float = 0.95) -> Interval | None:
    """The ratio events/n with its Wilson score interval; None for n = 0."""
    if n <= 0:
        return None
    z = _z(confidence)
    p = events / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half), confidence, n)


def samples_to_show_ratio_below(limit: float, confidence: float = 0.95) -> int:
    """Event-free samples needed before a Wilson upper bound falls to `limit`."""
    if limit <= 0:
        raise ValueError("no number of samples shows a ratio below 0")
    z = _z(confidence)
    return math.ceil(z * z * (1 - limit) / limit)


def burn_rate(error_ratio: float, objective: float) -> float:
    """How fast the error budget burns: 1.0 spends it exactly over the objective's period."""
    budget = 1 - objective
    return math.inf if budget <= 0 else error_ratio / budget


@dataclass(frozen=True)
class Regression:
    """Current samples against the baseline's: the rank test and the size of the change."""

    p_value: float
    median_ratio: float
    p95_ratio: float
    baseline_samples: int
    current_samples: int
    judgement: Judgement

    def text(self) -> str:
        return (
            f"median x{self.median_ratio:.2f}, p95 x{self.p95_ratio:.2f} against the baseline,"
            f" Mann-Whitney U p={self.p_value:.2g} ({self.current_samples} samples against"
            f" {self.baseline_samples})"
        )


MIN_COMPARED = 20


def compare_to_baseline(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    alpha: float = 0.01,
    min_increase: float = 0.2,
) -> Regression | None:
    """Is `current` slower than `baseline`? A one-sided Mann-Whitney U test (is a current
    sample likely larger than a baseline one?) plus a minimum effect: the median or the p95 up
    by more than `min_increase`. Significant and large: FAIL; either not: PASS; fewer than
    `MIN_COMPARED` samples on a side: None (cannot compare)."""
    if len(baseline) < MIN_COMPARED or len(current) < MIN_COMPARED:
        return None
    test = stats.mannwhitneyu(current, baseline, alternative="greater")
    p_value = float(test.pvalue)

    def ratio(q: float) -> float:
        old, new = nearest_rank(baseline, q) or 0.0, nearest_rank(current, q) or 0.0
        return new / old if old > 0 else (math.inf if new > 0 else 1.0)

    median_ratio, p95_ratio = ratio(0.5), ratio(0.95)
    large = max(median_ratio, p95_ratio) > 1 + min_increase
    judgement = Judgement.FAIL if p_value < alpha and large else Judgement.PASS
    return Regression(p_value, median_ratio, p95_ratio, len(baseline), len(current), judgement)
