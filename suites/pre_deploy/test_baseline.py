"""Pre-deploy: the latency of the key endpoints before the deploy, kept for the SLO gate."""

import pytest

from releasegate.config import Environment
from releasegate.errors import EvidenceMissing
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Measure
from releasegate.slo.baseline import synthetic_plan
from releasegate.slo.statistics import nearest_rank
from releasegate.slo.synthetic import BASELINE_FILE, take_samples


def test_latency_baseline_is_captured(
    gate_run: GateRun, env: Environment, measure: Measure
) -> None:
    """The SLO gate's synthetic samples, taken now and written as baseline.json in this run;
    after the deploy the SLO gate compares its own samples with the newest baseline."""
    if not env.model.pre_deploy.baseline:
        pytest.skip(f"[pre_deploy] baseline = false for env={env.name}")
    samples = take_samples(gate_run.base_url, synthetic_plan(env), environment=env.name)
    answered = samples.latencies()
    if not answered:
        raise EvidenceMissing(
            f"no answer from {gate_run.redactor.redact(gate_run.base_url)} in"
            f" {len(samples.samples)} requests: no baseline written (env={env.name})"
        )
    path = gate_run.run_dir / BASELINE_FILE
    samples.write(path, gate_run.redactor)
    measure("samples", len(answered), samples=len(samples.samples))
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        value = nearest_rank(answered, q)
        measure(name, None if value is None else round(value, 2), unit="ms", samples=len(answered))
