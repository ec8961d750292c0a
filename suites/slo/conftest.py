import os
from pathlib import Path

import pytest

from releasegate.config import Environment, SloConfig
from releasegate.errors import EvidenceMissing
from releasegate.pytest_plugin import GateRun, mark_folder
from releasegate.sampler import (
    SAMPLES_FILE,
    SampleSet,
    SamplesUnreadable,
    read_samples,
    take_samples,
)
from releasegate.slo_baseline import BASELINE_VAR, find_baseline, synthetic_plan


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "slo")


@pytest.fixture(scope="session")
def slo(env: Environment) -> SloConfig:
    """The environment's `[slo]` table."""
    return env.model.slo


@pytest.fixture(scope="session")
def synthetic(gate_run: GateRun, slo: SloConfig) -> SampleSet:
    """The gate's own samples of the key endpoints (kept in the run as samples.json)."""
    if not slo.synthetic.enabled:
        pytest.skip("[slo.synthetic] enabled = false")
    plan = synthetic_plan(gate_run.env)
    samples = take_samples(gate_run.base_url, plan, environment=gate_run.env.name)
    samples.write(gate_run.run_dir / SAMPLES_FILE, gate_run.redactor)
    return samples


@pytest.fixture(scope="session")
def baseline(gate_run: GateRun, slo: SloConfig) -> SampleSet | None:
    """The latency measured before the deploy: the rollout's (`$RELEASEGATE_BASELINE`),
    `[slo.baseline] file`, or the newest baseline.json of this environment under the reports
    folder; None when there is none."""
    chosen = os.environ.get(BASELINE_VAR)
    path = find_baseline(
        gate_run.env, gate_run.reports_dir, exclude=gate_run.run_dir, chosen=chosen
    )
    if path is None:
        return None
    try:
        return read_samples(path)
    except SamplesUnreadable as exc:
        raise EvidenceMissing(f"baseline: {exc}") from None
