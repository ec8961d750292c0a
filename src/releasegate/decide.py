"""Evidence + policy -> GO / ROLLBACK / HOLD, with the reasons. Pure functions over `Results`.

The rules (DESIGN.md "Evidence and decision"), with the policy of the environment file:

- ROLLBACK: in some stage, more blocking checks failed than the stage allows (`max_failed`,
  default 0): the target was measured and found wrong.
- HOLD: the evidence is incomplete: the run did not finish, a stage asked for (or required)
  produced no result, nothing ran, a blocking check errored (could not measure), more checks were
  flaky than allowed. Missing evidence is never GO.
- GO: every asked-for stage ran and every blocking check passed (or failed within its limit).

A measured failure outranks missing evidence: one proven defect is reason enough to roll back.
Checks in non-blocking stages, checks marked advisory and checks matching `advisory_checks` are
measured and shown as warnings, never decisive. `on_inconclusive = "rollback"` turns HOLD into
ROLLBACK for teams that prefer to fail safe. The policy in force is the one recorded in
results.json, so deciding again later needs only the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from fnmatch import fnmatchcase

from pydantic import ValidationError

from releasegate.config import PolicyConfig
from releasegate.evidence import CheckResult, EvidenceError, Measurement, Results


class Verdict(IntEnum):
    """The decision; its value is the exit code of every command that decides."""

    GO = 0
    ROLLBACK = 1
    HOLD = 2


class ExitCode(IntEnum):
    GO = 0
    ROLLBACK = 1
    HOLD = 2
    USAGE = 3


@dataclass(frozen=True)
class Reason:
    """Why the verdict is what it is: the rule that fired and the evidence it fired on."""

    rule: str
    message: str
    check: str | None = None
    stage: str | None = None
    measurements: tuple[Measurement, ...] = ()

    def line(self) -> str:
        where = f"{self.check}: " if self.check else ""
        return f"{self.rule}: {where}{self.message}"


@dataclass(frozen=True)
class StageDecision:
    """One stage's part: its own verdict, whether it votes, and its counts."""

    stage: str
    verdict: Verdict
    blocking: bool
    counts: dict[str, int]
    failed_allowed: int = 0
    flaky: int = 0


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()
    stages: tuple[StageDecision, ...] = ()
    complete: bool = False
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    def summary(self) -> str:
        counted = ", ".join(f"{n} {outcome}" for outcome, n in self.counts if n) or "no checks"
        return f"{self.verdict.name} ({counted})"


OUTCOMES = ("passed", "failed", "error", "skipped")


def _counts(checks: Sequence[CheckResult]) -> dict[str, int]:
    return {o: sum(1 for c in checks if c.outcome == o) for o in OUTCOMES}


def policy_of(results: Results) -> PolicyConfig:
    """The policy recorded with the run (the defaults when none was recorded)."""
    return PolicyConfig.model_validate(results.run.policy)


def _counts_in_stage(check: CheckResult, policy: PolicyConfig) -> bool:
    """Whether a check counts towards its stage's verdict: blocking and not listed as advisory."""
    if not check.blocking:
        return False
    return not any(fnmatchcase(check.id, pattern) for pattern in policy.advisory_checks)


def votes(check: CheckResult, policy: PolicyConfig) -> bool:
    """Whether a check decides the release: it counts in its stage, and the stage blocks."""
    return check.stage in policy.blocking_stages and _counts_in_stage(check, policy)


def _run_reasons(results: Results) -> list[Reason]:
    run = results.run
    reasons: list[Reason] = []
    if run.status == "interrupted":
        reasons.append(Reason("run-incomplete", "the run was interrupted before it finished"))
    elif run.status != "finished":
        reasons.append(
            Reason("run-incomplete", "the run did not finish (killed, crashed, or still running)")
        )
    elif not run.complete:
        reasons.append(
            Reason("run-incomplete", "the run stopped early or lost a worker: not every check ran")
        )
    if run.pytest_exit_status not in (None, 0, 1, 2):
        names = {3: "internal error", 4: "usage error", 5: "no tests collected"}
        label = names.get(run.pytest_exit_status, "unexpected exit status")
        reasons.append(
            Reason("run-incomplete", f"pytest exited {run.pytest_exit_status} ({label})")
        )
    return reasons


