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

Requests without an answer (timed out, refused once others were answered) are samples too:
right-censored at the timeout, they rank above every answered latency. A percentile or an
interval bound that falls on them is known only to be *at least* the timeout.

Against a baseline: the Hodges-Lehmann shift (the median of all current-minus-baseline
differences) with its distribution-free interval from the Mann-Whitney statistic. Slower only
when the interval's lower bound exceeds the minimum increase that matters; not slower only
when its upper bound is below it *and* the samples had the power to see that increase;
otherwise inconclusive, with the sample count that would do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from releasegate.outcome import Judgement

if TYPE_CHECKING:
    import numpy as np


# numpy and scipy.stats are imported on first use: every gate run loads this module through the
# plugin (reachability reads baselines) while few of them compute an interval; scipy takes
# seconds to import, numpy a sixth of a gate run's start


def _scipy_stats() -> Any:
    from scipy import stats

    return stats


def _numpy() -> Any:
    import numpy

    return numpy


@dataclass(frozen=True)
class Interval:
    """An estimate with its confidence interval, from `samples` observations."""

    estimate: float
    lower: float
    upper: float
    confidence: float
    samples: int
    # right-censored samples among them (no answer before the timeout), and where: a value at
    # or above `censor_at` is only known to be at least that
    censored: int = 0
    censor_at: float | None = None
    # an anytime-valid interval (a confidence sequence read at the sample count it stopped at)
    sequential: bool = False

    def at_least(self, value: float) -> bool:
        """Whether `value` (the estimate or a bound) is censored: the truth is at least it."""
        return self.censored > 0 and self.censor_at is not None and value >= self.censor_at

    def text(self, unit: str = "", digits: int | None = 1) -> str:
        """`412.3 ms (95% interval 400.1..420.2 ms, 450 samples)`; `digits` None shows the
        values as they are (`:g`: Locust's whole milliseconds, its bucket edges at .5)."""
        u = f" {unit}" if unit else ""

        def shown(value: float) -> str:
            if math.isinf(value):
                return "unbounded"
            number = f"{value:g}" if digits is None else f"{value:.{digits}f}"
            return f"{'>=' if self.at_least(value) else ''}{number}"

        censored = ""
        if self.censored and self.censor_at is not None:
            censored = f", {self.censored} without an answer counted as >={self.censor_at:g}{u}"
        return (
            f"{shown(self.estimate)}{u} ({self.confidence:.0%}"
            f" {'anytime-valid ' if self.sequential else ''}interval"
            f" {shown(self.lower)}..{shown(self.upper)}{u}, {self.samples} samples{censored})"
        )


@dataclass(frozen=True)
class Latencies:
    """Latencies in ms: the answered ones, and how many requests got no answer (right-censored
    at `censor_at`, the timeout: each took at least that long)."""

    observed: tuple[float, ...]
    censored: int = 0
    censor_at: float = 0.0

    def __len__(self) -> int:
        return len(self.observed) + self.censored

    @property
    def censor_point(self) -> float:
        """Where the censored samples stand: the timeout, or above every answered latency if
        one took longer (a slow answer can outlast a per-read timeout)."""
        return max(self.censor_at, max(self.observed, default=0.0))

    def values(self) -> list[float]:
        """Every sample, the censored ones at `censor_point`, sorted."""
        return sorted(self.observed) + [self.censor_point] * self.censored


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
    return _order_interval(sorted(samples), q, confidence, 0, None)


def censored_percentile_interval(
    latencies: Latencies, q: float, confidence: float = 0.95
) -> Interval | None:
    """`percentile_interval` with the censored samples ranked above every answered one: a
    percentile or bound that falls on them is at least the timeout (`Interval.at_least`)."""
    censor_at = latencies.censor_point if latencies.censored else None
    return _order_interval(latencies.values(), q, confidence, latencies.censored, censor_at)


def _order_interval(
    ordered: list[float], q: float, confidence: float, censored: int, censor_at: float | None
) -> Interval | None:
    n = len(ordered)
    ranks = order_ranks(n, q, confidence)
    if ranks is None:
        return None
    lower_rank, upper_rank = ranks
    estimate = nearest_rank(ordered, q)
    assert estimate is not None
    return Interval(
        estimate,
        float(ordered[lower_rank - 1]),
        float(ordered[upper_rank - 1]),
        confidence,
        n,
        censored,
        censor_at,
    )


def order_ranks(n: int, q: float, confidence: float = 0.95) -> tuple[int, int] | None:
    """The 1-based ranks (l, u) of the distribution-free interval of the q-quantile among n
    samples; None when n is too small (see `samples_needed`)."""
    if n <= 0 or n < samples_needed(q, confidence):
        return None
    tail = (1 - confidence) / 2
    np = _numpy()
    cdf = _scipy_stats().binom.cdf(np.arange(n + 1), n, q)
    lower_rank = int(np.searchsorted(cdf, tail, side="right"))
    upper_rank = int(np.searchsorted(cdf, 1 - tail, side="left")) + 1
    return max(1, lower_rank), min(n, upper_rank)


