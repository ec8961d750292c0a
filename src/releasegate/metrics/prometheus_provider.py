"""`provider = "prometheus"`: an instant query. A scalar or a one-series vector is a number,
several series a list of numbers (`max(result)`, `len(result)` in the condition); no series
or NaN is no data, never 0."""

from __future__ import annotations

from dataclasses import dataclass

from releasegate.errors import PrometheusUnavailable, ProviderError
from releasegate.metrics.provider import Reading, number_or_none
from releasegate.slo.prometheus import Prometheus


@dataclass(frozen=True)
class PrometheusProvider:
    prometheus: Prometheus
    query: str

    @property
    def where(self) -> str:
        return f"{self.prometheus.url}, query {self.query!r}"

    def read(self) -> Reading:
        try:
            result, _ = self.prometheus.answer(self.query)
        except PrometheusUnavailable as exc:
            raise ProviderError(str(exc)) from None
        if isinstance(result, float):
            return Reading(number_or_none(result), "scalar")
        try:
            values = [float(series["value"][1]) for series in result]
        except (KeyError, IndexError, TypeError, ValueError):
            raise ProviderError(
                f"Prometheus answered a vector without values ({self.where})"
            ) from None
        numbers = [v for v in (number_or_none(v) for v in values) if v is not None]
        if not numbers:
            said = "no series" if not values else f"{len(values)} series, all NaN"
            return Reading(None, f"no data: the query returned {said}")
        if len(numbers) == 1:
            return Reading(numbers[0], "1 series")
        return Reading(numbers, f"{len(numbers)} series")
