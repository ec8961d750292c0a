"""How a decision is shown: the run, each stage, the reasons, the actions, the verdict line, and
the exit code (`releasegate decide`, `run` and `demo` end with it)."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from releasegate.evidence.decide import Decision
from releasegate.evidence.results import Results
from releasegate.ops.conclude import Conclusion


def print_decision(decision: Decision, results: Results | None) -> None:
    """The decision for people: the run, each stage, the reasons and the warnings (each led by
    its check's title), the verdict."""
    if results is not None:
        run = results.run
        click.echo(
            f"run {run.id}: env={run.environment} target={run.target_url}"
            f" stages={','.join(run.stages_requested) or '-'} status={run.status}"
        )
    for stage in decision.stages:
        counts = ", ".join(f"{n} {o}" for o, n in stage.counts.items() if n) or "no checks"
        mode = "" if stage.blocking else " (dry run)"
        click.echo(f"  stage {stage.stage}: {stage.verdict.name}{mode} ({counts})")
    for reason in decision.reasons:
        click.echo(f"  {reason.readable()}")
    for warning in decision.warnings:
        click.echo(f"  warning: {warning.readable()}")


def print_actions(conclusion: Conclusion) -> None:
    actions = conclusion.record.actions
    for hook in (actions.rollback, actions.on_hold):
        if hook is None:
            continue
        if not hook.executed and not hook.exit_code:
            click.echo(f"{hook.kind} hook: would run `{hook.command}` ({hook.reason})")
        elif hook.failed:
            why = "timed out" if hook.timed_out else f"exited {hook.exit_code}"
            click.secho(
                f"{hook.kind.upper()} HOOK FAILED: `{hook.command}` {why}; output in"
                f" {conclusion.path.parent / 'actions' / (hook.kind + '.log')}",
                err=True,
                fg="red",
                bold=True,
            )
        else:
            note = f" ({hook.reason})" if hook.reason else ""
            click.echo(
                f"{hook.kind} hook ran: `{hook.command}` exit 0 in {hook.duration_s} s{note}"
            )
    for sent in actions.notifications:
        state = f"delivered ({sent.status})" if sent.delivered else f"FAILED: {sent.error}"
        click.echo(f"notification to {sent.url}: {state} after {sent.attempts} attempt(s)")
    click.echo(f"decision: {conclusion.path}")


def finish(conclusion: Conclusion) -> NoReturn:
    """Print the decision, its actions and the verdict line; exit with the verdict's code."""
    print_decision(conclusion.decision, conclusion.results)
    print_actions(conclusion)
    click.echo(f"verdict: {conclusion.decision.summary()}")
    sys.exit(int(conclusion.decision.verdict))
