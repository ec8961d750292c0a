"""`[slo]` with `[slo.synthetic]`, `[slo.baseline]` and `[slo.prometheus]`: the objectives the
SLO gate judges against, and where it takes its samples and its baseline from."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from releasegate.config.strict_base import HttpUrl, Ratio, Seconds, StrictModel


class SyntheticConfig(StrictModel):
    """The SLO gate's own requests to the target: bounded in count, rate and time. Sequential
    (the default): sampling stops as soon as every objective is decided, so `requests` and
    `duration` are what the undecided case may spend, not what every run costs."""

    enabled: bool = True
    # "GET /api/tickets" or "/api/tickets"; empty: every GET of [[endpoints]]
    endpoints: list[str] = Field(default_factory=list)
    requests: int = Field(default=1000, ge=1, le=100_000)
    # no verdict before this many samples (every endpoint sampled a few times)
    min_requests: int = Field(default=20, ge=1, le=100_000)
    concurrency: int = Field(default=4, ge=1, le=64)  # threads at the start
    # threads are added (up to this many) when the answers are too slow for `requests` to fit
    # in `duration` at `rate`
    max_concurrency: int = Field(default=32, ge=1, le=256)
    rate: float = Field(default=100.0, gt=0)  # requests per second at most
    duration: Seconds = 30.0  # at most; the run stops at whichever limit comes first
    # sequential: stop once decided (anytime-valid confidence sequences); fixed: send the whole
    # budget, then judge with fixed-sample intervals
    stopping: Literal["sequential", "fixed"] = "sequential"

    @model_validator(mode="after")
    def _budget_holds_the_minimum(self) -> SyntheticConfig:
        if self.min_requests > self.requests:
            raise ValueError(
                f"min_requests ({self.min_requests}) is more than requests ({self.requests})"
            )
        if self.max_concurrency < self.concurrency:
            raise ValueError(
                f"max_concurrency ({self.max_concurrency}) is less than concurrency"
                f" ({self.concurrency})"
            )
        return self


MIN_INCREASE_FLOOR_MS = 5.0


class BaselineConfig(StrictModel):
    """Comparison with the latency measured before the deploy (baseline.json)."""

    # a baseline.json; empty: the newest one under reports/ for this environment and target
    file: str | None = None
    required: bool = False
    # in each tail of the shift's interval (a 1 - 2 alpha interval), and of the power calculation
    alpha: float = Field(default=0.01, gt=0, lt=0.5)
    # the smallest slowdown that counts: the shift above this share of the baseline's median...
    min_increase: Ratio = 0.2
    # ...and above this many ms; None: max(5 ms, 10 % of the tightest latency objective)
    min_increase_ms: float | None = Field(default=None, ge=0)
    # a baseline taken longer ago than this (by the time it records) is no baseline
    max_age: Seconds = 86_400.0


class BurnWindow(StrictModel):
    """One multi-window alert of the SRE workbook: both windows above `factor` x budget."""

    long: str
    short: str
    factor: float = Field(gt=0)


def _default_burn_windows() -> list[BurnWindow]:
    # for a 30-day objective: 2 % of the budget in an hour, 5 % in six hours
    return [
        BurnWindow(long="1h", short="5m", factor=14.4),
        BurnWindow(long="6h", short="30m", factor=6.0),
    ]


class PrometheusConfig(StrictModel):
    """Where the target's metrics are, and the PromQL that reads the SLIs from them.
    `{window}` and `{quantile}` in a query are replaced (e.g. by `5m`, `0.95`)."""

    # not needed when [reference] prometheus = true starts one
    url: HttpUrl | None = None
    window: str = "5m"
    timeout: Seconds = 10.0
    latency_query: str = (
        "histogram_quantile({quantile}, sum by (le)"
        " (rate(http_request_duration_seconds_bucket[{window}])))"
    )
    requests_query: str = "sum(increase(http_requests_total[{window}]))"
    error_ratio_query: str = (
        '(sum(rate(http_requests_total{status=~"5.."}[{window}])) or vector(0))'
        " / sum(rate(http_requests_total[{window}]))"
    )
    # `or vector(0)`: no error (or 429) yet means no series at all, which is a ratio of 0
    rate_limited_query: str = (
        "(sum(rate(http_rate_limited_total[{window}])) or vector(0))"
        " / sum(rate(http_requests_total[{window}]))"
    )
    burn_windows: list[BurnWindow] = Field(default_factory=_default_burn_windows)


class SloConfig(StrictModel):
    """Service-level objectives; the SLO gate judges against them."""

    latency_p50_ms: float | None = Field(default=None, gt=0)
    latency_p95_ms: float | None = Field(default=None, gt=0)
    latency_p99_ms: float | None = Field(default=None, gt=0)
    error_ratio_max: Ratio | None = None
    availability_min: Ratio | None = None
    rate_limited_max: Ratio | None = None
    # of every interval the gate computes; an interval across a threshold is inconclusive
    confidence: float = Field(default=0.95, gt=0.5, lt=1)
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    prometheus: PrometheusConfig | None = None

    def regression_floor_ms(self) -> float:
        """The absolute part of the minimum increase against the baseline: `[slo.baseline]
        min_increase_ms`, else the larger of 5 ms (below it, a shift is within what a shared
        runner and the network add on their own) and a tenth of the tightest latency objective
        (a tenth of the budget is worth a ROLLBACK; less is not)."""
        if self.baseline.min_increase_ms is not None:
            return self.baseline.min_increase_ms
        objectives = [
            v for v in (self.latency_p50_ms, self.latency_p95_ms, self.latency_p99_ms) if v
        ]
        return max(MIN_INCREASE_FLOOR_MS, 0.1 * min(objectives, default=0.0))
