"""SLO, from Prometheus: the error budget's burn rate over the multi-window pairs of the SRE
workbook (`[slo.prometheus] burn_windows`), one check per pair."""

from releasegate.config import BurnWindow, SloConfig
from releasegate.pytest_plugin.fixtures import Expect, Measure
from releasegate.slo.judge import burn
from releasegate.slo.objectives import budget_objective
from releasegate.slo.sources import PrometheusMetrics


def test_error_budget_is_not_burning_fast(
    burn_window: BurnWindow,
    prometheus_source: PrometheusMetrics,
    slo: SloConfig,
    measure: Measure,
    expect: Expect,
) -> None:
    """The error budget is not burning too fast over the {id} windows.

    Not both the long and the short window burn faster than the pair's factor; the short
    window keeps a past incident from failing a healthy deploy."""
    objective = budget_objective(slo)
    assert objective is not None  # the pairs are only checked with an objective
    rates = prometheus_source.burn_rates(burn_window, objective)
    for m in rates.measurements():
        measure(**m.model_dump())

    expect.judged(burn(rates))
