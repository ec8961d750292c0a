"""What an SLO source answers: an SLI with its uncertainty, or why it cannot give one.

Every source of the SLO gate (the gate's own synthetic samples, Prometheus, the load stage's
statistics: `releasegate.slo.sources`) implements `SliSource`: asked for an `Objective`, it
returns one of

- `Percentile`: a latency percentile with its order-statistic interval (from samples, requests
  without an answer censored at the timeout; or from Locust's histogram, widened to its
  rounding);
- `BucketPercentile`: a percentile a Prometheus histogram interpolated, with the bucket bounds
  around its interval's ranks (the only thing a histogram says for certain);
- `Ratio`: a share of requests (errors, good answers, 429s) with its Wilson interval;
- `Unmeasured`: the source was read and holds too little to give the SLI (no samples, too few
  for an interval): missing evidence, with the reason and the count that would do.

A source that cannot be read at all (Prometheus down, the target unreachable) raises
`EvidenceMissing` or one of its subclasses instead. `releasegate.slo.judge.judge` turns an SLI
and its objective into pass, fail or inconclusive; `measurements` records the SLI in
results.json with the same names for every source.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from releasegate.config import SloConfig
from releasegate.evidence.results import Measurement
from releasegate.slo.objectives import Objective
from releasegate.slo.statistics import (
    BucketInterval,
    Interval,
    Latencies,
    censored_percentile_interval,
    percentile_interval,
    samples_needed,
    wilson_interval,
)


@dataclass(frozen=True)
class Origin:
    """Where an SLI comes from: `source` as results.json names it (synthetic, prometheus,
    locust), `where` as a message ends ("synthetic, 400 requests to URL, env=prod"), and the
    time its samples span ("4.7s" of sampling, "5m" in Prometheus) if known."""

    source: str
    where: str
    window: str | None = None
    # how the source took its samples, recorded beside the SLI (threads, how sampling ended)
    notes: tuple[tuple[str, float | str], ...] = ()


@dataclass(frozen=True)
class Percentile:
    """A latency percentile (ms) with its distribution-free interval."""

    origin: Origin
    quantile: float
    interval: Interval
    # what widened the interval besides sampling (Locust's rounding), said when it straddles
    caveat: str = ""
    # decimals shown; None: the values as stored (Locust keeps whole milliseconds)
    digits: int | None = 1

    @property
    def samples(self) -> int:
        return self.interval.samples

    def text(self) -> str:
        """`412.3 ms (95% interval 400.1..420.2 ms, 450 samples)`."""
        return self.interval.text("ms", self.digits)


@dataclass(frozen=True)
class BucketPercentile:
    """A percentile from a Prometheus histogram: `histogram_quantile`'s estimate (interpolated
    inside a bucket, a guess) and the bucket bounds around its interval's ranks; `interval` is
    None when the buckets could not be read (a query of another shape)."""

    origin: Origin
    quantile: float
    estimate_ms: float
    interval: BucketInterval | None
    samples: int


@dataclass(frozen=True)
class Ratio:
    """The share of requests an objective counts (`events` of `total`), as the source measured
    it (`value`), with the Wilson interval of the counts."""

    origin: Origin
    value: float
    events: int
    total: int
    interval: Interval

    @property
    def samples(self) -> int:
        return self.total


@dataclass(frozen=True)
class Unmeasured:
    """The source holds too little to give the SLI: why (without the objective's name or the
    origin, which the judge adds), and how many samples it had."""

    origin: Origin
    reason: str
    samples: int = 0


Sli = Percentile | BucketPercentile | Ratio | Unmeasured


class SliSource(Protocol):
    """A source of SLIs. `name` is its part of a check id (`p95-synthetic`); `configured` says
    whether an environment uses it and `provides` which objectives it can measure, both known
    before anything is measured (the suite's table of checks is built from them)."""

    name: ClassVar[str]

    @staticmethod
    def configured(slo: SloConfig) -> bool: ...

    @staticmethod
    def provides(objective: Objective) -> bool: ...

    def sli(self, objective: Objective) -> Sli:
        """The SLI for `objective`; `EvidenceMissing` when the source cannot be read."""
        ...


def percentile(
    latencies: Sequence[float] | Latencies, q: float, confidence: float, origin: Origin
) -> Percentile | Unmeasured:
    """The q-quantile of `latencies` (ms) with its interval. `Latencies` carry the requests
    without an answer too: right-censored at the timeout, they count."""
    n = len(latencies)
    if n == 0:
        return Unmeasured(origin, "no samples")
    interval = (
        censored_percentile_interval(latencies, q, confidence)
        if isinstance(latencies, Latencies)
        else percentile_interval(latencies, q, confidence)
    )
    if interval is None:
        return too_few(origin, n, q, confidence)
    return Percentile(origin, q, interval)


def too_few(
    origin: Origin, n: int, q: float, confidence: float, what: str = "samples"
) -> Unmeasured:
    """Too few samples for an interval of the q-quantile, saying how many would do."""
    needed = samples_needed(q, confidence)
    reason = f"{n} {what} are too few for a {confidence:.0%} interval; {needed} needed"
    return Unmeasured(origin, reason, n)


def ratio(
    events: int, total: int, confidence: float, origin: Origin, value: float | None = None
) -> Ratio | Unmeasured:
    """`events` of `total` requests with the Wilson interval; `value` is the ratio as the
    source measured it (a rate from Prometheus), events / total when not given."""
    interval = wilson_interval(events, total, confidence)
    if interval is None:
        return Unmeasured(origin, "no samples")
    return Ratio(origin, interval.estimate if value is None else value, events, total, interval)


def measurements(sli: Sli, objective: Objective) -> list[Measurement]:
    """The SLI against its objective as results.json keeps it: the value (None when there is
    none), its unit, the limit, the sample count, source and window; then the interval's
    bounds as `<name> interval low` / `high` (the report site charts them); then how the
    source sampled (`stopped by`, `threads`)."""
    # latency in ms; ratios as percentages
    unit, scale = ("ms", 1.0) if objective.quantile is not None else ("%", 100.0)
    name, digits = objective.measurement, 4
    bounds: tuple[float, float] | None = None
    value: float | None = None
    if isinstance(sli, Percentile):
        value = sli.interval.estimate
        bounds = (sli.interval.lower, sli.interval.upper)
    elif isinstance(sli, BucketPercentile):
        value, digits = sli.estimate_ms, 2
        if sli.interval is not None:  # Prometheus's bounds are in seconds
            bounds = (sli.interval.lower * 1000, sli.interval.upper * 1000)
    elif isinstance(sli, Ratio):
        value = sli.value
        bounds = (sli.interval.lower, sli.interval.upper)
    found = [
        Measurement(
            name=name,
            value=None if value is None else round(value * scale, digits),
            unit=unit,
            threshold=round(objective.limit * scale, 4),
            comparison=objective.comparison,
            samples=sli.samples,
            source=sli.origin.source,
            window=sli.origin.window,
        )
    ]
    if bounds is not None:
        for label, bound in zip(("low", "high"), bounds, strict=True):
            if math.isfinite(bound):  # a bucket's +Inf bound is no number to chart
                found.append(
                    Measurement(
                        name=f"{name} interval {label}", value=round(bound * scale, 4), unit=unit
                    )
                )
    found += [Measurement(name=note, value=said) for note, said in sli.origin.notes]
    return found


@dataclass(frozen=True)
class BurnRates:
    """How fast the error budget burns over one pair of windows of the SRE workbook's
    multi-window alert: the long window's and the short window's burn rates (1.0 spends the
    budget exactly over the objective's period), against the pair's factor."""

    origin: Origin
    long_window: str
    short_window: str
    long: float
    short: float
    factor: float
    objective: float  # the availability whose budget (1 - objective) burns

    def measurements(self) -> list[Measurement]:
        return [
            Measurement(
                name=f"burn rate {window}",
                value=round(rate, 3),
                unit="x",
                threshold=self.factor,
                comparison="<=",
                source=self.origin.source,
                window=window,
            )
            for window, rate in ((self.long_window, self.long), (self.short_window, self.short))
        ]
