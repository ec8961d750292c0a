"""Uptime monitoring: the gates run on a schedule, every check is kept, alerts on state changes.

`releasegate monitor --env E` runs the environment's chosen gates (default: smoke) as a real
`releasegate run` every `every`, for at most `for` (and `--max-checks`), and rewrites
`reports/monitors/<id>/uptime.json` (schema `releasegate.uptime/1`) atomically after every check.

A check ends in one of three outcomes:

- **up**: the gates said GO.
- **down**: the gates said ROLLBACK (the target was measured and found wrong), or the target
  gave no answer at all while the monitor's own network worked (the canary answered, or no
  canary is configured). The gates call an unreachable target HOLD, "could not measure"; for a
  monitor a target that refuses connections is the plainest outage there is.
- **unknown**: a measurement problem: the gates could not measure although the target answers,
  the canary did not answer (the monitor cannot reach its network), the gate run crashed or ran
  past `check_timeout`. It neither counts as down nor ends a failure streak, and availability
  leaves it out.

`Tracker` is the pure state machine: a `down` alert after `alert_after` consecutive failed
checks, a `recovered` alert with the incident's duration on the first success after one; a
shorter streak that recovers is a blip, recorded and never alerted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate.evidence.decision_file import DECISION_FILE, DecisionRecord
from releasegate.evidence.results import now, write_atomically
from releasegate.ops.processes import stop_group
from releasegate.ops.verdict_actions import NotificationRecord
from releasegate.probe import ProbeClient, TargetUnreachable
from releasegate.redact import Redactor

UPTIME_SCHEMA = "releasegate.uptime/1"
UPTIME_FILE = "uptime.json"
MONITORS_DIR = "monitors"  # under the reports folder: monitors/<id>/uptime.json
CHECKS_DIR = "checks"  # under a monitor's folder: the check runs, one folder each
LOGS_DIR = "logs"  # under a monitor's folder: each check run's output, masked
REASON_LIMIT = 300  # characters of a check's reason kept: one line, not a report
# After SIGINT, a gate run that is being stopped gets this long before SIGKILL.
STOP_GRACE_S = 10.0
_POLL_S = 0.1

Outcome = Literal["up", "down", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("up", "down", "unknown")
AlertEvent = Literal["down", "recovered"]
# up; failing: a failure streak shorter than alert_after; down: a confirmed incident;
# unknown: no check has measured yet
State = Literal["up", "failing", "down", "unknown"]
Status = Literal["running", "finished", "interrupted", "failed"]
StoppedBy = Literal["for", "max_checks", "interrupted", "error"]


class MonitorExit(IntEnum):
    """`releasegate monitor`'s exit codes."""

    UP = 0  # ended up, availability met the objective
    DOWN = 1  # ended down, or availability below the objective
    NO_EVIDENCE = 2  # no check measured the target (every one unknown, or none ran)
    USAGE = 3  # usage or configuration error (also: a check run refused its configuration)


class MonitorError(Exception):
    """The monitor cannot go on (a check run refused its configuration): one line, exit 3."""


class CheckInterrupted(Exception):
    """The monitor was stopped while a check ran; that check is not recorded."""


# --- the history on disk -------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckRecord(_Model):
    """One check: when it started, how long the gate run took, and what it showed."""

    number: int
    started_at: datetime
    duration_s: float
    outcome: Outcome
    verdict: str | None = None  # the gate run's GO / ROLLBACK / HOLD; None without a decision
    run_id: str
    reason: str = ""


class IncidentRecord(_Model):
    """A failure streak: from the first failed check to the first successful one after it."""

    started_at: datetime
    ended_at: datetime | None = None  # None: not recovered when the monitor stopped
    duration_s: float | None = None
    failed_checks: int
    confirmed: bool  # reached alert_after (an outage, alerted); else a blip
    reason: str = ""  # what the first failed check said
    # the monitor this incident began in, when it was still open as that one ended and this
    # one took it over (so it is alerted once, and its recovery is)
    carried_from: str | None = None


class AlertRecord(_Model):
    """An alert raised, and what the webhook made of it (None: no webhook configured)."""

    event: AlertEvent
    at: datetime
    since: datetime
    duration_s: float
    consecutive_failures: int
    reason: str
    notification: NotificationRecord | None = None


