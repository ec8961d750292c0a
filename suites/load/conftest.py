from pathlib import Path

import pytest

from releasegate.config import Environment, LoadConfig
from releasegate.load.runner import LOAD_DIR, LoadRun, plan_load, run_load_once
from releasegate.load.thresholds import LoadEvidence, evidence_of
from releasegate.pytest_plugin import GateRun, add_artefacts, mark_folder


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "load")


@pytest.fixture(scope="session")
def load_config(env: Environment) -> LoadConfig:
    """The environment's `[load]` table."""
    return env.model.load


@pytest.fixture(scope="session")
def confidence(env: Environment) -> float:
    """The confidence of the SLO gate's percentile intervals (`[slo] confidence`): the load
    gate judges percentiles by the same rules, so the two never disagree on one run."""
    return env.model.slo.confidence


@pytest.fixture(scope="session")
def load_run(gate_run: GateRun, pytestconfig: pytest.Config) -> LoadRun:
    """One Locust run (the environment's profile) for every load check, also under `-n N`;
    refused before it starts when the guardrails say no."""
    plan = plan_load(
        gate_run.env,
        gate_run.base_url,
        gate_run.run_dir / LOAD_DIR,
        pytestconfig.rootpath,
        local_workers=pytestconfig.getoption("releasegate_load_workers"),
    )
    return run_load_once(plan)


@pytest.fixture(scope="session")
def load_evidence(load_run: LoadRun, env: Environment) -> LoadEvidence:
    """The run's statistics; missing evidence when Locust left none."""
    return evidence_of(load_run, env.name)


@pytest.fixture
def locust_reports(request: pytest.FixtureRequest, load_run: LoadRun, gate_run: GateRun) -> None:
    """Attach Locust's own report and statistics to this check."""
    add_artefacts(request.node, gate_run, load_run.reports())
