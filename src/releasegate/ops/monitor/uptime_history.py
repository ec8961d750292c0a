"""The uptime history on disk: `reports/monitors/<id>/uptime.json` (schema `releasegate.uptime/1`),
every check of a monitor, its incidents and the alerts sent, read back by the report site and by
the next monitor of the same environment (`carry_over`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from releasegate.errors import UptimeUnreadable
from releasegate.evidence.decision_file import NotificationRecord
from releasegate.evidence.results import write_atomically
from releasegate.redact import Redactor

UPTIME_SCHEMA = "releasegate.uptime/1"
UPTIME_FILE = "uptime.json"
MONITORS_DIR = "monitors"  # under the reports folder: monitors/<id>/uptime.json
CHECKS_DIR = "checks"  # under a monitor's folder: the check runs, one folder each
LOGS_DIR = "logs"  # under a monitor's folder: each check run's output, masked

Outcome = Literal["up", "down", "unknown"]
OUTCOMES: tuple[Outcome, ...] = ("up", "down", "unknown")
AlertEvent = Literal["down", "recovered"]
# up; failing: a failure streak shorter than alert_after; down: a confirmed incident;
# unknown: no check has measured yet
State = Literal["up", "failing", "down", "unknown"]
Status = Literal["running", "finished", "interrupted", "failed"]
StoppedBy = Literal["for", "max_checks", "interrupted", "error"]


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
        # the figures are the tracker's (which reads these models): imported when asked
        from releasegate.ops.monitor.uptime_tracker import summarise

        return self.model_copy(update={"summary": summarise(self)})

    def to_json(self, redactor: Redactor | None = None) -> str:
        text = self.summarised().model_dump_json(by_alias=True, indent=2) + "\n"
        return redactor.redact(text) if redactor else text

    def write(self, path: Path, redactor: Redactor | None = None) -> None:
        """Atomically: a reader (the report site, a person's `cat`) never sees half a file."""
        write_atomically(path, self.to_json(redactor))


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
