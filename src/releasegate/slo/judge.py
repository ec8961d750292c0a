"""The SLO gate's one judge: an SLI and its objective become a `Judged` (pass, fail or
inconclusive) whose message names the measured value, its interval, the limit, the sample
count and where it was measured; `Judged.measured` keeps the interval.

The rule is the same for every source (`releasegate.slo.statistics`): pass only when the whole
interval is on the right side of the limit, fail only when it is all on the wrong side,
inconclusive when it straddles the limit or there is no interval (too few samples: the message
says how many would do). The comparison with the baseline and the error budget's burn rate
are judged here too, each by its own rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from releasegate.outcome import Judged, Judgement
from releasegate.slo.objectives import Objective
from releasegate.slo.sli import BucketPercentile, BurnRates, Percentile, Ratio, Sli, Unmeasured
from releasegate.slo.statistics import (
    Interval,
    Regression,
    judge_at_least,
    judge_at_most,
    samples_to_show_ratio_below,
)
from releasegate.slo.stopping import flawless_samples_needed

__all__ = ["all_of", "at_most_message", "burn", "judge", "regression"]


def judge(sli: Sli, objective: Objective) -> Judged:
    """`sli` against `objective`: pass, fail or inconclusive, with its figures."""
    if isinstance(sli, Unmeasured):
        where = sli.origin.where
        return Judged.inconclusive(
            f"{objective.name}: {sli.reason} ({where})",
            limit=objective.limit,
            samples=sli.samples,
            where=where,
        )
    if isinstance(sli, Percentile):
        return _percentile(sli, objective)
    if isinstance(sli, BucketPercentile):
        return _bucket_percentile(sli, objective)
    return _ratio(sli, objective)


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


def _percentile(sli: Percentile, objective: Objective) -> Judged:
    where = sli.origin.where
    judgement = judge_at_most(sli.interval, objective.limit)
    advice = "take more samples"
    if sli.interval.sequential:
        needed = flawless_samples_needed(objective, sli.interval.confidence)
        advice = f"take more samples ({needed} with none over {objective.limit:g} ms would show it)"
    message = at_most_message(
        judgement,
        objective.name,
        sli.text(),
        f"{objective.limit:g} ms",
        f" ({where})",
        caveat=sli.caveat,
        advice=advice,
    )
    return Judged(judgement, message, sli.interval, objective.limit, sli.samples, where)


def _bucket_percentile(sli: BucketPercentile, objective: Objective) -> Judged:
    """`histogram_quantile` interpolates inside a bucket, so only the bucket bounds around the
    interval's ranks say where the true value lies. Pass when that range is within the limit,
    fail when it is all above, inconclusive when the limit falls inside it. Without the buckets:
    the point estimate, judged as measured and said to be one."""
    name, limit_ms, where = objective.name, objective.limit, sli.origin.where
    interval = sli.interval
    if interval is None:
        passed = sli.estimate_ms <= limit_ms
        judgement = Judgement.PASS if passed else Judgement.FAIL
        verb = "within" if passed else "exceeds"
        message = (
            f"{name} {sli.estimate_ms:.1f} ms {verb} {limit_ms:g} ms: a point estimate"
            " interpolated inside a histogram bucket, no interval (the buckets could not be"
            f" read) ({where})"
        )
        return Judged(judgement, message, sli.estimate_ms, limit_ms, sli.samples, where)
    high = "+Inf" if interval.upper == math.inf else f"{interval.upper * 1000:g}"
    shown = (
        f"{name} {sli.estimate_ms:.1f} ms (interpolated; the bucket bounds give"
        f" {interval.lower * 1000:g}..{high} ms at {interval.confidence:.0%},"
        f" {interval.samples} requests)"
    )
    if interval.upper * 1000 <= limit_ms:
        judgement, message = Judgement.PASS, f"{shown} within {limit_ms:g} ms ({where})"
    elif interval.lower * 1000 >= limit_ms:
        judgement, message = Judgement.FAIL, f"{shown} exceeds {limit_ms:g} ms ({where})"
    else:
        judgement = Judgement.INCONCLUSIVE
        message = (
            f"{shown}: {limit_ms:g} ms lies inside that range, so the histogram cannot tell; a"
            f' bucket boundary at {limit_ms:g} ms (le="{limit_ms / 1000:g}") would ({where})'
        )
    return Judged(judgement, message, interval, limit_ms, sli.samples, where)


def _percent(interval: Interval) -> str:
    return (
        f"{interval.estimate:.3%} ({interval.confidence:.0%} interval"
        f" {interval.lower:.3%}..{interval.upper:.3%}, {interval.samples} samples)"
    )


def _ratio(sli: Ratio, objective: Objective) -> Judged:
    """A ratio of bad events (errors, 429s) against its maximum, or of good ones
    (availability) against its minimum; inconclusive says how many samples would show it when
    none (or all) were bad."""
    name, limit, where = objective.name, objective.limit, sli.origin.where
    interval, shown = sli.interval, _percent(sli.interval)
    at_least = objective.comparison == ">="
    judgement = judge_at_least(interval, limit) if at_least else judge_at_most(interval, limit)
    if judgement is Judgement.PASS:
        verb = "meets" if at_least else "within"
        message = f"{name} {shown} {verb} {limit:.3%} ({where})"
    elif judgement is Judgement.FAIL:
        message = (
            f"{name} {shown} is below {limit:.3%} ({where})"
            if at_least
            else f"{name} {shown} exceeds {limit:.3%} ({sli.events} of {sli.total}) ({where})"
        )
    else:
        flawless = sli.events == (sli.total if at_least else 0)
        needed = None
        if flawless and interval.sequential:
            needed = flawless_samples_needed(objective, interval.confidence)
        elif flawless:
            share = 1 - limit if at_least else limit
            needed = samples_to_show_ratio_below(share, interval.confidence) if share else None
        kind = "good samples in a row" if at_least else "event-free samples"
        more = f"; {needed} {kind} would show it" if needed else "; take more samples"
        message = f"{name} {shown} cannot be told apart from {limit:.3%}{more} ({where})"
    return Judged(judgement, message, interval, limit, sli.total, where)


def regression(
    result: Regression | None, endpoint: str, min_increase: float, alpha: float, where: str
) -> Judged:
    """The baseline comparison of one endpoint: failed when the shift's interval is all above
    the minimum increase, passed when all below it with the power to see it, else
    inconclusive with the samples a side that would do."""
    if result is None:
        return Judged.inconclusive(
            f"{endpoint}: too few samples to compare with the baseline (20 a side) ({where})",
            where=where,
        )

    def judged(judgement: Judgement, message: str) -> Judged:
        return Judged(
            judgement, message, result.shift_ms, result.threshold_ms, result.current_samples, where
        )

    limit = (
        f"the minimum increase {result.threshold_ms:.1f} ms (the larger of +{min_increase:.0%}"
        " of the baseline's median and [slo.baseline] min_increase_ms)"
    )
    if result.judgement is Judgement.FAIL:
        return judged(
            Judgement.FAIL,
            f"{endpoint} is slower than before the deploy: {result.text()}; the whole interval"
            f" is above {limit} ({where})",
        )
    if result.judgement is Judgement.PASS:
        return judged(Judgement.PASS, f"{endpoint}: {result.text()}")
    if result.power < result.target_power:
        why = (
            f"the samples had {result.power:.0%} power to see +{result.threshold_ms:.1f} ms at"
            f" alpha {alpha:g}; about {result.samples_needed} samples a side would give"
            f" {result.target_power:.0%}"
        )
    else:
        why = f"the interval straddles {limit}"
    return judged(
        Judgement.INCONCLUSIVE,
        f"{endpoint} against the baseline cannot tell: {result.text()}; {why} ({where})",
    )


def all_of(judged: Sequence[Judged], nothing: str) -> Judged:
    """Several judgements as one check: failed when any failed (their messages), else
    inconclusive when any could not tell, else passed. None at all is `nothing`:
    inconclusive, never a pass."""
    if not judged:
        return Judged.inconclusive(nothing)
    for judgement in (Judgement.FAIL, Judgement.INCONCLUSIVE):
        chosen = [j.message for j in judged if j.judgement is judgement]
        if chosen:
            return Judged(judgement, "; ".join(chosen))
    return Judged.passed("; ".join(j.message for j in judged))


def burn(rates: BurnRates) -> Judged:
    """Multi-window, multi-burn-rate (SRE workbook): failed only when both the long and the
    short window burn faster than the factor; the short window keeps a past incident from
    failing a healthy deploy."""
    both = rates.long > rates.factor and rates.short > rates.factor
    message = (
        f"error budget burning at {rates.long:.1f}x over {rates.long_window} and"
        f" {rates.short:.1f}x over {rates.short_window},"
        f" {'above' if both else 'not both above'} {rates.factor:g}x for a"
        f" {rates.objective:.3%} objective ({rates.origin.where})"
    )
    judgement = Judgement.FAIL if both else Judgement.PASS
    measured = (rates.long, rates.short)
    return Judged(judgement, message, measured, rates.factor, None, rates.origin.where)
