"""SLIs from the gate's own synthetic samples (`releasegate.slo.synthetic`): every request
kept. Sampled sequentially (the default), each SLI is its objective's anytime-valid confidence
sequence read at the count sampling stopped at (`releasegate.slo.stopping`: the same reading
that stopped it); sampled to a fixed count, percentiles come with order-statistic intervals
(requests without an answer censored at the timeout) and ratios with Wilson intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from releasegate.config import SloConfig
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import Origin, Percentile, Ratio, Sli, Unmeasured, percentile, ratio
from releasegate.slo.statistics import Interval
from releasegate.slo.stopping import counts_against, read
from releasegate.slo.synthetic import SampleSet

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
        notes: list[tuple[str, float | str]] = [("stopped by", s.stopped_by)]
        if s.threads:
            how.append(f"{s.threads} thread{'s' if s.threads != 1 else ''}")
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
        # the same events the stopping rule counts; availability counts the good answers
        against = counts_against(objective)
        n = len(self.samples.samples)
        bad = sum(1 for s in self.samples.samples if against(s))
        events = n - bad if objective.indicator is Indicator.AVAILABILITY else bad
        return ratio(events, n, self.confidence, self.origin())

    def _sequential(self, objective: Objective) -> Sli:
        samples, origin = self.samples.samples, self.origin()
        if not samples:
            return Unmeasured(origin, "no samples")
        latencies = self.samples.censored_latencies()
        reading = read(samples, objective, self.confidence, latencies.censor_at)
        n = reading.samples
        if objective.quantile is not None:
            interval = Interval(
                reading.estimate,
                reading.lower,
                reading.upper,
                self.confidence,
                n,
                censored=latencies.censored,
                censor_at=latencies.censor_point if latencies.censored else None,
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
