"""The objectives of `[slo]`, one value each: what a source is asked to measure and the limit
the judge holds it to.

An objective that is not set is not judged: `objectives` lists only the ones an environment
sets, in a fixed order (latency percentiles, then the ratios), so the SLO suite's table of
(objective, source) checks follows the environment file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from releasegate.config import SloConfig


class Indicator(StrEnum):
    """What an objective is about; the value is how results.json names its measurement."""

    LATENCY = "latency"
    ERROR_RATIO = "error ratio"  # 5xx answers and requests with no answer, of all requests
    AVAILABILITY = "availability"  # requests answered without a server error, of all
    RATE_LIMITED = "rate limited"  # 429 answers, of all requests


@dataclass(frozen=True)
class Objective:
    """One objective: a latency percentile at most `limit` ms, or a ratio (0..1) at most (or,
    for availability, at least) `limit`."""

    indicator: Indicator
    limit: float
    quantile: float | None = None  # latency objectives only

    @property
    def key(self) -> str:
        """The objective in a check id: `p95`, `error_ratio`."""
        if self.quantile is not None:
            return f"p{self.quantile * 100:g}"
        return self.indicator.name.lower()

    @property
    def name(self) -> str:
        """The objective in a message: `p95 latency`, `rate-limited ratio`."""
        if self.quantile is not None:
            return f"{self.key} latency"
        if self.indicator is Indicator.RATE_LIMITED:
            return "rate-limited ratio"
        return self.indicator.value

    @property
    def measurement(self) -> str:
        """The measurement's name in results.json (the report site charts `p95` and its
        `p95 interval low` / `high`)."""
        return self.key if self.quantile is not None else self.indicator.value

    @property
    def comparison(self) -> Literal["<=", ">="]:
        return ">=" if self.indicator is Indicator.AVAILABILITY else "<="


# (quantile, [slo] key) of the latency objectives
LATENCY_OBJECTIVES = ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms"), (0.99, "latency_p99_ms"))


def objectives(slo: SloConfig) -> list[Objective]:
    """The objectives `[slo]` sets, latency percentiles first."""
    found = [
        Objective(Indicator.LATENCY, limit, q)
        for q, key in LATENCY_OBJECTIVES
        if (limit := getattr(slo, key)) is not None
    ]
    ratios = (
        (Indicator.ERROR_RATIO, slo.error_ratio_max),
        (Indicator.AVAILABILITY, slo.availability_min),
        (Indicator.RATE_LIMITED, slo.rate_limited_max),
    )
    found += [Objective(indicator, limit) for indicator, limit in ratios if limit is not None]
    return found


def budget_objective(slo: SloConfig) -> float | None:
    """The objective whose error budget burns: `availability_min`, else 1 - `error_ratio_max`;
    None when neither is set."""
    if slo.availability_min is not None:
        return slo.availability_min
    return None if slo.error_ratio_max is None else 1 - slo.error_ratio_max
