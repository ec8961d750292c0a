"""One monitor check: a real gate run (`releasegate.ops.gate_run`), classified up, down or unknown.

- **up**: the gates said GO.
- **down**: the gates said ROLLBACK (the target was measured and found wrong), or the target
  gave no answer at all while the monitor's own network worked (the canary answered, or no
  canary is configured). The gates call an unreachable target HOLD, "could not measure"; for a
  monitor a target that refuses connections is the plainest outage there is.
- **unknown**: a measurement problem: the gates could not measure although the target answers,
  the canary did not answer (the monitor cannot reach its network), the gate run crashed or ran
  past `check_timeout`.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from releasegate.errors import CheckInterrupted, MonitorError
from releasegate.evidence.decision_file import DecisionRecord
from releasegate.evidence.results import now
from releasegate.ops.gate_run import GateCommand, read_gate_decision, run_gate_process
from releasegate.ops.monitor.uptime_history import CheckRecord, Outcome
from releasegate.ops.monitor.uptime_tracker import MonitorExit, format_span
from releasegate.outcome import Verdict
from releasegate.probe import ProbeClient, TargetUnreachable
from releasegate.redact import Redactor
from releasegate.titles import short_check_id, title_from_check_id

__all__ = ["GateCheck", "GateCommand", "GateRun", "classify", "run_gates"]

REASON_LIMIT = 300  # characters of a check's reason kept: one line, not a report


@dataclass(frozen=True)
class GateRun:
    """What one `releasegate run` left: its exit code (None: stopped at the timeout), the
    verdict and first reason from its decision.json, and how long it took."""

    run_id: str
    exit_code: int | None
    verdict: str | None
    reason: str
    duration_s: float
    timeout_s: float
    log_tail: str = ""


Answers = Callable[[], str | None]  # None: it answered; else why not


def classify(
    gate: GateRun, *, target: Answers | None, canary: Answers | None
) -> tuple[Outcome, str]:
    """The check's outcome and one-line reason. `target` is asked only when the gates could not
    measure (HOLD), `canary` only when the target then gave no answer at all: neither costs a
    healthy check, and a target that answered wrongly (ROLLBACK) is down whatever the canary."""
    problem = "measurement problem"
    if gate.exit_code is None:
        return "unknown", (
            f"{problem}: the gate run did not finish within {format_span(gate.timeout_s)}"
        )
    if gate.exit_code not in (0, 1, 2) or gate.verdict is None:
        tail = f": {gate.log_tail}" if gate.log_tail else ""
        return "unknown", f"{problem}: the gate run crashed (exit {gate.exit_code}){tail}"
    verdict = Verdict.parse(gate.verdict)
    if verdict is Verdict.GO:
        return "up", gate.reason
    if verdict is Verdict.ROLLBACK:
        # the target answered, and wrongly: the monitor's network works, the canary adds nothing
        return "down", gate.reason
    silent = target() if target is not None else None
    if silent is None:
        return "unknown", f"{problem}: the gates could not measure: {gate.reason}"
    down = f"target unreachable: {silent}"
    network = canary() if canary is not None else None
    if network is not None:
        return "unknown", f"{problem}: the monitor cannot reach its network ({network}): {down}"
    return "down", down


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= REASON_LIMIT else line[: REASON_LIMIT - 1] + "…"


def decision_reason(record: DecisionRecord) -> str:
    """A decision in one line: its first reason (and where), or its verdict and counts."""
    if record.reasons:
        first = record.reasons[0]
        more = f" (+{len(record.reasons) - 1} more)" if len(record.reasons) > 1 else ""
        if first.check is None:
            return _one_line(f"{first.message}{more}")
        title = first.title or title_from_check_id(first.check)
        where = short_check_id(first.check)
        return _one_line(f"{title}: {first.message} ({where}){more}")
    shown = ", ".join(f"{n} {o}" for o, n in record.evidence.counts.items() if n) or "no checks"
    return f"{record.verdict}: {shown}"


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The check run's environment: ours, minus the CI job summary (one summary per check run
    would bury the monitor's own)."""
    return {k: v for k, v in environ.items() if k != "GITHUB_STEP_SUMMARY"}