def _stage_decision(
    stage: str, checks: list[CheckResult], policy: PolicyConfig
) -> tuple[StageDecision, list[Reason], list[Reason], list[Reason]]:
    """A stage's verdict and its failure, hold and warning reasons."""
    blocking = stage in policy.blocking_stages
    allowed = {str(k): v for k, v in policy.max_failed.items()}.get(stage, 0)
    ran = [c for c in checks if c.outcome != "skipped"]
    voting = [c for c in checks if _counts_in_stage(c, policy)]
    failed = [c for c in voting if c.outcome == "failed"]
    errors = [c for c in voting if c.outcome == "error"]
    flaky = [c for c in voting if c.flaky]

    def reason(rule: str, c: CheckResult) -> Reason:
        return Reason(rule, c.message or c.outcome, c.id, stage, tuple(c.measurements))

    fail_reasons: list[Reason] = []
    hold_reasons: list[Reason] = []
    warnings = [
        reason("advisory", c)
        for c in checks
        if not _counts_in_stage(c, policy) and c.outcome in ("failed", "error")
    ]
    if not ran:
        skipped = len(checks)
        detail = f"all {skipped} of its checks were skipped" if skipped else "no check ran"
        hold_reasons.append(
            Reason("stage-missing", f"stage {stage} produced no result: {detail}", stage=stage)
        )
    if len(failed) > allowed:
        fail_reasons += [reason("check-failed", c) for c in failed]
    elif failed:
        warnings += [
            Reason(
                "within-failure-limit",
                f"{c.message} ({len(failed)} of {allowed} allowed)",
                c.id,
                stage,
            )
            for c in failed
        ]
    hold_reasons += [reason("could-not-measure", c) for c in errors]
    if fail_reasons:
        verdict = Verdict.ROLLBACK
    elif hold_reasons:
        verdict = Verdict.HOLD
    else:
        verdict = Verdict.GO
    decision = StageDecision(stage, verdict, blocking, _counts(checks), allowed, len(flaky))
    if not blocking:  # a dry-run stage shows what it found, and never decides
        warnings += [Reason(f"dry-run:{r.rule}", r.message, r.check, stage) for r in fail_reasons]
        warnings += [Reason(f"dry-run:{r.rule}", r.message, r.check, stage) for r in hold_reasons]
        return decision, [], [], warnings
    return decision, fail_reasons, hold_reasons, warnings


def decide(results: Results, policy: PolicyConfig | None = None) -> Decision:
    """The verdict for one run, under `policy` (default: the one recorded in the run)."""
    try:
        policy = policy or policy_of(results)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        reason = Reason("policy-invalid", f"results.json run.policy.{where}: {first['msg']}")
        return Decision(Verdict.HOLD, (reason,), counts=tuple(_counts(results.checks).items()))
    stages = list(dict.fromkeys([*results.run.stages_requested, *policy.required_stages]))
    failed: list[Reason] = []
    holds = _run_reasons(results)
    warnings: list[Reason] = []
    stage_decisions: list[StageDecision] = []
    if not stages:
        holds.append(Reason("no-stage", "no stage was asked for: nothing to decide on"))
    for stage in stages:
        checks = [c for c in results.checks if c.stage == stage]
        decision, f, h, w = _stage_decision(stage, checks, policy)
        stage_decisions.append(decision)
        failed += f
        holds += h
        warnings += w
    flaky = [c for c in results.checks if c.flaky and votes(c, policy)]
    if len(flaky) > policy.max_flaky:
        holds += [
            Reason(
                "flaky-over-limit",
                f"passed only on attempt {c.attempts}; {len(flaky)} flaky checks, policy"
                f" allows {policy.max_flaky}",
                c.id,
                c.stage,
            )
            for c in flaky
        ]
    elif flaky:
        warnings += [
            Reason("flaky", f"passed on attempt {c.attempts}", c.id, c.stage) for c in flaky
        ]
    counts = tuple(_counts(results.checks).items())
    complete = not holds  # evidence is complete when nothing made the run inconclusive
    go = Decision(Verdict.GO, (), tuple(warnings), counts, tuple(stage_decisions), complete, policy)
    if failed:
        return replace(go, verdict=Verdict.ROLLBACK, reasons=tuple(failed + holds))
    if holds:
        verdict = Verdict.ROLLBACK if policy.on_inconclusive == "rollback" else Verdict.HOLD
        return replace(go, verdict=verdict, reasons=tuple(holds))
    return go


def decide_missing(error: EvidenceError) -> Decision:
    """No readable evidence at all: HOLD, saying which file and what is wrong with it."""
    return Decision(Verdict.HOLD, (Reason("evidence-missing", str(error)),))
