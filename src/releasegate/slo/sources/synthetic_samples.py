"""SLIs from the gate's own synthetic samples (`releasegate.slo.synthetic`): every request
kept, so percentiles come with order-statistic intervals (requests without an answer censored
at the timeout) and ratios with Wilson intervals over exact counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from releasegate.config import SloConfig
from releasegate.probe import Sample
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import Origin, Sli, percentile, ratio
from releasegate.slo.synthetic import SampleSet

# which samples each ratio objective counts
_COUNTED: dict[Indicator, Callable[[Sample], bool]] = {
    Indicator.ERROR_RATIO: lambda s: s.server_error,
    Indicator.AVAILABILITY: lambda s: not s.server_error,
    Indicator.RATE_LIMITED: lambda s: s.rate_limited,
}


@dataclass(frozen=True)
class SyntheticSamples:
    """The SLIs of one run's synthetic samples, at `confidence`."""

    name: ClassVar[str] = "synthetic"
    samples: SampleSet
    confidence: float

    @staticmethod
    def configured(slo: SloConfig) -> bool:
        return slo.synthetic.enabled

    @staticmethod
    def provides(objective: Objective) -> bool:
        return True

    def origin(self) -> Origin:
        s = self.samples
        return Origin(
            "synthetic",
            f"synthetic, {len(s.samples)} requests to {s.target_url}, env={s.environment}",
            f"{s.elapsed_s:g}s",
        )

    def sli(self, objective: Objective) -> Sli:
        if objective.quantile is not None:
            latencies = self.samples.censored_latencies()
            return percentile(latencies, objective.quantile, self.confidence, self.origin())
        counted = _COUNTED[objective.indicator]
        events = sum(counted(s) for s in self.samples.samples)
        return ratio(events, len(self.samples.samples), self.confidence, self.origin())
