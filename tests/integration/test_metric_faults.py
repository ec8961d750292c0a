"""The local environment's own signals (`[[metrics]]`, `[[logs]]` in environments/local.toml)
against the reference service the plugin starts: each fault of docs/metrics.md's table fails
its check with ROLLBACK, naming the metric, the values and the condition; the healthy service
passes them in the demo's GO (tests/integration/test_cli.py). A Prometheus query that returns
nothing is HOLD, never a pass, even where a condition would accept 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import (
    ROOT,
    RunGate,
    StartService,
    releasegate_in_repo,
    write_env,
)


def local_with(tmp_path: Path, *faults: str) -> str:
    """`--env=` for a copy of environments/local.toml whose reference service starts with
    `faults` (the launcher passes only the faults it is given to the service)."""
    text = (ROOT / "environments" / "local.toml").read_text(encoding="utf-8")
    anchor = "[reference]\nstart = true\n"
    assert anchor in text
    listed = ", ".join(f'"{f}"' for f in faults)
    text = text.replace(anchor, f"{anchor}faults = [{listed}]\n")
    return f"--env={write_env(tmp_path / 'environments', 'local', text)}"


def _failed(run: object, check: str) -> str:
    """The check's message, after asserting it failed (the target measured and found wrong)."""
    result = run.check(check)  # type: ignore[attr-defined]
    assert result.outcome == "failed", run.output  # type: ignore[attr-defined]
    return str(result.message)


def test_failing_jobs_fail_the_failed_jobs_metric(run_gate: RunGate, tmp_path: Path) -> None:
    """job-fail=1: the digest job fails every second, so the failed count rises between the
    pre-deploy measurement and the post-deploy one."""
    run = run_gate(
        local_with(tmp_path, "job-fail=1"),
        "-k",
        "test_metric",
        marker="pre_deploy or post_deploy",
    )

    message = _failed(run, "test_metric[failed jobs]")
    assert "failed jobs:" in message
    assert "`result - before <= 0` does not hold" in message
    assert "values [" in message


def test_a_leak_fails_the_memory_growth_metric(run_gate: RunGate, tmp_path: Path) -> None:
    """leak=100 (MB/s): resident memory measured after the load stage's users (8 s) is far
    over 1.2 x the pre-deploy value."""
    run = run_gate(
        local_with(tmp_path, "leak=100"),
        "-k",
        "test_metric or test_load",
        marker="pre_deploy or load",
    )

    message = _failed(run, "test_metric[resident memory growth]")
    assert "`result <= before * 1.2` does not hold" in message
    growth = run.check("test_metric[resident memory growth]").measurements[0]
    assert growth.outcome == "failure"


def test_error_lines_in_the_service_log_fail_the_log_check(
    run_gate: RunGate, tmp_path: Path
) -> None:
    """log-errors: ERROR lines in the service's log since the run started: ROLLBACK, the lines
    shown."""
    run = run_gate(
        local_with(tmp_path, "log-errors"),
        "-k",
        "test_log or test_metric",
        marker="pre_deploy or post_deploy",
    )

    message = _failed(run, "test_log[no new errors in the service log]")
    assert "ERROR" in message
    assert "over max 0" in message
    assert run.check("test_metric[failed jobs]").outcome == "passed"


def test_a_cold_cache_fails_the_hit_rate_metric(run_gate: RunGate, tmp_path: Path) -> None:
    """cache-miss: every lookup misses while the SLO gate samples /api/tickets; Prometheus's
    hit rate is 0: ROLLBACK with the value and the condition."""
    run = run_gate(
        local_with(tmp_path, "cache-miss"),
        "-k",
        "test_metric or test_objective_is_met",
        marker="slo",
    )

    message = _failed(run, "test_metric[cache hit rate]")
    assert "cache hit rate:" in message
    assert "`result >= 0.8` does not hold" in message
    assert [m.value for m in run.check("test_metric[cache hit rate]").measurements] == [0.0]


NO_SERIES = """
description = "the bundled service and its Prometheus, asked for a series that does not exist"

[target]
read_only = false

[reference]
start = true
prometheus = true

[[endpoints]]
path = "/api/version"

[[metrics]]
name = "dead letters"
stage = "post_deploy"
provider = "prometheus"
query = 'sum(dead_letters_total)'    # no such series: an empty result
success = "result == 0"             # would pass if no data were read as 0
count = 2
interval = "0.5s"
inconclusive_limit = 5

[[metrics]]
name = "prometheus down"
stage = "post_deploy"
provider = "prometheus"
url = "http://127.0.0.1:9"          # nothing listens there
query = 'up'
success = "result >= 1"
count = 2
interval = "0.2s"
consecutive_error_limit = 1
"""


@pytest.fixture
def no_series_envs(tmp_path: Path) -> Path:
    write_env(tmp_path / "environments", "noseries", NO_SERIES)
    return tmp_path / "environments"


def test_an_empty_prometheus_result_and_a_prometheus_down_are_hold(
    run_gate: RunGate, no_series_envs: Path
) -> None:
    """A real Prometheus answers the query with no series: no data, never 0, so `result == 0`
    is not a pass; a Prometheus that does not answer at all: no evidence. HOLD (exit 2)."""
    run = run_gate(
        f"--env={no_series_envs / 'noseries.toml'}", "-k", "test_metric", marker="post_deploy"
    )
    decided = releasegate_in_repo(no_series_envs, "decide", str(run.run_dir), "--env", "noseries")

    assert decided.returncode == 2, run.output + decided.stdout
    empty = run.check("test_metric[dead letters]")
    assert empty.outcome == "error"
    assert "no measurement succeeded" in empty.message
    assert "no data: the query returned no series" in empty.message
    assert [m.outcome for m in empty.measurements] == ["inconclusive", "inconclusive"]
    down = run.check("test_metric[prometheus down]")
    assert down.outcome == "error"
    assert "2 provider errors in a row (consecutive_error_limit 1)" in down.message
    assert "Prometheus unreachable" in down.message


BEFORE = """
[target]
base_url = "{url}"
headers = {{ Authorization = "Bearer local-demo-token" }}

[[endpoints]]
path = "/api/version"

[slo.synthetic]
requests = 30

[[metrics]]
name = "failed jobs"
stage = "post_deploy"
provider = "web"
url = "/api/stats"
jsonpath = "$.jobs.failed"
before = "baseline"
success = "result - before <= 0"
"""


def test_releasegate_baseline_keeps_the_value_a_later_run_compares_with(
    start_service: StartService, run_gate: RunGate, tmp_path: Path
) -> None:
    """`releasegate baseline` measures the metric with the latency baseline; the post-deploy
    run after it (another run folder) reads that value as `before`."""
    service = start_service()
    envs = tmp_path / "environments"
    write_env(envs, "withbefore", BEFORE.format(url=service.base_url))
    reports = tmp_path / "reports"

    taken = releasegate_in_repo(
        envs, "baseline", "--env", "withbefore", "--reports-dir", str(reports)
    )

    assert taken.returncode == 0, taken.stdout + taken.stderr
    assert "metric 'failed jobs' before the deploy: 0" in taken.stdout
    run = run_gate(f"--env={envs / 'withbefore.toml'}", "-k", "test_metric", marker="post_deploy")
    check = run.check("test_metric[failed jobs]")
    assert check.outcome == "passed", run.output
    assert "(before: 0)" in (check.measurements[0].note or "")
