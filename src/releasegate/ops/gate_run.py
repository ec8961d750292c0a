"""The gates as a subprocess: one `releasegate run`, bounded in time, and the decision it wrote.

A monitor's check (`releasegate.ops.monitor.gate_check`) and a rollout's stage
(`releasegate.ops.rollout.steps`) both run the gates this way: a real run, with its own run
folder, results.json and decision.json, so the report site shows it like any other.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.evidence.decision_file import DECISION_FILE, DecisionRecord
from releasegate.ops.processes import run_in_group
from releasegate.outcome import Verdict
from releasegate.redact import Redactor

# After SIGINT, a gate run that is being stopped gets this long to write its evidence as
# interrupted before SIGKILL.
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class GateCommand:
    """How the gates are run: `releasegate run` in a subprocess, its run written under
    `checks_dir` (its `--reports-dir`), its output in `logs_dir`, stopped after `timeout_s`."""

    env_file: Path
    stages: Sequence[str]
    checks_dir: Path
    logs_dir: Path
    timeout_s: float
    suites: Path = Path("suites")
    base_url: str | None = None
    release_version: str | None = None
    python: str = sys.executable

    def argv(self, run_id: str) -> list[str]:
        argv = [self.python, "-m", "releasegate", "run", "--env", str(self.env_file.resolve())]
        for stage in self.stages:
            argv += ["--stage", stage]
        argv += ["--run-id", run_id, "--reports-dir", str(self.checks_dir.resolve())]
        # --no-notify: the caller reports the outcome; one message per gate run is noise
        argv += ["--suites", str(self.suites), "--no-notify"]
        if self.base_url:
            argv += ["--base-url", self.base_url]
        if self.release_version:
            argv += ["--release-version", self.release_version]
        return argv

    def log(self, run_id: str) -> Path:
        return self.logs_dir / f"{run_id}.log"


@dataclass(frozen=True)
class GateProcess:
    """How one gate run's process ended: its exit code (None: stopped at the timeout, or it did
    not start), how long it took, and the last line it printed (masked)."""

    run_id: str
    exit_code: int | None
    timed_out: bool
    duration_s: float
    log: Path
    log_tail: str = ""


def run_gate_process(
    command: GateCommand,
    run_id: str,
    redactor: Redactor,
    *,
    environ: Mapping[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
    stopped: Callable[[], bool] | None = None,
    grace_s: float = STOP_GRACE_S,
) -> GateProcess | None:
    """Run the gates once, in their own process group, bounded by the command's timeout. SIGINT
    first: the run then writes its evidence as interrupted, and decides. None when `stopped`
    turned true meanwhile (the run is stopped, its group with it).

    The output is masked when the run ends, also when it is cut off (Ctrl-C propagates after)."""
    log = log or command.log(run_id)
    command.checks_dir.mkdir(parents=True, exist_ok=True)
    text = ""
    try:
        ran = run_in_group(
            command.argv(run_id),
            log=log,
            timeout_s=command.timeout_s,
            cwd=cwd,
            env=environ,
            first=signal.SIGINT,
            grace_s=grace_s,
            stopped=stopped,
        )
    finally:
        if log.exists():
            text = redactor.redact(log.read_text(encoding="utf-8", errors="replace"))
            log.write_text(text, encoding="utf-8")
    if ran.stopped:
        return None
    if ran.start_error is not None:
        text = f"cannot start: {ran.start_error}"
    tail = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
    return GateProcess(run_id, ran.exit_code, ran.timed_out, ran.duration_s, log, tail)


@dataclass(frozen=True)
class GateDecision:
    """The decision of one gate run, when there is one that counts: written by this run, and
    agreeing with its exit code. Otherwise `verdict` is None and `problem` says why: a crash
    (Python exits 1 too) or a missing decision is never a verdict."""

    verdict: Verdict | None
    record: DecisionRecord | None = None
    problem: str = ""


def read_gate_decision(run_dir: Path, run_id: str, exit_code: int | None) -> GateDecision:
    """The decision.json in `run_dir` of the run `run_id` that exited `exit_code`."""
    try:
        text = (run_dir / DECISION_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return GateDecision(None, problem=f"the gate run wrote no decision (exit {exit_code})")
    except (OSError, UnicodeDecodeError) as exc:
        return GateDecision(None, problem=f"unreadable decision.json: {exc}")
    try:
        record = DecisionRecord.model_validate_json(text)
    except ValueError as exc:
        first = str(exc).splitlines()[0]
        return GateDecision(None, problem=f"unreadable decision.json: {first}")
    verdict = Verdict.parse(record.verdict)
    if exit_code != int(verdict) or record.run.id != run_id:
        return GateDecision(
            None,
            record,
            f"the gate run's decision ({record.verdict}, run {record.run.id}) does not match"
            f" its exit code {exit_code}",
        )
    return GateDecision(verdict, record)
