"""What a rollout's steps really do: run the user's traffic and rollback commands, soak while
probing the target, run the stage's gates as a `releasegate run`, take the baseline.

Each stage gets a folder beside the state file (`reports/rollouts/<id>/02-10-percent/`) with its
traffic command's output, its soak timelines and its gate runs' output; the gate runs themselves
are ordinary runs under reports/, so the report site shows each one.
"""

from __future__ import annotations

import os
import shlex
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from releasegate.config import Command, Environment, show_command
from releasegate.errors import EvidenceMissing
from releasegate.evidence.runs import scrub_tree
from releasegate.ops.baseline_capture import take_baseline
from releasegate.ops.gate_run import GateCommand, read_gate_decision, run_gate_process
from releasegate.ops.processes import TERMINATE_GRACE_S, run_in_group
from releasegate.ops.rollout.engine import (
    Actions,
    CommandRecord,
    GateRecord,
    RolloutState,
    SoakRecord,
    stage_folder,
)
from releasegate.ops.rollout.plan import PlanStage, RolloutPlan
from releasegate.ops.watch import judge_watch, probe_for, watch_plan, watch_verdict
from releasegate.outcome import Verdict
from releasegate.slo.baseline import BASELINE_VAR
from releasegate.slo.synthetic import BASELINE_FILE


def run_command(
    command: Command,
    *,
    timeout_s: float,
    cwd: Path,
    log: Path,
    shown: str,
    extra_env: Mapping[str, str],
    stop_signal: signal.Signals = signal.SIGTERM,
) -> CommandRecord:
    """Run `command` once, output to `log`, in its own process group so a timeout or Ctrl-C
    ends all of it. Ctrl-C propagates after the group is stopped (the caller saves state)."""
    record = CommandRecord(command=shown, log=log.name)
    ran = run_in_group(
        command,
        log=log,
        timeout_s=timeout_s,
        cwd=cwd,
        env={**os.environ, **extra_env},
        first=stop_signal,
    )
    if ran.start_error is not None:
        record.error = f"cannot start: {ran.start_error.strerror or ran.start_error}"
        log.write_text(record.error + "\n", encoding="utf-8")
        return record
    record.exit_code = ran.exit_code
    record.timed_out = ran.timed_out
    record.duration_s = ran.duration_s
    return record


@dataclass(frozen=True)
class RolloutContext:
    """Where a rollout runs: its environment, plan, target, folder and gate options."""

    env: Environment
    plan: RolloutPlan
    state: RolloutState
    folder: Path  # reports/rollouts/<id>
    reports_dir: Path
    target: str  # the real values: state.json holds them masked where they are secrets
    release_version: str | None

    def stage_dir(self, index: int) -> Path:
        return self.folder / stage_folder(index, self.plan.stages[index].name)

    def command_env(self, index: int | None) -> dict[str, str]:
        """What the user's commands are told, as environment variables."""
        values = {
            "RELEASEGATE_ROLLOUT_ID": self.state.id,
            "RELEASEGATE_ENVIRONMENT": self.env.name,
            "RELEASEGATE_TARGET_URL": self.target,
            "RELEASEGATE_RELEASE_VERSION": self.release_version or "",
        }
        if index is not None:
            stage = self.plan.stages[index]
            values["RELEASEGATE_ROLLOUT_STAGE"] = stage.name
            values["RELEASEGATE_ROLLOUT_STAGE_NUMBER"] = str(index + 1)
            values["RELEASEGATE_TRAFFIC_PERCENT"] = (
                f"{stage.percent:g}" if stage.percent is not None else ""
            )
        return values

    def shown(self, command: Command) -> str:
        return self.env.redactor.redact(show_command(command))

    def gate_run_id(self, index: int, attempt: int) -> str:
        return f"{self.state.id}-{stage_folder(index, self.plan.stages[index].name)}-{attempt}"

    def gate_command(self, index: int) -> GateCommand:
        """The stage's gates as a `releasegate run`: its run under the reports folder (the
        report site lists it), its output in the stage's folder."""
        return GateCommand(
            env_file=Path(self.state.env_file),
            stages=[gate.replace("_", "-") for gate in self.plan.stages[index].gates],
            checks_dir=self.reports_dir,
            logs_dir=self.stage_dir(index),
            timeout_s=self.plan.settings.gates_timeout,
            suites=Path(self.state.suites),
            base_url=self.target,
            release_version=self.release_version,
        )

    def gate_argv(self, index: int, attempt: int) -> list[str]:
        return self.gate_command(index).argv(self.gate_run_id(index, attempt))

    @property
    def baseline_file(self) -> Path | None:
        """The baseline this rollout took: its SLO gates compare against this one, whatever
        newer baseline.json a gate run (pre-deploy) or another job writes meanwhile."""
        if self.state.baseline_file is None:
            return None
        return (self.folder / self.state.baseline_file).resolve()


def gate_verdict(
    run_dir: Path, run_id: str, exit_code: int | None, log: Path
) -> tuple[Verdict, str]:
    """The gate run's verdict: its decision.json, when that is this run's and agrees with the
    exit code. A crash (Python exits 1 too) or a missing decision is HOLD, never a verdict."""
    decision = read_gate_decision(run_dir, run_id, exit_code)
    if decision.verdict is None or decision.record is None:
        return Verdict.HOLD, f"{decision.problem}; see {log}"
    record = decision.record
    reasons = [r.message for r in record.reasons[:3]]
    counts = ", ".join(f"{n} {o}" for o, n in record.evidence.counts.items() if n)
    summary = "; ".join(reasons) if reasons else f"{record.verdict} ({counts or 'no checks'})"
    return decision.verdict, summary