class MonitorSettings(_Model):
    """The settings the monitor ran with (the file's, with the command line's overrides)."""

    stages: list[str]
    every_s: float
    for_s: float
    max_checks: int | None = None
    alert_after: int
    objective: float
    check_timeout_s: float
    canary_url: str | None = None


class UptimeSummary(_Model):
    """Figures derived from the checks, written for readers of the file (recomputed on read)."""

    checks: int
    up: int
    down: int
    unknown: int
    availability: float | None
    objective_met: bool | None
    state: State
    outages: int
    blips: int
    alerts: int


class UptimeHistory(_Model):
    """uptime.json: every check, the incidents, the alerts sent, and a summary."""

    schema_: str = Field(default=UPTIME_SCHEMA, alias="schema")
    id: str
    environment: str
    target_url: str | None
    started_at: datetime
    finished_at: datetime | None = None
    status: Status = "running"
    stopped_by: StoppedBy | None = None
    error: str = ""
    settings: MonitorSettings
    checks: list[CheckRecord] = Field(default_factory=list)
    incidents: list[IncidentRecord] = Field(default_factory=list)
    alerts: list[AlertRecord] = Field(default_factory=list)
    summary: UptimeSummary | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def summarised(self) -> UptimeHistory:
        return self.model_copy(update={"summary": summarise(self)})

    def to_json(self, redactor: Redactor | None = None) -> str:
        text = self.summarised().model_dump_json(by_alias=True, indent=2) + "\n"
        return redactor.redact(text) if redactor else text

    def write(self, path: Path, redactor: Redactor | None = None) -> None:
        """Atomically: a reader (the report site, a person's `cat`) never sees half a file."""
        write_atomically(path, self.to_json(redactor))


class UptimeUnreadable(Exception):
    """An uptime.json that is missing, truncated or not ours."""


def read_uptime(path: Path) -> UptimeHistory:
    """Read and validate an uptime.json; `UptimeUnreadable` says what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UptimeUnreadable(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UptimeUnreadable(f"{path}: unreadable: {exc}") from None
    try:
        history = UptimeHistory.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UptimeUnreadable(
            f"{path}: not a {UPTIME_SCHEMA} document ({where}: {first['msg']})"
        ) from None
    if history.schema_ != UPTIME_SCHEMA:
        raise UptimeUnreadable(f"{path}: schema {history.schema_!r} is not {UPTIME_SCHEMA!r}")
    return history.summarised()


# --- the state machine ---------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """A state change worth telling people about."""

    event: AlertEvent
    at: datetime
    since: datetime  # the incident's first failed check
    duration_s: float  # since `since`: so far (down), or the whole incident (recovered)
    consecutive_failures: int
    reason: str


@dataclass
class Tracker:
    """Check outcomes in, alerts out; the incidents it saw are kept, the last one maybe open."""

    alert_after: int
    incidents: list[IncidentRecord] = field(default_factory=list)
    known: int = 0  # checks that measured (up or down)

    def __post_init__(self) -> None:
        if self.alert_after < 1:
            raise ValueError(f"alert_after must be >= 1 (got {self.alert_after})")

    @property
    def open_incident(self) -> IncidentRecord | None:
        last = self.incidents[-1] if self.incidents else None
        return last if last is not None and last.ended_at is None else None

    @property
    def state(self) -> State:
        current = self.open_incident
        if current is not None:
            return "down" if current.confirmed else "failing"
        return "up" if self.known else "unknown"

    def observe(self, outcome: Outcome, at: datetime, reason: str = "") -> Alert | None:
        """Take one check's outcome; return the alert it raises, if any."""
        if outcome == "unknown":
            return None  # a measurement problem says nothing about the target
        self.known += 1
        current = self.open_incident
        if outcome == "down":
            if current is None:
                current = IncidentRecord(
                    started_at=at, failed_checks=0, confirmed=False, reason=reason
                )
                self.incidents.append(current)
            failures = current.failed_checks + 1
            confirmed = failures >= self.alert_after
            self.incidents[-1] = current.model_copy(
                update={"failed_checks": failures, "confirmed": confirmed}
            )
            if failures != self.alert_after:
                return None  # a blip so far, or already alerted
            return Alert(
                "down", at, current.started_at, _seconds(current.started_at, at), failures, reason
            )
        if current is None:
            return None
        duration = _seconds(current.started_at, at)
        self.incidents[-1] = current.model_copy(update={"ended_at": at, "duration_s": duration})
        if not current.confirmed:
            return None  # a blip: recorded, never alerted
        return Alert(
            "recovered", at, current.started_at, duration, current.failed_checks, current.reason
        )

    @classmethod
    def replay(cls, checks: Sequence[CheckRecord], alert_after: int) -> tuple[Tracker, list[Alert]]:
        """The tracker after `checks`, and every alert they raised."""
        tracker = cls(alert_after)
        alerts = [tracker.observe(c.outcome, c.started_at, c.reason) for c in checks]
        return tracker, [a for a in alerts if a is not None]


