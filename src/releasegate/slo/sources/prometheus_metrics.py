"""SLIs from the target's own metrics in Prometheus (`[slo.prometheus]`): instant queries over
the window. The window's request count is the sample size of every ratio and percentile; a
latency percentile is `histogram_quantile`'s estimate with the bucket bounds around its
interval's ranks. Prometheus unreachable, or a query without data: `PrometheusUnavailable`
(missing evidence), with the query in the message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from releasegate.config import BurnWindow, PrometheusConfig, SloConfig
from releasegate.slo.objectives import Indicator, Objective
from releasegate.slo.prometheus import Prometheus, bucket_query, render
from releasegate.slo.sli import BucketPercentile, BurnRates, Origin, Sli, ratio, too_few
from releasegate.slo.statistics import burn_rate, histogram_interval, samples_needed

# the histogram is judged at p95, as the gate always has: a p99 needs 368 requests in the
# window, which a quiet service's window may not hold
_QUANTILES = (0.95,)


@dataclass(frozen=True)
class PrometheusMetrics:
    """The SLIs the configured queries give over the window; `requests` is the window's
    request count (`requests_query`), read once (`read`)."""

    name: ClassVar[str] = "prometheus"
    client: Prometheus
    config: PrometheusConfig
    requests: int
    confidence: float
    environment: str

    @classmethod
    def read(
        cls, client: Prometheus, config: PrometheusConfig, confidence: float, environment: str
    ) -> PrometheusMetrics:
        """The source, with the window's request count asked of Prometheus."""
        requests = round(client.query(render(config.requests_query, config.window)))
        return cls(client, config, requests, confidence, environment)

    @staticmethod
    def configured(slo: SloConfig) -> bool:
        return slo.prometheus is not None

    @staticmethod
    def provides(objective: Objective) -> bool:
        return objective.quantile is None or objective.quantile in _QUANTILES

    def origin(self, query: str, window: str | None = None) -> Origin:
        window = window or self.config.window
        return Origin(
            "prometheus",
            f"Prometheus, window {window}, query {query!r}, env={self.environment}",
            window,
        )

    def sli(self, objective: Objective) -> Sli:
        if objective.quantile is not None:
            return self._latency(objective.quantile)
        if objective.indicator is Indicator.RATE_LIMITED:
            query = render(self.config.rate_limited_query, self.config.window)
            value = self.client.query(query)
        else:
            value, query = self.error_ratio(self.config.window)
        events = round(value * self.requests)
        if objective.indicator is Indicator.AVAILABILITY:
            value, events = 1 - value, self.requests - events
        return ratio(events, self.requests, self.confidence, self.origin(query), value)

    def _latency(self, q: float) -> Sli:
        query = render(self.config.latency_query, self.config.window, q)
        estimate_ms = self.client.query(query) * 1000  # Prometheus histograms are in seconds
        origin = self.origin(query)
        if self.requests < samples_needed(q, self.confidence):
            return too_few(origin, self.requests, q, self.confidence, "requests in the window")
        buckets = bucket_query(self.config.latency_query)
        interval = None
        if buckets is not None:
            read = self.client.buckets(render(buckets, self.config.window))
            interval = histogram_interval(read, q, self.requests, self.confidence)
        return BucketPercentile(origin, q, estimate_ms, interval, self.requests)

    def error_ratio(self, window: str) -> tuple[float, str]:
        """The error ratio over `window`, and the query that read it."""
        query = render(self.config.error_ratio_query, window)
        return self.client.query(query), query

    def burn_rates(self, pair: BurnWindow, objective: float) -> BurnRates:
        """The error budget's burn rate over the pair's long and short windows."""
        long_ratio, query = self.error_ratio(pair.long)
        short_ratio, _ = self.error_ratio(pair.short)
        return BurnRates(
            self.origin(query, pair.long),
            pair.long,
            pair.short,
            burn_rate(long_ratio, objective),
            burn_rate(short_ratio, objective),
            pair.factor,
            objective,
        )