def real_actions(context: RolloutContext) -> Actions:
    env, plan, state = context.env, context.plan, context.state
    redactor = env.redactor

    def scrubbed(log: Path, run: Callable[[], CommandRecord]) -> CommandRecord:
        """Run, then mask secrets in what it wrote: also when Ctrl-C cuts it off."""
        try:
            return run()
        finally:
            scrub_tree(log.parent, redactor)

    def traffic(index: int, stage: PlanStage) -> CommandRecord:
        log = context.stage_dir(index) / "traffic.log"
        record = scrubbed(
            log,
            lambda: run_command(
                stage.traffic,
                timeout_s=stage.traffic_timeout,
                cwd=plan.cwd,
                log=log,
                shown=context.shown(stage.traffic),
                extra_env=context.command_env(index),
            ),
        )
        record.log = str(log.relative_to(context.folder))
        return record

    def soak(index: int, stage: PlanStage, attempt: int) -> SoakRecord | None:
        if stage.soak <= 0:
            return None
        probing = watch_plan(env, context.target)
        timeline = probe_for(
            probing, stage.soak, environment=env.name, label=f"soak of stage {stage.name}"
        )
        # not timeline.json: the post-deploy gate takes the newest of those as the deploy's
        path = context.stage_dir(index) / f"soak-{attempt}.json"
        timeline.write(path, redactor)
        judged = judge_watch(timeline, env.model.watch)
        return SoakRecord(
            verdict=watch_verdict(judged),
            message=redactor.redact(judged.message),
            probes=len(timeline.probes),
            failed=sum(1 for p in timeline.probes if not p.ok),
            duration_s=timeline.duration_s,
            file=str(path.relative_to(context.folder)),
        )

    def gates(index: int, stage: PlanStage, attempt: int) -> GateRecord:
        run_id = context.gate_run_id(index, attempt)
        log = context.stage_dir(index) / f"gates-{attempt}.log"
        baseline = context.baseline_file
        process = run_gate_process(
            context.gate_command(index),
            run_id,
            redactor,
            environ={**os.environ, **({BASELINE_VAR: str(baseline)} if baseline else {})},
            log=log,
            cwd=context.env.repository,
            grace_s=TERMINATE_GRACE_S,
        )
        assert process is not None
        if process.timed_out:
            verdict = Verdict.HOLD
            message = f"the gate run took over {plan.settings.gates_timeout:g}s and was stopped"
        else:
            verdict, message = gate_verdict(
                context.reports_dir / run_id, run_id, process.exit_code, log
            )
        return GateRecord(
            run_id=run_id,
            gates=[g.replace("_", "-") for g in stage.gates],
            verdict=verdict,
            exit_code=process.exit_code,
            message=redactor.redact(message),
            duration_s=process.duration_s,
            log=str(log.relative_to(context.folder)),
        )

    def rollback() -> CommandRecord:
        # one log per attempt: a failed rollback's output says what to fix
        log = context.folder / f"rollback-{max(state.rollback_attempts, 1)}.log"
        record = scrubbed(
            log,
            lambda: run_command(
                plan.settings.rollback,
                timeout_s=plan.settings.rollback_timeout,
                cwd=plan.cwd,
                log=log,
                shown=context.shown(plan.settings.rollback),
                extra_env=context.command_env(min(state.current, len(plan.stages) - 1)),
            ),
        )
        record.log = log.name
        return record

    def baseline() -> tuple[str | None, str]:
        try:
            taken = take_baseline(env, context.target, context.folder / BASELINE_FILE)
        except EvidenceMissing as exc:
            return None, str(exc)
        return str(taken.path.relative_to(context.folder)), taken.line()

    return Actions(traffic=traffic, soak=soak, gates=gates, rollback=rollback, baseline=baseline)


def dry_run_lines(context: RolloutContext) -> list[str]:
    """Every command the rollout would run, stage by stage, and what decides between them."""
    plan, env = context.plan, context.env
    settings = plan.settings
    lines = [
        f"rollout {plan.name} of {env.name} against {env.redactor.redact(context.target)}"
        f" ({len(plan.stages)} stages; commands run in {plan.cwd})",
    ]
    if settings.baseline:
        lines.append("before stage 1: take the SLO baseline (synthetic samples of the endpoints)")
    for index, stage in enumerate(plan.stages):
        share = f" ({stage.percent:g} %)" if stage.percent is not None else ""
        lines.append(f"stage {index + 1}: {stage.name}{share}")
        lines.append(
            f"  traffic: {context.shown(stage.traffic)}  (timeout {stage.traffic_timeout:g}s)"
        )
        if stage.soak > 0:
            probing = watch_plan(env, context.target)
            lines.append(
                f"  soak: {stage.soak:g}s probing {', '.join(probing.paths)}"
                f" at {probing.rate_per_s:g}/s"
            )
        lines.append(f"  gates: {shlex.join(context.gate_argv(index, 1))}")
        lines.append("  then: GO -> next stage; ROLLBACK -> rollback; HOLD -> " + _on_hold(plan))
    lines.append(
        f"rollback: {context.shown(settings.rollback)}  (timeout {settings.rollback_timeout:g}s)"
    )
    return lines


def _on_hold(plan: RolloutPlan) -> str:
    if plan.settings.on_hold == "rollback":
        return "rollback"
    return "stop and wait for `releasegate rollout resume` or `abort`"
