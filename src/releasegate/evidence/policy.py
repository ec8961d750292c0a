"""The policy in plain words (`releasegate policy explain`) and lint for contradictions and
checks that prove less than they seem to."""

from __future__ import annotations

from releasegate.config import Environment, show_command
from releasegate.stages import STAGES
from releasegate.units import format_duration

# The window the SRE workbook uses for an availability objective's error budget.
BUDGET_WINDOW_DAYS = 30.0
# An error-ratio limit that spends the month's budget faster than this is a contradiction.
BURN_WARNING_DAYS = 7.0


def lint_errors(env: Environment) -> list[str]:
    """Policies under which no check can vote: every run under them is HOLD, never GO."""
    policy = env.model.policy
    label = f"environments/{env.path.name}"
    errors: list[str] = []
    if not policy.blocking_stages:
        errors.append(
            f"{label}: policy.blocking_stages = [] lets no check vote: every run is HOLD;"
            " list the stages that decide (the default is all of them)"
        )
    everything = [p for p in policy.advisory_checks if p and set(p) <= {"*"}]
    if everything:
        errors.append(
            f"{label}: policy.advisory_checks {everything[0]!r} makes every check advisory: no"
            " check can vote and every run is HOLD; name the checks that should only warn"
        )
    return errors


def lint(env: Environment) -> list[str]:
    """Settings that contradict each other, or that make a check prove less than its name
    says: legal, but probably not what was meant."""
    model, policy = env.model, env.model.policy
    label = f"environments/{env.path.name}"
    warnings: list[str] = []
    slo = model.slo
    budget = None if slo.availability_min is None else 1.0 - slo.availability_min
    if budget is not None and budget <= 0:
        warnings.append(f"{label}: slo.availability_min 100% leaves no error budget at all")
    elif budget is not None and slo.error_ratio_max and slo.availability_min:
        days = BUDGET_WINDOW_DAYS * budget / slo.error_ratio_max
        if days < BURN_WARNING_DAYS:
            warnings.append(
                f"{label}: slo.error_ratio_max {slo.error_ratio_max:.2%} lets a release burn"
                f" the {BUDGET_WINDOW_DAYS:g}-day error budget of availability_min"
                f" {slo.availability_min:.2%} in {days:.1f} days"
            )
    for stage in policy.max_failed:
        if stage not in policy.blocking_stages:
            warnings.append(
                f"{label}: policy.max_failed.{stage} has no effect: {stage} is not a blocking stage"
            )
    for stage in policy.required_stages:
        if stage not in policy.blocking_stages:
            warnings.append(
                f"{label}: policy.required_stages lists {stage}, which does not block: its"
                " results are required but cannot change the verdict"
            )
    if policy.max_flaky and not policy.retries:
        warnings.append(
            f"{label}: policy.max_flaky has no effect without policy.retries (no check is retried)"
        )
    backup = model.database.backup if model.database is not None else None
    if backup is not None and backup.restore and not backup.sanity:
        warnings.append(
            f"{label}: [database.backup] sanity: no sanity query configured: the restore check"
            " proves only that the backup loads, not that its data is right (add a query"
            " returning one value, with min, max or equals; see docs/deploy-gates.md)"
        )
    if model.rollback.on_hold and policy.on_inconclusive == "rollback":
        warnings.append(
            f"{label}: rollback.on_hold never runs: on_inconclusive = 'rollback' turns HOLD"
            " into ROLLBACK"
        )
    return warnings


def explain(env: Environment) -> list[str]:
    """The effective policy of an environment, one sentence a line."""
    model, policy = env.model, env.model.policy
    redact = env.redactor.redact
    dry = [s for s in STAGES if s not in policy.blocking_stages]
    lines = [f"Policy of env {env.name} ({env.path}):"]
    lines.append(
        f"- Blocking stages: {', '.join(policy.blocking_stages) or 'none'}."
        + (f" {', '.join(dry)} run as a dry run: shown, never deciding." if dry else "")
    )
    limits = ", ".join(f"{s}: {policy.max_failed.get(s, 0)}" for s in policy.blocking_stages)
    lines.append(
        "- ROLLBACK when a blocking stage has more failed checks than it allows"
        f" ({limits or 'none'}): the target was measured and found wrong."
    )
    if policy.advisory_checks:
        lines.append(f"- Advisory checks (shown, never vote): {', '.join(policy.advisory_checks)}.")
    if policy.retries:
        lines.append(
            f"- A failed check is retried up to {policy.retries} time(s); one that passes on a"
            f" retry is flaky; more than {policy.max_flaky} flaky check(s) make the run"
            " inconclusive."
        )
    else:
        lines.append("- Failed checks are not retried.")
    missing = "HOLD" if policy.on_inconclusive == "hold" else "ROLLBACK (fail safe)"
    lines.append(
        "- Missing evidence (a run that did not finish, a stage without results, a check that"
        f" could not measure) means {missing}; never GO."
    )
    if policy.required_stages:
        lines.append(f"- Every run must have results of: {', '.join(policy.required_stages)}.")
    rollback = model.rollback
    if rollback.command:
        command = redact(show_command(rollback.command))
        lines.append(
            f"- On ROLLBACK, with --execute-rollback: run `{command}`"
            f" (timeout {format_duration(rollback.timeout)}), at most once per run."
        )
    else:
        lines.append("- No rollback command: a ROLLBACK is reported, nothing is run.")
    if rollback.on_hold:
        lines.append(
            f"- On HOLD, with --execute-rollback: run `{redact(show_command(rollback.on_hold))}`."
        )
    notify = model.notify
    if notify.webhook_url:
        lines.append(
            f"- Notify {redact(notify.webhook_url)} ({notify.format}) on {', '.join(notify.on)};"
            f" up to {notify.retries} retries; a failed notification never changes the verdict."
        )
    return lines
