"""Latency percentiles from Locust's response-time histograms, judged as honestly as the SLO
gate judges raw samples. Pure functions; used by the load gate (`judge_histogram`) and by the
SLO gate's load-statistics source (`histogram_percentile`, judged by `releasegate.slo.judge`),
so the two never disagree on the same evidence.

Locust keeps a histogram, not the samples, and rounds each response time into a bucket first
(`locust.stats.bucket_response_time`, Locust 2.47): whole milliseconds below 100 ms, then two
significant digits (to 10 ms up to 1 s, to 100 ms up to 10 s, to 1 s beyond), with Python's
`round` (half to even). A reported 1000 ms is any time from 995 to 1050 ms. Two rules follow:

- **Rounding.** A percentile is judged by the edges of its bucket: it passes only when the
  bucket's upper edge is within the limit, and fails only when the bucket's lower edge is already
  over it; a limit inside the bucket is inconclusive. Below 100 ms the whole millisecond is taken
  as exact.
- **Sample size.** The percentile's distribution-free interval is the SLO gate's
  (`releasegate.slo.statistics.percentile_interval`): its ends are order statistics, that is
  ranks, and a rank maps to the bucket holding it. Too few samples to bound the percentile is
  inconclusive, saying how many would do.

The interval is therefore [lower edge of the bucket holding rank l, upper edge of the bucket
holding rank u], and `releasegate.slo.statistics.judge_at_most` judges it like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from releasegate.load.stats import bucket_edges
from releasegate.outcome import Judgement
from releasegate.slo.sli import Origin, Percentile, Unmeasured, too_few
from releasegate.slo.statistics import (
    Interval,
    judge_at_most,
    percentile_interval,
    samples_needed,
)

# Locust rounds what it stores: the interval is widened to the edges of the rounding buckets
ROUNDING_CAVEAT = " (the interval includes Locust's rounding)"


def judge_reported(reported: float, limit: float) -> Judgement:
    """One value as Locust reports it against an at-most limit, its rounding allowed for."""
    lower, upper = bucket_edges(reported)
    if upper <= limit:
        return Judgement.PASS
    if lower > limit:
        return Judgement.FAIL
    return Judgement.INCONCLUSIVE


def _value_at_rank(ordered: list[tuple[int, int]], rank: int) -> float:
    """The histogram value holding the `rank`-th smallest sample (1-based)."""
    seen = 0
    for value, count in ordered:
        seen += count
        if seen >= rank:
            return float(value)
    return float(ordered[-1][0])


def histogram_interval(
    histogram: Mapping[int, int], q: float, confidence: float
) -> Interval | None:
    """The q-quantile of a Locust histogram with its interval, widened to Locust's bucket
    edges; None when it is empty or too small for an interval (see `slo.samples_needed`)."""
    ordered = sorted((value, count) for value, count in histogram.items() if count > 0)
    n = sum(count for _, count in ordered)
    if n == 0:
        return None
    # The SLO gate's own interval over the ranks 1..n: its estimate and ends are ranks.
    ranks = percentile_interval(range(1, n + 1), q, confidence)
    if ranks is None:
        return None
    estimate = _value_at_rank(ordered, int(ranks.estimate))
    lower, _ = bucket_edges(_value_at_rank(ordered, int(ranks.lower)))
    _, upper = bucket_edges(_value_at_rank(ordered, int(ranks.upper)))
    return Interval(estimate, lower, upper, confidence, n)


@dataclass(frozen=True)
class LatencyJudgement:
    """A percentile from a histogram against its limit: the judgement, the interval (None when
    there is none), the sample count, and how many samples would give an interval."""

    judgement: Judgement
    interval: Interval | None
    samples: int
    needed: int

    @property
    def estimate(self) -> float | None:
        return self.interval.estimate if self.interval else None

    def describe(self, unit: str = "ms") -> str:
        """`620 ms (95% interval 600..650 ms, 40 samples)`, or why there is no interval."""
        if self.interval is None:
            return f"{self.samples} samples, too few for an interval; {self.needed} needed"
        return self.interval.text(unit, digits=None)


def judge_histogram(
    histogram: Mapping[int, int], q: float, limit: float, confidence: float
) -> LatencyJudgement:
    """The q-quantile of `histogram` against an at-most `limit`: pass, fail or inconclusive."""
    interval = histogram_interval(histogram, q, confidence)
    return LatencyJudgement(
        judgement=judge_at_most(interval, limit),
        interval=interval,
        samples=sum(histogram.values()),
        needed=samples_needed(q, confidence),
    )


def histogram_percentile(
    histogram: Mapping[int, int] | None, q: float, confidence: float, origin: Origin
) -> Percentile | Unmeasured:
    """The q-quantile of a Locust histogram as an SLI: its interval widened to Locust's
    rounding, said as whole milliseconds. None (answered requests cannot be told from
    unanswered ones), an empty histogram and too few samples for an interval are unmeasured."""
    if histogram is None:
        return Unmeasured(origin, "answered requests cannot be told from unanswered ones")
    n = sum(histogram.values())
    if n == 0:
        return Unmeasured(origin, "no answered requests")
    interval = histogram_interval(histogram, q, confidence)
    if interval is None:
        return too_few(origin, n, q, confidence)
    return Percentile(origin, q, interval, caveat=ROUNDING_CAVEAT, digits=None)