@dataclass(frozen=True)
class BucketInterval:
    """Where a histogram says a quantile lies: `lower` < true value <= `upper`, the bucket
    bounds around the order-statistic ranks of the interval (so both the sampling and the
    bucket width are in it). `upper` is inf when the rank is in the +Inf bucket."""

    lower: float
    upper: float
    confidence: float
    samples: int


def histogram_interval(
    buckets: Sequence[tuple[float, float]], q: float, samples: int, confidence: float = 0.95
) -> BucketInterval | None:
    """The interval of the q-quantile from cumulative buckets `(le, count or rate)` sorted by
    `le` with +Inf last, for `samples` observations: the lower bound of the bucket holding rank
    l, the upper bound of the one holding rank u. None for no observations or too few."""
    ranks = order_ranks(samples, q, confidence)
    total = buckets[-1][1] if buckets else 0.0
    if ranks is None or total <= 0:
        return None

    def bucket_of(rank: int) -> int:
        # the first bucket whose cumulative share of the samples reaches the rank
        for index, (_, cumulative) in enumerate(buckets):
            if cumulative / total * samples >= rank - 1e-9:
                return index
        return len(buckets) - 1

    low, high = bucket_of(ranks[0]), bucket_of(ranks[1])
    lower = buckets[low - 1][0] if low > 0 else 0.0
    return BucketInterval(lower, buckets[high][0], confidence, samples)


def judge_at_most(interval: Interval | None, limit: float) -> Judgement:
    """Pass when the whole interval is at or under `limit`, fail when it is all above."""
    if interval is None:
        return Judgement.INCONCLUSIVE
    # a censored upper bound is only "at least": it can never show the value is under a limit
    if interval.upper <= limit and not interval.at_least(interval.upper):
        return Judgement.PASS
    # a censored lower bound got no answer within it: the truth is above it, even at the limit
    if interval.lower > limit or (interval.at_least(interval.lower) and interval.lower >= limit):
        return Judgement.FAIL
    return Judgement.INCONCLUSIVE


def judge_at_least(interval: Interval | None, limit: float) -> Judgement:
    """Pass when the whole interval is at or over `limit`, fail when it is all below."""
    if interval is None:
        return Judgement.INCONCLUSIVE
    if interval.lower >= limit:
        return Judgement.PASS
    if interval.upper < limit and not interval.at_least(interval.upper):
        return Judgement.FAIL
    return Judgement.INCONCLUSIVE


def _z(confidence: float) -> float:
    return float(_scipy_stats().norm.ppf(1 - (1 - confidence) / 2))


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
    """Current samples against the baseline's: how much slower (the Hodges-Lehmann shift, ms,
    with its interval), against which minimum increase, with what power, and the judgement."""

    p_value: float  # one-sided Mann-Whitney U, no shift against a slowdown (shown, not judged)
    median_ratio: float
    p95_ratio: float
    baseline_samples: int
    current_samples: int
    judgement: Judgement
    shift_ms: float = 0.0
    shift_lower_ms: float = 0.0
    shift_upper_ms: float = 0.0
    confidence: float = 0.98  # of the shift's interval: 1 - 2 alpha (alpha in each tail)
    threshold_ms: float = 0.0  # the minimum increase that matters, here
    power: float = 1.0  # to tell no change from `threshold_ms`, at alpha
    samples_needed: int = 0  # a side, for `target_power`
    target_power: float = 0.8
    censored_baseline: int = 0
    censored_current: int = 0

    def text(self) -> str:
        censored = ""
        if self.censored_baseline or self.censored_current:
            censored = (
                f"; without an answer, counted as the timeout: {self.censored_current} now,"
                f" {self.censored_baseline} in the baseline"
            )
        return (
            f"shift {self.shift_ms:+.1f} ms ({self.confidence:.0%} interval"
            f" {self.shift_lower_ms:+.1f}..{self.shift_upper_ms:+.1f} ms, Hodges-Lehmann) against"
            f" a minimum increase of {self.threshold_ms:.1f} ms; median x{self.median_ratio:.2f},"
            f" p95 x{self.p95_ratio:.2f} ({self.current_samples} samples against"
            f" {self.baseline_samples}{censored})"
        )


MIN_COMPARED = 20
DEFAULT_POWER = 0.8
# bisection steps for an order statistic of the pairwise differences: 2^-80 of their range
_BISECTIONS = 80
# up to this many pairwise differences they are formed and sorted (exact, and faster)
_PAIRS_IN_MEMORY = 250_000


def _differences_at_most(current: np.ndarray, baseline: np.ndarray, t: float) -> int:
    """How many of the n*m differences current_i - baseline_j are <= t (both sorted)."""
    np = _numpy()
    below = np.searchsorted(baseline, current - t, side="left")
    return int(np.sum(len(baseline) - below))


def _kth_difference(current: np.ndarray, baseline: np.ndarray, k: int) -> float:
    """The k-th smallest (1-based) of the pairwise differences, without forming them all:
    bisection on the value, each step counting with a binary search (O((n + m) log m))."""
    low = float(current[0] - baseline[-1])
    high = float(current[-1] - baseline[0])
    if _differences_at_most(current, baseline, low) >= k:
        return low
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _differences_at_most(current, baseline, middle) >= k:
            high = middle
        else:
            low = middle
    return high


