"""Evidence + policy -> GO / ROLLBACK / HOLD, with the reasons. Pure functions over `Results`.

The rules (DESIGN.md "Evidence and decision"), with the policy of the environment file; each
reason names its rule (docs/decision-json.md lists them):

- ROLLBACK: in some stage, more blocking checks failed than the stage allows (`check-failed`;
  `max_failed`, default 0): the target was measured and found wrong. A target that could not be
  reached at all is ROLLBACK too, but only when the run recorded evidence that this runner's
  network works and the target answered before (`unreachable`); without it, HOLD.
- HOLD: the evidence is incomplete: the run did not finish (`run-incomplete`), fewer checks
  reported than were collected (`checks-missing`), a stage asked for (or required) produced no
  result (`stage-missing`) or no blocking check of it passed (`no-vote`), nothing could vote under
  the policy (`no-vote`), a blocking check errored (`could-not-measure`), more checks were flaky
  than allowed (`flaky-over-limit`). Missing evidence is never GO.
- GO: every asked-for stage has a blocking check that passed, and every blocking check passed
  (or failed within its limit).

A measured failure outranks missing evidence: one proven defect is reason enough to roll back.
Every collected check counts: one without a stage marker is judged under the stage `unstaged`,
which always blocks (listing it in `advisory_checks` makes it advisory). Checks in non-blocking
stages, checks marked advisory and checks matching `advisory_checks` are measured and shown as
warnings, never decisive. `on_inconclusive = "rollback"` turns HOLD into ROLLBACK for teams that
prefer to fail safe. The policy in force is the one recorded in results.json, so deciding again
later needs only the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum
from fnmatch import fnmatchcase

from pydantic import ValidationError

from releasegate.config import PolicyConfig
from releasegate.evidence.results import (
    CAUSE_STALE,
    CAUSE_UNREACHABLE,
    UNSTAGED,
    CheckResult,
    EvidenceError,
    Measurement,
    Reachability,
    Results,
)
from releasegate.outcome import Verdict
from releasegate.titles import short_check_id, title_from_check_id


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
    # the check's title (`CheckResult.title`); None for evidence written before titles
    title: str | None = None

    def line(self) -> str:
        where = f"{self.check}: " if self.check else ""
        return f"{self.rule}: {where}{self.message}"

    def readable(self, *, code: bool = False) -> str:
        """The reason for people: the check's title first, then what was found, then the short
        node id and the rule (`code`: the node id as a Markdown code span). A reason about the
        run, not a check, reads as `line()`."""
        if self.check is None:
            return self.line()
        title = self.title or title_from_check_id(self.check)
        node = short_check_id(self.check)
        node = f"`{node.replace('`', '')}`" if code else node
        return f"{title}: {self.message} ({node}; {self.rule})"


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


def stage_of(check: CheckResult) -> str:
    """The check's stage; `unstaged` for one collected without a stage marker."""
    return check.stage or UNSTAGED


def _stage_blocks(stage: str, policy: PolicyConfig) -> bool:
    return stage == UNSTAGED or stage in policy.blocking_stages


def votes(check: CheckResult, policy: PolicyConfig) -> bool:
    """Whether a check decides the release: it counts in its stage, and the stage blocks."""
    return _stage_blocks(stage_of(check), policy) and _counts_in_stage(check, policy)


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


def _missing_checks(results: Results) -> list[Reason]:
    """Fewer checks reported than collected: a worker was lost, or a crash came between
    collection and report. What never reported cannot be judged."""
    collected = results.run.collected
    reported = len(results.checks)
    if collected is None or reported >= collected or results.run.status != "finished":
        return []  # an unfinished run is already incomplete, and says so
    return [
        Reason(
            "checks-missing",
            f"{collected - reported} of {collected} collected checks reported no result"
            " (a worker lost, or a crash between collection and report)",
        )
    ]


def _unreachable_reason(check: CheckResult, stage: str, seen: Reachability | None) -> Reason:
    message = check.message or "the target could not be reached"
    if seen is not None and seen.evidence:
        # a canary shows only that the network works, not that the target answered before:
        # the words must hold for every kind of evidence
        text = (
            f"{message}; ROLLBACK, not HOLD: the target is down, not out of this runner's"
            f" sight: {seen.evidence}"
        )
    else:
        looked = "; ".join(seen.looked_at) if seen and seen.looked_at else "nothing recorded"
        text = (
            f"{message}; HOLD, not ROLLBACK: nothing shows that this runner's network works and"
            f" the target answered before (looked for: {looked}); set [target] canary_url, or"
            " take a baseline (releasegate baseline) or run the pre-deploy stage first"
        )
    return Reason("unreachable", text, check.id, stage, tuple(check.measurements), check.title)


