"""What a verdict sets in motion: the rollback (or on-hold) hook, notifications, CI summaries.

None of these can change the verdict: they are recorded next to it in decision.json. Every
output is masked with the environment's redactor before it is kept or shown.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from releasegate.config import Command, NotifyConfig, show_command
from releasegate.evidence.decide import Decision
from releasegate.evidence.decision_file import HookRecord, NotificationRecord
from releasegate.evidence.results import Results, now, write_atomically
from releasegate.ops.processes import run_in_group
from releasegate.outcome import Verdict
from releasegate.redact import Redactor

ACTIONS_DIR = "actions"
_OUTPUT_LIMIT = 20_000  # characters of hook output kept (the tail, where errors are)


@dataclass(frozen=True)
class HookRequest:
    kind: str  # "rollback" or "on_hold"
    command: Command
    timeout_s: float
    cwd: Path | None
    execute: bool


def run_hook(
    request: HookRequest, run_dir: Path, extra_env: Mapping[str, str], redactor: Redactor
) -> HookRecord:
    """Run the hook at most once per run: a marker in the run's actions/ folder remembers it."""
    shown = redactor.redact(show_command(request.command))
    marker = run_dir / ACTIONS_DIR / f"{request.kind}.json"
    if not request.execute:
        return HookRecord(
            kind=request.kind,
            command=shown,
            executed=False,
            reason="not executed: pass --execute-rollback to run it",
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two deciders racing on the same run cannot both run the hook
        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        note = "already ran for this run id; not run again (a hook runs at most once per run)"
        try:
            earlier = HookRecord.model_validate_json(marker.read_text())
        except ValueError:  # another decider is running it right now
            return HookRecord(kind=request.kind, command=shown, executed=False, reason=note)
        return earlier.model_copy(update={"reason": note})
    os.close(fd)
    # the raw output goes to a private folder outside the run folder, so a releasegate killed
    # while the hook runs leaves no unmasked output among the evidence
    with tempfile.TemporaryDirectory(prefix="releasegate-hook-") as private:
        raw_log = Path(private) / f"{request.kind}.log"
        record, output = _execute(request, shown, extra_env, redactor, raw_log)
    write_atomically(marker, record.model_dump_json(indent=2))
    write_atomically(marker.parent / f"{request.kind}.log", output)
    return record


def _execute(
    request: HookRequest,
    shown: str,
    extra_env: Mapping[str, str],
    redactor: Redactor,
    log: Path,
) -> tuple[HookRecord, str]:
    """The hook's record and its whole output, both masked."""
    started_at = now().isoformat()
    # a hook past its timeout is killed at once (SIGKILL): a rollback must not linger
    ran = run_in_group(
        request.command,
        log=log,
        timeout_s=request.timeout_s,
        cwd=request.cwd,
        env={**os.environ, **extra_env},
        first=signal.SIGKILL,
    )
    if ran.start_error is not None:
        exc = ran.start_error
        output = redactor.redact(f"cannot start: {exc.strerror or exc}")
        record = HookRecord(
            kind=request.kind,
            command=shown,
            executed=True,
            exit_code=127,
            started_at=started_at,
            duration_s=0.0,
            output=output,
        )
        return record, output
    output = redactor.redact(log.read_text(encoding="utf-8", errors="replace"))
    record = HookRecord(
        kind=request.kind,
        command=shown,
        executed=True,
        exit_code=-signal.SIGKILL if ran.timed_out else ran.exit_code,
        timed_out=ran.timed_out,
        started_at=started_at,
        duration_s=ran.duration_s,
        output=output[-_OUTPUT_LIMIT:],
    )
    return record, output


# --- notifications ---------------------------------------------------------------------------


_SLACK_ICON = {
    Verdict.GO: ":white_check_mark:",
    Verdict.ROLLBACK: ":rotating_light:",
    Verdict.HOLD: ":warning:",
}


def notification_payload(
    decision: Decision, results: Results | None, style: str, link: str
) -> dict[str, Any]:
    """The message: verdict, run, top reasons (each led by its check's title), counts and a
    link to the run page."""
    run = results.run if results else None
    environment = run.environment if run else "?"
    reasons = [r.readable(code=style == "slack") for r in decision.reasons[:5]]
    if style == "slack":
        head = (
            f"{_SLACK_ICON[decision.verdict]} *releasegate {decision.verdict.name}*"
            f" on `{environment}`"
            + (f" (release {run.release_version})" if run and run.release_version else "")
        )
        text = "\n".join([head, *[f"• {r}" for r in reasons], f"<{link}|Run page>"])
        return {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
    return {
        "verdict": decision.verdict.name,
        "environment": environment,
        "run_id": run.id if run else None,
        "release_version": run.release_version if run else None,
        "target_url": run.target_url if run else None,
        "counts": dict(decision.counts),
        "reasons": reasons,
        "link": link,
    }


def notify(
    config: NotifyConfig,
    payload: dict[str, Any],
    redactor: Redactor,
    transport: httpx.BaseTransport | None = None,
) -> NotificationRecord | None:
    """POST the payload to the webhook, retrying transport errors and 5xx a bounded number of
    times. Never raises: the outcome is recorded."""
    if config.webhook_url is None:
        return None
    url = config.webhook_url
    shown_url = redactor.redact(url)
    body = redactor.redact(json.dumps(payload))
    attempts = 0
    status: int | None = None
    error = ""
    with httpx.Client(timeout=config.timeout, transport=transport) as client:
        while attempts <= config.retries:
            attempts += 1
            try:
                response = client.post(
                    url, content=body, headers={"Content-Type": "application/json"}
                )
            # InvalidURL / UnicodeError: a URL httpx cannot encode is a failed delivery, recorded
            except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
                error = redactor.redact(f"{type(exc).__name__}: {exc}")
            else:
                status = response.status_code
                if status < 500:
                    break
                error = f"answered {status}"
            time.sleep(0.2 * attempts)
    delivered = status is not None and 200 <= status < 300
    if delivered:
        error = ""
    elif status is not None and status < 500:
        error = f"answered {status}"
    return NotificationRecord(
        url=shown_url,
        format=config.format,
        delivered=delivered,
        status=status,
        attempts=attempts,
        error=error,
    )


# --- CI --------------------------------------------------------------------------------------


def step_summary(decision: Decision, results: Results | None, link: str) -> str:
    """Markdown for a CI job summary (GitHub's GITHUB_STEP_SUMMARY)."""
    run = results.run if results else None
    title = f"## releasegate: {decision.verdict.name}"
    if run:
        title += f" on `{run.environment}`"
        if run.release_version:
            title += f", release `{run.release_version}`"
    lines = [title, ""]
    if decision.stages:
        lines += [
            "| stage | verdict | blocking | passed | failed | error | skipped |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in decision.stages:
            c = s.counts
            lines.append(
                f"| {s.stage} | {s.verdict.name} | {'yes' if s.blocking else 'dry run'} |"
                f" {c['passed']} | {c['failed']} | {c['error']} | {c['skipped']} |"
            )
        lines.append("")
    for reason in decision.reasons[:10]:
        lines.append(f"- {reason.readable(code=True)}")
    for warning in decision.warnings[:10]:
        lines.append(f"- warning: {warning.readable(code=True)}")
    lines += ["", f"Run: `{run.id if run else '?'}` · {link}", ""]
    return "\n".join(lines)


def append_step_summary(text: str, environ: Mapping[str, str] | None = None) -> bool:
    """Append to $GITHUB_STEP_SUMMARY when CI provides one."""
    target = (environ or os.environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return True


def hook_environment(results: Results | None, decision: Decision, run_dir: Path) -> dict[str, str]:
    """What a hook is told, as environment variables."""
    run = results.run if results else None
    values: Sequence[tuple[str, str | None]] = (
        ("RELEASEGATE_VERDICT", decision.verdict.name),
        ("RELEASEGATE_RUN_ID", run.id if run else None),
        ("RELEASEGATE_RUN_DIR", str(run_dir)),
        ("RELEASEGATE_ENV", run.environment if run else None),
        ("RELEASEGATE_RELEASE_VERSION", run.release_version if run else None),
    )
    return {k: v for k, v in values if v}
