"""Pre-deploy: the latency of the key endpoints before the deploy, kept for the SLO gate."""

import pytest

from releasegate.config import Environment
from releasegate.errors import BaselineUnanswered, EvidenceMissing, TargetUnreachable
from releasegate.ops.baseline_capture import BaselineTaken, take_baseline, write_baseline
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Measure
from releasegate.pytest_plugin.slo_fixtures import run_has_stage
from releasegate.slo.statistics import nearest_rank
from releasegate.slo.synthetic import BASELINE_FILE, SampleSet


def test_latency_baseline_is_captured(
    gate_run: GateRun, env: Environment, measure: Measure, request: pytest.FixtureRequest
) -> None:
    """Response times before the deploy are recorded for comparison.

    The SLO gate's synthetic samples, taken now and written as baseline.json in this run;
    after the deploy the SLO gate compares its own samples with the newest baseline. A run that
    also has the SLO gate samples once: its samples are the baseline."""
    if not env.model.pre_deploy.baseline:
        pytest.skip(f"[pre_deploy] baseline = false for env={env.name}")
    path = gate_run.run_dir / BASELINE_FILE
    try:
        if run_has_stage(request.session, "slo") and env.model.slo.synthetic.enabled:
            shared: SampleSet = request.getfixturevalue("synthetic")
            taken = write_baseline(shared, gate_run.base_url, path, gate_run.redactor)
        else:
            taken = take_baseline(env, gate_run.base_url, path, gate_run.redactor)
    except (BaselineUnanswered, TargetUnreachable) as exc:
        raise EvidenceMissing(f"no baseline: {exc} (env={env.name})") from None
    _measure_baseline(taken, measure)


def _measure_baseline(taken: BaselineTaken, measure: Measure) -> None:
    answered = taken.samples.latencies()
    measure("samples", len(answered), samples=len(taken.samples.samples))
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        value = nearest_rank(answered, q)
        measure(name, None if value is None else round(value, 2), unit="ms", samples=len(answered))
