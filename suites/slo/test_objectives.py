"""SLO, as a table: every objective `[slo]` sets (p50/p95/p99 latency, error ratio,
availability, rate-limit hits), from every source that measures it: the gate's own synthetic
samples, the target's metrics in Prometheus (`[slo.prometheus]`), and the load stage's
statistics when it ran in this run. Each SLI comes with its interval; an interval across the
objective, or too few samples for one, is inconclusive and says what would decide."""

from releasegate.pytest_plugin.fixtures import Expect, Measure
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Objective
from releasegate.slo.sli import SliSource, measurements


def test_objective(
    objective: Objective, source: SliSource, measure: Measure, expect: Expect
) -> None:
    """The source's SLI, with its whole interval, is on the right side of the objective."""
    sli = source.sli(objective)
    for m in measurements(sli, objective):
        measure(**m.model_dump())

    expect.judged(judge(sli, objective))
