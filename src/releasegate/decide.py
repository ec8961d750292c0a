"""Evidence -> GO / ROLLBACK / HOLD, with the reasons. Pure functions over `Results`.

The rules (DESIGN.md "Evidence and decision"):

- ROLLBACK: a blocking check failed: the target was measured and found wrong.
- HOLD: the evidence is incomplete: the run did not finish, a stage asked for produced no
  result, nothing ran, a blocking check errored (could not measure). Missing evidence is never GO.
- GO: every asked-for stage ran and every blocking check passed.

A measured failure outranks missing evidence: one proven defect is reason enough to roll back.
Non-blocking (advisory) checks that fail are warnings. `on_inconclusive = "rollback"` turns HOLD
into ROLLBACK for teams that prefer to fail safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from releasegate.evidence import EvidenceError, Results


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

    def line(self) -> str:
        where = f"{self.check}: " if self.check else ""
        return f"{self.rule}: {where}{self.message}"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...] = ()
    counts: tuple[tuple[str, int], ...] = ()

    def summary(self) -> str:
        counted = ", ".join(f"{n} {outcome}" for outcome, n in self.counts if n) or "no checks"
        return f"{self.verdict.name} ({counted})"


def _counts(results: Results) -> tuple[tuple[str, int], ...]:
    outcomes = ("passed", "failed", "error", "skipped")
    return tuple((o, sum(1 for c in results.checks if c.outcome == o)) for o in outcomes)


def _hold_reasons(results: Results) -> list[Reason]:
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
    if not run.stages_requested:
        reasons.append(Reason("no-stage", "no stage was asked for: nothing to decide on"))
    for stage in run.stages_requested:
        ran = [c for c in results.checks if c.stage == stage and c.outcome != "skipped"]
        if not ran:
            skipped = sum(1 for c in results.checks if c.stage == stage)
            detail = f"all {skipped} of its checks were skipped" if skipped else "no check ran"
            reasons.append(
                Reason("stage-missing", f"stage {stage} produced no result: {detail}", stage=stage)
            )
    for check in results.checks:
        if check.blocking and check.outcome == "error":
            reasons.append(
                Reason("could-not-measure", check.message or "errored", check.id, check.stage)
            )
    return reasons


def decide(results: Results, on_inconclusive: str | None = None) -> Decision:
    """The verdict for one run. `on_inconclusive` overrides the policy recorded in the run."""
    failed = [
        Reason("check-failed", c.message or "failed", c.id, c.stage)
        for c in results.checks
        if c.blocking and c.outcome == "failed"
    ]
    warnings = tuple(
        Reason("advisory", c.message or c.outcome, c.id, c.stage)
        for c in results.checks
        if not c.blocking and c.outcome in ("failed", "error")
    )
    holds = _hold_reasons(results)
    counts = _counts(results)
    if failed:
        return Decision(Verdict.ROLLBACK, tuple(failed + holds), warnings, counts)
    if holds:
        policy = on_inconclusive or str(results.run.policy.get("on_inconclusive", "hold"))
        verdict = Verdict.ROLLBACK if policy == "rollback" else Verdict.HOLD
        return Decision(verdict, tuple(holds), warnings, counts)
    return Decision(Verdict.GO, (), warnings, counts)


def decide_missing(error: EvidenceError) -> Decision:
    """No readable evidence at all: HOLD, saying which file and what is wrong with it."""
    return Decision(Verdict.HOLD, (Reason("evidence-missing", str(error)),))