CARRY_GAP_MIN_S = 900.0  # a gap up to this (or two `every`) between monitors is bridged


def carry_over(
    monitors_dir: Path, history: UptimeHistory, now_at: datetime
) -> IncidentRecord | None:
    """The incident still open when the previous monitor of the same environment and target
    ended, if that was recently (two `every`, at least 15 min): this monitor goes on with it, so
    back-to-back monitors (an hourly job) alert once per outage and report its recovery."""
    latest: UptimeHistory | None = None
    for path in monitors_dir.glob(f"*/{UPTIME_FILE}"):
        try:
            found = read_uptime(path)
        except UptimeUnreadable:
            continue
        if (
            found.id != history.id
            and found.environment == history.environment
            and found.target_url == history.target_url
            and (latest is None or found.started_at > latest.started_at)
        ):
            latest = found
    if latest is None or not latest.incidents or latest.incidents[-1].ended_at is not None:
        return None
    ended = latest.finished_at or (latest.checks[-1].started_at if latest.checks else None)
    gap = max(2 * history.settings.every_s, CARRY_GAP_MIN_S)
    if ended is None or (now_at - ended).total_seconds() > gap:
        return None
    incident = latest.incidents[-1]
    return incident.model_copy(update={"carried_from": incident.carried_from or latest.id})


def _seconds(start: datetime, end: datetime) -> float:
    return round(max(0.0, (end - start).total_seconds()), 3)


# --- figures and the exit code -------------------------------------------------------------


def counts(checks: Sequence[CheckRecord]) -> dict[Outcome, int]:
    return {o: sum(1 for c in checks if c.outcome == o) for o in OUTCOMES}


def availability(checks: Sequence[CheckRecord]) -> float | None:
    """Up checks over the checks that measured (up + down); None when none measured."""
    found = counts(checks)
    known = found["up"] + found["down"]
    return found["up"] / known if known else None


def summarise(history: UptimeHistory) -> UptimeSummary:
    found = counts(history.checks)
    ratio = availability(history.checks)
    tracker = Tracker(history.settings.alert_after, list(history.incidents))
    tracker.known = found["up"] + found["down"]
    return UptimeSummary(
        checks=len(history.checks),
        up=found["up"],
        down=found["down"],
        unknown=found["unknown"],
        availability=ratio,
        # "99.9%" parses to 0.9990000000000001: 999 of 1000 meets it
        objective_met=None if ratio is None else ratio >= history.settings.objective - 1e-9,
        state=tracker.state,
        outages=sum(1 for i in history.incidents if i.confirmed),
        blips=sum(1 for i in history.incidents if not i.confirmed),
        alerts=len(history.alerts),
    )


def monitor_exit(history: UptimeHistory) -> MonitorExit:
    """0: ended up with availability at the objective; 1: ended failing or down (the last check
    that measured failed), or availability below the objective; 2: nothing was measured."""
    summary = summarise(history)
    if summary.availability is None:
        return MonitorExit.NO_EVIDENCE
    if summary.state in ("down", "failing") or not summary.objective_met:
        return MonitorExit.DOWN
    return MonitorExit.UP


