"""From a run folder to a recorded decision: decide, run the hook, notify, write decision.json.

Shared by `releasegate run` (after pytest) and `releasegate decide` (from the files alone).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.config import Environment, load_environment
from releasegate.errors import ConfigError
from releasegate.evidence.decide import Decision, decide, decide_missing
from releasegate.evidence.decision_file import (
    DECISION_FILE,
    ActionsRecord,
    DecisionRecord,
    HookRecord,
    NotificationRecord,
    build_record,
    write_decision,
)
from releasegate.evidence.results import EvidenceError, Results, read_results
from releasegate.evidence.runs import LATEST, resolve_run_dir
from releasegate.ops.verdict_actions import (
    HookRequest,
    append_step_summary,
    hook_environment,
    notification_payload,
    notify,
    run_hook,
    step_summary,
)
from releasegate.outcome import Verdict
from releasegate.redact import Redactor


@dataclass(frozen=True)
class Conclusion:
    decision: Decision
    results: Results | None
    record: DecisionRecord
    path: Path


@dataclass
class _Parts:
    rollback: HookRecord | None = None
    on_hold: HookRecord | None = None
    notifications: list[NotificationRecord] = field(default_factory=list)
    step_summary: bool = False


def decide_run_dir(run_dir: Path) -> tuple[Decision, Results | None]:
    """The decision from `run_dir/results.json` alone; unreadable evidence is HOLD."""
    try:
        results = read_results(resolve_run_dir(run_dir))
    except EvidenceError as exc:
        return decide_missing(exc), None
    return decide(results), results


def run_page_link(env: Environment | None, run_dir: Path, run_id: str) -> str:
    """Where a person reads this run: the published site if configured, else the local file."""
    if env is not None and env.model.notify.report_url:
        return f"{env.model.notify.report_url.rstrip('/')}/runs/{run_id}/index.html"
    return (run_dir / "report.html").resolve().as_uri()


def _previous_actions(run_dir: Path) -> ActionsRecord:
    try:
        text = (run_dir / DECISION_FILE).read_text(encoding="utf-8")
        return DecisionRecord.model_validate_json(text).actions
    except (OSError, ValueError):
        return ActionsRecord()


def conclude(
    run_dir: Path,
    env: Environment | None,
    *,
    execute_hooks: bool,
    send_notifications: bool,
    environ: Mapping[str, str] | None = None,
) -> Conclusion:
    """Decide, act on the verdict as the environment says, and record it all in decision.json."""
    run_dir = resolve_run_dir(run_dir)
    decision, results = decide_run_dir(run_dir)
    redactor = env.redactor if env is not None else Redactor()
    previous = _previous_actions(run_dir)
    parts = _Parts(notifications=list(previous.notifications))
    run_id = results.run.id if results else run_dir.name
    link = run_page_link(env, run_dir, run_id)
    if env is not None:
        rollback = env.model.rollback
        command = {Verdict.ROLLBACK: rollback.command, Verdict.HOLD: rollback.on_hold}.get(
            decision.verdict
        )
        if command:
            kind = "rollback" if decision.verdict is Verdict.ROLLBACK else "on_hold"
            cwd = Path(rollback.cwd) if rollback.cwd else None
            request = HookRequest(kind, command, rollback.timeout, cwd, execute_hooks)
            hook = run_hook(
                request, run_dir, hook_environment(results, decision, run_dir), redactor
            )
            setattr(parts, kind, hook)
        notify_config = env.model.notify
        if send_notifications and decision.verdict.name in notify_config.on:
            payload = notification_payload(decision, results, notify_config.format, link)
            sent = notify(notify_config, payload, redactor)
            if sent is not None:
                parts.notifications.append(sent)
    parts.step_summary = append_step_summary(
        redactor.redact(step_summary(decision, results, link)),
        os.environ if environ is None else environ,
    )
    actions = ActionsRecord(
        rollback=parts.rollback or previous.rollback,
        on_hold=parts.on_hold or previous.on_hold,
        notifications=parts.notifications,
        step_summary=parts.step_summary,
    )
    record = build_record(decision, results, run_dir, actions)
    path = write_decision(run_dir, record, redactor)
    return Conclusion(decision, results, record, path)


def missing_run(run_dir: Path) -> str | None:
    """Why `run_dir` is no run to decide (it does not exist; the newest runs beside it are
    named), or None."""
    if run_dir.exists():
        return None
    runs = sorted(p.name for p in run_dir.parent.glob("*") if p.is_dir() and p.name != LATEST)
    known = f"; runs there: {', '.join(runs[-5:])}" if runs else ""
    return f"{run_dir}: no such run directory{known}"


def environment_of_run(run_dir: Path) -> Environment | None:
    """The environment a run was made for, when its file is still here (for hooks, notify)."""
    try:
        name = read_results(resolve_run_dir(run_dir)).run.environment
        return load_environment(name)
    except (EvidenceError, ConfigError):
        return None
