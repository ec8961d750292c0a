"""SLIs from the gate's own synthetic samples (`releasegate.slo.synthetic`): every request
kept. Sampled sequentially (the default), each SLI is its objective's anytime-valid confidence
sequence read at the count sampling stopped at (`releasegate.slo.stopping`: the same reading
that stopped it); sampled to a fixed count, percentiles come with order-statistic intervals
(requests without an answer censored at the timeout) and ratios with Wilson intervals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from releasegate.config import SloConfig
from releasegate.probe import Sample
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import Origin, Percentile, Ratio, Sli, Unmeasured, percentile, ratio
from releasegate.slo.statistics import Interval
from releasegate.slo.stopping import read
from releasegate.slo.synthetic import SampleSet

# which samples each ratio objective counts
_COUNTED: dict[Indicator, Callable[[Sample], bool]] = {
    Indicator.ERROR_RATIO: lambda s: s.server_error,
    Indicator.AVAILABILITY: lambda s: not s.server_error,
    Indicator.RATE_LIMITED: lambda s: s.rate_limited,
}

_STOPPED = {
    "decided": "stopped when decided",
    "count": "budget spent",
    "duration": "time limit reached",
}


@dataclass(frozen=True)
class SyntheticSamples:
    """The SLIs of one run's synthetic samples, at `confidence`; `sequential` when they were
    taken under the stopping rule."""

    name: ClassVar[str] = "synthetic"
    samples: SampleSet
    confidence: float
    sequential: bool = False

    @staticmethod
    def configured(slo: SloConfig) -> bool:
        return slo.synthetic.enabled

    @staticmethod
    def provides(objective: Objective) -> bool:
        return True

    def origin(self) -> Origin:
        s = self.samples
        how = [_STOPPED.get(s.stopped_by, s.stopped_by)]
        if s.threads:
            how.append(f"{s.threads} thread{'s' if s.threads != 1 else ''}")
        notes: list[tuple[str, float | str]] = [("stopped by", s.stopped_by)]
        if s.threads:
            notes.append(("threads", s.threads))
        return Origin(
            "synthetic",
            f"synthetic, {len(s.samples)} requests to {s.target_url} ({', '.join(how)}),"
            f" env={s.environment}",
            f"{s.elapsed_s:g}s",
            tuple(notes),
        )

    def sli(self, objective: Objective) -> Sli:
        if self.sequential:
            return self._sequential(objective)
        if objective.quantile is not None:
            latencies = self.samples.censored_latencies()
            return percentile(latencies, objective.quantile, self.confidence, self.origin())
        counted = _COUNTED[objective.indicator]
        events = sum(counted(s) for s in self.samples.samples)
        return ratio(events, len(self.samples.samples), self.confidence, self.origin())

    def _sequential(self, objective: Objective) -> Sli:
        samples, origin = self.samples.samples, self.origin()
        if not samples:
            return Unmeasured(origin, "no samples")
        censor_at = (self.samples.timeout_s or 0.0) * 1000
        reading = read(samples, objective, self.confidence, censor_at)
        n = reading.samples
        if objective.quantile is not None:
            failed = sum(1 for s in samples if s.status is None)
            censor_point = max(
                [censor_at] + [s.latency_ms for s in samples if s.status is not None]
            )
            interval = Interval(
                reading.estimate,
                reading.lower,
                reading.upper,
                self.confidence,
                n,
                censored=failed,
                censor_at=censor_point if failed else None,
                sequential=True,
            )
            return Percentile(origin, objective.quantile, interval)
        interval = Interval(
            reading.estimate, reading.lower, reading.upper, self.confidence, n, sequential=True
        )
        events = n - reading.events if objective.indicator is Indicator.AVAILABILITY else None
        return Ratio(
            origin,
            reading.estimate,
            reading.events if events is None else events,
            n,
            interval,
        )