def shift_interval(
    baseline: Sequence[float], current: Sequence[float], alpha: float = 0.01
) -> Interval | None:
    """The Hodges-Lehmann shift (median of current - baseline differences) with the interval
    that inverts the Mann-Whitney test: [d_(k), d_(nm - k + 1)] leaves at most `alpha` out on
    each side (normal approximation of U, no tie correction: ties only widen it). None when the
    samples are too few for such a k."""
    n, m = len(current), len(baseline)
    if n == 0 or m == 0:
        return None
    np = _numpy()
    c = np.sort(np.asarray(current, dtype=float))
    b = np.sort(np.asarray(baseline, dtype=float))
    pairs = n * m
    z = float(_scipy_stats().norm.ppf(1 - alpha))
    k = math.floor(pairs / 2 - z * math.sqrt(pairs * (n + m + 1) / 12))
    if k < 1:
        return None
    if pairs <= _PAIRS_IN_MEMORY:
        ordered = np.sort(np.subtract.outer(c, b).ravel())

        def kth(rank: int) -> float:
            return float(ordered[rank - 1])
    else:

        def kth(rank: int) -> float:
            return _kth_difference(c, b, rank)

    middle = (pairs + 1) / 2
    estimate = (kth(math.floor(middle)) + kth(math.ceil(middle))) / 2
    lower, upper = kth(k), kth(pairs - k + 1)
    return Interval(estimate, lower, upper, 1 - 2 * alpha, n)


def shift_power(
    interval: Interval, baseline_samples: int, threshold: float, alpha: float, power: float
) -> tuple[float, int]:
    """The power to tell no change from a shift of `threshold` at `alpha` (normal
    approximation: the interval is about the estimate +- z_alpha sigma), and the samples a side
    that would give `power`. sigma comes from the spread of the data, never from the observed
    shift, so this is not the "observed power" fallacy."""
    z = float(_scipy_stats().norm.ppf(1 - alpha))
    sigma = (interval.upper - interval.lower) / (2 * z)
    if threshold <= 0:
        return (0.0, 0) if sigma > 0 else (1.0, 0)
    if sigma <= 0:
        return 1.0, 0
    achieved = float(_scipy_stats().norm.cdf(threshold / sigma - z))
    # sigma shrinks as sqrt(1/n + 1/m); with n = m: sigma_n = unit * sqrt(2 / n)
    unit = sigma / math.sqrt(1 / interval.samples + 1 / baseline_samples)
    z_power = float(_scipy_stats().norm.ppf(power))
    needed = math.ceil(2 * ((z + z_power) * unit / threshold) ** 2)
    return achieved, needed


def compare_to_baseline(
    baseline: Sequence[float],
    current: Sequence[float],
    *,
    alpha: float = 0.01,
    min_increase: float = 0.2,
    min_increase_ms: float = 0.0,
    power: float = DEFAULT_POWER,
    censored_baseline: int = 0,
    censored_current: int = 0,
) -> Regression | None:
    """Is `current` slower than `baseline` (latencies in ms, censored ones at the timeout)?

    The minimum increase that matters is the larger of `min_increase` times the baseline's
    median and `min_increase_ms`. With the Hodges-Lehmann shift's interval (alpha in each tail):
    FAIL when its lower bound is above that increase; PASS when its upper bound is below it and
    the samples had `power` to see it; else INCONCLUSIVE. None with fewer than `MIN_COMPARED`
    samples on a side, or too few for an interval."""
    if len(baseline) < MIN_COMPARED or len(current) < MIN_COMPARED:
        return None
    interval = shift_interval(baseline, current, alpha)
    if interval is None:
        return None
    test = _scipy_stats().mannwhitneyu(current, baseline, alternative="greater")
    p_value = float(test.pvalue)

    def ratio(q: float) -> float:
        old, new = nearest_rank(baseline, q) or 0.0, nearest_rank(current, q) or 0.0
        return new / old if old > 0 else (math.inf if new > 0 else 1.0)

    threshold = max(min_increase * (nearest_rank(baseline, 0.5) or 0.0), min_increase_ms)
    achieved, needed = shift_power(interval, len(baseline), threshold, alpha, power)
    if interval.lower > threshold:
        judgement = Judgement.FAIL
    elif interval.upper < threshold and achieved >= power:
        judgement = Judgement.PASS
    else:
        judgement = Judgement.INCONCLUSIVE
    return Regression(
        p_value,
        ratio(0.5),
        ratio(0.95),
        len(baseline),
        len(current),
        judgement,
        shift_ms=interval.estimate,
        shift_lower_ms=interval.lower,
        shift_upper_ms=interval.upper,
        confidence=interval.confidence,
        threshold_ms=threshold,
        power=achieved,
        samples_needed=needed,
        target_power=power,
        censored_baseline=censored_baseline,
        censored_current=censored_current,
    )
