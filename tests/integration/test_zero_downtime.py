"""`releasegate watch` around a real restart of the reference service, and the post-deploy check
that reads its timeline: a graceful restart shows no downtime, an abrupt one does."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from releasegate.evidence.decide import ExitCode
from releasegate.ops.watch import TIMELINE_FILE, ProbeRecord, Timeline, read_timeline, summarise
from releasegate.target.process import ReferenceServiceProcess
from releasegate.target.settings import DEFAULT_API_TOKEN
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
# A graceful restart fails no probe; its longest gap is a few probe intervals on a quiet machine
# but took 2.5-2.9 s with every probe answered on a saturated one (xdist, other jobs). The abrupt
# restart is told apart by its failed probes, not by this limit (the default is 2 s).
max_gap = "5s"
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


def planted_timeline(reports: Path, target: str, ended_ago_s: float) -> Path:
    """A clean watch (every probe answered) of `target` that ended `ended_ago_s` ago by its own
    clock, written now: a fresh file, as a copy made by an earlier gate run is."""
    started = datetime.now(UTC) - timedelta(seconds=ended_ago_s + 2.5)
    probes = [
        ProbeRecord(t=t / 2, path="/api/version", phase=phase, status=200, latency_ms=2.0)
        for t, phase in enumerate(["before", "during", "during", "after", "after"])
    ]
    timeline = Timeline(
        environment="staging",
        target_url=target,
        command="./deploy.sh v1",
        started_at=started.isoformat(),
        command_started_t=0.5,
        command_ended_t=1.5,
        command_exit=0,
        stopped_by="command",
        rate_per_s=2.0,
        duration_s=2.5,
        probes=probes,
    )
    path = reports / "test-run-old" / TIMELINE_FILE
    timeline.write(path)
    return path


@pytest.mark.parametrize(
    ("ended_ago_s", "other_target", "required", "outcome", "why"),
    [
        pytest.param(2 * 86400.0, False, False, "skipped", "ended 48.0 h ago", id="old-skipped"),
        pytest.param(2 * 86400.0, False, True, "error", "ended 48.0 h ago", id="old-required"),
        pytest.param(60.0, True, False, "skipped", "watched another target", id="other-target"),
    ],
)
def test_an_old_or_other_target_timeline_copied_fresh_never_passes(
    run_gate: RunGate,
    healthy_service: ReferenceServiceProcess,
    tmp_path: Path,
    ended_ago_s: float,
    other_target: bool,
    required: bool,
    outcome: str,
    why: str,
) -> None:
    """A clean timeline file written just now, but recorded two days ago (or for another
    target), is stale evidence: skipped, or an error with `required`; never a pass."""
    envs = tmp_path / "environments"
    text = ENV.format(url=healthy_service.base_url, token=DEFAULT_API_TOKEN)
    write_env(envs, "staging", text + f"required = {str(required).lower()}\n")
    target = "http://127.0.0.1:9" if other_target else healthy_service.base_url
    planted = planted_timeline(tmp_path / "reports", target, ended_ago_s)

    run = downtime_check(run_gate, tmp_path)

    check = run.check("test_deploy_caused_no_downtime")
    assert check.outcome == outcome, run.output
    assert "evidence-stale:" in check.message
    assert str(planted) in check.message
    assert why in check.message
    assert not (run.run_dir / TIMELINE_FILE).exists()  # stale evidence is not copied as this run's
