"""`releasegate rollout` against the real reference service: real traffic commands (a script that
switches a fault on at one stage, as a bad release would), real soaks, real gate runs."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from releasegate.ops.rollout.engine import RolloutState, find_rollouts
from releasegate.outcome import Verdict
from releasegate.target.process import ReferenceServiceProcess
from tests.integration.conftest import ROOT, gate_env, write_env

TRAFFIC = Path(__file__).parent / "rollout" / "traffic.py"
SECRET = "rollout-secret-token-4c1d9e7a"  # the API token: an env ${VAR}, so a secret
ADMIN = "rollout-admin-token-0b3f"
RUN_TIMEOUT_S = 180

# A small smoke gate (a few API checks, no browser) keeps each stage to seconds.
ENV = """
description = "rollout tests"
[target]
base_url = "{base_url}"
read_only = false
timeout = "5s"
headers = {{ Authorization = "Bearer ${{ROLLOUT_TEST_TOKEN}}" }}

[[endpoints]]
path = "/api/tickets"
expect_text = "tickets"

[[endpoints]]
path = "/api/version"
expect_text = "version"

[watch]
rate = 20
"""


def stage(name: str, percent: int, soak: str = "1s") -> str:
    return f"""
[[stages]]
name = "{name}"
percent = {percent}
traffic = [{json.dumps(sys.executable)}, {json.dumps(str(TRAFFIC))}]
soak = "{soak}"
gates = ["smoke"]
"""


def plan_text(*stages: str, on_hold: str = "wait") -> str:
    rollback = json.dumps([sys.executable, str(TRAFFIC), "--rollback"])
    head = f'description = "test plan"\nrollback = {rollback}\non_hold = "{on_hold}"\n'
    return head + "baseline = false\n" + "".join(stages)


FOUR_STAGES = plan_text(
    stage("internal", 0), stage("10%", 10), stage("50%", 50), stage("100%", 100)
)


@dataclass
class Workspace:
    """A rollout's files: environment, plan, reports, and what the traffic script recorded."""

    root: Path
    service: ReferenceServiceProcess

    @property
    def env_file(self) -> Path:
        return self.root / "environments" / "rollout.toml"

    @property
    def plan(self) -> Path:
        return self.root / "rollout.toml"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def record(self) -> Path:
        return self.root / "traffic.txt"

    def recorded(self) -> list[str]:
        return self.record.read_text().splitlines() if self.record.exists() else []

    def environ(self, **extra: str) -> dict[str, str]:
        return gate_env(
            {
                "ROLLOUT_TEST_TOKEN": SECRET,
                "TRAFFIC_RECORD": str(self.record),
                "ADMIN_TOKEN": ADMIN,
                "FAULT": "health=down",
                "ECHO": SECRET,
                **extra,
            }
        )

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "releasegate", "rollout", *args]

    def start_args(self) -> list[str]:
        """Start a rollout (`run` adds the target and the reports folder)."""
        return ["--env", str(self.env_file), "--plan", str(self.plan)]

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        argv = self.argv(*args, "--reports-dir", str(self.reports))
        if "--plan" in args:
            argv += ["--base-url", self.service.base_url, "--release-version", "2.0.0"]
        return subprocess.run(
            argv,
            cwd=ROOT,
            env=self.environ(**extra),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )

    def state(self) -> RolloutState:
        (found,) = find_rollouts(self.reports)
        return found[1]

    def folder(self) -> Path:
        (found,) = find_rollouts(self.reports)
        return found[0]


@contextlib.contextmanager
def new_workspace(root: Path) -> Iterator[Workspace]:
    with ReferenceServiceProcess(api_token=SECRET, admin_token=ADMIN) as service:
        space = Workspace(root, service)
        write_env(root / "environments", "rollout", ENV.format(base_url=service.base_url))
        space.plan.write_text(FOUR_STAGES)
        yield space


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    with new_workspace(tmp_path) as space:
        yield space


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# --- a fault at 50 % -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rolled_back(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Workspace, subprocess.CompletedProcess[str]]]:
    """The four-stage plan whose traffic command switches health=down at 50 % (run once for
    the checks below)."""
    with new_workspace(tmp_path_factory.mktemp("rolled-back")) as space:
        yield space, space.run(*space.start_args(), FAULT_AT="50")