def run_gates(
    command: GateCommand,
    run_id: str,
    redactor: Redactor,
    stopped: Callable[[], bool] = lambda: False,
) -> GateRun:
    """Run the gates once, bounded by the command's timeout; `CheckInterrupted` when `stopped`
    turns true meanwhile (the run is stopped, its process group with it)."""
    started = time.monotonic()
    process = run_gate_process(
        command, run_id, redactor, environ=child_environment(os.environ), stopped=stopped
    )
    if process is None:
        raise CheckInterrupted(run_id)
    decision = read_gate_decision(command.checks_dir / run_id, run_id, process.exit_code)
    if decision.record is not None and decision.verdict is not None:
        reason = decision_reason(decision.record)
    else:
        reason = decision.problem
    return GateRun(
        run_id=run_id,
        exit_code=process.exit_code,
        verdict=decision.verdict.name if decision.verdict is not None else None,
        reason=redactor.redact(reason),
        duration_s=round(time.monotonic() - started, 3),
        timeout_s=command.timeout_s,
        log_tail=_one_line(process.log_tail),
    )


def target_answers(
    base_url: str,
    path: str,
    *,
    headers: Mapping[str, str],
    timeout_s: float,
    retries: int,
    verify_tls: bool,
    redactor: Redactor,
) -> str | None:
    """None when the target gives any HTTP answer at `path`; else why it does not."""
    with ProbeClient(
        base_url,
        headers,
        timeout_s=timeout_s,
        retries=retries,
        verify_tls=verify_tls,
        redactor=redactor,
    ) as client:
        try:
            probe = client.get(path)
        except TargetUnreachable as exc:
            return str(exc)
        except httpx.HTTPError:
            return None  # it answered, with something httpx cannot read: it is reachable
    if probe.response is None:
        return f"{probe.label}: no answer within {timeout_s:g}s"
    return None


def canary_answers(url: str, *, timeout_s: float, attempts: int = 2) -> str | None:
    """None when the canary gives any HTTP answer (the network works; its status is not the
    question); else the error of the last attempt."""
    error = ""
    for attempt in range(attempts):
        try:
            httpx.get(url, timeout=timeout_s, follow_redirects=False)
        # not only HTTPError: a URL httpx cannot encode (InvalidURL, an IDNA UnicodeError) is a
        # canary that cannot answer, not a crash of the monitor
        except (httpx.HTTPError, httpx.InvalidURL, UnicodeError) as exc:
            error = f"{type(exc).__name__}: {str(exc) or 'no answer'}"
            time.sleep(0.2 * (attempt + 1))
        else:
            return None
    return f"canary {url}: {error}"


@dataclass
class GateCheck:
    """One numbered check: the gate run, classified, as a record for the history.

    The run folder and output of every check that was not up are kept (they say why); of the
    up checks only the newest is, so a day of checks does not fill the disk with passing runs.
    """

    command: GateCommand
    redactor: Redactor
    target: Answers | None = None
    canary: Answers | None = None
    stopped: Callable[[], bool] = lambda: False
    last_up: str | None = None  # the run id of the newest up check, whose evidence is kept

    def __call__(self, number: int) -> CheckRecord:
        started_at = now()
        run_id = f"check-{number:04d}"
        gate = run_gates(self.command, run_id, self.redactor, self.stopped)
        if gate.exit_code == MonitorExit.USAGE:
            log = self.command.logs_dir / f"{run_id}.log"
            raise MonitorError(
                f"check {number}: the gate run refused its configuration:"
                f" {gate.log_tail or 'exit 3'} (output: {log})"
            )
        outcome, reason = classify(gate, target=self.target, canary=self.canary)
        if outcome == "up":
            if self.last_up is not None:
                self._forget(self.last_up)
            self.last_up = run_id
        return CheckRecord(
            number=number,
            started_at=started_at,
            duration_s=gate.duration_s,
            outcome=outcome,
            verdict=gate.verdict,
            run_id=run_id,
            # masked before it is cut: a cut secret would no longer match its mask
            reason=_one_line(self.redactor.redact(reason)),
        )

    def _forget(self, run_id: str) -> None:
        shutil.rmtree(self.command.checks_dir / run_id, ignore_errors=True)
        (self.command.logs_dir / f"{run_id}.log").unlink(missing_ok=True)
