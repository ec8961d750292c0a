"""The monitor itself: checks on a schedule, the tracker's alerts sent, the history kept.

`releasegate monitor --env E` runs the environment's chosen gates (default: smoke) as a real
`releasegate run` every `every`, for at most `for` (and `--max-checks`), and rewrites
`reports/monitors/<id>/uptime.json` atomically after every check.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from releasegate.errors import CheckInterrupted, MonitorError
from releasegate.evidence.decision_file import NotificationRecord
from releasegate.evidence.results import now
from releasegate.ops.monitor.uptime_history import (
    AlertRecord,
    CheckRecord,
    StoppedBy,
    UptimeHistory,
)
from releasegate.ops.monitor.uptime_tracker import Alert, Tracker
from releasegate.redact import Redactor

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
