import os
from pathlib import Path

import pytest

from releasegate.config import Environment, SloConfig
from releasegate.pytest_plugin import GateRun, mark_folder
from releasegate.slo.baseline import BASELINE_VAR, BaselineChoice, choose_baseline, synthetic_plan
from releasegate.slo.synthetic import SAMPLES_FILE, SampleSet, take_samples


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "slo")


@pytest.fixture(scope="session")
def slo(env: Environment) -> SloConfig:
    """The environment's `[slo]` table."""
    return env.model.slo


@pytest.fixture(scope="session")
def synthetic(gate_run: GateRun, slo: SloConfig) -> SampleSet:
    """The gate's own samples of the key endpoints (kept in the run as samples.json); not one
    answered because the target could not be reached: TargetUnreachable."""
    if not slo.synthetic.enabled:
        pytest.skip("[slo.synthetic] enabled = false")
    plan = synthetic_plan(gate_run.env)
    samples = take_samples(gate_run.base_url, plan, environment=gate_run.env.name)
    samples.write(gate_run.run_dir / SAMPLES_FILE, gate_run.redactor)
    samples.raise_if_unreachable()
    return samples


@pytest.fixture(scope="session")
def baseline_choice(gate_run: GateRun) -> BaselineChoice:
    """The latency measured before the deploy: the rollout's (`$RELEASEGATE_BASELINE`),
    `[slo.baseline] file`, or the newest baseline.json of this environment under the reports
    folder; only one taken of this run's target within `[slo.baseline] max_age` counts (the
    choice says why the others did not)."""
    return choose_baseline(
        gate_run.env,
        gate_run.reports_dir,
        gate_run.base_url,
        exclude=gate_run.run_dir,
        chosen=os.environ.get(BASELINE_VAR),
    )


@pytest.fixture(scope="session")
def baseline(baseline_choice: BaselineChoice) -> SampleSet | None:
    """The chosen baseline's samples; None when there is none that counts."""
    return baseline_choice.samples
