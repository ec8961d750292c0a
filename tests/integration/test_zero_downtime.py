"""`releasegate watch` around a real restart of the reference service, and the post-deploy check
that reads its timeline: a graceful restart shows no downtime, an abrupt one does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from releasegate.decide import ExitCode
from releasegate.target.process import ReferenceServiceProcess
from releasegate.target.settings import DEFAULT_API_TOKEN
from releasegate.watch import TIMELINE_FILE, read_timeline, summarise
from tests.integration.conftest import GateRun, RunGate, StartService, run_in_repo, write_env

ENV = """
[target]
base_url = "{url}"
read_only = true
headers = {{ Authorization = "Bearer {token}" }}

[[endpoints]]
path = "/api/version"

[watch]
rate = 25
before = "0.5s"
after = "1.5s"
max_duration = "60s"
"""


@pytest.fixture
def supervised(start_service: StartService, tmp_path: Path) -> ReferenceServiceProcess:
    return start_service(supervise=True, state_file=tmp_path / "service.json")


def watch(
    tmp_path: Path, service: ReferenceServiceProcess, *deploy: str
) -> tuple[int, str, Path | None]:
    """Run `releasegate watch` with DEPLOY; its exit code, output and the timeline it wrote."""
    envs = tmp_path / "environments"
    write_env(envs, "staging", ENV.format(url=service.base_url, token=DEFAULT_API_TOKEN))
    argv = [sys.executable, "-m", "releasegate", "watch", "--env", "staging"]
    argv += [f"--reports-dir={tmp_path / 'reports'}", "--", *deploy]
    done = run_in_repo(argv, RELEASEGATE_ENV_DIR=str(envs))
    timelines = list((tmp_path / "reports").rglob(TIMELINE_FILE))
    return done.returncode, done.stdout + done.stderr, timelines[0] if timelines else None


def restart(service: ReferenceServiceProcess, *options: str) -> list[str]:
    assert service.state_file is not None
    return [
        sys.executable,
        "-m",
        "releasegate",
        "target",
        "restart",
        "--state-file",
        str(service.state_file),
        *options,
    ]


def downtime_check(run_gate: RunGate, tmp_path: Path) -> GateRun:
    return run_gate(
        "--env",
        "staging",
        "-k",
        "downtime",
        marker="post_deploy",
        env_vars={"RELEASEGATE_ENV_DIR": str(tmp_path / "environments")},
    )


def test_a_graceful_restart_shows_no_downtime(
    run_gate: RunGate, supervised: ReferenceServiceProcess, tmp_path: Path
) -> None:
    worker = supervised.worker_pid
    code, output, path = watch(tmp_path, supervised, *restart(supervised))

    assert code == ExitCode.GO, output
    assert "verdict: GO: no downtime" in output
    assert path is not None
    timeline = read_timeline(path)
    assert supervised.worker_pid != worker  # the deploy really replaced the process
    assert {p.phase for p in timeline.probes} == {"before", "during", "after"}
    assert summarise(timeline).failed == 0
    assert timeline.command_exit == 0

    run = downtime_check(run_gate, tmp_path)
    check = run.check("test_deploy_caused_no_downtime")
    assert check.outcome == "passed", run.output
    assert (run.run_dir / TIMELINE_FILE).is_file()  # copied into the run, for the run page
    assert [m.name for m in check.measurements] == ["failed probes", "longest gap"]


def test_an_abrupt_restart_is_downtime(
    run_gate: RunGate, supervised: ReferenceServiceProcess, tmp_path: Path
) -> None:
    code, output, path = watch(tmp_path, supervised, *restart(supervised, "--abrupt"))

    assert code == ExitCode.ROLLBACK, output
    assert "downtime during the deploy" in output
    assert path is not None
    summary = summarise(read_timeline(path))
    assert summary.failed > 0
    assert summary.worst is not None
    assert summary.worst.seconds > 1.0  # the supervisor's 1.5 s restart gap

    run = downtime_check(run_gate, tmp_path)
    check = run.check("test_deploy_caused_no_downtime")
    assert check.outcome == "failed", run.output
    assert "probes failed (at most 0)" in check.message
    assert "worst outage" in check.message


def test_a_failed_deploy_command_is_no_evidence(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    """The deploy itself failed: nothing shows whether a deploy causes downtime; HOLD."""
    code, output, _ = watch(tmp_path, healthy_service, "sh", "-c", "echo deploying; exit 7")

    assert code == ExitCode.HOLD, output
    assert "the deploy command exited 7" in output
    log = next((tmp_path / "reports").rglob("deploy-command.log")).read_text()
    assert "deploying" in log

    run = downtime_check(run_gate, tmp_path)
    check = run.check("test_deploy_caused_no_downtime")
    assert check.outcome == "error", run.output
    assert "exited 7" in check.message


def test_without_a_timeline_the_check_is_skipped(
    run_gate: RunGate, healthy_service: ReferenceServiceProcess, tmp_path: Path
) -> None:
    envs = tmp_path / "environments"
    write_env(envs, "staging", ENV.format(url=healthy_service.base_url, token=DEFAULT_API_TOKEN))

    run = downtime_check(run_gate, tmp_path)

    check = run.check("test_deploy_caused_no_downtime")
    assert check.outcome == "skipped", run.output
    assert "releasegate watch --env staging" in check.message
