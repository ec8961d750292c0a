"""The SLO gate's synthetic samples as a fixture every suite can share: the SLO gate judges
them, and the pre-deploy baseline of a run that also has the SLO gate writes the same samples
as its baseline instead of sampling the target a second time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from releasegate.pytest_plugin._keys import GateRun
from releasegate.pytest_plugin.report_classification import stage_of
from releasegate.slo.baseline import synthetic_plan
from releasegate.slo.objectives import objectives
from releasegate.slo.prometheus import Prometheus
from releasegate.slo.stopping import Decider
from releasegate.slo.synthetic import SAMPLES_FILE, SampleSet, take_samples

# how long a Prometheus started beside the reference service may take to scrape it first
SCRAPE_WAIT_S = 20.0
# that Prometheus scrapes every second: two scrapes after the synthetic samples
BUNDLED_SCRAPES_S = 2.5


def scrape_wait_left(samples: SampleSet, now: datetime | None = None) -> float:
    """What is left to wait, after `samples` were taken, for the bundled Prometheus to have
    scraped twice since: nothing when the run's other checks took that long already."""
    taken = samples.taken_at_time()
    if taken is None:
        return BUNDLED_SCRAPES_S
    since = ((now or datetime.now(UTC)) - taken).total_seconds()
    return min(BUNDLED_SCRAPES_S, max(0.0, BUNDLED_SCRAPES_S - since))


def run_has_stage(session: pytest.Session, stage: str) -> bool:
    """Whether any check of this run (after `-m`) belongs to `stage`."""
    return any(stage_of(item) == stage for item in session.items)


@pytest.fixture(scope="session")
def synthetic(gate_run: GateRun) -> SampleSet:
    """The gate's own samples of the key endpoints (kept in the run as samples.json), until
    every objective is decided (`[slo.synthetic] stopping`) or the budget is spent; not one
    answered because the target could not be reached: TargetUnreachable. A Prometheus started
    beside the reference service scrapes once first, so that it sees them."""
    slo = gate_run.env.model.slo
    if not slo.synthetic.enabled:
        pytest.skip("[slo.synthetic] enabled = false")
    if gate_run.prometheus_url and slo.prometheus is not None:
        Prometheus(gate_run.prometheus_url).wait_until_scraping(SCRAPE_WAIT_S)
    plan = synthetic_plan(gate_run.env)
    decider = None
    if slo.synthetic.stopping == "sequential":
        decider = Decider(objectives(slo), slo.confidence)
    samples = take_samples(gate_run.base_url, plan, environment=gate_run.env.name, decider=decider)
    samples.write(gate_run.run_dir / SAMPLES_FILE, gate_run.redactor)
    samples.raise_if_unreachable()
    return samples
