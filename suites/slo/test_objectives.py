"""SLO, as a table: every objective `[slo]` sets (p50/p95/p99 latency, error ratio,
availability, rate-limited ratio), judged once from every source that measures it: the gate's
own synthetic samples, the target's metrics in Prometheus (`[slo.prometheus]`), and the load
stage's statistics when it ran in this run. A conclusive failure in any source fails the
objective; else a conclusive pass in any passes it; only when no source can tell is it
inconclusive. Each source's own reading is shown beside it, advisory."""

from releasegate.pytest_plugin.fixtures import Expect, Measure
from releasegate.slo.combine import SourceReading, combine, deciding
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Objective
from releasegate.slo.sli import SliSource, measurements


def test_objective_is_met(
    objective: Objective, readings: list[SourceReading], measure: Measure, expect: Expect
) -> None:
    """The {objective} objective is met.

    The objective, from every source that measured it: failed if any source shows it
    broken, met if any shows it met, else inconclusive."""
    judged = combine(objective, readings)
    measure(name="decided by", value=", ".join(deciding(readings)) or "no source")

    expect.judged(judged)


def test_objective(
    objective: Objective, source: SliSource, measure: Measure, expect: Expect
) -> None:
    """The {objective} objective is met in the {source} measurements.

    One source's SLI, with its whole interval, is on the right side of the objective."""
    sli = source.sli(objective)
    for m in measurements(sli, objective):
        measure(**m.model_dump())

    expect.judged(judge(sli, objective))
