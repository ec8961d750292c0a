"""The SLO gate's rules: a judgement (pass, fail, inconclusive) with the figures and a message
that names the measured value, its interval, the threshold, the sample count and where.

`enforce` turns a judgement into the check's outcome: a failure is an `AssertionError` (the
target measured and found wrong: ROLLBACK), an inconclusive result `EvidenceMissing` (HOLD).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from releasegate.errors import CheckFailed, EvidenceMissing
from releasegate.outcome import Judgement
from releasegate.slo.statistics import (
    BucketInterval,
    Interval,
    Latencies,
    Regression,
    censored_percentile_interval,
    judge_at_least,
    judge_at_most,
    percentile_interval,
    samples_needed,
    samples_to_show_ratio_below,
    wilson_interval,
)

__all__ = [
    "Judgement",
    "Verdict",
    "enforce",
    "histogram_latency",
    "latency",
    "ratio_at_least",
    "ratio_at_most",
    "regression",
]


@dataclass(frozen=True)
class Verdict:
    judgement: Judgement
    interval: Interval | None
    message: str


def enforce(verdict: Verdict) -> None:
    """Raise what the judgement means for the check (nothing for a pass)."""
    __tracebackhide__ = True
    if verdict.judgement is Judgement.FAIL:
        raise CheckFailed(verdict.message, measured=verdict.interval)
    if verdict.judgement is Judgement.INCONCLUSIVE:
        raise EvidenceMissing(verdict.message)


def at_most_message(
    judgement: Judgement,
    name: str,
    shown: str,
    limit: str,
    tail: str,
    *,
    caveat: str = "",
    advice: str = "take more samples",
) -> str:
    """How a value judged against an at-most limit reads: within it, over it, or straddling it
    (with what `caveat` widened the interval, and what would decide)."""
    if judgement is Judgement.PASS:
        return f"{name} {shown} within {limit}{tail}"
    if judgement is Judgement.FAIL:
        return f"{name} {shown} exceeds {limit}{tail}"
    return f"{name} {shown} straddles {limit}{caveat}: too uncertain to decide; {advice}{tail}"


def latency(
    latencies: Sequence[float] | Latencies,
    q: float,
    limit_ms: float,
    confidence: float,
    where: str,
) -> Verdict:
    """The q-quantile of `latencies` (ms) against `limit_ms`, with its interval. `Latencies`
    carry the requests without an answer too: right-censored at the timeout, they count."""
    name = f"p{q * 100:g} latency"
    n = len(latencies)
    if n == 0:
        return Verdict(Judgement.INCONCLUSIVE, None, f"{name}: no samples ({where})")
    interval = (
        censored_percentile_interval(latencies, q, confidence)
        if isinstance(latencies, Latencies)
        else percentile_interval(latencies, q, confidence)
    )
    if interval is None:
        needed = samples_needed(q, confidence)
        return Verdict(
            Judgement.INCONCLUSIVE,
            None,
            f"{name}: {n} samples are too few for a {confidence:.0%} interval; {needed} needed"
            f" ({where})",
        )
    judgement = judge_at_most(interval, limit_ms)
    message = at_most_message(
        judgement, name, interval.text("ms"), f"{limit_ms:g} ms", f" ({where})"
    )
    return Verdict(judgement, interval, message)


def histogram_latency(
    estimate_ms: float,
    interval: BucketInterval | None,
    q: float,
    limit_ms: float,
    where: str,
) -> Verdict:
    """A percentile read from a histogram: `histogram_quantile` interpolates inside a bucket,
    so only the bucket bounds around the interval's ranks say where the true value lies. Pass
    when that range is within `limit_ms`, fail when it is all above, inconclusive when the
    limit falls inside it. Without the buckets (None): the point estimate, judged as measured
    and said to be one."""
    name = f"p{q * 100:g} latency"
    point = Interval(estimate_ms, estimate_ms, estimate_ms, 0.0, 0)
    if interval is None:
        judgement = judge_at_most(point, limit_ms)
        verb = "within" if judgement is Judgement.PASS else "exceeds"
        return Verdict(
            judgement,
            point,
            f"{name} {estimate_ms:.1f} ms {verb} {limit_ms:g} ms: a point estimate interpolated"
            f" inside a histogram bucket, no interval (the buckets could not be read) ({where})",
        )
    high = "+Inf" if interval.upper == math.inf else f"{interval.upper * 1000:g}"
    shown = (
        f"{name} {estimate_ms:.1f} ms (interpolated; the bucket bounds give"
        f" {interval.lower * 1000:g}..{high} ms at {interval.confidence:.0%},"
        f" {interval.samples} requests)"
    )
    if interval.upper * 1000 <= limit_ms:
        return Verdict(Judgement.PASS, point, f"{shown} within {limit_ms:g} ms ({where})")
    if interval.lower * 1000 >= limit_ms:
        return Verdict(Judgement.FAIL, point, f"{shown} exceeds {limit_ms:g} ms ({where})")
    return Verdict(
        Judgement.INCONCLUSIVE,
        point,
        f"{shown}: {limit_ms:g} ms lies inside that range, so the histogram cannot tell; a"
        f' bucket boundary at {limit_ms:g} ms (le="{limit_ms / 1000:g}") would ({where})',
    )


def _percent(interval: Interval) -> str:
    return (
        f"{interval.estimate:.3%} ({interval.confidence:.0%} interval"
        f" {interval.lower:.3%}..{interval.upper:.3%}, {interval.samples} samples)"
    )


def ratio_at_most(
    events: int, n: int, limit: float, confidence: float, name: str, where: str
) -> Verdict:
    """A ratio of bad events (errors, 429s) against its maximum, with a Wilson interval."""
    interval = wilson_interval(events, n, confidence)
    if interval is None:
        return Verdict(Judgement.INCONCLUSIVE, None, f"{name}: no samples ({where})")
    judgement = judge_at_most(interval, limit)
    if judgement is Judgement.PASS:
        return Verdict(judgement, interval, f"{name} {_percent(interval)} within {limit:.3%}")
    if judgement is Judgement.FAIL:
        return Verdict(
            judgement,
            interval,
            f"{name} {_percent(interval)} exceeds {limit:.3%} ({events} of {n}) ({where})",
        )
    needed = samples_to_show_ratio_below(limit, confidence) if events == 0 else None
    more = f"; {needed} event-free samples would show it" if needed else "; take more samples"
    return Verdict(
        judgement,
        interval,
        f"{name} {_percent(interval)} cannot be told apart from {limit:.3%}{more} ({where})",
    )


def ratio_at_least(
    good: int, n: int, limit: float, confidence: float, name: str, where: str
) -> Verdict:
    """A ratio of good events (availability) against its minimum, with a Wilson interval."""
    interval = wilson_interval(good, n, confidence)
    if interval is None:
        return Verdict(Judgement.INCONCLUSIVE, None, f"{name}: no samples ({where})")
    judgement = judge_at_least(interval, limit)
    if judgement is Judgement.PASS:
        return Verdict(judgement, interval, f"{name} {_percent(interval)} meets {limit:.3%}")
    if judgement is Judgement.FAIL:
        return Verdict(
            judgement, interval, f"{name} {_percent(interval)} is below {limit:.3%} ({where})"
        )
    needed = samples_to_show_ratio_below(1 - limit, confidence) if good == n else None
    more = f"; {needed} good samples in a row would show it" if needed else "; take more samples"
    return Verdict(
        judgement,
        interval,
        f"{name} {_percent(interval)} cannot be told apart from {limit:.3%}{more} ({where})",
    )


def regression(
    result: Regression | None, endpoint: str, min_increase: float, alpha: float, where: str
) -> Verdict:
    """The baseline comparison of one endpoint: failed when the shift's interval is all above
    the minimum increase, passed when all below it with the power to see it, else
    inconclusive with the samples a side that would do."""
    if result is None:
        return Verdict(
            Judgement.INCONCLUSIVE,
            None,
            f"{endpoint}: too few samples to compare with the baseline (20 a side) ({where})",
        )
    limit = (
        f"the minimum increase {result.threshold_ms:.1f} ms (the larger of +{min_increase:.0%}"
        " of the baseline's median and [slo.baseline] min_increase_ms)"
    )
    if result.judgement is Judgement.FAIL:
        return Verdict(
            Judgement.FAIL,
            None,
            f"{endpoint} is slower than before the deploy: {result.text()}; the whole interval"
            f" is above {limit} ({where})",
        )
    if result.judgement is Judgement.PASS:
        return Verdict(Judgement.PASS, None, f"{endpoint}: {result.text()}")
    if result.power < result.target_power:
        why = (
            f"the samples had {result.power:.0%} power to see +{result.threshold_ms:.1f} ms at"
            f" alpha {alpha:g}; about {result.samples_needed} samples a side would give"
            f" {result.target_power:.0%}"
        )
    else:
        why = f"the interval straddles {limit}"
    return Verdict(
        Judgement.INCONCLUSIVE,
        None,
        f"{endpoint} against the baseline cannot tell: {result.text()}; {why} ({where})",
    )
