"""The SLO gate's sources of SLIs, one module each, all behind `releasegate.slo.sli.SliSource`:
the gate's own synthetic samples, Prometheus, and the load stage's statistics.

`table` lists the (objective, source) checks an environment configures, known before anything
is measured; `burn_windows` the burn-rate pairs judged from Prometheus.
"""

from __future__ import annotations

from releasegate.config import BurnWindow, SloConfig
from releasegate.slo.objectives import Objective, budget_objective, objectives
from releasegate.slo.sli import SliSource
from releasegate.slo.sources.load_statistics import LoadStatistics
from releasegate.slo.sources.prometheus_metrics import PrometheusMetrics
from releasegate.slo.sources.synthetic_samples import SyntheticSamples

__all__ = [
    "SOURCES",
    "LoadStatistics",
    "PrometheusMetrics",
    "SyntheticSamples",
    "burn_windows",
    "table",
]

SOURCES: tuple[type[SliSource], ...] = (SyntheticSamples, PrometheusMetrics, LoadStatistics)


def table(slo: SloConfig) -> list[tuple[Objective, str]]:
    """Every (objective, source name) pair to check: the objectives `[slo]` sets, each from
    every configured source that measures it, objective by objective."""
    return [
        (objective, source.name)
        for objective in objectives(slo)
        for source in SOURCES
        if source.configured(slo) and source.provides(objective)
    ]


def burn_windows(slo: SloConfig) -> list[BurnWindow]:
    """The burn-rate pairs to check: `[slo.prometheus] burn_windows`, when there is a
    Prometheus and an objective whose budget burns."""
    if slo.prometheus is None or budget_objective(slo) is None:
        return []
    return list(slo.prometheus.burn_windows)