def test_fault_at_50_percent_exits_rollback(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    _, result = rolled_back

    assert result.returncode == 1, output(result)


def test_fault_at_50_percent_promotes_two_stages_and_rolls_back_the_third(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    space, result = rolled_back

    statuses = [s.status for s in space.state().stages]

    assert statuses == ["promoted", "promoted", "rolled_back", "pending"], output(result)


def test_fault_at_50_percent_runs_the_rollback_once_and_never_the_last_stage(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    """The traffic command ran for stages 1-3 only; the rollback ran exactly once."""
    space, result = rolled_back

    assert space.recorded() == ["internal 0", "10% 10", "50% 50", "rollback"], output(result)


def test_promoted_stages_ran_real_gate_runs_that_said_go(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    """Each promoted stage has its gate run under reports/, with a GO decision."""
    space, _ = rolled_back
    promoted = [s for s in space.state().stages if s.status == "promoted"]

    decisions = [
        json.loads((space.reports / s.gates[-1].run_id / "decision.json").read_text())["verdict"]
        for s in promoted
    ]

    assert decisions == ["GO", "GO"]


def test_the_rolled_back_stage_says_what_was_wrong(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    """The 50 % stage's soak saw the health endpoint fail: the reason names it."""
    space, _ = rolled_back
    third = space.state().stages[2]

    assert third.verdict is Verdict.ROLLBACK
    assert "failed" in third.reason
    assert third.soaks[-1].failed > 0


def test_no_secret_in_the_rollout_output_or_files(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    """The API token (an env ${VAR}) echoed by the traffic command is in no file or output."""
    space, result = rolled_back

    leaks = [
        str(p) for p in space.reports.rglob("*") if p.is_file() and SECRET in p.read_text("latin-1")
    ]

    assert SECRET not in output(result)
    assert leaks == []


def test_rollout_page_on_the_report_site(
    rolled_back: tuple[Workspace, subprocess.CompletedProcess[str]],
) -> None:
    """`report build` gives the rollout a page (stages, verdicts) linked from the index."""
    space, _ = rolled_back
    argv = [sys.executable, "-m", "releasegate", "report", "build", "--no-allure"]
    build = subprocess.run(
        [*argv, "--reports-dir", str(space.reports)],
        cwd=ROOT,
        env=space.environ(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    site = space.reports / "site"
    state = space.state()
    page = (site / "rollouts" / state.id / "index.html").read_text()

    assert build.returncode == 0, output(build)
    assert f"rollouts/{state.id}/index.html" in (site / "index.html").read_text()
    assert all(name in page for name in ("internal", "10%", "50%", "100%"))
    assert "ROLLBACK" in page
    assert "<svg" in page


# --- interrupted and resumed -----------------------------------------------------------------


def wait_for(condition: object, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {condition}")


def test_interrupted_rollout_resumes_at_the_stage_it_was_in(workspace: Workspace) -> None:
    """Ctrl-C while stage 2 soaks: exit 2, state interrupted at stage 2. Resume soaks and
    gates stage 2 again and completes, without repeating any traffic change."""
    workspace.plan.write_text(plan_text(stage("internal", 0), stage("all", 100, soak="5s")))

    def soaking_stage_two() -> bool:
        found = find_rollouts(workspace.reports)
        return bool(found) and found[0][1].stages[1].status == "soak"

    process, interrupted_output = interrupt_when(start_in_background(workspace), soaking_stage_two)
    cut = workspace.state()

    resumed = workspace.run("resume", "--env", "rollout")

    assert process.returncode == 2, interrupted_output
    assert (cut.status, cut.current) == ("interrupted", 1)
    assert resumed.returncode == 0, output(resumed)
    assert workspace.recorded() == ["internal 0", "all 100"]
    assert [len(s.gates) for s in workspace.state().stages] == [1, 1]


# --- held and resumed ------------------------------------------------------------------------


def test_failed_traffic_command_holds_and_resumes_with_retry(workspace: Workspace) -> None:
    """The traffic API refuses stage 2: HOLD (exit 2). `resume` alone stays held (the split is
    unknown); after the cause is fixed, `resume --retry-traffic` completes the rollout."""
    workspace.plan.write_text(plan_text(stage("internal", 0), stage("all", 100)))
    block = workspace.root / "traffic-api-down"
    block.touch()
    held = workspace.run(*workspace.start_args(), BLOCK_FILE=str(block))
    status = workspace.run("status", "--env", "rollout")
    still_held = workspace.run("resume", "--env", "rollout", BLOCK_FILE=str(block))
    block.unlink()
    resumed = workspace.run("resume", "--env", "rollout", "--retry-traffic")

    assert held.returncode == 2, output(held)
    assert status.returncode == 2
    assert "HELD" in status.stdout
    assert still_held.returncode == 2
    assert "--retry-traffic" in output(still_held)
    assert resumed.returncode == 0, output(resumed)
    assert workspace.recorded() == ["internal 0", "all 100"]


def test_resume_refuses_a_plan_changed_since_the_start(workspace: Workspace) -> None:
    workspace.plan.write_text(plan_text(stage("internal", 0), stage("all", 100)))
    block = workspace.root / "block"
    block.touch()
    workspace.run(*workspace.start_args(), BLOCK_FILE=str(block))
    workspace.plan.write_text(plan_text(stage("internal", 0), stage("all", 100, soak="0s")))

    resumed = workspace.run("resume", "--env", "rollout", "--retry-traffic")

    assert resumed.returncode == 3
    assert "the plan changed since rollout" in resumed.stderr


def test_a_second_rollout_of_the_same_plan_is_refused_while_one_is_held(
    workspace: Workspace,
) -> None:
    block = workspace.root / "block"
    block.touch()
    workspace.run(*workspace.start_args(), BLOCK_FILE=str(block))

    again = workspace.run(*workspace.start_args())

    assert again.returncode == 3
    assert "resume" in again.stderr
    assert workspace.recorded() == []


def test_abort_of_a_held_rollout_runs_the_rollback(workspace: Workspace) -> None:
    block = workspace.root / "block"
    block.touch()
    workspace.run(*workspace.start_args(), BLOCK_FILE=str(block))

    aborted = workspace.run("abort", "--env", "rollout")

    assert aborted.returncode == 1, output(aborted)
    assert workspace.state().status == "aborted"
    assert workspace.recorded() == ["rollback"]


# --- dry run and usage errors ----------------------------------------------------------------


def test_dry_run_prints_every_command_and_runs_none(workspace: Workspace) -> None:
    result = workspace.run(*workspace.start_args(), "--dry-run")

    assert result.returncode == 0, output(result)
    assert result.stdout.count(str(TRAFFIC)) == 5  # four stages and the rollback
    assert result.stdout.count("releasegate run --env") == 4
    assert "--rollback" in result.stdout
    assert workspace.recorded() == []
    assert not (workspace.reports / "rollouts").exists()


def test_a_bad_plan_is_one_line_and_exit_3(workspace: Workspace) -> None:
    workspace.plan.write_text('rollback = "x"\n[[stages]]\nname = "a"\ntraffic = "x"\nsoakk = 1\n')

    result = workspace.run(*workspace.start_args())

    assert result.returncode == 3
    assert result.stderr.count("\n") == 1
    assert "stages[0].soakk: unknown key; did you mean 'soak'?" in result.stderr
    assert "Traceback" not in output(result)


def test_resume_with_nothing_to_resume_is_a_usage_error(workspace: Workspace) -> None:
    result = workspace.run("resume", "--env", "rollout")

    assert result.returncode == 3
    assert "no rollouts under" in result.stderr


def test_the_shipped_example_plan_is_valid_and_dry_runs(workspace: Workspace) -> None:
    """rollouts/local.toml (docs/rollout.md's try-it plan): four stages, baseline first.
    (Running it for real is what the four-stage tests above do, with a fault.)"""
    result = workspace.run(
        "--env", str(workspace.env_file), "--plan", "rollouts/local.toml", "--dry-run"
    )

    assert result.returncode == 0, output(result)
    assert "before stage 1: take the SLO baseline" in result.stdout
    assert [
        line.split(":")[0] for line in result.stdout.splitlines() if line.startswith("stage ")
    ] == ["stage 1", "stage 2", "stage 3", "stage 4"]


# --- cut off mid-command, secrets, plans that changed, several rollouts ----------------------


def start_in_background(space: Workspace, **extra: str) -> subprocess.Popen[str]:
    argv = space.argv(*space.start_args(), "--reports-dir", str(space.reports))
    return subprocess.Popen(
        [*argv, "--base-url", space.service.base_url],
        cwd=ROOT,
        env=space.environ(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def interrupt_when(
    process: subprocess.Popen[str], condition: Callable[[], bool]
) -> tuple[subprocess.Popen[str], str]:
    """Ctrl-C the rollout once `condition` holds; its output, after it ended."""
    try:
        wait_for(condition, RUN_TIMEOUT_S)
        process.send_signal(signal.SIGINT)
        text, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    return process, text


def test_ctrl_c_during_the_traffic_command_holds_until_retry_and_leaks_nothing(
    workspace: Workspace,
) -> None:
    """Cut off while the traffic command runs: exit 2; its log (which echoed the API token) is
    masked; `resume` holds (the split is unknown) and runs nothing."""
    workspace.plan.write_text(plan_text(stage("internal", 0)))

    def traffic_running() -> bool:
        """The command has started and written its first line (the echoed token)."""
        logs = (workspace.reports / "rollouts").glob("*/*/traffic.log")
        return any(log.stat().st_size > 0 for log in logs)

    process, cut_output = interrupt_when(
        start_in_background(workspace, TRAFFIC_SLEEP="30"), traffic_running
    )
    leaks = [
        str(p) for p in workspace.reports.rglob("*") if p.is_file() and SECRET in p.read_text()
    ]

    resumed = workspace.run("resume", "--env", "rollout")

    assert process.returncode == 2, cut_output
    assert leaks == []
    assert resumed.returncode == 2
    assert "was cut off" in output(resumed)
    assert workspace.recorded() == []


def test_a_secret_target_is_masked_in_the_state_and_given_again_on_resume(
    workspace: Workspace,
) -> None:
    """base_url from a ${VAR}: state.json holds it masked; resume takes it from the environment
    again (checked against the digest) and completes."""
    text = workspace.env_file.read_text().replace(
        f'base_url = "{workspace.service.base_url}"', 'base_url = "${ROLLOUT_TARGET}"'
    )
    workspace.env_file.write_text(text)
    workspace.plan.write_text(plan_text(stage("all", 100)))
    block = workspace.root / "block"
    block.touch()
    target = {"ROLLOUT_TARGET": workspace.service.base_url}
    argv = [*workspace.start_args(), "--reports-dir", str(workspace.reports)]
    held = subprocess.run(
        workspace.argv(*argv),
        cwd=ROOT,
        env=workspace.environ(BLOCK_FILE=str(block), **target),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    state_text = (workspace.folder() / "state.json").read_text()
    block.unlink()

    resumed = workspace.run("resume", "--env", "rollout", "--retry-traffic", **target)

    assert held.returncode == 2, output(held)
    assert workspace.service.base_url not in state_text
    assert resumed.returncode == 0, output(resumed)


def test_abort_after_the_plan_changed_runs_its_current_rollback(workspace: Workspace) -> None:
    workspace.plan.write_text(plan_text(stage("internal", 0), stage("all", 100)))
    block = workspace.root / "block"
    block.touch()
    workspace.run(*workspace.start_args(), BLOCK_FILE=str(block))
    workspace.plan.write_text(plan_text(stage("only", 100)))

    aborted = workspace.run("abort", "--env", "rollout")

    assert aborted.returncode == 1, output(aborted)
    assert "only its rollback command is used" in aborted.stderr
    assert workspace.recorded() == ["rollback"]


def test_two_unfinished_rollouts_of_one_environment_need_an_id(workspace: Workspace) -> None:
    block = workspace.root / "block"
    block.touch()
    workspace.run(*workspace.start_args(), BLOCK_FILE=str(block))
    second = workspace.root / "second.toml"
    second.write_text(plan_text(stage("all", 100)))
    workspace.run("--env", str(workspace.env_file), "--plan", str(second), BLOCK_FILE=str(block))

    resumed = workspace.run("resume", "--env", "rollout")

    assert resumed.returncode == 3
    assert "2 unfinished rollouts" in resumed.stderr
    assert "pick one with --id" in resumed.stderr