def format_span(seconds: float) -> str:
    """`850 ms`, `45 s`, `3 min 5 s`, `2 h 4 min`, `1 d 3 h`: an incident's length for people."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def format_ratio(ratio: float | None) -> str:
    """`99.95%`; two decimals, as availability objectives are written."""
    return "-" if ratio is None else f"{ratio * 100:.2f}%"


# --- alerts --------------------------------------------------------------------------------


def alert_payload(
    alert: Alert,
    *,
    environment: str,
    target_url: str | None,
    monitor_id: str,
    style: str,
    link: str,
) -> dict[str, Any]:
    """The webhook's message: Slack's text and blocks, or plain JSON fields."""
    since = alert.since.strftime("%Y-%m-%d %H:%M:%S UTC")
    span = format_span(alert.duration_s)
    if alert.event == "down":
        head = f"`{environment}` is DOWN: {alert.consecutive_failures} failed checks in a row"
        detail = f"since {since} ({span})"
    else:
        head = f"`{environment}` RECOVERED after {span} down"
        detail = f"since {since}, {alert.consecutive_failures} failed checks; it was:"
    if style == "slack":
        icon = ":rotating_light:" if alert.event == "down" else ":white_check_mark:"
        lines = [f"{icon} *releasegate monitor*: {head}", f"{detail}", f"• {alert.reason}"]
        text = "\n".join([*lines, f"<{link}|Uptime history>"])
        return {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }
    return {
        "event": alert.event,
        "environment": environment,
        "target": target_url,
        "monitor": monitor_id,
        "at": alert.at.isoformat(),
        "since": alert.since.isoformat(),
        "duration_s": alert.duration_s,
        "consecutive_failures": alert.consecutive_failures,
        "reason": alert.reason,
        "link": link,
    }


# --- one check: a real gate run, classified ------------------------------------------------


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
    if gate.verdict == "GO":
        return "up", gate.reason
    if gate.verdict == "ROLLBACK":
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


def _short_check(check_id: str) -> str:
    path, _, name = check_id.partition("::")
    return f"{Path(path).name}::{name}" if name else check_id


def read_verdict(run_dir: Path) -> tuple[str | None, str]:
    """(verdict, one-line reason) from a check run's decision.json; (None, why) without one."""
    try:
        record = DecisionRecord.model_validate_json(
            (run_dir / DECISION_FILE).read_text(encoding="utf-8")
        )
    except FileNotFoundError:
        return None, "no decision.json"
    except (OSError, ValueError) as exc:
        return None, f"unreadable decision.json: {str(exc).splitlines()[0]}"
    if record.reasons:
        first = record.reasons[0]
        where = f" ({_short_check(first.check)})" if first.check else ""
        more = f" (+{len(record.reasons) - 1} more)" if len(record.reasons) > 1 else ""
        return record.verdict, _one_line(f"{first.message}{where}{more}")
    shown = ", ".join(f"{n} {o}" for o, n in record.evidence.counts.items() if n) or "no checks"
    return record.verdict, f"{record.verdict}: {shown}"


@dataclass(frozen=True)
class GateCommand:
    """How a check runs the gates: `releasegate run` in a subprocess, its run under the
    monitor's folder (not the reports folder's top level, where the run list is)."""

    env_file: Path
    stages: Sequence[str]
    checks_dir: Path
    logs_dir: Path
    timeout_s: float
    suites: Path = Path("suites")
    base_url: str | None = None
    python: str = sys.executable

    def argv(self, run_id: str) -> list[str]:
        argv = [self.python, "-m", "releasegate", "run", "--env", str(self.env_file.resolve())]
        for stage in self.stages:
            argv += ["--stage", stage]
        argv += ["--run-id", run_id, "--reports-dir", str(self.checks_dir.resolve())]
        argv += ["--suites", str(self.suites), "--no-notify"]
        if self.base_url:
            argv += ["--base-url", self.base_url]
        return argv


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
    log = command.logs_dir / f"{run_id}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command.checks_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command.argv(run_id),
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=child_environment(os.environ),
            start_new_session=True,  # its own group: a timeout ends pytest and its workers too
        )
        exit_code: int | None = None
        try:
            while True:
                try:
                    exit_code = process.wait(timeout=_POLL_S)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if stopped():
                    stop_group(process, STOP_GRACE_S, first=signal.SIGINT)
                    raise CheckInterrupted(run_id)
                if time.monotonic() - started > command.timeout_s:
                    stop_group(process, STOP_GRACE_S, first=signal.SIGINT)
                    break
        except BaseException:
            if process.poll() is None:
                stop_group(process, STOP_GRACE_S, first=signal.SIGINT)
            raise
        finally:
            # masked also when the check is cut off: the reports folder is kept after a cancel
            text = redactor.redact(log.read_text(encoding="utf-8", errors="replace"))
            log.write_text(text, encoding="utf-8")
    duration = time.monotonic() - started
    verdict, reason = read_verdict(command.checks_dir / run_id)
    tail = next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")
    return GateRun(
        run_id=run_id,
        exit_code=exit_code,
        verdict=verdict if exit_code is not None else None,
        reason=redactor.redact(reason),
        duration_s=round(duration, 3),
        timeout_s=command.timeout_s,
        log_tail=_one_line(tail),
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


# --- the schedule --------------------------------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    """A check every `every_s`, none starting after `for_s`, at most `max_checks`."""

    every_s: float
    for_s: float
    max_checks: int | None = None


def run_schedule(
    schedule: Schedule,
    check: Callable[[int], None],
    *,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], bool],
    stopped: Callable[[], bool],
) -> StoppedBy:
    """Call `check(1)`, `check(2)`, ... on the schedule; return why it ended.

    Start times are `every_s` apart on a monotonic clock; a check that overruns its slot delays
    the next, which starts right after it (checks never overlap, and missed slots are not made
    up in a burst). `wait(seconds)` sleeps and returns True when the monitor is being stopped.
    A check may raise `CheckInterrupted`; other exceptions propagate."""
    started = clock()
    due = started
    number = 0
    while True:
        if stopped():
            return "interrupted"
        if schedule.max_checks is not None and number >= schedule.max_checks:
            return "max_checks"
        if due - started >= schedule.for_s:
            return "for"
        pause = due - clock()
        if pause > 0 and wait(pause):
            return "interrupted"
        number += 1
        try:
            check(number)
        except CheckInterrupted:
            return "interrupted"
        due = max(due + schedule.every_s, clock())


