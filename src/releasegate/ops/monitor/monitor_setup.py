"""A monitor wired for real: its settings from the environment file and the command line, its
history (going on with the previous monitor's open incident), its checks as gate runs with the
target and canary probes, and its alerts through the `[notify]` webhook."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from releasegate.config import Environment
from releasegate.evidence.decision_file import NotificationRecord
from releasegate.evidence.results import now
from releasegate.evidence.runs import new_run_id
from releasegate.ops.monitor.gate_check import (
    GateCheck,
    GateCommand,
    canary_answers,
    target_answers,
)
from releasegate.ops.monitor.uptime_history import (
    CHECKS_DIR,
    LOGS_DIR,
    MONITORS_DIR,
    UPTIME_FILE,
    AlertRecord,
    CheckRecord,
    IncidentRecord,
    MonitorSettings,
    UptimeHistory,
    carry_over,
)
from releasegate.ops.monitor.uptime_session import Monitor
from releasegate.ops.monitor.uptime_tracker import Alert, alert_payload
from releasegate.ops.verdict_actions import notify


def monitor_settings(
    env: Environment,
    *,
    stages: Sequence[str],
    every_s: float | None,
    for_s: float | None,
    max_checks: int | None,
    alert_after: int | None,
) -> MonitorSettings:
    """The environment's `[monitor]` table with the command line's overrides (None: the
    file's value)."""
    config = env.model.monitor
    return MonitorSettings(
        stages=list(stages) or list(config.stages),
        every_s=every_s if every_s is not None else config.every,
        for_s=for_s if for_s is not None else config.for_,
        max_checks=max_checks,
        alert_after=alert_after or config.alert_after,
        objective=config.objective,
        check_timeout_s=config.check_timeout,
        canary_url=config.canary_url or env.model.target.canary_url,
    )


@dataclass(frozen=True)
class NewMonitor:
    """A monitor's history about to start, where it is written, and the incident it took over
    from the previous monitor (None: none was open)."""

    history: UptimeHistory
    folder: Path  # reports/monitors/<id>
    carried: IncidentRecord | None

    @property
    def uptime_file(self) -> Path:
        return self.folder / UPTIME_FILE


def new_monitor(
    env: Environment, settings: MonitorSettings, target: str | None, reports_dir: Path
) -> NewMonitor:
    """A new history under `reports_dir/monitors/<id>/`, going on with the incident still open
    when the previous monitor of this environment and target ended (`carry_over`)."""
    monitor_id = new_run_id(env.name)
    history = UptimeHistory(
        id=monitor_id,
        environment=env.name,
        target_url=env.redactor.redact(target) if target else None,
        started_at=now(),
        settings=settings,
    )
    carried = carry_over(reports_dir / MONITORS_DIR, history, history.started_at)
    if carried is not None:
        history.incidents = [carried]
    return NewMonitor(history, reports_dir / MONITORS_DIR / monitor_id, carried)


def history_link(env: Environment, folder: Path, monitor_id: str) -> str:
    """Where a person reads the history: the published site's uptime page, else the file."""
    report_url = env.model.notify.report_url
    if report_url:
        return f"{report_url.rstrip('/')}/uptime/{monitor_id}/index.html"
    return (folder / UPTIME_FILE).resolve().as_uri()


def build_monitor(
    env: Environment,
    started: NewMonitor,
    *,
    target: str | None,
    suites: Path,
    base_url: str | None,
    stopped: Callable[[], bool],
    on_check: Callable[[CheckRecord], None] = lambda _: None,
    on_alert: Callable[[AlertRecord], None] = lambda _: None,
) -> Monitor:
    """The monitor, wired to the real gate runs, probes and webhook; `on_check` and `on_alert`
    are told each check and alert as they happen."""
    history, folder = started.history, started.folder
    redactor = env.redactor
    settings = history.settings
    timeout = env.target.timeout
    link = history_link(env, folder, history.id)

    def target_silent() -> str | None:
        assert target is not None  # only wired when there is a target
        return target_answers(
            target,
            env.target.health_path or "/",
            headers=env.target.headers,
            timeout_s=timeout,
            retries=env.target.retries,
            verify_tls=env.target.verify_tls,
            redactor=redactor,
        )

    def canary_silent() -> str | None:
        assert settings.canary_url is not None  # only wired with a canary
        return canary_answers(settings.canary_url, timeout_s=timeout)

    check = GateCheck(
        GateCommand(
            env_file=env.path,
            stages=settings.stages,
            checks_dir=folder / CHECKS_DIR,
            logs_dir=folder / LOGS_DIR,
            timeout_s=settings.check_timeout_s,
            suites=suites,
            base_url=base_url,
        ),
        redactor,
        target=target_silent if target else None,
        canary=canary_silent if settings.canary_url else None,
        stopped=stopped,
    )

    def send(alert: Alert) -> NotificationRecord | None:
        payload = alert_payload(
            alert,
            environment=env.name,
            target_url=history.target_url,
            monitor_id=history.id,
            style=env.model.notify.format,
            link=link,
        )
        return notify(env.model.notify, payload, redactor)

    return Monitor(
        history,
        folder / UPTIME_FILE,
        check,
        send,
        redactor,
        on_check=on_check,
        on_alert=on_alert,
    )
