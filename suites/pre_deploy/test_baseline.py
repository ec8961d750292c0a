"""Pre-deploy: the latency of the key endpoints before the deploy, kept for the SLO gate."""

import pytest

from releasegate.config import Environment
from releasegate.errors import BaselineUnanswered, EvidenceMissing
from releasegate.ops.baseline_capture import take_baseline
from releasegate.pytest_plugin import GateRun
from releasegate.pytest_plugin.fixtures import Measure
from releasegate.slo.statistics import nearest_rank
from releasegate.slo.synthetic import BASELINE_FILE


def test_latency_baseline_is_captured(
    gate_run: GateRun, env: Environment, measure: Measure
) -> None:
    """The SLO gate's synthetic samples, taken now and written as baseline.json in this run;
    after the deploy the SLO gate compares its own samples with the newest baseline."""
    if not env.model.pre_deploy.baseline:
        pytest.skip(f"[pre_deploy] baseline = false for env={env.name}")
    try:
        taken = take_baseline(
            env, gate_run.base_url, gate_run.run_dir / BASELINE_FILE, gate_run.redactor
        )
    except BaselineUnanswered as exc:
        raise EvidenceMissing(f"{exc} (env={env.name})") from None
    answered = taken.samples.latencies()

    measure("samples", len(answered), samples=len(taken.samples.samples))
    for name, q in (("p50", 0.5), ("p95", 0.95)):
        value = nearest_rank(answered, q)
        measure(name, None if value is None else round(value, 2), unit="ms", samples=len(answered))
