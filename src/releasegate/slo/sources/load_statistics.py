"""SLIs from the load stage's statistics when it ran in the same run (read, not measured
again): latency percentiles under load from Locust's histogram of answered requests (its
rounding in the interval) and the failure ratio. Reading them, and the target that answered
none of the load's requests, is `releasegate.load.thresholds`'s (as in the load gate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from releasegate.config import SloConfig
from releasegate.load.latency import histogram_percentile
from releasegate.load.stats import EndpointStats
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.sli import Origin, Sli, ratio


@dataclass(frozen=True)
class LoadStatistics:
    """The SLIs of all requests of this run's load stage, at `confidence`."""

    name: ClassVar[str] = "load"
    total: EndpointStats
    confidence: float
    environment: str

    @staticmethod
    def configured(slo: SloConfig) -> bool:
        # whether the load stage ran is known only at run time: its checks skip if it did not
        return True

    @staticmethod
    def provides(objective: Objective) -> bool:
        return objective.indicator in (Indicator.LATENCY, Indicator.ERROR_RATIO)

    def sli(self, objective: Objective) -> Sli:
        origin = Origin(
            "locust", f"load stage, {self.total.requests} requests, env={self.environment}"
        )
        if objective.quantile is not None:
            # a request that failed without an answer after waiting longer than the limit
            # counts as that slow; quicker failures have no latency (the failure ratio's)
            histogram = self.total.latency_samples(objective.limit)
            return histogram_percentile(histogram, objective.quantile, self.confidence, origin)
        return ratio(self.total.failures, self.total.requests, self.confidence, origin)
