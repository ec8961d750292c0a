import os
import time
from pathlib import Path

import pytest

from releasegate.config import Environment, PrometheusConfig, SloConfig
from releasegate.errors import EvidenceMissing, TargetUnreachable
from releasegate.load.runner import LOAD_DIR, STATS_PREFIX
from releasegate.load.stats import LoadStats, StatsUnreadable, read_stats
from releasegate.load.thresholds import LoadEvidence, require_answered
from releasegate.pytest_plugin import GateRun, current_run, mark_folder
from releasegate.pytest_plugin.slo_fixtures import scrape_wait_left
from releasegate.slo.baseline import BASELINE_VAR, BaselineChoice, choose_baseline
from releasegate.slo.combine import SourceReading
from releasegate.slo.judge import judge
from releasegate.slo.objectives import Objective
from releasegate.slo.prometheus import Prometheus
from releasegate.slo.sli import SliSource
from releasegate.slo.sources import (
    LoadStatistics,
    PrometheusMetrics,
    SyntheticSamples,
    burn_windows,
    table,
)
from releasegate.slo.synthetic import SampleSet


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_folder(items, Path(__file__).parent, "slo")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One check per objective the environment sets (`p95`), one advisory check per objective
    and source that measures it (`p95-synthetic`, `error_ratio-prometheus`), and one per
    burn-rate pair of windows (`5m-1h`: short, then long)."""
    run = current_run(metafunc.config)
    if run is None:
        return
    slo, name = run.env.model.slo, run.env.name
    nothing = pytest.mark.skip(reason=f"no [slo] objective and source for env={name}")
    if "source" in metafunc.fixturenames:
        # each source's own reading: shown, the objective's check decides
        checks = [
            pytest.param(o, s, id=f"{o.key}-{s}", marks=pytest.mark.advisory) for o, s in table(slo)
        ]
        metafunc.parametrize(
            ("objective", "source"),
            checks or [pytest.param(None, None, id="none", marks=nothing)],
            indirect=["source"],
        )
    elif "objective" in metafunc.fixturenames:
        measured = list(dict.fromkeys(o for o, _ in table(slo)))
        metafunc.parametrize(
            "objective",
            [pytest.param(o, id=o.key) for o in measured]
            or [pytest.param(None, id="none", marks=nothing)],
        )
    if "burn_window" in metafunc.fixturenames:
        pairs = [
            pytest.param(w, id=run.redactor.redact(f"{w.short}-{w.long}"))
            for w in burn_windows(slo)
        ]
        nothing = pytest.mark.skip(
            reason=f"no [slo.prometheus] burn_windows, or no [slo] availability_min or"
            f" error_ratio_max, for env={name}"
        )
        metafunc.parametrize("burn_window", pairs or [pytest.param(None, id="none", marks=nothing)])


@pytest.fixture(scope="session")
def slo(env: Environment) -> SloConfig:
    """The environment's `[slo]` table."""
    return env.model.slo


@pytest.fixture
def source(request: pytest.FixtureRequest) -> SliSource:
    """The SLI source of this check (`synthetic`, `prometheus`, `load`: the fixture
    `<name>_source`), set up when a check first needs it."""
    found: SliSource = request.getfixturevalue(f"{request.param}_source")
    return found


@pytest.fixture
def readings(
    objective: Objective, slo: SloConfig, request: pytest.FixtureRequest
) -> list[SourceReading]:
    """What every source measuring `objective` says of it; a source that is not there in this
    run (the load stage did not run) is left out, one that cannot be read says why."""
    found: list[SourceReading] = []
    absent: list[str] = []
    for name in [s for o, s in table(slo) if o == objective]:
        try:
            source: SliSource = request.getfixturevalue(f"{name}_source")
            found.append(SourceReading(name, judge(source.sli(objective), objective)))
        except pytest.skip.Exception as skipped:
            absent.append(f"{name}: {skipped.msg}")
        except TargetUnreachable as exc:
            found.append(SourceReading(name, unreachable=exc))
        except EvidenceMissing as exc:
            found.append(SourceReading(name, error=f"{type(exc).__name__}: {exc}"))
    if not found:
        pytest.skip(f"no source measured {objective.name}: {'; '.join(absent)}")
    return found


@pytest.fixture(scope="session")
def synthetic_source(synthetic: SampleSet, slo: SloConfig) -> SyntheticSamples:
    """SLIs from the synthetic samples."""
    return SyntheticSamples(
        synthetic, slo.confidence, sequential=slo.synthetic.stopping == "sequential"
    )


@pytest.fixture(scope="session")
def prometheus_config(slo: SloConfig, env: Environment) -> PrometheusConfig:
    """`[slo.prometheus]`; the checks skip where an environment has none."""
    if slo.prometheus is None:
        pytest.skip(f"no [slo.prometheus] for env={env.name}")
    return slo.prometheus


@pytest.fixture(scope="session")
def prometheus_source(
    prometheus_config: PrometheusConfig,
    slo: SloConfig,
    gate_run: GateRun,
    request: pytest.FixtureRequest,
) -> PrometheusMetrics:
    """SLIs from the configured Prometheus, or the one started beside the reference service;
    that one has seen only this run's traffic, so it first gets the synthetic samples and the
    scrapes that follow them (already past when the samples were taken early in the run)."""
    url = gate_run.prometheus_url or prometheus_config.url
    if url is None:
        raise EvidenceMissing(
            f"no Prometheus: set [slo.prometheus] url in {gate_run.env.path}, or"
            " [reference] prometheus = true with Prometheus installed (apt-get install prometheus)"
        )
    client = Prometheus(str(url).rstrip("/"), timeout_s=prometheus_config.timeout)
    if gate_run.prometheus_url:
        taken: SampleSet = request.getfixturevalue("synthetic")
        time.sleep(scrape_wait_left(taken))
    return PrometheusMetrics.read(client, prometheus_config, slo.confidence, gate_run.env.name)


@pytest.fixture(scope="session")
def load_stats(gate_run: GateRun) -> LoadStats:
    """This run's load stage statistics; skipped when the load stage did not run."""
    path: Path = gate_run.run_dir / LOAD_DIR / f"{STATS_PREFIX}.json"
    if not path.is_file():
        pytest.skip(
            "the load stage did not run in this run (releasegate run --stage load --stage slo)"
        )
    try:
        return read_stats(path)
    except StatsUnreadable as exc:
        pytest.skip(f"the load stage left no statistics to read: {exc}")


@pytest.fixture(scope="session")
def load_source(
    load_stats: LoadStats, gate_run: GateRun, slo: SloConfig, env: Environment
) -> LoadStatistics:
    """SLIs from all requests of this run's load stage, if any were answered
    (`TargetUnreachable` when requests went out and none came back)."""
    where = f"load stage, env={env.name}"
    total = require_answered(LoadEvidence(load_stats, None, where, target=gate_run.base_url))
    return LoadStatistics(total, slo.confidence, env.name)


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