# --- the monitor ---------------------------------------------------------------------------


CheckFunction = Callable[[int], CheckRecord]
SendFunction = Callable[[Alert], NotificationRecord | None]


@dataclass
class Monitor:
    """One monitoring session: runs checks, tracks state, sends alerts, keeps the history."""

    history: UptimeHistory
    path: Path  # the uptime.json
    check: CheckFunction
    send: SendFunction
    redactor: Redactor = field(default_factory=Redactor)
    on_check: Callable[[CheckRecord], None] = lambda _: None
    on_alert: Callable[[AlertRecord], None] = lambda _: None
    tracker: Tracker = field(init=False)

    def __post_init__(self) -> None:
        # an incident carried over from the previous monitor goes on here (`carry_over`)
        self.tracker = Tracker(self.history.settings.alert_after, list(self.history.incidents))
        self.tracker.known = len(self.history.incidents)

    def save(self) -> None:
        self.history.write(self.path, self.redactor)

    def record(self, check: CheckRecord) -> AlertRecord | None:
        """Keep one check (written at once), and raise and send the alert it causes."""
        self.history.checks.append(check)
        alert = self.tracker.observe(check.outcome, check.started_at, check.reason)
        self.history.incidents = list(self.tracker.incidents)
        self.save()
        self.on_check(check)
        if alert is None:
            return None
        sent = AlertRecord(
            event=alert.event,
            at=alert.at,
            since=alert.since,
            duration_s=alert.duration_s,
            consecutive_failures=alert.consecutive_failures,
            reason=alert.reason,
            notification=self.send(alert),
        )
        self.history.alerts.append(sent)
        self.save()
        self.on_alert(sent)
        return sent

    def run(
        self,
        schedule: Schedule,
        *,
        wait: Callable[[float], bool],
        stopped: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> UptimeHistory:
        """Run the schedule to its end; the history is written after every check and at the
        end, also when the monitor is interrupted or a check run refuses its configuration."""
        self.save()
        try:
            self.history.stopped_by = run_schedule(
                schedule,
                lambda number: self._check(number),
                clock=clock,
                wait=wait,
                stopped=stopped,
            )
            self.history.status = (
                "interrupted" if self.history.stopped_by == "interrupted" else "finished"
            )
        except MonitorError as exc:
            self.history.stopped_by = "error"
            self.history.status = "failed"
            self.history.error = self.redactor.redact(str(exc))
            raise
        except (KeyboardInterrupt, CheckInterrupted):
            self.history.stopped_by = "interrupted"
            self.history.status = "interrupted"
            raise
        except Exception as exc:
            self.history.stopped_by = "error"
            self.history.status = "failed"
            self.history.error = self.redactor.redact(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.history.finished_at = now()
            with contextlib.suppress(OSError):  # a full disk must not hide the first error
                self.save()
        return self.history

    def _check(self, number: int) -> None:
        self.record(self.check(number))
