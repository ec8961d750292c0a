"""SLO, against the baseline taken before the deploy: per endpoint, the shift of the latency
(its interval) against a minimum increase that matters, even while the absolute objectives
still hold."""

import pytest

from releasegate.config import Environment, SloConfig
from releasegate.errors import EvidenceStale
from releasegate.outcome import Judged, Judgement
from releasegate.pytest_plugin.fixtures import Expect, Measure
from releasegate.slo.baseline import BaselineChoice, compare_endpoints
from releasegate.slo.judge import all_of
from releasegate.slo.sources import SyntheticSamples


def test_latency_has_not_regressed_against_the_baseline(
    synthetic_source: SyntheticSamples,
    baseline_choice: BaselineChoice,
    slo: SloConfig,
    env: Environment,
    measure: Measure,
    expect: Expect,
) -> None:
    """Response times have not got worse since before the deploy.

    Per endpoint, not materially slower than before the deploy (the shift's interval above
    the minimum increase); when there is no baseline or the samples cannot tell, inconclusive
    if the baseline is required, else skipped saying so."""
    required = slo.baseline.required
    baseline = baseline_choice.samples
    if baseline is None:
        reason = f"{baseline_choice.reason()} (env={env.name})"
        if required and baseline_choice.rejected:
            raise EvidenceStale(f"{reason}; [slo.baseline] required = true")
        if required:
            expect.judged(Judged.inconclusive(f"{reason}; [slo.baseline] required = true"))
        pytest.skip(reason)
    where = synthetic_source.origin().where
    shifts = compare_endpoints(synthetic_source.samples, baseline, slo, where)
    for shift in shifts:
        for m in shift.measurements(slo.baseline.min_increase):
            measure(**m.model_dump())
    judged = all_of([s.judged for s in shifts], f"no endpoint sampled to compare ({where})")
    if judged.judgement is Judgement.INCONCLUSIVE and not required:
        pytest.skip(f"advisory, [slo.baseline] required = false: {judged.message}")

    expect.judged(judged)
