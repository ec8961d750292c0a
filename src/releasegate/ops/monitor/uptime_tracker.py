"""The tracker: check outcomes in, alerts out, and the figures and exit code of a history.

A `down` alert after `alert_after` consecutive failed checks, a `recovered` alert with the
incident's duration on the first success after one; a shorter streak that recovers is a blip,
recorded and never alerted. An unknown check (a measurement problem) neither counts as down
nor ends a failure streak, and availability leaves it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from releasegate.ops.monitor.uptime_history import (
    OUTCOMES,
    AlertEvent,
    CheckRecord,
    IncidentRecord,
    Outcome,
    State,
    UptimeHistory,
    UptimeSummary,
)


class MonitorExit(IntEnum):
    """`releasegate monitor`'s exit codes."""

    UP = 0  # ended up, availability met the objective
    DOWN = 1  # ended down, or availability below the objective
    NO_EVIDENCE = 2  # no check measured the target (every one unknown, or none ran)
    USAGE = 3  # usage or configuration error (also: a check run refused its configuration)


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