def _no_vote(stage: str, checks: list[CheckResult], voting: list[CheckResult]) -> Reason | None:
    """A blocking stage needs a blocking check that passed: skipped or advisory checks alone
    prove nothing about the release."""
    if any(c.outcome == "passed" for c in voting):
        return None
    ran = [c for c in voting if c.outcome != "skipped"]
    if not ran:
        skipped = sum(1 for c in voting if c.outcome == "skipped")
        advisory = len(checks) - len(voting)
        detail = f"{skipped} skipped, {advisory} advisory"
        return Reason("no-vote", f"no blocking check of stage {stage} ran ({detail})", stage=stage)
    failed = sum(1 for c in ran if c.outcome == "failed")
    if failed == len(ran):  # all failed within the allowance: nothing passed to vote GO
        return Reason(
            "no-vote",
            f"no blocking check of stage {stage} passed ({failed} failed within the allowance)",
            stage=stage,
        )
    return None  # the rest errored: could-not-measure says so


def _stage_decision(
    stage: str, checks: list[CheckResult], policy: PolicyConfig, seen: Reachability | None
) -> tuple[StageDecision, list[Reason], list[Reason], list[Reason]]:
    """A stage's verdict and its failure, hold and warning reasons."""
    blocking = _stage_blocks(stage, policy)
    allowed = {str(k): v for k, v in policy.max_failed.items()}.get(stage, 0)
    ran = [c for c in checks if c.outcome != "skipped"]
    voting = [c for c in checks if _counts_in_stage(c, policy)]
    failed = [c for c in voting if c.outcome == "failed"]
    errors = [c for c in voting if c.outcome == "error" and c.cause != CAUSE_UNREACHABLE]
    unreachable = [c for c in voting if c.outcome == "error" and c.cause == CAUSE_UNREACHABLE]
    flaky = [c for c in voting if c.flaky]

    def reason(rule: str, c: CheckResult) -> Reason:
        return Reason(rule, c.message or c.outcome, c.id, stage, tuple(c.measurements), c.title)

    fail_reasons: list[Reason] = []
    hold_reasons: list[Reason] = []
    warnings = [
        reason("advisory", c)
        for c in checks
        if not _counts_in_stage(c, policy) and c.outcome in ("failed", "error")
    ]
    if stage == UNSTAGED:
        # judged like any stage, but never asked for: its skipped checks leave no hole
        files = sorted({c.id.split("::")[0] for c in checks})
        warnings += [
            Reason(
                "unstaged",
                f"{file} has no stage marker: its checks count under stage {UNSTAGED}, which"
                " blocks; move it under suites/<stage>/ or mark it"
                " (pytestmark = pytest.mark.smoke)",
                stage=stage,
            )
            for file in files
        ]
    elif not ran:
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
                title=c.title,
            )
            for c in failed
        ]
    hold_reasons += [
        reason("evidence-stale" if c.cause == CAUSE_STALE else "could-not-measure", c)
        for c in errors
    ]
    cut_off = [_unreachable_reason(c, stage, seen) for c in unreachable]
    (fail_reasons if seen and seen.evidence else hold_reasons).extend(cut_off)
    if stage != UNSTAGED and ran and not fail_reasons:
        no_vote = _no_vote(stage, checks, voting)
        if no_vote is not None:
            hold_reasons.append(no_vote)
    if fail_reasons:
        verdict = Verdict.ROLLBACK
    elif hold_reasons:
        verdict = Verdict.HOLD
    else:
        verdict = Verdict.GO
    decision = StageDecision(stage, verdict, blocking, _counts(checks), allowed, len(flaky))
    if not blocking:  # a dry-run stage shows what it found, and never decides
        warnings += [
            Reason(f"dry-run:{r.rule}", r.message, r.check, stage, title=r.title)
            for r in [*fail_reasons, *hold_reasons]
        ]
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
    stages: list[str] = list(
        dict.fromkeys([*results.run.stages_requested, *policy.required_stages])
    )
    failed: list[Reason] = []
    holds = _run_reasons(results) + _missing_checks(results)
    warnings: list[Reason] = []
    stage_decisions: list[StageDecision] = []
    if not stages:
        holds.append(Reason("no-stage", "no stage was asked for: nothing to decide on"))
    elif not any(s in policy.blocking_stages for s in stages):
        holds.append(
            Reason(
                "no-vote",
                f"no stage asked for ({', '.join(stages)}) blocks under the policy"
                f" (blocking_stages = {list(policy.blocking_stages)}): no check can vote",
            )
        )
    if any(stage_of(c) == UNSTAGED for c in results.checks):
        stages.append(UNSTAGED)
    for stage in stages:
        checks = [c for c in results.checks if stage_of(c) == stage]
        decision, f, h, w = _stage_decision(stage, checks, policy, results.run.reachability)
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
                stage_of(c),
                title=c.title,
            )
            for c in flaky
        ]
    elif flaky:
        warnings += [
            Reason("flaky", f"passed on attempt {c.attempts}", c.id, stage_of(c), title=c.title)
            for c in flaky
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
